
/*
 * ngx_http_webhook_module: the duplicate / replay cache.
 *
 * A verified delivery is recorded "in flight" before the request goes
 * upstream, under what its signature covers (and its unsigned id, if
 * any: ngx_http_webhook_replay_keys()), and only committed when the
 * upstream answered 2xx, as soon as that status is known and before the
 * answer leaves (the header filter, ngx_http_webhook_filter.c).  So:
 *   - a duplicate while the first is in flight gets 409;
 *   - a duplicate after the first succeeded gets 200 "duplicate", and the
 *     ERP never sees it twice;
 *   - if the first failed (upstream error, timeout, client gone), the
 *     record goes, and the provider's retry is forwarded; if its worker
 *     was killed mid-request, the retry is forwarded once the lease ran
 *     out (below).  Nothing is lost.
 * Records live in a zone of ngx_http_webhook_zone.c; a committed record
 * expires ttl after the commit (by default twice the timestamp tolerance
 * where the timestamp is signed, else the provider's redelivery horizon,
 * at least 24 h: ngx_http_webhook_preset_record_ttl()).
 *
 * An in-flight record does not outlive its request.  One rule, on the
 * node and in Redis: it holds a lease (lease=, 60s by default), renewed
 * every third of it while the request is alive, replaced by the ttl only
 * by the commit; it is void once the lease ran out, and on the node also
 * as soon as the worker that holds it is gone (its pid).  A worker killed
 * mid-request thus blocks the provider's retry for at most the lease.
 *
 * With redis=on the record is also made cluster-wide: once the node's own
 * record says "new", the cluster store decides (the first node holds
 * it) while the request waits, without blocking the worker and for at
 * most the webhook_redis timeout.  The commit and the drop are then
 * mirrored there, sent before the answer.  If Redis does not answer, the
 * node's own record decides (or, with on_error=closed, the request gets
 * 503).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


#define NGX_HTTP_WEBHOOK_IN_FLIGHT  1
#define NGX_HTTP_WEBHOOK_DELIVERED  2


#define NGX_HTTP_WEBHOOK_LEASE     60000    /* lease= by default, ms */


/* 16 bytes: with a key of up to 48 bytes, a record fits a 128-byte slot */
typedef struct {
    uint32_t     state;
    ngx_pid_t    owner;         /* the worker holding an in-flight record */
    uint64_t     token;         /* which of its requests */
} ngx_http_webhook_record_t;


