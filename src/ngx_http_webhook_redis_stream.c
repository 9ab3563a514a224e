
/*
 * ngx_http_webhook_module: the Redis side of webhook_enqueue.
 *
 *   - XADD <stream> [MAXLEN ~ N] * <field> <value> ... for a request, on
 *     the worker's connection, the request parked until the answer or
 *     the webhook_redis timeout (ngx_http_webhook_redis_request());
 *   - with wait_replicas=N, then WAIT N <half the timeout>: the answer
 *     comes before the request's own timer, and says how many replicas
 *     have the entry;
 *   - the status poll: XLEN and XINFO GROUPS for every stream the node
 *     has written to, pipelined, on no request's path.
 * Every reply is checked for its type and size before it is used.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"
#include "ngx_http_webhook_redis.h"


/* "1700000000000-18446744073709551615" and a little room */
#define NGX_HTTP_WEBHOOK_STREAM_ID_MAX   48
#define NGX_HTTP_WEBHOOK_STREAM_ERR_MAX  128


typedef struct ngx_http_webhook_poll_s  ngx_http_webhook_poll_t;

/* one stream of a poll round */
typedef struct {
    ngx_http_webhook_poll_t          *poll;
    ngx_str_t                         name;
    int64_t                           length;       /* -1: no answer */
} ngx_http_webhook_poll_item_t;


/* a poll round: heap memory, freed by the last reply */
struct ngx_http_webhook_poll_s {
    ngx_uint_t                        pending;
    ngx_uint_t                        n;
    ngx_http_webhook_poll_item_t      items[1];
};


