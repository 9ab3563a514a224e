
/*
 * ngx_http_webhook_module: what the status page shows of the streams
 * webhook_enqueue writes to.
 *
 * A small table in the "webhook_queue" shared memory zone, one slot per
 * stream name (the first NGX_HTTP_WEBHOOK_QUEUE_STREAMS names the node
 * writes to): enqueued and failed counts, kept by the requests, and the
 * stream's length and its consumer groups' pending entries and lag,
 * polled from Redis at most once a second per node by one worker (a
 * lease in the zone, taken over when its holder is gone), never on a
 * request's path.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


#define NGX_HTTP_WEBHOOK_QUEUE_STREAMS     64
#define NGX_HTTP_WEBHOOK_QUEUE_NAME_MAX    200
#define NGX_HTTP_WEBHOOK_QUEUE_GROUP_MAX   64
#define NGX_HTTP_WEBHOOK_QUEUE_INTERVAL    1000


typedef struct {
    size_t                            len;
    u_char                            name[NGX_HTTP_WEBHOOK_QUEUE_GROUP_MAX];
    int64_t                           pending;
    int64_t                           lag;          /* -1: Redis does not
                                                       know */
} ngx_http_webhook_queue_group_t;


typedef struct {
    uint32_t                          hash;
    size_t                            len;          /* 0: free slot */
    u_char                            name[NGX_HTTP_WEBHOOK_QUEUE_NAME_MAX];
    ngx_atomic_t                      enqueued;
    ngx_atomic_t                      failures;

    /* from the last poll, under the mutex */
    int64_t                           length;       /* -1: not polled */
    ngx_uint_t                        ngroups;
    ngx_http_webhook_queue_group_t    groups[NGX_HTTP_WEBHOOK_QUEUE_GROUPS];
} ngx_http_webhook_queue_stream_t;


typedef struct {
    ngx_pid_t                         poller;       /* the lease */
    ngx_msec_t                        poller_until;
    ngx_msec_t                        polled;       /* last round's start */
    ngx_uint_t                        nstreams;
    ngx_uint_t                        untracked;    /* names with no slot */
    ngx_http_webhook_queue_stream_t   streams[NGX_HTTP_WEBHOOK_QUEUE_STREAMS];
} ngx_http_webhook_queue_sh_t;


static ngx_int_t ngx_http_webhook_queue_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_webhook_queue_sh_t *ngx_http_webhook_queue_sh(
    ngx_slab_pool_t **shpool);
static void ngx_http_webhook_queue_poll_handler(ngx_event_t *ev);
static void ngx_http_webhook_queue_copy(u_char *dst, size_t *dst_len,
    size_t max, const char *src, size_t len);
static u_char *ngx_http_webhook_queue_label(u_char *p, u_char *s,
    size_t len);


static ngx_str_t  ngx_http_webhook_queue_zone_name =
    ngx_string("webhook_queue");

static ngx_event_t  ngx_http_webhook_queue_poll_ev;
static ngx_uint_t   ngx_http_webhook_queue_polling;


/* from webhook_enqueue: the zone, once for all locations */

ngx_int_t
ngx_http_webhook_queue_add_zone(ngx_conf_t *cf)
{
    ngx_http_webhook_main_conf_t  *wmcf;

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webhook_module);

    if (wmcf->queue_zone) {
        return NGX_OK;
    }

    wmcf->queue_zone = ngx_shared_memory_add(cf,
                                         &ngx_http_webhook_queue_zone_name,
                                         2 * sizeof(ngx_http_webhook_queue_sh_t)
                                         + 64 * 1024,
                                         &ngx_http_webhook_module);
    if (wmcf->queue_zone == NULL) {
        return NGX_ERROR;
    }

    wmcf->queue_zone->init = ngx_http_webhook_queue_init_zone;
    wmcf->queue_zone->data = wmcf;

    return NGX_OK;
}


/* the counts survive a reload, as the status zone's do */

