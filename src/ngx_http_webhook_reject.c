
/*
 * ngx_http_webhook_module: refusing a request.
 *
 * The status is a real nginx status, so an error_page for it takes over
 * the body (and the status stays, as for nginx's own errors).  Without
 * one, the body is the small JSON document docs/directives.md describes.  Every verdict
 * that is not a pass is logged once, at info, without the secret or the
 * signature.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


/* how much of a client-supplied id a log line shows */
#define NGX_HTTP_WEBHOOK_LOG_ID_MAX  64


typedef struct {
    ngx_str_t    name;
    ngx_uint_t   status;
    ngx_str_t    body;
} ngx_http_webhook_reason_t;


#define ngx_http_webhook_reason(name, status)                                 \
    { ngx_string(#name), status,                                              \
      ngx_string("{\"error\":\"" #name "\",\"status\":" #status "}") }


/* indexed by ngx_http_webhook_reason_e */
static ngx_http_webhook_reason_t  ngx_http_webhook_reasons[] = {
    { ngx_null_string, 0, ngx_null_string },
    ngx_http_webhook_reason(ip_not_allowed, 403),
    ngx_http_webhook_reason(rate_limited, 429),
    ngx_http_webhook_reason(signature_missing, 401),
    ngx_http_webhook_reason(signature_malformed, 400),
    ngx_http_webhook_reason(signature_mismatch, 401),
    ngx_http_webhook_reason(timestamp_missing, 400),
    ngx_http_webhook_reason(timestamp_expired, 401),
    ngx_http_webhook_reason(timestamp_future, 401),
    ngx_http_webhook_reason(duplicate_in_flight, 409),
    ngx_http_webhook_reason(body_too_large, 413),
    ngx_http_webhook_reason(redis_unavailable, 503),
    ngx_http_webhook_reason(queue_unavailable, 503),
    ngx_http_webhook_reason(subrequest_unsupported, 403),
};


static ngx_str_t  ngx_http_webhook_json_type = ngx_string("application/json");


ngx_str_t *
ngx_http_webhook_reason_name(ngx_http_webhook_reason_e reason)
{
    return &ngx_http_webhook_reasons[reason].name;
}


static ngx_uint_t
ngx_http_webhook_has_error_page(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    /* the same test as ngx_http_special_response_handler() */

    if (r->error_page || clcf->error_pages == NULL || r->uri_changes == 0) {
        return 0;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if (err_page[i].status == (ngx_int_t) status) {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_webhook_reject(ngx_http_request_t *r,
    ngx_http_webhook_reason_e reason)
{
    ngx_int_t  rc;

    rc = ngx_http_webhook_reject_content(r, reason);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    /*
     * The response is out.  In a phase handler NGX_OK would mean "go on
     * to the next phase", so finish the request here, as the content
     * phase would, and tell the phase engine to stop.
     */

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/*
 * The refusal itself: the status, for an error_page to take over, or the
 * JSON body sent; a content handler returns what this returns.
 */

ngx_int_t
ngx_http_webhook_reject_content(ngx_http_request_t *r,
    ngx_http_webhook_reason_e reason)
{
    ngx_http_complex_value_t    cv;
    ngx_http_webhook_reason_t  *rs;

    rs = &ngx_http_webhook_reasons[reason];

    if (ngx_http_webhook_has_error_page(r, rs->status)) {
        return rs->status;
    }

    /* as nginx does for its own 400 and 413: the connection is not reused */

    if (rs->status == NGX_HTTP_BAD_REQUEST
        || rs->status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE)
    {
        r->keepalive = 0;
    }

    /* no "100 Continue" for a body that is refused before it is sent */
    r->expect_tested = 1;

    ngx_memzero(&cv, sizeof(ngx_http_complex_value_t));
    cv.value = rs->body;

    return ngx_http_send_response(r, rs->status, &ngx_http_webhook_json_type,
                                  &cv);
}


/* 200 {"status":"duplicate"}: delivered before, not forwarded again */

ngx_int_t
ngx_http_webhook_acknowledge_duplicate(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_http_complex_value_t  cv;

    ngx_memzero(&cv, sizeof(ngx_http_complex_value_t));
    ngx_str_set(&cv.value, "{\"status\":\"duplicate\"}");

    rc = ngx_http_send_response(r, NGX_HTTP_OK, &ngx_http_webhook_json_type,
                                &cv);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


void
ngx_http_webhook_log_verdict(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx)
{
    u_char                     *p;
    size_t                      i, len;
    ngx_str_t                   id, none;
    const ngx_str_t            *preset;
    ngx_http_webhook_reason_t  *rs;
    u_char                      safe[NGX_HTTP_WEBHOOK_LOG_ID_MAX];

    rs = &ngx_http_webhook_reasons[ctx->reason != NGX_HTTP_WEBHOOK_PASS
                                   ? ctx->reason : ctx->would_reason];

    ngx_str_set(&none, "-");
    preset = ctx->conf->preset ? &ctx->conf->preset->name : &none;

    /*
     * The id is the client's: shown truncated, as $webhook_id holds it
     * (control bytes already "\xNN"), quotes and non-ASCII replaced.
     */

    len = 0;

    if (ngx_http_webhook_request_id(r, ctx, &id) == NGX_OK) {
        len = ngx_min(id.len, NGX_HTTP_WEBHOOK_LOG_ID_MAX);

        for (i = 0; i < len; i++) {
            p = &id.data[i];
            safe[i] = (*p < 0x20 || *p > 0x7e || *p == '"') ? '?' : *p;
        }
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "webhook %s: %V (%ui), preset \"%V\", client %V, id \"%*s\"",
                  ctx->reason != NGX_HTTP_WEBHOOK_PASS
                      ? "rejected" : "would reject",
                  &rs->name, rs->status, preset,
                  &r->connection->addr_text, len, safe);
}