static void ngx_http_webhook_stream_added(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_webhook_stream_resume(ngx_http_request_t *r);
static void ngx_http_webhook_stream_waited(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_webhook_stream_xlen(redisReply *reply, void *data);
static void ngx_http_webhook_stream_groups(redisReply *reply, void *data);
static ngx_uint_t ngx_http_webhook_stream_group_list(redisReply *reply,
    ngx_http_webhook_stream_group_t *groups);
static int64_t ngx_http_webhook_stream_int(redisReply *r);
static void ngx_http_webhook_poll_release(ngx_http_webhook_poll_t *poll);


/*
 * XADD for r.  NGX_AGAIN: r is parked, ngx_http_webhook_enqueue_answer()
 * will be called; NGX_DECLINED: not connected to Redis, nothing sent.
 * The body is passed as it is: hiredis formats the command into its
 * output buffer (one more copy of the body, until it is written).
 */

ngx_int_t
ngx_http_webhook_stream_add(ngx_http_request_t *r,
    ngx_http_webhook_enqueue_t *eq, ngx_str_t *fields, ngx_uint_t nfields)
{
    int            argc;
    u_char        *p;
    size_t        *argvlen;
    ngx_uint_t     i;
    const char   **argv;

    argv = ngx_palloc(r->pool, (6 + nfields) * sizeof(char *));
    argvlen = ngx_palloc(r->pool, (6 + nfields) * sizeof(size_t));
    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);

    if (argv == NULL || argvlen == NULL || p == NULL) {
        return NGX_DECLINED;
    }

    argc = 0;

    argv[argc] = "XADD";
    argvlen[argc++] = 4;

    argv[argc] = (const char *) eq->stream.data;
    argvlen[argc++] = eq->stream.len;

    if (eq->conf->maxlen) {
        /* "~": Redis trims whole macro nodes, cheaply, to about N */

        argv[argc] = "MAXLEN";
        argvlen[argc++] = 6;
        argv[argc] = "~";
        argvlen[argc++] = 1;
        argv[argc] = (const char *) p;
        argvlen[argc++] = ngx_sprintf(p, "%ui", eq->conf->maxlen) - p;
    }

    argv[argc] = "*";
    argvlen[argc++] = 1;

    for (i = 0; i < nfields; i++) {
        /* an empty value: hiredis needs a pointer, any will do */
        argv[argc] = fields[i].data ? (const char *) fields[i].data : "";
        argvlen[argc++] = fields[i].len;
    }

    return ngx_http_webhook_redis_request(r, argc, argv, argvlen,
                                          ngx_http_webhook_stream_added,
                                          ngx_http_webhook_stream_resume);
}


/* XADD's answer: the new entry's id, or an error, or nothing (NULL) */

static void
ngx_http_webhook_stream_added(ngx_http_request_t *r, redisReply *reply)
{
    size_t                       i, len;
    u_char                      *p;
    ngx_http_webhook_enqueue_t  *eq;

    eq = ngx_http_webhook_enqueue_get(r);

    if (eq == NULL || reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_STRING
        && reply->len > 0 && reply->len <= NGX_HTTP_WEBHOOK_STREAM_ID_MAX)
    {
        for (i = 0; i < reply->len; i++) {
            if (!(reply->str[i] >= '0' && reply->str[i] <= '9')
                && reply->str[i] != '-')
            {
                break;
            }
        }

        if (i == reply->len) {
            p = ngx_pnalloc(r->pool, reply->len);
            if (p == NULL) {
                return;
            }

            ngx_memcpy(p, reply->str, reply->len);
            eq->id.data = p;
            eq->id.len = reply->len;
            eq->stored = 1;
            return;
        }
    }

    /* an error (OOM, WRONGTYPE, ...) or an answer XADD does not give */

    len = (reply->type == REDIS_REPLY_ERROR) ? reply->len : 0;
    len = ngx_min(len, NGX_HTTP_WEBHOOK_STREAM_ERR_MAX);

    if (len == 0) {
        ngx_str_set(&eq->error, "unexpected reply");
        return;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return;
    }

    for (i = 0; i < len; i++) {
        p[i] = (reply->str[i] < 0x20 || reply->str[i] >= 0x7f)
               ? '?' : reply->str[i];
    }

    eq->error.data = p;
    eq->error.len = len;
}


/* from the event loop: WAIT next, or the answer */

static void
ngx_http_webhook_stream_resume(ngx_http_request_t *r)
{
    u_char                         *p;
    size_t                          argvlen[3];
    ngx_int_t                       rc;
    const char                     *argv[3];
    ngx_http_webhook_enqueue_t     *eq;
    ngx_http_webhook_main_conf_t   *wmcf;
    u_char                          n[NGX_INT_T_LEN], ms[NGX_INT_T_LEN];

    eq = ngx_http_webhook_enqueue_get(r);

    if (eq->stored && eq->conf->wait_replicas) {

        wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhook_module);

        argv[0] = "WAIT";
        argvlen[0] = 4;

        p = ngx_sprintf(n, "%ui", eq->conf->wait_replicas);
        argv[1] = (const char *) n;
        argvlen[1] = p - n;

        /* never 0: that would wait forever */
        p = ngx_sprintf(ms, "%M", ngx_max(wmcf->redis->timeout / 2, 1));
        argv[2] = (const char *) ms;
        argvlen[2] = p - ms;

        rc = ngx_http_webhook_redis_request(r, 3, argv, argvlen,
                                            ngx_http_webhook_stream_waited,
                                            ngx_http_webhook_enqueue_answer);
        if (rc == NGX_AGAIN) {
            return;
        }

        /* the connection went away since XADD: unconfirmed */
    }

    ngx_http_webhook_enqueue_answer(r);
}


static void
ngx_http_webhook_stream_waited(ngx_http_request_t *r, redisReply *reply)
{
    ngx_http_webhook_enqueue_t  *eq;

    eq = ngx_http_webhook_enqueue_get(r);

    if (eq && reply && reply->type == REDIS_REPLY_INTEGER) {
        eq->replicas = (ngx_int_t) reply->integer;
    }
}


/* ---- status poll ------------------------------------------------------- */


/*
 * XLEN and XINFO GROUPS for each stream.  NGX_OK: a round is under way
 * and ngx_http_webhook_queue_poll_done() ends it; NGX_DECLINED: nothing
 * was sent.
 */

