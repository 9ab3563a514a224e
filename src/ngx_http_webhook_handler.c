
/*
 * ngx_http_webhook_module: the request pipeline (PREACCESS phase).
 *
 * Cheapest first, and everything that needs no body before the body:
 *   1. judged already (before an internal redirect)?  let it go on;
 *   2. the IP allowlist;
 *   3. the rate limits (counted here, before the body; a sync=on limit
 *      without a fresh view of a key waits for one: NGX_DONE, and the
 *      steps from 2 run again when it came or did not in time);
 *   4. signature header, candidates, timestamp (or, for a plaintext
 *      token, the whole decision);
 *   5. read the body (possibly over several event loop turns);
 *   6. HMAC (or Ed25519) over the signed bytes;
 *   7. the replay cache, for verified deliveries only (with redis=on,
 *      possibly waiting on Redis: NGX_DONE, and the phases resume when
 *      the answer, or the timeout, comes);
 *   8. verdict: go on (NGX_DECLINED), or refuse with a JSON reason.
 * In monitor mode (and for dry_run limits) a failed check only records
 * the would-be reason, and the remaining checks still run, so that
 * $webhook_verified tells the truth.
 *
 * Reading the body follows ngx_http_mirror_module; see DESIGN-NOTES
 * section 1 for the pitfalls avoided here.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


static ngx_int_t ngx_http_webhook_before_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static void ngx_http_webhook_fail(ngx_http_webhook_ctx_t *ctx,
    ngx_http_webhook_reason_e reason, ngx_uint_t enforce);
static ngx_http_webhook_ctx_t *ngx_http_webhook_create_ctx(
    ngx_http_request_t *r, ngx_http_webhook_loc_conf_t *wlcf);
static void ngx_http_webhook_ctx_cleanup(void *data);
static void ngx_http_webhook_body_ready(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhook_replayed(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_int_t rc, ngx_uint_t enforce);
static ngx_int_t ngx_http_webhook_verdict(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx);


ngx_int_t
ngx_http_webhook_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_uint_t                    enforce;
    ngx_http_webhook_ctx_t       *ctx;
    ngx_http_webhook_loc_conf_t  *wlcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhook_module);

    if ((wlcf->preset == NULL && wlcf->allow == NULL && wlcf->limits == NULL)
        || wlcf->status)
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_webhook_get_ctx(r);

    if (ctx == NULL) {
        ctx = ngx_http_webhook_create_ctx(r, wlcf);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else if (ctx->done) {
        /*
         * Judged before an internal redirect (error_page, try_files):
         * judging again would count the request twice and take its own
         * delivery id for a duplicate.
         */
        return NGX_DECLINED;

    } else if (ctx->waiting_body || ctx->waiting_redis || ctx->waiting_limit)
    {
        return NGX_DONE;
    }

    enforce = (wlcf->mode == NGX_HTTP_WEBHOOK_ENFORCE);

    if (ctx->claimed) {
        /* resumed: Redis answered the replay claim, or did not in time */
        rc = ngx_http_webhook_replay_claimed(r, ctx);
        return ngx_http_webhook_replayed(r, ctx, rc, enforce);
    }

    if (!ctx->pre_checked) {
        ctx->pre_checked = 1;

        rc = ngx_http_webhook_before_body(r, wlcf, ctx);

        if (rc == NGX_DONE) {
            /* waiting for fresh views of synced limit keys: these checks
               run again when they came (or did not in time) */
            ctx->pre_checked = 0;
            return NGX_DONE;
        }

        if (rc != NGX_OK) {
            return rc;
        }

        if (ctx->reason != NGX_HTTP_WEBHOOK_PASS) {
            return ngx_http_webhook_verdict(r, ctx);
        }
    }

    if (wlcf->preset == NULL || ctx->headers_failed) {
        return ngx_http_webhook_verdict(r, ctx);
    }

    /* GitLab's plaintext token was decided from the header alone */

    if (ctx->verified) {
        goto replay;
    }

    if (!ctx->body_read) {
        rc = ngx_http_read_client_request_body(r,
                                               ngx_http_webhook_body_ready);

        if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
            /* seen while reading (chunked); nginx dropped its count */
            ngx_http_webhook_fail(ctx, NGX_HTTP_WEBHOOK_BODY_TOO_LARGE, 1);
            return ngx_http_webhook_verdict(r, ctx);
        }

        if (rc == NGX_ERROR || rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        /*
         * Drop the reference the read took, now, as the content phase does
         * for proxy_pass: if reading fails later (a chunked body over
         * client_max_body_size, a timeout), nginx finalizes the request
         * itself and our post handler never runs, so a reference kept for
         * it would leak the request and its connection.
         */

        ngx_http_finalize_request(r, NGX_DONE);

        if (!ctx->body_read) {
            ctx->waiting_body = 1;
            return NGX_DONE;
        }
    }

    if (ngx_http_webhook_verify_body(r, wlcf, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->reason != NGX_HTTP_WEBHOOK_PASS) {
        /* verify_body() records a mismatch directly in ctx->reason */
        rc = ctx->reason;
        ctx->reason = NGX_HTTP_WEBHOOK_PASS;
        ngx_http_webhook_fail(ctx, rc, enforce);

        if (ctx->reason != NGX_HTTP_WEBHOOK_PASS) {
            return ngx_http_webhook_verdict(r, ctx);
        }
    }

replay:

    if (wlcf->replay && ctx->verified) {

        rc = ngx_http_webhook_replay_check(r, wlcf, ctx);

        if (rc == NGX_AGAIN) {
            return NGX_DONE;
        }

        return ngx_http_webhook_replayed(r, ctx, rc, enforce);
    }

    return ngx_http_webhook_verdict(r, ctx);
}


