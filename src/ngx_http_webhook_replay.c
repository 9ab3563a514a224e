
/*
 * ngx_http_webhook_module: the duplicate / replay cache.
 *
 * A verified delivery id is recorded "in flight" before the request goes
 * upstream, and only committed when the upstream answered 2xx (in the
 * log phase, when the answer is known).  So:
 *   - a duplicate while the first is in flight gets 409;
 *   - a duplicate after the first succeeded gets 200 "duplicate", and the
 *     ERP never sees it twice;
 *   - if the first failed (upstream error, timeout, client gone, even a
 *     worker killed mid-request), the record goes, and the provider's
 *     retry is forwarded.  Nothing is lost.
 * Records live in a zone of ngx_http_webhook_zone.c; a committed record
 * expires ttl after the commit.
 *
 * With redis=on the record is also made cluster-wide: once the node's own
 * record says "new", a script in Redis decides (SET NX PX: the first node
 * holds it) while the request waits, without blocking the worker and for
 * at most the webhook_redis timeout.  The commit and the drop are then
 * mirrored in Redis.  If Redis does not answer, the node's own record
 * decides (or, with on_error=closed, the request gets 503).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


#define NGX_HTTP_WEBHOOK_IN_FLIGHT  1
#define NGX_HTTP_WEBHOOK_DELIVERED  2


/* what Redis said of a delivery (ctx->claim) */
#define NGX_HTTP_WEBHOOK_CLAIM_NONE       0   /* no answer */
#define NGX_HTTP_WEBHOOK_CLAIM_NEW        1
#define NGX_HTTP_WEBHOOK_CLAIM_DELIVERED  2
#define NGX_HTTP_WEBHOOK_CLAIM_IN_FLIGHT  3


/* 16 bytes: with a key of up to 48 bytes, a record fits a 128-byte slot */
typedef struct {
    uint32_t     state;
    ngx_pid_t    owner;         /* the worker holding an in-flight record */
    uint64_t     token;         /* which of its requests */
} ngx_http_webhook_record_t;