ngx_int_t
ngx_http_webhook_stream_poll(ngx_str_t *streams, ngx_uint_t n)
{
    u_char                        *p;
    size_t                         size, argvlen[3];
    ngx_uint_t                     i;
    const char                    *argv[3];
    ngx_http_webhook_poll_t       *poll;
    ngx_http_webhook_poll_item_t  *item;

    if (n == 0) {
        return NGX_DECLINED;
    }

    size = sizeof(ngx_http_webhook_poll_t)
           + n * sizeof(ngx_http_webhook_poll_item_t);

    for (i = 0; i < n; i++) {
        size += streams[i].len;
    }

    poll = ngx_alloc(size, ngx_cycle->log);
    if (poll == NULL) {
        return NGX_DECLINED;
    }

    poll->pending = 1;                     /* ours, until all are sent */
    poll->n = n;

    p = (u_char *) &poll->items[n];

    for (i = 0; i < n; i++) {
        item = &poll->items[i];

        item->poll = poll;
        item->length = -1;
        item->name.data = p;
        item->name.len = streams[i].len;
        p = ngx_cpymem(p, streams[i].data, streams[i].len);

        argv[0] = "XLEN";
        argvlen[0] = 4;
        argv[1] = (const char *) item->name.data;
        argvlen[1] = item->name.len;

        if (ngx_http_webhook_redis_command(2, argv, argvlen,
                                           ngx_http_webhook_stream_xlen,
                                           item)
            != NGX_OK)
        {
            break;
        }

        poll->pending++;

        argv[0] = "XINFO";
        argvlen[0] = 5;
        argv[1] = "GROUPS";
        argvlen[1] = 6;
        argv[2] = (const char *) item->name.data;
        argvlen[2] = item->name.len;

        if (ngx_http_webhook_redis_command(3, argv, argvlen,
                                           ngx_http_webhook_stream_groups,
                                           item)
            != NGX_OK)
        {
            break;
        }

        poll->pending++;
    }

    ngx_http_webhook_poll_release(poll);

    return NGX_OK;
}


static void
ngx_http_webhook_stream_xlen(redisReply *reply, void *data)
{
    ngx_http_webhook_poll_item_t  *item = data;

    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer >= 0) {
        item->length = reply->integer;
    }

    ngx_http_webhook_poll_release(item->poll);
}


/* comes after XLEN's answer: one connection answers in order */

static void
ngx_http_webhook_stream_groups(redisReply *reply, void *data)
{
    ngx_uint_t                        n;
    ngx_http_webhook_poll_item_t     *item = data;
    ngx_http_webhook_stream_group_t   groups[NGX_HTTP_WEBHOOK_QUEUE_GROUPS];

    if (reply && item->length >= 0) {
        n = (reply->type == REDIS_REPLY_ARRAY)
            ? ngx_http_webhook_stream_group_list(reply, groups) : 0;

        ngx_http_webhook_queue_polled(&item->name, item->length, groups, n);
    }

    ngx_http_webhook_poll_release(item->poll);
}


/*
 * XINFO GROUPS: one flat list of field names and values per group; only
 * name, pending and lag are kept, and a group without a name or a
 * pending count is skipped.  Replies of another type count for nothing.
 */

static ngx_uint_t
ngx_http_webhook_stream_group_list(redisReply *reply,
    ngx_http_webhook_stream_group_t *groups)
{
    size_t                            j, f;
    ngx_uint_t                        n;
    redisReply                       *g, *k, *v;
    ngx_http_webhook_stream_group_t  *sg;

    n = 0;

    for (j = 0; j < reply->elements; j++) {

        if (n == NGX_HTTP_WEBHOOK_QUEUE_GROUPS) {
            break;
        }

        g = reply->element[j];

        if (g == NULL || g->type != REDIS_REPLY_ARRAY) {
            continue;
        }

        sg = &groups[n];
        ngx_str_null(&sg->name);
        sg->pending = 0;
        sg->lag = -1;

        for (f = 0; f + 1 < g->elements; f += 2) {
            k = g->element[f];
            v = g->element[f + 1];

            if (k == NULL || v == NULL || k->type != REDIS_REPLY_STRING) {
                continue;
            }

            if (k->len == 4 && ngx_strncmp(k->str, "name", 4) == 0
                && v->type == REDIS_REPLY_STRING)
            {
                sg->name.data = (u_char *) v->str;
                sg->name.len = v->len;

            } else if (k->len == 7 && ngx_strncmp(k->str, "pending", 7) == 0)
            {
                sg->pending = ngx_http_webhook_stream_int(v);

            } else if (k->len == 3 && ngx_strncmp(k->str, "lag", 3) == 0) {
                sg->lag = ngx_http_webhook_stream_int(v);
            }
        }

        if (sg->name.len && sg->pending >= 0) {
            n++;
        }
    }

    return n;
}


static int64_t
ngx_http_webhook_stream_int(redisReply *r)
{
    if (r->type == REDIS_REPLY_INTEGER && r->integer >= 0) {
        return r->integer;
    }

    return -1;
}


static void
ngx_http_webhook_poll_release(ngx_http_webhook_poll_t *poll)
{
    if (--poll->pending) {
        return;
    }

    ngx_free(poll);

    ngx_http_webhook_queue_poll_done();
}
