
/*
 * ngx_http_webhook_module: the request pipeline (PREACCESS phase).
 *
 *   1. judged already (before an internal redirect)?  let it go on;
 *   2. signature header, candidates, timestamp: refuse before the body
 *      (or, for a plaintext token, decide without it);
 *   3. read the body (possibly over several event loop turns);
 *   4. HMAC (or Ed25519) over the signed bytes;
 *   5. verdict: go on (NGX_DECLINED), or refuse with a JSON reason.
 *
 * Reading the body follows ngx_http_mirror_module and lua-nginx-module's
 * access phase; see DESIGN-NOTES section 1 for the pitfalls avoided here.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


static ngx_http_webhook_ctx_t *ngx_http_webhook_create_ctx(
    ngx_http_request_t *r, ngx_http_webhook_loc_conf_t *wlcf);
static void ngx_http_webhook_ctx_cleanup(void *data);
static void ngx_http_webhook_body_ready(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhook_verdict(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx);


ngx_int_t
ngx_http_webhook_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_webhook_ctx_t       *ctx;
    ngx_http_webhook_loc_conf_t  *wlcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhook_module);

    if (wlcf->preset == NULL) {
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
         * verifying again would count and log the request twice.
         */
        return NGX_DECLINED;

    } else if (ctx->waiting_body) {
        return NGX_DONE;
    }

    if (!ctx->body_read) {

        if (ngx_http_webhook_verify_headers(r, wlcf, ctx) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* refused, or (GitLab's token) decided without the body */

        if (ctx->reason != NGX_HTTP_WEBHOOK_PASS || ctx->verified) {
            return ngx_http_webhook_verdict(r, ctx);
        }

        rc = ngx_http_read_client_request_body(r,
                                               ngx_http_webhook_body_ready);

        if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
            /* seen while reading (chunked); nginx dropped its count */
            ctx->reason = NGX_HTTP_WEBHOOK_BODY_TOO_LARGE;
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

    return ngx_http_webhook_verdict(r, ctx);
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

    if (ctx->reason == NGX_HTTP_WEBHOOK_PASS) {
        return NGX_DECLINED;
    }

    ngx_http_webhook_log_verdict(r, ctx);

    if (ctx->conf->mode == NGX_HTTP_WEBHOOK_MONITOR) {
        return NGX_DECLINED;
    }

    return ngx_http_webhook_reject(r, ctx->reason);
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
    ngx_http_webhook_ctx_t  *ctx = data;

    if (ctx->json) {
        json_decref(ctx->json);
        ctx->json = NULL;
    }
}
