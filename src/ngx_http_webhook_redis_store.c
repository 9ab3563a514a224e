
/*
 * ngx_http_webhook_module: the cluster store, on the Redis connection
 * (ngx_http_webhook_redis.c).
 *
 * What the limiter and the replay cache ask, in the module's own types:
 *   - sync counts: write this node's absolute counts of a key's two
 *     windows, get the cluster's sums back (the limiter's rounds and its
 *     waiting requests, ngx_http_webhook_limit_sync.c);
 *   - claim, settle, renew: a delivery's records, in flight under a
 *     lease, committed for their lifetime, dropped
 *     (ngx_http_webhook_replay.c).
 * Here are the keys, the scripts, the parsing of their replies (checked
 * for type and shape: Redis is trusted less than the nodes), and the
 * requests parked on an answer.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"
#include "ngx_http_webhook_redis.h"


/*
 * A request waiting on Redis.  Heap memory, not the request's pool:
 * whichever of the reply, the timer and the end of the request comes
 * first, the others must still find it.  The request's pool cleanup
 * detaches it; the hiredis callback frees it once the request let go.
 */
typedef struct {
    ngx_http_request_t               *request;      /* NULL: let go */
    ngx_pool_cleanup_t               *cleanup;
    ngx_event_t                       event;        /* timeout, resume */
    ngx_http_webhook_redis_done_pt    done;
    ngx_http_event_handler_pt         resume;       /* NULL: run phases */
    unsigned                          answered:1;   /* hiredis let go */
} ngx_http_webhook_redis_waiter_t;


static void ngx_http_webhook_redis_waiter_reply(redisReply *reply,
    void *data);
static void ngx_http_webhook_redis_waiter_handler(ngx_event_t *ev);
static void ngx_http_webhook_redis_waiter_cleanup(void *data);
static ngx_http_webhook_redis_waiter_t *ngx_http_webhook_redis_waiter(
    ngx_http_request_t *r);
static void ngx_http_webhook_redis_park(ngx_http_webhook_redis_waiter_t *w,
    ngx_http_request_t *r, ngx_http_webhook_redis_done_pt done,
    ngx_http_event_handler_pt resume);
static void ngx_http_webhook_redis_counts_reply(redisReply *reply,
    void *data);
static u_char *ngx_http_webhook_store_record_args(
    ngx_http_webhook_record_ref_t *rec, ngx_msec_t ms, ngx_str_t *args);