static ngx_int_t
ngx_http_webhook_queue_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_uint_t                    i;
    ngx_slab_pool_t              *shpool;
    ngx_http_webhook_queue_sh_t  *sh;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data || shm_zone->shm.exists) {
        return NGX_OK;
    }

    sh = ngx_slab_calloc(shpool, sizeof(ngx_http_webhook_queue_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < NGX_HTTP_WEBHOOK_QUEUE_STREAMS; i++) {
        sh->streams[i].length = -1;
    }

    shpool->data = sh;
    shpool->log_nomem = 0;

    return NGX_OK;
}


static ngx_http_webhook_queue_sh_t *
ngx_http_webhook_queue_sh(ngx_slab_pool_t **shpool)
{
    ngx_http_conf_ctx_t           *ctx;
    ngx_http_webhook_main_conf_t  *wmcf;

    ctx = (ngx_http_conf_ctx_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                               ngx_http_module);
    if (ctx == NULL) {
        return NULL;
    }

    wmcf = ctx->main_conf[ngx_http_webhook_module.ctx_index];

    if (wmcf == NULL || wmcf->queue_zone == NULL) {
        return NULL;
    }

    *shpool = (ngx_slab_pool_t *) wmcf->queue_zone->shm.addr;

    return (*shpool)->data;
}


/* a request's stream: its slot, taken if new; NULL when the table is full */