/* the replay cache's answer (ngx_http_webhook_replay_check()) */

static ngx_int_t
ngx_http_webhook_replayed(ngx_http_request_t *r, ngx_http_webhook_ctx_t *ctx,
    ngx_int_t rc, ngx_uint_t enforce)
{
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_BUSY) {
        ngx_http_webhook_fail(ctx, NGX_HTTP_WEBHOOK_DUPLICATE_IN_FLIGHT,
                              enforce);

    } else if (rc == NGX_ABORT) {
        ngx_http_webhook_fail(ctx, NGX_HTTP_WEBHOOK_REDIS_UNAVAILABLE,
                              enforce);
    }

    return ngx_http_webhook_verdict(r, ctx);
}


/* the checks that need no body: allowlist, limits, signature headers */

static ngx_int_t
ngx_http_webhook_before_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_uint_t  enforce;

    enforce = (wlcf->mode == NGX_HTTP_WEBHOOK_ENFORCE);

    if (wlcf->allow && !ngx_http_webhook_allowed(r, wlcf)) {
        ngx_http_webhook_fail(ctx, NGX_HTTP_WEBHOOK_IP_NOT_ALLOWED, enforce);

        if (ctx->reason != NGX_HTTP_WEBHOOK_PASS) {
            return NGX_OK;
        }
    }

    if (wlcf->limits) {
        rc = ngx_http_webhook_limit_check(r, wlcf, ctx);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == NGX_AGAIN) {
            return NGX_DONE;
        }

        if (rc == NGX_BUSY || rc == NGX_DECLINED) {
            /* NGX_DECLINED: only dry_run limits would have refused it */
            ngx_http_webhook_fail(ctx, NGX_HTTP_WEBHOOK_RATE_LIMITED,
                                  rc == NGX_BUSY && enforce);

            if (ctx->reason != NGX_HTTP_WEBHOOK_PASS) {
                return NGX_OK;
            }

        } else if (rc == NGX_ABORT) {
            /* on_error=closed, and Redis is not there */
            ngx_http_webhook_fail(ctx, NGX_HTTP_WEBHOOK_REDIS_UNAVAILABLE,
                                  enforce);

            if (ctx->reason != NGX_HTTP_WEBHOOK_PASS) {
                return NGX_OK;
            }
        }
    }

    if (wlcf->preset == NULL) {
        return NGX_OK;
    }

    if (ngx_http_webhook_verify_headers(r, wlcf, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* verify_headers() records its verdict directly in ctx->reason */

    if (ctx->reason != NGX_HTTP_WEBHOOK_PASS) {
        rc = ctx->reason;
        ctx->reason = NGX_HTTP_WEBHOOK_PASS;
        ctx->headers_failed = 1;
        ngx_http_webhook_fail(ctx, rc, enforce);
    }

    return NGX_OK;
}


/*
 * The first failure decides: it refuses the request when enforced, and
 * is only recorded as the would-be reason otherwise.
 */

static void
ngx_http_webhook_fail(ngx_http_webhook_ctx_t *ctx,
    ngx_http_webhook_reason_e reason, ngx_uint_t enforce)
{
    if (enforce) {
        if (ctx->reason == NGX_HTTP_WEBHOOK_PASS) {
            ctx->reason = reason;
        }

    } else if (ctx->would_reason == NGX_HTTP_WEBHOOK_PASS) {
        ctx->would_reason = reason;
    }
}


/*
 * The post handler of ngx_http_read_client_request_body().  It re-runs
 * the phases only if the handler had returned NGX_DONE: on the
 * synchronous path the handler itself goes on with the verification, and
 * running the phases from here too would verify twice.
 */

static void
ngx_http_webhook_body_ready(ngx_http_request_t *r)
{
    ngx_http_webhook_ctx_t  *ctx;

    ctx = ngx_http_webhook_get_ctx(r);

    if (ctx == NULL) {
        return;
    }

    ctx->body_read = 1;

    /* reading the body set it to an empty handler; later phases and
       auth_request need the normal one back */
    r->write_event_handler = ngx_http_core_run_phases;

    if (ctx->waiting_body) {
        ctx->waiting_body = 0;
        ngx_http_core_run_phases(r);
    }
}


static ngx_int_t
ngx_http_webhook_verdict(ngx_http_request_t *r, ngx_http_webhook_ctx_t *ctx)
{
    ctx->done = 1;

    ngx_http_webhook_stats_count(r, ctx);

    if (ctx->reason != NGX_HTTP_WEBHOOK_PASS) {
        ngx_http_webhook_log_verdict(r, ctx);
        return ngx_http_webhook_reject(r, ctx->reason);
    }

    if (ctx->would_reason != NGX_HTTP_WEBHOOK_PASS) {
        ngx_http_webhook_log_verdict(r, ctx);
    }

    /* delivered before: acknowledge it, the ERP has it already */

    if (ctx->duplicate && ctx->conf->mode == NGX_HTTP_WEBHOOK_ENFORCE) {
        return ngx_http_webhook_acknowledge_duplicate(r);
    }

    return NGX_DECLINED;
}


ngx_http_webhook_ctx_t *
ngx_http_webhook_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t      *cln;
    ngx_http_webhook_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhook_module);

    if (ctx == NULL && (r->internal || r->filter_finalize)) {

        /* an internal redirect zeroed r->ctx; the cleanup entry stays */

        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_webhook_ctx_cleanup) {
                ctx = cln->data;
                ngx_http_set_ctx(r, ctx, ngx_http_webhook_module);
                break;
            }
        }
    }

    return ctx;
}


static ngx_http_webhook_ctx_t *
ngx_http_webhook_create_ctx(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf)
{
    ngx_pool_cleanup_t      *cln;
    ngx_http_webhook_ctx_t  *ctx;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_webhook_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_webhook_ctx_t));

    ctx->conf = wlcf;

    cln->handler = ngx_http_webhook_ctx_cleanup;
    ngx_http_set_ctx(r, ctx, ngx_http_webhook_module);

    return ctx;
}


static void
ngx_http_webhook_ctx_cleanup(void *data)
{
    /*
     * Nothing to free (everything is in the request pool): the cleanup
     * is how the ctx is found again after an internal redirect.
     */
}