static void ngx_http_webhook_store_claimed(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_webhook_store_ignore(redisReply *reply, void *data);
static u_char *ngx_http_webhook_redis_key(u_char *p, ngx_str_t *prefix,
    ngx_str_t *zone, ngx_str_t *key, int64_t window, ngx_str_t *out);


#define rw  ngx_http_webhook_redis_worker


/*
 * KEYS: this window's hash, the previous window's; ARGV: this node's
 * field, its counts for both windows, the expiry in ms.  A field only
 * grows, so a write repeated or delayed does no harm.  Returns the sums
 * of both hashes over every node, of the fields that are non-negative
 * integers (up to 15 digits): whatever else is found there is ignored.
 */

static const char  ngx_http_webhook_script_sync[] =
    "local function int(v)\n"
    "  if type(v) == 'string' and #v <= 15 and string.match(v, '^[0-9]+$')"
    " then\n"
    "    return tonumber(v)\n"
    "  end\n"
    "  return nil\n"
    "end\n"
    "local function put(key, n)\n"
    "  n = int(n)\n"
    "  if n and n > 0 then\n"
    "    local old = int(redis.call('HGET', key, ARGV[1]))\n"
    "    if not old or n > old then\n"
    "      redis.call('HSET', key, ARGV[1], n)\n"
    "    end\n"
    "    redis.call('PEXPIRE', key, ARGV[4])\n"
    "  end\n"
    "end\n"
    "local function sum(key)\n"
    "  local s = 0\n"
    "  for _, v in ipairs(redis.call('HVALS', key)) do\n"
    "    s = s + (int(v) or 0)\n"
    "  end\n"
    "  return s\n"
    "end\n"
    "put(KEYS[1], ARGV[2])\n"
    "put(KEYS[2], ARGV[3])\n"
    "return {sum(KEYS[1]), sum(KEYS[2])}\n";


/*
 * KEYS: the delivery's records (one per key); ARGV: our in-flight value,
 * the lease in ms (the full lifetime comes with the commit).  "d" under any key: delivered; else a record under any
 * key: in flight; else all are ours.  "d" marks a delivery the upstream
 * took.
 */

static const char  ngx_http_webhook_script_claim[] =
    "local busy = false\n"
    "for i = 1, #KEYS do\n"
    "  local v = redis.call('GET', KEYS[i])\n"
    "  if v == 'd' then\n"
    "    return 'delivered'\n"
    "  end\n"
    "  if v then\n"
    "    busy = true\n"
    "  end\n"
    "end\n"
    "if busy then\n"
    "  return 'in_flight'\n"
    "end\n"
    "for i = 1, #KEYS do\n"
    "  redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])\n"
    "end\n"
    "return 'new'\n";


/*
 * KEYS: the records; ARGV: our in-flight value, the ttl in ms, or 0 to
 * drop them.  Only the request that holds a record may settle it.
 */

static const char  ngx_http_webhook_script_settle[] =
    "local n = 0\n"
    "for i = 1, #KEYS do\n"
    "  if redis.call('GET', KEYS[i]) == ARGV[1] then\n"
    "    if ARGV[2] == '0' then\n"
    "      redis.call('DEL', KEYS[i])\n"
    "    else\n"
    "      redis.call('SET', KEYS[i], 'd', 'PX', ARGV[2])\n"
    "    end\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";


/*
 * KEYS: the records; ARGV: our in-flight value, the lease in ms.  The
 * request holding them is alive: its lease starts again.
 */

static const char  ngx_http_webhook_script_renew[] =
    "local n = 0\n"
    "for i = 1, #KEYS do\n"
    "  if redis.call('GET', KEYS[i]) == ARGV[1] then\n"
    "    redis.call('PEXPIRE', KEYS[i], ARGV[2])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";


ngx_str_t  ngx_http_webhook_redis_scripts[NGX_HTTP_WEBHOOK_NSCRIPTS] = {
    { sizeof(ngx_http_webhook_script_sync) - 1,
      (u_char *) ngx_http_webhook_script_sync },
    { sizeof(ngx_http_webhook_script_claim) - 1,
      (u_char *) ngx_http_webhook_script_claim },
    { sizeof(ngx_http_webhook_script_settle) - 1,
      (u_char *) ngx_http_webhook_script_settle },
    { sizeof(ngx_http_webhook_script_renew) - 1,
      (u_char *) ngx_http_webhook_script_renew },
};


/* the type of each script's answer; anything else is a failure (0: any) */

int  ngx_http_webhook_redis_script_types[NGX_HTTP_WEBHOOK_NSCRIPTS] = {
    REDIS_REPLY_ARRAY,                      /* sync: two sums */
    REDIS_REPLY_STRING,                     /* claim: "new", ... */
    REDIS_REPLY_INTEGER,                    /* settle: records settled */
    REDIS_REPLY_INTEGER,                    /* renew: records renewed */
};


/* ---- a request waiting on Redis ---------------------------------------- */


/*
 * Run a script for r and park r until the answer, or "timeout", comes:
 * done(r, reply) is called first (reply NULL without an answer), then
 * the phases resume.  NGX_AGAIN: r waits (its handler returns NGX_DONE).
 * NGX_DECLINED: not connected; nothing happens.
 */

ngx_int_t
ngx_http_webhook_redis_wait(ngx_http_request_t *r, ngx_uint_t script,
    ngx_str_t *args, ngx_uint_t nkeys, ngx_uint_t nargs,
    ngx_http_webhook_redis_done_pt done)
{
    ngx_http_webhook_redis_waiter_t  *w;

    w = ngx_http_webhook_redis_waiter(r);
    if (w == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_webhook_redis_script(script, args, nkeys, nargs,
                                      ngx_http_webhook_redis_waiter_reply, w)
        != NGX_OK)
    {
        ngx_free(w);
        return NGX_DECLINED;
    }

    ngx_http_webhook_redis_park(w, r, done, NULL);

    return NGX_AGAIN;
}


/*
 * Send one command (not a script) for r and park r the same way; when
 * done() has run, resume(r) is called from the event loop instead of the
 * phases.  The arguments are formatted before this returns: they may
 * live on the caller's stack or in the request's pool.  An error reply
 * is passed to done() as it is, and is not counted as a Redis failure.
 */

ngx_int_t
ngx_http_webhook_redis_request(ngx_http_request_t *r, int argc,
    const char **argv, const size_t *argvlen,
    ngx_http_webhook_redis_done_pt done, ngx_http_event_handler_pt resume)
{
    ngx_http_webhook_redis_waiter_t  *w;

    w = ngx_http_webhook_redis_waiter(r);
    if (w == NULL) {
        return NGX_DECLINED;
    }

    if (ngx_http_webhook_redis_command(argc, argv, argvlen,
                                       ngx_http_webhook_redis_waiter_reply, w)
        != NGX_OK)
    {
        ngx_free(w);
        return NGX_DECLINED;
    }

    ngx_http_webhook_redis_park(w, r, done, resume);

    return NGX_AGAIN;
}


static ngx_http_webhook_redis_waiter_t *
ngx_http_webhook_redis_waiter(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t               *cln;
    ngx_http_webhook_redis_waiter_t  *w;

    if (!ngx_http_webhook_store_connected()) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    w = ngx_calloc(sizeof(ngx_http_webhook_redis_waiter_t),
                   r->connection->log);
    if (w == NULL) {
        return NULL;
    }

    w->cleanup = cln;

    return w;
}


static void
ngx_http_webhook_redis_park(ngx_http_webhook_redis_waiter_t *w,
    ngx_http_request_t *r, ngx_http_webhook_redis_done_pt done,
    ngx_http_event_handler_pt resume)
{
    w->request = r;
    w->done = done;
    w->resume = resume;

    w->event.handler = ngx_http_webhook_redis_waiter_handler;
    w->event.data = w;
    w->event.log = r->connection->log;

    w->cleanup->handler = ngx_http_webhook_redis_waiter_cleanup;
    w->cleanup->data = w;

    /* not cancelable: a graceful shutdown lets the request finish */
    ngx_add_timer(&w->event, rw.conf->timeout);
}


/* the answer (or, with the connection lost, none) */

static void
ngx_http_webhook_redis_waiter_reply(redisReply *reply, void *data)
{
    ngx_http_webhook_redis_waiter_t  *w = data;

    w->answered = 1;

    if (w->request == NULL) {
        /* the request is over, or went on after the timeout */
        ngx_free(w);
        return;
    }

    if (rw.exiting) {
        /* the worker exits: no request is resumed any more */
        return;
    }

    w->done(w->request, reply);

    if (w->event.timer_set) {
        ngx_del_timer(&w->event);
    }

    /* resume from the event loop, not from inside hiredis */
    ngx_post_event(&w->event, &ngx_posted_events);
}


/* the posted resume, or the timeout */

static void
ngx_http_webhook_redis_waiter_handler(ngx_event_t *ev)
{
    ngx_connection_t                 *c;
    ngx_http_request_t               *r;
    ngx_http_event_handler_pt         resume;
    ngx_http_webhook_redis_waiter_t  *w;

    w = ev->data;
    r = w->request;
    resume = w->resume;

    if (ev->timedout) {
        ev->timedout = 0;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "webhook: redis did not answer within %Mms, going "
                       "on without it", rw.conf->timeout);

        ngx_http_webhook_store_trouble(rw.conf, "request");

        w->done(r, NULL);
    }

    /* let go: the hiredis callback frees w if it has not come yet */

    w->cleanup->handler = NULL;
    w->request = NULL;

    if (w->answered) {
        ngx_free(w);
    }

    c = r->connection;

    if (resume) {
        resume(r);

    } else {
        r->write_event_handler = ngx_http_core_run_phases;
        ngx_http_core_run_phases(r);
    }

    ngx_http_run_posted_requests(c);
}