void *
ngx_http_webhook_queue_stream(ngx_str_t *stream)
{
    uint32_t                          hash;
    ngx_uint_t                        i;
    ngx_slab_pool_t                  *shpool;
    ngx_http_webhook_queue_sh_t      *sh;
    ngx_http_webhook_queue_stream_t  *s, *found;

    sh = ngx_http_webhook_queue_sh(&shpool);

    if (sh == NULL || stream->len > NGX_HTTP_WEBHOOK_QUEUE_NAME_MAX) {
        return NULL;
    }

    hash = ngx_crc32_short(stream->data, stream->len);
    found = NULL;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < sh->nstreams; i++) {
        s = &sh->streams[i];

        if (s->hash == hash && s->len == stream->len
            && ngx_memcmp(s->name, stream->data, s->len) == 0)
        {
            found = s;
            break;
        }
    }

    if (found == NULL) {
        if (sh->nstreams < NGX_HTTP_WEBHOOK_QUEUE_STREAMS) {
            found = &sh->streams[sh->nstreams++];
            found->hash = hash;
            found->len = stream->len;
            ngx_memcpy(found->name, stream->data, stream->len);

        } else {
            sh->untracked++;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return found;
}


void
ngx_http_webhook_queue_count(void *stats, ngx_uint_t enqueued)
{
    ngx_http_webhook_queue_stream_t  *s = stats;

    if (s == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(enqueued ? &s->enqueued : &s->failures, 1);
}


/* ---- the poll ---------------------------------------------------------- */


ngx_int_t
ngx_http_webhook_queue_init_process(ngx_cycle_t *cycle)
{
    ngx_event_t                   *ev;
    ngx_slab_pool_t               *shpool;
    ngx_http_webhook_main_conf_t  *wmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (ngx_get_conf(cycle->conf_ctx, ngx_http_module) == NULL) {
        return NGX_OK;
    }

    wmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_webhook_module);

    if (wmcf == NULL || wmcf->queue_zone == NULL || wmcf->redis == NULL) {
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) wmcf->queue_zone->shm.addr;

    if (shpool->data == NULL) {
        return NGX_OK;
    }

    ev = &ngx_http_webhook_queue_poll_ev;

    ev->handler = ngx_http_webhook_queue_poll_handler;
    ev->log = cycle->log;
    ev->data = wmcf;
    ev->cancelable = 1;

    ngx_http_webhook_queue_polling = 0;

    ngx_add_timer(ev, NGX_HTTP_WEBHOOK_QUEUE_INTERVAL);

    return NGX_OK;
}


/*
 * Every second in every worker: the one holding the lease (renewed
 * here, taken over once its holder stopped renewing) polls, unless its
 * previous round is still out or a round started less than a second ago.
 */

static void
ngx_http_webhook_queue_poll_handler(ngx_event_t *ev)
{
    ngx_uint_t                    i, n, mine;
    ngx_str_t                     names[NGX_HTTP_WEBHOOK_QUEUE_STREAMS];
    ngx_slab_pool_t              *shpool;
    ngx_http_webhook_queue_sh_t  *sh;
    u_char                        buf[NGX_HTTP_WEBHOOK_QUEUE_STREAMS]
                                     [NGX_HTTP_WEBHOOK_QUEUE_NAME_MAX];

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    sh = ngx_http_webhook_queue_sh(&shpool);

    if (sh == NULL) {
        return;
    }

    mine = 0;
    n = 0;

    ngx_shmtx_lock(&shpool->mutex);

    if (sh->poller == ngx_pid || sh->poller == 0
        || (ngx_msec_int_t) (ngx_current_msec - sh->poller_until) >= 0)
    {
        sh->poller = ngx_pid;
        sh->poller_until = ngx_current_msec
                           + 3 * NGX_HTTP_WEBHOOK_QUEUE_INTERVAL;

        if (!ngx_http_webhook_queue_polling
            && (sh->polled == 0
                || ngx_current_msec - sh->polled
                   >= NGX_HTTP_WEBHOOK_QUEUE_INTERVAL))
        {
            mine = 1;

            for (i = 0; i < sh->nstreams; i++) {
                names[n].data = buf[n];
                names[n].len = sh->streams[i].len;
                ngx_memcpy(buf[n], sh->streams[i].name, names[n].len);
                n++;
            }

            if (n) {
                sh->polled = ngx_current_msec;
            }
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (mine && n) {
        /* a round may end inside the call, if nothing could be sent */

        ngx_http_webhook_queue_polling = 1;

        if (ngx_http_webhook_stream_poll(names, n) != NGX_OK) {
            ngx_http_webhook_queue_polling = 0;
        }
    }

    ngx_add_timer(ev, NGX_HTTP_WEBHOOK_QUEUE_INTERVAL);
}


void
ngx_http_webhook_queue_poll_done(void)
{
    ngx_http_webhook_queue_polling = 0;
}


/*
 * One stream's answers, as the store read them: its length (XLEN) and up
 * to NGX_HTTP_WEBHOOK_QUEUE_GROUPS consumer groups (XINFO GROUPS).
 */

void
ngx_http_webhook_queue_polled(ngx_str_t *stream, int64_t length,
    ngx_http_webhook_stream_group_t *groups, ngx_uint_t n)
{
    uint32_t                          hash;
    ngx_uint_t                        i, j;
    ngx_slab_pool_t                  *shpool;
    ngx_http_webhook_queue_sh_t      *sh;
    ngx_http_webhook_queue_group_t   *qg;
    ngx_http_webhook_queue_stream_t  *s;

    sh = ngx_http_webhook_queue_sh(&shpool);

    if (sh == NULL) {
        return;
    }

    hash = ngx_crc32_short(stream->data, stream->len);
    n = ngx_min(n, NGX_HTTP_WEBHOOK_QUEUE_GROUPS);

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < sh->nstreams; i++) {
        s = &sh->streams[i];

        if (s->hash != hash || s->len != stream->len
            || ngx_memcmp(s->name, stream->data, s->len) != 0)
        {
            continue;
        }

        s->length = length;

        for (j = 0; j < n; j++) {
            qg = &s->groups[j];

            ngx_http_webhook_queue_copy(qg->name, &qg->len,
                                        NGX_HTTP_WEBHOOK_QUEUE_GROUP_MAX,
                                        (const char *) groups[j].name.data,
                                        groups[j].name.len);
            qg->pending = groups[j].pending;
            qg->lag = groups[j].lag;
        }

        s->ngroups = n;
        break;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/* a name for JSON keys and Prometheus labels: printable ASCII */

static void
ngx_http_webhook_queue_copy(u_char *dst, size_t *dst_len, size_t max,
    const char *src, size_t len)
{
    size_t  i;

    len = ngx_min(len, max);

    for (i = 0; i < len; i++) {
        dst[i] = (src[i] < 0x20 || src[i] >= 0x7f) ? '?' : (u_char) src[i];
    }

    *dst_len = len;
}


/* ---- rendering --------------------------------------------------------- */


/* a copy taken under the lock, so a poll does not tear what is shown */

static ngx_http_webhook_queue_sh_t *
ngx_http_webhook_queue_snapshot(void)
{
    ngx_slab_pool_t              *shpool;
    ngx_http_webhook_queue_sh_t  *sh, *copy;

    sh = ngx_http_webhook_queue_sh(&shpool);

    if (sh == NULL) {
        return NULL;
    }

    copy = ngx_alloc(sizeof(ngx_http_webhook_queue_sh_t), ngx_cycle->log);
    if (copy == NULL) {
        return NULL;
    }

    ngx_shmtx_lock(&shpool->mutex);
    ngx_memcpy(copy, sh, offsetof(ngx_http_webhook_queue_sh_t, streams)
                         + sh->nstreams
                           * sizeof(ngx_http_webhook_queue_stream_t));
    ngx_shmtx_unlock(&shpool->mutex);

    return copy;
}


/*
 * "queues": {"<stream>": {"length": N or null, "enqueued": N,
 * "failures": N, "groups": {"<group>": {"pending": N, "lag": N or
 * null}}}}; an empty object without webhook_enqueue.
 */

json_t *
ngx_http_webhook_queue_json(void)
{
    char                              key[NGX_HTTP_WEBHOOK_QUEUE_NAME_MAX + 1];
    size_t                            len;
    json_t                           *queues, *q, *groups, *g;
    ngx_uint_t                        i, j;
    ngx_http_webhook_queue_sh_t      *sh;
    ngx_http_webhook_queue_group_t   *qg;
    ngx_http_webhook_queue_stream_t  *s;

    queues = json_object();
    if (queues == NULL) {
        return NULL;
    }

    sh = ngx_http_webhook_queue_snapshot();

    if (sh == NULL) {
        return queues;
    }

    for (i = 0; i < sh->nstreams; i++) {
        s = &sh->streams[i];

        q = json_object();
        groups = json_object();

        if (q == NULL || groups == NULL) {
            json_decref(q);
            json_decref(groups);
            break;
        }

        json_object_set_new(q, "length", s->length >= 0
                                         ? json_integer(s->length)
                                         : json_null());
        json_object_set_new(q, "enqueued", json_integer(s->enqueued));
        json_object_set_new(q, "failures", json_integer(s->failures));

        for (j = 0; j < s->ngroups; j++) {
            qg = &s->groups[j];

            g = json_object();
            if (g == NULL) {
                break;
            }

            json_object_set_new(g, "pending", json_integer(qg->pending));
            json_object_set_new(g, "lag", qg->lag >= 0
                                          ? json_integer(qg->lag)
                                          : json_null());

            ngx_memcpy(key, qg->name, qg->len);
            key[qg->len] = '\0';
            json_object_set_new(groups, key, g);
        }

        json_object_set_new(q, "groups", groups);

        /* printable ASCII: a valid key whatever the variables gave */
        ngx_http_webhook_queue_copy((u_char *) key, &len,
                                    NGX_HTTP_WEBHOOK_QUEUE_NAME_MAX,
                                    (const char *) s->name, s->len);
        key[len] = '\0';
        json_object_set_new(queues, key, q);
    }

    ngx_free(sh);

    return queues;
}


/* the queue metrics, appended to the Prometheus text in out */

ngx_int_t
ngx_http_webhook_queue_prometheus(ngx_pool_t *pool, ngx_str_t *out)
{
    u_char                           *p, *start;
    size_t                            size;
    ngx_uint_t                        i, j;
    ngx_http_webhook_queue_sh_t      *sh;
    ngx_http_webhook_queue_group_t   *qg;
    ngx_http_webhook_queue_stream_t  *s;

    sh = ngx_http_webhook_queue_snapshot();

    if (sh == NULL) {
        return NGX_OK;
    }

    /* names escaped at most double; a line's fixed part under 128 */

    size = out->len + 1024;

    for (i = 0; i < sh->nstreams; i++) {
        size += 4 * (128 + 2 * sh->streams[i].len + NGX_INT64_LEN)
                + sh->streams[i].ngroups
                  * 2 * (128 + 2 * (sh->streams[i].len
                                    + NGX_HTTP_WEBHOOK_QUEUE_GROUP_MAX)
                         + NGX_INT64_LEN);
    }

    p = ngx_pnalloc(pool, size);
    if (p == NULL) {
        ngx_free(sh);
        return NGX_ERROR;
    }

    start = p;
    p = ngx_cpymem(p, out->data, out->len);

#define webhook_queue_head(name, help, type)                                  \
    p = ngx_sprintf(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type)

    webhook_queue_head("nginx_webhook_queue_length",
                       "Entries in the stream (XLEN), polled every second.",
                       "gauge");

    for (i = 0; i < sh->nstreams; i++) {
        s = &sh->streams[i];

        if (s->length >= 0) {
            p = ngx_sprintf(p, "nginx_webhook_queue_length{stream=\"");
            p = ngx_http_webhook_queue_label(p, s->name, s->len);
            p = ngx_sprintf(p, "\"} %L\n", s->length);
        }
    }

    webhook_queue_head("nginx_webhook_queue_pending",
                       "Entries delivered to a consumer group and not "
                       "acknowledged yet (XINFO GROUPS).", "gauge");

    for (i = 0; i < sh->nstreams; i++) {
        s = &sh->streams[i];

        for (j = 0; j < s->ngroups; j++) {
            qg = &s->groups[j];
            p = ngx_sprintf(p, "nginx_webhook_queue_pending{stream=\"");
            p = ngx_http_webhook_queue_label(p, s->name, s->len);
            p = ngx_sprintf(p, "\",group=\"");
            p = ngx_http_webhook_queue_label(p, qg->name, qg->len);
            p = ngx_sprintf(p, "\"} %L\n", qg->pending);
        }
    }

    webhook_queue_head("nginx_webhook_queue_lag",
                       "Entries not yet delivered to a consumer group "
                       "(XINFO GROUPS, Redis 7).", "gauge");

    for (i = 0; i < sh->nstreams; i++) {
        s = &sh->streams[i];

        for (j = 0; j < s->ngroups; j++) {
            qg = &s->groups[j];

            if (qg->lag < 0) {
                continue;
            }

            p = ngx_sprintf(p, "nginx_webhook_queue_lag{stream=\"");
            p = ngx_http_webhook_queue_label(p, s->name, s->len);
            p = ngx_sprintf(p, "\",group=\"");
            p = ngx_http_webhook_queue_label(p, qg->name, qg->len);
            p = ngx_sprintf(p, "\"} %L\n", qg->lag);
        }
    }

    webhook_queue_head("nginx_webhook_enqueued_total",
                       "Deliveries stored in the stream and answered 200.",
                       "counter");

    for (i = 0; i < sh->nstreams; i++) {
        s = &sh->streams[i];
        p = ngx_sprintf(p, "nginx_webhook_enqueued_total{stream=\"");
        p = ngx_http_webhook_queue_label(p, s->name, s->len);
        p = ngx_sprintf(p, "\"} %uA\n", s->enqueued);
    }

    webhook_queue_head("nginx_webhook_enqueue_failures_total",
                       "Deliveries answered 503 queue_unavailable.",
                       "counter");

    for (i = 0; i < sh->nstreams; i++) {
        s = &sh->streams[i];
        p = ngx_sprintf(p, "nginx_webhook_enqueue_failures_total{stream=\"");
        p = ngx_http_webhook_queue_label(p, s->name, s->len);
        p = ngx_sprintf(p, "\"} %uA\n", s->failures);
    }

#undef webhook_queue_head

    out->data = start;
    out->len = p - start;

    ngx_free(sh);

    return NGX_OK;
}


/*
 * A Prometheus label value: backslash, quote and newline escaped, other
 * bytes outside printable ASCII replaced, as in the JSON keys.
 */

static u_char *
ngx_http_webhook_queue_label(u_char *p, u_char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        switch (s[i]) {
        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = s[i];
            break;
        case LF:
            *p++ = '\\';
            *p++ = 'n';
            break;
        default:
            /* a name made from request variables may hold anything */
            *p++ = (s[i] < 0x20 || s[i] >= 0x7f) ? '?' : s[i];
        }
    }

    return p;
}