static ngx_uint_t ngx_http_webhook_owner_gone(ngx_http_webhook_record_t *rec);
static ngx_int_t ngx_http_webhook_replay_claim(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static void ngx_http_webhook_replay_claim_done(ngx_http_request_t *r,
    redisReply *reply);
static void ngx_http_webhook_replay_settled(redisReply *reply, void *data);


static uint64_t  ngx_http_webhook_replay_seq;


/* webhook_replay_zone zone=NAME:SIZE [ttl=TIME]; */

char *
ngx_http_webhook_replay_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                *value, zone_spec, s;
    ngx_msec_t                ttl;
    ngx_uint_t                i;
    ngx_http_webhook_zone_t  *zone;

    value = cf->args->elts;

    ngx_str_null(&zone_spec);
    ttl = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            zone_spec = value[i];
            continue;
        }

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            ttl = ngx_parse_time(&s, 0);

            if (ttl == (ngx_msec_t) NGX_ERROR || ttl == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid ttl \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (zone_spec.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    zone = ngx_http_webhook_zone_add(cf, &zone_spec,
                                     NGX_HTTP_WEBHOOK_ZONE_REPLAY,
                                     sizeof(ngx_http_webhook_record_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    zone->ttl = ttl;

    return NGX_CONF_OK;
}


/* webhook_replay zone=NAME [redis=on|off]; */

char *
ngx_http_webhook_replay(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    ngx_str_t   *value, name;
    ngx_uint_t   i, redis;

    if (wlcf->replay != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_str_null(&name);
    redis = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            name.data = value[i].data + 5;
            name.len = value[i].len - 5;
            continue;
        }

        if (ngx_strcmp(value[i].data, "redis=off") == 0) {
            redis = 0;
            continue;
        }

        if (ngx_strcmp(value[i].data, "redis=on") == 0) {
            redis = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    wlcf->replay = ngx_http_webhook_zone_named(cf, cmd, &name,
                                               NGX_HTTP_WEBHOOK_ZONE_REPLAY);
    if (wlcf->replay == NULL) {
        return NGX_CONF_ERROR;
    }

    wlcf->replay_redis = redis;

    if (redis) {
        ngx_http_webhook_redis_used(cf, "webhook_replay ... redis=on");
    }

    return NGX_CONF_OK;
}


/*
 * After the signature verified.  NGX_OK: recorded in flight (or, in
 * monitor mode, already known).  NGX_BUSY: the same delivery is in flight.
 * NGX_DECLINED: it was delivered already; ctx->duplicate is set.
 * NGX_AGAIN: waiting on Redis (redis=on): the handler returns NGX_DONE,
 * and ngx_http_webhook_replay_claimed() tells once the phases resume.
 * NGX_ABORT: Redis is needed and unavailable (on_error=closed).
 */

ngx_int_t
ngx_http_webhook_replay_check(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    u_char                     *p;
    int64_t                     now_ms;
    ngx_int_t                   rc;
    ngx_str_t                   id, key;
    const ngx_str_t            *preset;
    ngx_http_webhook_zone_t    *zone;
    ngx_http_webhook_entry_t   *e;
    ngx_http_webhook_record_t  *rec;

    rc = ngx_http_webhook_request_id(r, ctx, &id);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        /* no delivery id: the verified signature itself is the id */
        id.data = ctx->matched_mac;
        id.len = ctx->matched_mac_len;

        if (id.len == 0) {
            return NGX_OK;
        }
    }

    /* ids are per provider: "github:<id>" */

    preset = &wlcf->preset->name;

    key.len = preset->len + 1 + id.len;
    key.data = ngx_pnalloc(r->pool, key.len);
    if (key.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key.data, preset->data, preset->len);
    *p++ = ':';
    ngx_memcpy(p, id.data, id.len);

    if (key.len > 65535) {
        key.len = 65535;
    }

    zone = wlcf->replay;
    now_ms = ngx_http_webhook_now_ms();
    rc = NGX_OK;

    ctx->replay_hash = ngx_crc32_short(key.data, key.len);

    ngx_shmtx_lock(&zone->shpool->mutex);

    e = ngx_http_webhook_zone_lookup(zone, ctx->replay_hash, &key);

    if (e && e->expire_ms > now_ms) {
        rec = ngx_http_webhook_entry_payload(e);

        if (rec->state == NGX_HTTP_WEBHOOK_DELIVERED) {
            ctx->duplicate = 1;
            rc = NGX_DECLINED;
            goto done;
        }

        if (!ngx_http_webhook_owner_gone(rec)) {
            ctx->duplicate = 1;
            rc = NGX_BUSY;
            goto done;
        }

        /* its worker died with it in flight: the record is void */
    }

    if (e == NULL) {
        e = ngx_http_webhook_zone_insert(zone, ctx->replay_hash, &key,
                                         now_ms);
        if (e == NULL) {
            goto done;
        }
    }

    /* in flight until the log phase; ttl bounds it if that never comes */

    e->expire_ms = now_ms + (int64_t) wlcf->replay_ttl;

    rec = ngx_http_webhook_entry_payload(e);
    rec->state = NGX_HTTP_WEBHOOK_IN_FLIGHT;
    rec->owner = ngx_pid;
    rec->token = ((uint64_t) ngx_pid << 32) | ++ngx_http_webhook_replay_seq;

    ctx->replay_zone = zone;
    ctx->replay_key = key;
    ctx->replay_token = rec->token;
    ctx->replay_ttl = wlcf->replay_ttl;

done:

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (rc == NGX_OK && ctx->replay_zone && wlcf->replay_redis) {
        /* new on this node: the cluster decides */
        return ngx_http_webhook_replay_claim(r, wlcf, ctx);
    }

    return rc;
}


/*
 * Ask Redis, keeping the node's in-flight record meanwhile (a duplicate
 * on this node is still caught without Redis).  The record in Redis:
 * "<prefix>{replay:<zone>:<hex of preset:id>}", holding "f:<node>:<token>"
 * while in flight and "d" once delivered.
 */

static ngx_int_t
ngx_http_webhook_replay_claim(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    u_char                         *p;
    ngx_int_t                       rc;
    ngx_str_t                       args[3], *node, *prefix, *zone;
    ngx_http_webhook_main_conf_t   *wmcf;
    ngx_http_webhook_redis_conf_t  *rcf;
    u_char                          ttl[NGX_INT64_LEN];

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhook_module);
    rcf = wmcf->redis;

    prefix = &rcf->prefix;
    zone = &ctx->replay_zone->name;
    node = ngx_http_webhook_redis_node();

    ctx->redis_key.len = prefix->len + sizeof("{replay::}") - 1 + zone->len
                         + 2 * ctx->replay_key.len;
    ctx->redis_key.data = ngx_pnalloc(r->pool, ctx->redis_key.len);

    ctx->redis_value.len = sizeof("f::") - 1 + node->len + 16;
    ctx->redis_value.data = ngx_pnalloc(r->pool, ctx->redis_value.len);

    if (ctx->redis_key.data == NULL || ctx->redis_value.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(ctx->redis_key.data, prefix->data, prefix->len);
    p = ngx_cpymem(p, "{replay:", sizeof("{replay:") - 1);
    p = ngx_cpymem(p, zone->data, zone->len);
    *p++ = ':';
    p = ngx_hex_dump(p, ctx->replay_key.data, ctx->replay_key.len);
    *p++ = '}';

    p = ngx_sprintf(ctx->redis_value.data, "f:%V:%016xL", node,
                    ctx->replay_token);
    ctx->redis_value.len = p - ctx->redis_value.data;

    args[0] = ctx->redis_key;
    args[1] = ctx->redis_value;
    args[2].data = ttl;
    args[2].len = ngx_sprintf(ttl, "%M", ctx->replay_ttl) - ttl;

    rc = ngx_http_webhook_redis_wait(r, NGX_HTTP_WEBHOOK_SCRIPT_CLAIM, args,
                                     1, 2,
                                     ngx_http_webhook_replay_claim_done);

    if (rc == NGX_AGAIN) {
        return NGX_AGAIN;
    }

    /* not connected now: decide as without an answer */

    ctx->claim = NGX_HTTP_WEBHOOK_CLAIM_NONE;

    return ngx_http_webhook_replay_claimed(r, ctx);
}


/* Redis's answer (reply NULL: none in time, or the connection went) */

static void
ngx_http_webhook_replay_claim_done(ngx_http_request_t *r, redisReply *reply)
{
    ngx_http_webhook_ctx_t  *ctx;

    ctx = ngx_http_webhook_get_ctx(r);

    if (ctx == NULL) {
        return;
    }

    ctx->claim = NGX_HTTP_WEBHOOK_CLAIM_NONE;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        return;
    }

    if (reply->type == REDIS_REPLY_STRING) {

        if (reply->len == 3 && ngx_strncmp(reply->str, "new", 3) == 0) {
            ctx->claim = NGX_HTTP_WEBHOOK_CLAIM_NEW;
            return;
        }

        if (reply->len == 9 && ngx_strncmp(reply->str, "delivered", 9) == 0) {
            ctx->claim = NGX_HTTP_WEBHOOK_CLAIM_DELIVERED;
            return;
        }

        if (reply->len == 9 && ngx_strncmp(reply->str, "in_flight", 9) == 0) {
            ctx->claim = NGX_HTTP_WEBHOOK_CLAIM_IN_FLIGHT;
            return;
        }
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "webhook: unexpected reply from redis to a replay claim");
}


/*
 * What the cluster's answer means for this request, as
 * ngx_http_webhook_replay_check() returns it.  The node's own in-flight
 * record stays either way: the log phase commits it (a duplicate is
 * answered 200, so the node remembers the delivery) or drops it.
 */

ngx_int_t
ngx_http_webhook_replay_claimed(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx)
{
    ngx_http_webhook_main_conf_t  *wmcf;

    switch (ctx->claim) {

    case NGX_HTTP_WEBHOOK_CLAIM_NEW:
        ctx->redis_held = 1;
        return NGX_OK;

    case NGX_HTTP_WEBHOOK_CLAIM_DELIVERED:
        ctx->duplicate = 1;
        return NGX_DECLINED;

    case NGX_HTTP_WEBHOOK_CLAIM_IN_FLIGHT:
        ctx->duplicate = 1;
        return NGX_BUSY;
    }

    /* no answer: the node's record decides, unless on_error=closed */

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhook_module);

    if (ngx_http_webhook_redis_mode(wmcf->redis)
        == NGX_HTTP_WEBHOOK_REDIS_CLOSED)
    {
        return NGX_ABORT;
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_webhook_owner_gone(ngx_http_webhook_record_t *rec)
{
    if (rec->owner == ngx_pid) {
        return 0;
    }

    /* a reused pid errs on the safe side: the record stays */
    return kill(rec->owner, 0) == -1 && ngx_errno == NGX_ESRCH;
}


/*
 * The log phase: the request is over.  Commit the record if the upstream
 * answered 2xx, drop it otherwise, so that a retry goes through.
 */

void
ngx_http_webhook_replay_finish(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx)
{
    int64_t                     now_ms;
    ngx_str_t                   args[3];
    ngx_uint_t                  status;
    ngx_http_webhook_zone_t    *zone;
    ngx_http_webhook_entry_t   *e;
    ngx_http_webhook_record_t  *rec;
    u_char                      ttl[NGX_INT64_LEN];

    zone = ctx->replay_zone;

    if (zone == NULL) {
        return;
    }

    ctx->replay_zone = NULL;

    /* the upstream's own answer, not what an error_page made of it */
    status = r->upstream ? r->upstream->headers_in.status_n
                         : r->headers_out.status;

    if (r->connection->error && status == 0) {
        status = NGX_HTTP_CLIENT_CLOSED_REQUEST;
    }

    now_ms = ngx_http_webhook_now_ms();

    ngx_shmtx_lock(&zone->shpool->mutex);

    e = ngx_http_webhook_zone_lookup(zone, ctx->replay_hash,
                                     &ctx->replay_key);

    if (e) {
        rec = ngx_http_webhook_entry_payload(e);

        /* still ours: not evicted and taken over meanwhile */

        if (rec->state == NGX_HTTP_WEBHOOK_IN_FLIGHT
            && rec->token == ctx->replay_token)
        {
            if (status >= 200 && status < 300) {
                rec->state = NGX_HTTP_WEBHOOK_DELIVERED;
                e->expire_ms = now_ms + (int64_t) ctx->replay_ttl;

            } else {
                ngx_http_webhook_zone_delete(zone, e);
            }
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "webhook: delivery \"%V\" %s", &ctx->replay_key,
                   (status >= 200 && status < 300) ? "committed" : "dropped");

    if (!ctx->redis_held) {
        return;
    }

    /*
     * The same in Redis, if it is there now; if not, the record there
     * expires with the ttl (a retry meanwhile is answered 409).
     */

    ctx->redis_held = 0;

    args[0] = ctx->redis_key;
    args[1] = ctx->redis_value;
    args[2].data = ttl;

    if (status >= 200 && status < 300) {
        args[2].len = ngx_sprintf(ttl, "%M", ctx->replay_ttl) - ttl;

    } else {
        args[2].len = 1;
        ttl[0] = '0';
    }

    (void) ngx_http_webhook_redis_script(NGX_HTTP_WEBHOOK_SCRIPT_SETTLE,
                                         args, 1, 2,
                                         ngx_http_webhook_replay_settled,
                                         NULL);
}


static void
ngx_http_webhook_replay_settled(redisReply *reply, void *data)
{
    /* fire and forget: errors were counted by the caller's layer */
}