/* the request ended while waiting: nothing may touch it any more */

static void
ngx_http_webhook_redis_waiter_cleanup(void *data)
{
    ngx_http_webhook_redis_waiter_t  *w = data;

    if (w->event.timer_set) {
        ngx_del_timer(&w->event);
    }

    if (w->event.posted) {
        ngx_delete_posted_event(&w->event);
    }

    w->request = NULL;

    if (w->answered) {
        ngx_free(w);
    }
}


/*
 * The store's "sync counts": write this node's absolute counts of a
 * key's two windows, get the cluster's sums back (item->handler).
 * NGX_DECLINED: not sent (not connected); the handler is not called.
 */

ngx_int_t
ngx_http_webhook_store_sync(ngx_http_webhook_limit_sync_t *item)
{
    u_char     *p, *buf;
    size_t      len;
    ngx_int_t   rc;
    ngx_str_t   args[6];

    if (!ngx_http_webhook_store_connected()) {
        return NGX_DECLINED;
    }

    /* two keys, "<prefix>{<zone>:<hex of the key>}:<window>", and counts */

    len = rw.conf->prefix.len + item->zone->name.len + 2 * item->key.len
          + 4 + NGX_INT64_LEN;

    buf = ngx_alloc(2 * len + 3 * NGX_INT64_LEN, rw.log);
    if (buf == NULL) {
        return NGX_DECLINED;
    }

    p = ngx_http_webhook_redis_key(buf, &rw.conf->prefix, &item->zone->name,
                                   &item->key, item->window, &args[0]);
    p = ngx_http_webhook_redis_key(p, &rw.conf->prefix, &item->zone->name,
                                   &item->key, item->window - 1, &args[1]);

    args[2] = rw.node;

    args[3].data = p;
    p = ngx_sprintf(p, "%uL", item->current);
    args[3].len = p - args[3].data;

    args[4].data = p;
    p = ngx_sprintf(p, "%uL", item->previous);
    args[4].len = p - args[4].data;

    /* this window's hash is read as "previous" through the next window */
    args[5].data = p;
    p = ngx_sprintf(p, "%L", 2 * item->zone->period_ms + 1000);
    args[5].len = p - args[5].data;

    rc = ngx_http_webhook_redis_script(NGX_HTTP_WEBHOOK_SCRIPT_SYNC, args,
                                       2, 4,
                                       ngx_http_webhook_redis_counts_reply,
                                       item);
    ngx_free(buf);

    return rc;
}