static ngx_int_t ngx_http_webhook_replay_keys(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_replay_key(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, const ngx_http_webhook_preset_t *preset,
    const char *what, ngx_str_t *value);
static ngx_uint_t ngx_http_webhook_owner_gone(ngx_http_webhook_record_t *rec);
static ngx_int_t ngx_http_webhook_replay_claim(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static void ngx_http_webhook_replay_claim_done(ngx_http_request_t *r,
    ngx_uint_t claim);
static ngx_int_t ngx_http_webhook_replay_lease(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx);
static void ngx_http_webhook_replay_renew(ngx_event_t *ev);
static void ngx_http_webhook_replay_lease_cleanup(void *data);
static void ngx_http_webhook_replay_ref(ngx_http_webhook_ctx_t *ctx,
    ngx_http_webhook_record_ref_t *ref);


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


/* webhook_replay zone=NAME [redis=on|off] [lease=TIME]; */

char *
ngx_http_webhook_replay(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    ngx_str_t   *value, name, s;
    ngx_uint_t   i, redis;
    ngx_msec_t   lease;

    if (wlcf->replay != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_str_null(&name);
    redis = 0;
    lease = NGX_HTTP_WEBHOOK_LEASE;

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

        if (ngx_strncmp(value[i].data, "lease=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            lease = ngx_parse_time(&s, 0);

            if (lease == (ngx_msec_t) NGX_ERROR || lease < 1000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\", expected a time of at "
                                   "least 1s", &value[i]);
                return NGX_CONF_ERROR;
            }

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
    wlcf->replay_lease = lease;

    if (redis) {
        ngx_http_webhook_redis_used(cf, "webhook_replay ... redis=on");
    }

    return NGX_CONF_OK;
}


/*
 * What a delivery's records are keyed on, strongest first:
 *   - what the signature covers and an attacker cannot change: the
 *     delivery id where the scheme signs it (in the body, as Stripe; in
 *     the signed payload, as Standard Webhooks), the signed value the
 *     preset names (Mailgun's token), else the verified MAC or Ed25519
 *     signature: a captured delivery sent again under a fresh unsigned
 *     id is still the same delivery;
 *   - and the unsigned delivery id, when there is one, so that a
 *     provider's retry re-signed (a fresh timestamp) is caught as well.
 * A plaintext token (GitLab) authenticates nothing about the request: the
 * delivery id it comes with, else a digest of the body, only catches the
 * provider's own retries.
 * Keys are "<preset>:<what>:<bytes>", what being id, sig, token or body.
 */

static ngx_int_t
ngx_http_webhook_replay_keys(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t                          rc;
    ngx_str_t                          id, value;
    const char                        *what;
    ngx_uint_t                         signed_id;
    const ngx_http_webhook_preset_t   *preset;
    u_char                             md[32];

    preset = wlcf->preset;

    rc = ngx_http_webhook_request_id(r, ctx, &id);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_str_null(&id);
    }

    /* webhook_id may name anything: only the preset's own id is signed */
    signed_id = (wlcf->id == NULL && ngx_http_webhook_preset_id_signed(preset));

    ctx->replay_nkeys = 0;

    if (preset->id_not_unique) {
        /* the id may be the sender's: the signature alone */
        ngx_str_null(&id);
        signed_id = 0;
    }

    if (signed_id && id.len) {
        return ngx_http_webhook_replay_key(r, ctx, preset, "id", &id);
    }

    if (preset->key_json) {
        rc = ngx_http_webhook_json_field(r, ctx, preset->key_json, &value);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc != NGX_OK || value.len == 0) {
            /* verified, so present: a scheme without it does not verify */
            return NGX_ERROR;
        }

        what = "token";

    } else if (ctx->matched_mac_len) {
        value.data = ctx->matched_mac;
        value.len = ctx->matched_mac_len;
        what = "sig";

    } else if (id.len) {
        /* a plaintext token: the delivery id alone */
        return ngx_http_webhook_replay_key(r, ctx, preset, "id", &id);

    } else {
        if (ngx_http_webhook_body_sha256(r, md) != NGX_OK) {
            return NGX_ERROR;
        }

        value.data = md;
        value.len = sizeof(md);
        what = "body";
    }

    if (ngx_http_webhook_replay_key(r, ctx, preset, what, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (id.len == 0) {
        return NGX_OK;
    }

    return ngx_http_webhook_replay_key(r, ctx, preset, "id", &id);
}


static ngx_int_t
ngx_http_webhook_replay_key(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, const ngx_http_webhook_preset_t *preset,
    const char *what, ngx_str_t *value)
{
    u_char     *p;
    size_t      len;
    ngx_str_t  *key;

    len = ngx_strlen(what);

    key = &ctx->replay_key[ctx->replay_nkeys];

    key->len = preset->name.len + 1 + len + 1 + value->len;
    key->data = ngx_pnalloc(r->pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key->data, preset->name.data, preset->name.len);
    *p++ = ':';
    p = ngx_cpymem(p, what, len);
    *p++ = ':';
    ngx_memcpy(p, value->data, value->len);

    /* a zone entry's key is at most 65535 bytes */
    if (key->len > 65535) {
        key->len = 65535;
    }

    ctx->replay_hash[ctx->replay_nkeys] = ngx_http_webhook_zone_hash(key);
    ctx->replay_nkeys++;

    return NGX_OK;
}


/*
 * After the signature verified.  NGX_OK: recorded in flight (or, in
 * monitor mode, already known).  NGX_BUSY: the same delivery is in flight.
 * NGX_DECLINED: it was delivered already; ctx->duplicate is set.
 * NGX_AGAIN: waiting on Redis (redis=on): the handler returns NGX_DONE,
 * and ngx_http_webhook_replay_claimed() tells once the phases resume.
 * NGX_ABORT: Redis is needed and unavailable (on_error=closed).
 *
 * A delivery has one or two keys (ngx_http_webhook_replay_keys()): a
 * record under either says "duplicate", and both are recorded.
 */

ngx_int_t
ngx_http_webhook_replay_check(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    int64_t                     now_ms;
    uint64_t                    token;
    ngx_int_t                   rc;
    ngx_uint_t                  i, held;
    ngx_http_webhook_zone_t    *zone;
    ngx_http_webhook_entry_t   *e;
    ngx_http_webhook_record_t  *rec;

    if (ngx_http_webhook_replay_keys(r, wlcf, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    zone = wlcf->replay;
    now_ms = ngx_http_webhook_now_ms();
    rc = NGX_OK;
    held = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (i = 0; i < ctx->replay_nkeys; i++) {

        e = ngx_http_webhook_zone_lookup(zone, ctx->replay_hash[i],
                                         &ctx->replay_key[i]);

        if (e == NULL || e->expire_ms <= now_ms) {
            continue;
        }

        rec = ngx_http_webhook_entry_payload(e);

        if (rec->state == NGX_HTTP_WEBHOOK_DELIVERED) {
            ctx->duplicate = 1;
            rc = NGX_DECLINED;
            goto done;
        }

        if (!ngx_http_webhook_owner_gone(rec)) {
            /* a record under the other key may say "delivered" */
            ctx->duplicate = 1;
            rc = NGX_BUSY;
        }

        /* else its worker died with it in flight: the record is void */
    }

    if (rc != NGX_OK) {
        goto done;
    }

    token = ((uint64_t) ngx_pid << 32) | ++ngx_http_webhook_replay_seq;

    for (i = 0; i < ctx->replay_nkeys; i++) {

        /* looked up again: inserting the first may have evicted it */

        e = ngx_http_webhook_zone_lookup(zone, ctx->replay_hash[i],
                                         &ctx->replay_key[i]);

        if (e == NULL) {
            e = ngx_http_webhook_zone_insert(zone, ctx->replay_hash[i],
                                             &ctx->replay_key[i], now_ms);
            if (e == NULL) {
                continue;
            }
        }

        /* in flight until settled, under a lease renewed while the
           request is alive */

        e->expire_ms = now_ms + (int64_t) wlcf->replay_lease;

        rec = ngx_http_webhook_entry_payload(e);
        rec->state = NGX_HTTP_WEBHOOK_IN_FLIGHT;
        rec->owner = ngx_pid;
        rec->token = token;

        held = 1;
    }

    if (held) {
        ctx->replay_zone = zone;
        ctx->replay_token = token;
        ctx->replay_ttl = wlcf->replay_ttl;
        ctx->replay_lease = wlcf->replay_lease;
    }

done:

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (held && ngx_http_webhook_replay_lease(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK && ctx->replay_zone && wlcf->replay_redis) {
        /* new on this node: the cluster decides */
        return ngx_http_webhook_replay_claim(r, wlcf, ctx);
    }

    return rc;
}


/*
 * Ask the cluster, keeping the node's in-flight records meanwhile (a
 * duplicate on this node is still caught without Redis).  The cluster's
 * records are in flight under the same lease as the node's.
 */

static ngx_int_t
ngx_http_webhook_replay_claim(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_http_webhook_record_ref_t  ref;

    ngx_http_webhook_replay_ref(ctx, &ref);

    if (ngx_http_webhook_store_claim(r, &ref, ctx->replay_lease,
                                     ngx_http_webhook_replay_claim_done)
        == NGX_AGAIN)
    {
        return NGX_AGAIN;
    }

    /* not connected now: decide as without an answer */

    ctx->claim = NGX_HTTP_WEBHOOK_CLAIM_NONE;

    return ngx_http_webhook_replay_claimed(r, ctx);
}


/* the cluster's answer (NGX_HTTP_WEBHOOK_CLAIM_NONE: none in time) */

static void
ngx_http_webhook_replay_claim_done(ngx_http_request_t *r, ngx_uint_t claim)
{
    ngx_http_webhook_ctx_t  *ctx;

    /* set by the handler that started the claim: no redirect since */
    ctx = ngx_http_get_module_ctx(r, ngx_http_webhook_module);

    if (ctx) {
        ctx->claim = claim;
    }
}


static void
ngx_http_webhook_replay_ref(ngx_http_webhook_ctx_t *ctx,
    ngx_http_webhook_record_ref_t *ref)
{
    ref->zone = &ctx->replay_zone->name;
    ref->keys = ctx->replay_key;
    ref->nkeys = ctx->replay_nkeys;
    ref->token = ctx->replay_token;
}


/*
 * The lease of the request's in-flight records: renewed every third of
 * it while the request is alive (the node's records here, the cluster's
 * through the store), until they are settled.  A request that dies with
 * its worker renews nothing: its records are void once the lease ran out
 * (and, on the node, at once, since the owner's pid is gone).
 */

static ngx_int_t
ngx_http_webhook_replay_lease(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx)
{
    ngx_event_t         *ev;
    ngx_pool_cleanup_t  *cln;

    if (ctx->replay_renew) {
        return NGX_OK;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_event_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    ev = cln->data;
    ngx_memzero(ev, sizeof(ngx_event_t));

    ev->handler = ngx_http_webhook_replay_renew;
    ev->data = ctx;
    ev->log = r->connection->log;
    ev->cancelable = 1;

    cln->handler = ngx_http_webhook_replay_lease_cleanup;

    ctx->replay_renew = ev;

    ngx_add_timer(ev, ctx->replay_lease / 3);

    return NGX_OK;
}


static void
ngx_http_webhook_replay_renew(ngx_event_t *ev)
{
    int64_t                         now_ms;
    ngx_uint_t                      i;
    ngx_http_webhook_ctx_t         *ctx;
    ngx_http_webhook_zone_t        *zone;
    ngx_http_webhook_entry_t       *e;
    ngx_http_webhook_record_t      *rec;
    ngx_http_webhook_record_ref_t   ref;

    ctx = ev->data;

    if (ctx->replay_zone == NULL) {
        return;
    }

    zone = ctx->replay_zone;
    now_ms = ngx_http_webhook_now_ms();

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (i = 0; i < ctx->replay_nkeys; i++) {
        e = ngx_http_webhook_zone_lookup(zone, ctx->replay_hash[i],
                                         &ctx->replay_key[i]);
        if (e == NULL) {
            continue;
        }

        rec = ngx_http_webhook_entry_payload(e);

        if (rec->state == NGX_HTTP_WEBHOOK_IN_FLIGHT
            && rec->token == ctx->replay_token)
        {
            e->expire_ms = now_ms + (int64_t) ctx->replay_lease;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (ctx->redis_held) {
        ngx_http_webhook_replay_ref(ctx, &ref);
        ngx_http_webhook_store_renew(&ref, ctx->replay_lease);
    }

    ngx_add_timer(ev, ctx->replay_lease / 3);
}


static void
ngx_http_webhook_replay_lease_cleanup(void *data)
{
    ngx_event_t  *ev = data;

    if (ev->timer_set) {
        ngx_del_timer(ev);
    }
}


/*
 * What the cluster's answer means for this request, as
 * ngx_http_webhook_replay_check() returns it.  The node's own in-flight
 * records stay either way, and are settled with the answer (a duplicate
 * is answered 200, so the node remembers the delivery).
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

    if (ngx_http_webhook_store_mode(wmcf->redis)
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
 * The answer's status is known: commit the records if the upstream
 * answered 2xx, drop them otherwise, so that a retry goes through.
 * Called by the header filter before the answer leaves, and by the log
 * phase for a request that ended without one; the first call settles.
 */

void
ngx_http_webhook_replay_settle(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx)
{
    int64_t                         now_ms;
    ngx_uint_t                      i, n, status, delivered;
    ngx_http_webhook_zone_t        *zone;
    ngx_http_webhook_entry_t       *e;
    ngx_http_webhook_record_t      *rec;
    ngx_http_webhook_record_ref_t   ref;

    zone = ctx->replay_zone;

    if (zone == NULL) {
        return;
    }

    if (ctx->replay_renew && ctx->replay_renew->timer_set) {
        ngx_del_timer(ctx->replay_renew);
    }

    /* the upstream's own answer, not what an error_page made of it */
    status = r->upstream ? r->upstream->headers_in.status_n
                         : r->headers_out.status;

    if (r->connection->error && status == 0) {
        status = NGX_HTTP_CLIENT_CLOSED_REQUEST;
    }

    delivered = (status >= 200 && status < 300);
    n = ctx->replay_nkeys;

    now_ms = ngx_http_webhook_now_ms();

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (i = 0; i < n; i++) {

        e = ngx_http_webhook_zone_lookup(zone, ctx->replay_hash[i],
                                         &ctx->replay_key[i]);

        if (e == NULL) {
            continue;
        }

        rec = ngx_http_webhook_entry_payload(e);

        /* still ours: not evicted and taken over meanwhile */

        if (rec->state != NGX_HTTP_WEBHOOK_IN_FLIGHT
            || rec->token != ctx->replay_token)
        {
            continue;
        }

        if (delivered) {
            rec->state = NGX_HTTP_WEBHOOK_DELIVERED;
            e->expire_ms = now_ms + (int64_t) ctx->replay_ttl;

        } else {
            ngx_http_webhook_zone_delete(zone, e);
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "webhook: delivery \"%V\" %s on status %ui",
                   &ctx->replay_key[0],
                   delivered ? "committed" : "dropped", status);

    if (ctx->redis_held) {
        /*
         * The same in the cluster, sent before the answer: if Redis does
         * not take it, the records there expire with their lease.
         */

        ctx->redis_held = 0;

        ngx_http_webhook_replay_ref(ctx, &ref);
        ngx_http_webhook_store_settle(&ref, delivered ? ctx->replay_ttl : 0);
    }

    ctx->replay_zone = NULL;
}
