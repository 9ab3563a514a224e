
/*
 * ngx_http_webhook_module: SendGrid's Signed Event Webhook (ECDSA P-256).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"
#include "ngx_http_webhook_asym.h"


static ngx_int_t ngx_http_webhook_sendgrid_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_sendgrid_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);


const ngx_http_webhook_scheme_t  ngx_http_webhook_sendgrid_scheme = {
    ngx_http_webhook_sendgrid_headers,
    ngx_http_webhook_sendgrid_body
};


/*
 * SendGrid's Signed Event Webhook:
 *   X-Twilio-Email-Event-Webhook-Signature: base64 of a DER ECDSA
 *       signature (P-256, SHA-256) of timestamp + body;
 *   X-Twilio-Email-Event-Webhook-Timestamp: Unix seconds.
 */

static ngx_int_t
ngx_http_webhook_sendgrid_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t         rc;
    ngx_str_t         ts;
    ngx_table_elt_t  *h;

    h = ngx_http_webhook_find_header(r,
                                "X-Twilio-Email-Event-Webhook-Signature");
    if (h == NULL) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    rc = ngx_http_webhook_asym_signature(r, ctx, &h->value);

    if (rc != NGX_OK) {
        return rc;
    }

    h = ngx_http_webhook_find_header(r,
                                "X-Twilio-Email-Event-Webhook-Timestamp");
    if (h) {
        ts = h->value;

    } else {
        ngx_str_null(&ts);
    }

    return ngx_http_webhook_check_time(ctx, &ts, WEBHOOK_TS_SECONDS);
}


static ngx_int_t
ngx_http_webhook_sendgrid_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_http_webhook_asym_t  a;

    if (ngx_http_webhook_asym_start(r, wlcf, WEBHOOK_SHA256, NULL, &a)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_webhook_asym_update(r, &a, ctx->signed_ts.data,
                                     ctx->signed_ts.len)
        != NGX_OK
        || ngx_http_webhook_asym_body(r, &a) != NGX_OK)
    {
        ngx_http_webhook_asym_free(&a);
        return NGX_ERROR;
    }

    return ngx_http_webhook_asym_finish(r, ctx, &a);
}