/* "<prefix>{<zone>:<hex of the key>}:<window>": both windows, one slot */

static u_char *
ngx_http_webhook_redis_key(u_char *p, ngx_str_t *prefix, ngx_str_t *zone,
    ngx_str_t *key, int64_t window, ngx_str_t *out)
{
    out->data = p;

    p = ngx_cpymem(p, prefix->data, prefix->len);
    *p++ = '{';
    p = ngx_cpymem(p, zone->data, zone->len);
    *p++ = ':';
    p = ngx_hex_dump(p, key->data, key->len);
    p = ngx_sprintf(p, "}:%L", window);

    out->len = p - out->data;

    return p;
}


/*
 * The sync script's answer: two non-negative integers, else a failure
 * (Redis is not trusted to send what was asked for).
 */

static void
ngx_http_webhook_redis_counts_reply(redisReply *reply, void *data)
{
    ngx_http_webhook_limit_sync_t  *item = data;

    if (rw.exiting) {
        item->handler(item, NGX_ABORT, 0, 0);
        return;
    }

    if (reply
        && reply->type == REDIS_REPLY_ARRAY
        && reply->elements == 2
        && reply->element[0] && reply->element[1]
        && reply->element[0]->type == REDIS_REPLY_INTEGER
        && reply->element[1]->type == REDIS_REPLY_INTEGER
        && reply->element[0]->integer >= 0
        && reply->element[1]->integer >= 0)
    {
        item->handler(item, NGX_OK, (uint64_t) reply->element[0]->integer,
                      (uint64_t) reply->element[1]->integer);
        return;
    }

    if (reply && reply->type != REDIS_REPLY_ERROR) {
        ngx_http_webhook_redis_error("sync", "unexpected reply", 0);
    }

    item->handler(item, NGX_ERROR, 0, 0);
}


/* ---- the store: a delivery's records ------------------------------------ */


static ngx_http_webhook_claim_pt  ngx_http_webhook_store_claim_done;


/*
 * Claim a delivery for r in the cluster: its records, in flight, ours
 * for "lease" ms.  done(r, claim) once the answer (or the timeout) came,
 * then the phases resume.  NGX_AGAIN: r waits.  NGX_DECLINED: not sent
 * (not connected); done is not called.
 */

ngx_int_t
ngx_http_webhook_store_claim(ngx_http_request_t *r,
    ngx_http_webhook_record_ref_t *rec, ngx_msec_t lease,
    ngx_http_webhook_claim_pt done)
{
    u_char     *buf;
    ngx_int_t   rc;
    ngx_str_t   args[NGX_HTTP_WEBHOOK_REPLAY_KEYS + 2];

    if (!ngx_http_webhook_store_connected()) {
        return NGX_DECLINED;
    }

    buf = ngx_http_webhook_store_record_args(rec, lease, args);
    if (buf == NULL) {
        return NGX_DECLINED;
    }

    /* one function for every worker's claims: the replay cache's */
    ngx_http_webhook_store_claim_done = done;

    rc = ngx_http_webhook_redis_wait(r, NGX_HTTP_WEBHOOK_SCRIPT_CLAIM, args,
                                     rec->nkeys, 2,
                                     ngx_http_webhook_store_claimed);
    ngx_free(buf);

    return (rc == NGX_AGAIN) ? NGX_AGAIN : NGX_DECLINED;
}


/* "new", "delivered" or "in_flight"; anything else is no answer */

