
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
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


#define NGX_HTTP_WEBHOOK_IN_FLIGHT  1
#define NGX_HTTP_WEBHOOK_DELIVERED  2


typedef struct {
    ngx_uint_t   state;
    ngx_pid_t    owner;         /* the worker holding an in-flight record */
    uint64_t     token;         /* which of its requests */
} ngx_http_webhook_record_t;


static ngx_uint_t ngx_http_webhook_owner_gone(ngx_http_webhook_record_t *rec);


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
    ngx_uint_t   i;

    if (wlcf->replay != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_str_null(&name);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            name.data = value[i].data + 5;
            name.len = value[i].len - 5;
            continue;
        }

        if (ngx_strcmp(value[i].data, "redis=off") == 0) {
            continue;
        }

        if (ngx_strcmp(value[i].data, "redis=on") == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"redis=on\" needs \"webhook_redis\", which "
                               "this version does not have yet");
            return NGX_CONF_ERROR;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    wlcf->replay = ngx_http_webhook_zone_find(cf, &name,
                                              NGX_HTTP_WEBHOOK_ZONE_REPLAY);
    if (wlcf->replay == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * After the signature verified.  NGX_OK: recorded in flight (or, in
 * monitor mode, already known).  NGX_BUSY: the same delivery is in flight.
 * NGX_DECLINED: it was delivered already; ctx->duplicate is set.
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

    return rc;
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
    ngx_uint_t                  status;
    ngx_http_webhook_zone_t    *zone;
    ngx_http_webhook_entry_t   *e;
    ngx_http_webhook_record_t  *rec;

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
}