static void
ngx_http_webhook_store_claimed(ngx_http_request_t *r, redisReply *reply)
{
    ngx_uint_t  claim;

    claim = NGX_HTTP_WEBHOOK_CLAIM_NONE;

    if (reply && reply->type == REDIS_REPLY_STRING) {

        if (reply->len == 3 && ngx_strncmp(reply->str, "new", 3) == 0) {
            claim = NGX_HTTP_WEBHOOK_CLAIM_NEW;

        } else if (reply->len == 9
                   && ngx_strncmp(reply->str, "delivered", 9) == 0)
        {
            claim = NGX_HTTP_WEBHOOK_CLAIM_DELIVERED;

        } else if (reply->len == 9
                   && ngx_strncmp(reply->str, "in_flight", 9) == 0)
        {
            claim = NGX_HTTP_WEBHOOK_CLAIM_IN_FLIGHT;

        } else {
            ngx_http_webhook_redis_error("claim", "unexpected reply", 0);
        }
    }

    ngx_http_webhook_store_claim_done(r, claim);
}


/* commit the records for "ttl" ms, or drop them (ttl 0); not waited for */

void
ngx_http_webhook_store_settle(ngx_http_webhook_record_ref_t *rec,
    ngx_msec_t ttl)
{
    u_char     *buf;
    ngx_str_t   args[NGX_HTTP_WEBHOOK_REPLAY_KEYS + 2];

    if (!ngx_http_webhook_store_connected()) {
        return;
    }

    buf = ngx_http_webhook_store_record_args(rec, ttl, args);
    if (buf == NULL) {
        return;
    }

    if (ngx_http_webhook_redis_script(NGX_HTTP_WEBHOOK_SCRIPT_SETTLE, args,
                                      rec->nkeys, 2,
                                      ngx_http_webhook_store_ignore, NULL)
        == NGX_OK)
    {
        /* before the answer leaves */
        ngx_http_webhook_redis_flush();
    }

    ngx_free(buf);
}


/* the request holding the records is alive: another lease */

void
ngx_http_webhook_store_renew(ngx_http_webhook_record_ref_t *rec,
    ngx_msec_t lease)
{
    u_char     *buf;
    ngx_str_t   args[NGX_HTTP_WEBHOOK_REPLAY_KEYS + 2];

    if (!ngx_http_webhook_store_connected()) {
        return;
    }

    buf = ngx_http_webhook_store_record_args(rec, lease, args);
    if (buf == NULL) {
        return;
    }

    (void) ngx_http_webhook_redis_script(NGX_HTTP_WEBHOOK_SCRIPT_RENEW, args,
                                         rec->nkeys, 2,
                                         ngx_http_webhook_store_ignore, NULL);
    ngx_free(buf);
}


/*
 * The scripts' arguments in one heap buffer (the script call copies
 * them): the keys "<prefix>{replay:<zone>}:<hex of key>" (one hash tag
 * per zone: one script touches both keys of a delivery), the in-flight
 * value "f:<node>:<token>", and ms.
 */

static u_char *
ngx_http_webhook_store_record_args(ngx_http_webhook_record_ref_t *rec,
    ngx_msec_t ms, ngx_str_t *args)
{
    u_char      *p, *buf;
    size_t       len;
    ngx_str_t   *prefix;
    ngx_uint_t   i;

    prefix = &rw.conf->prefix;

    len = sizeof("f::") - 1 + rw.node.len + 16 + NGX_INT64_LEN;

    for (i = 0; i < rec->nkeys; i++) {
        len += prefix->len + sizeof("{replay:}:") - 1 + rec->zone->len
               + 2 * rec->keys[i].len;
    }

    buf = ngx_alloc(len, rw.log);
    if (buf == NULL) {
        return NULL;
    }

    p = buf;

    for (i = 0; i < rec->nkeys; i++) {
        args[i].data = p;
        p = ngx_cpymem(p, prefix->data, prefix->len);
        p = ngx_cpymem(p, "{replay:", sizeof("{replay:") - 1);
        p = ngx_cpymem(p, rec->zone->data, rec->zone->len);
        p = ngx_cpymem(p, "}:", 2);
        p = ngx_hex_dump(p, rec->keys[i].data, rec->keys[i].len);
        args[i].len = p - args[i].data;
    }

    args[i].data = p;
    p = ngx_sprintf(p, "f:%V:%016xL", &rw.node, rec->token);
    args[i].len = p - args[i].data;

    i++;

    args[i].data = p;
    p = ngx_sprintf(p, "%M", ms);
    args[i].len = p - args[i].data;

    return buf;
}


static void
ngx_http_webhook_store_ignore(redisReply *reply, void *data)
{
    /* not waited for: failures were counted when the reply came */
}
