
/*
 * ngx_http_webhook_module: PayPal's webhooks (RSA certificates, pinned).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"
#include "ngx_http_webhook_asym.h"


static ngx_int_t ngx_http_webhook_paypal_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_paypal_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);


const ngx_http_webhook_scheme_t  ngx_http_webhook_paypal_scheme = {
    ngx_http_webhook_paypal_headers,
    ngx_http_webhook_paypal_body
};


/*
 * PayPal: PAYPAL-TRANSMISSION-SIG, base64 SHA256withRSA of
 *   transmission_id|transmission_time|webhook_id|crc32(body)
 * (CRC-32 as unsigned decimal), by the certificate PAYPAL-CERT-URL names.
 * That URL must be the url= of a pinned certificate (nothing is fetched):
 * another is refused before the body is read.  The transmission time
 * (ISO 8601) is signed: the window applies.
 */

static ngx_int_t
ngx_http_webhook_paypal_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_str_t                       ts;
    ngx_uint_t                      i;
    ngx_table_elt_t                *h;
    ngx_http_webhook_public_key_t  *pk;

    h = ngx_http_webhook_find_header(r, "PAYPAL-TRANSMISSION-SIG");
    if (h == NULL) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    rc = ngx_http_webhook_asym_signature(r, ctx, &h->value);

    if (rc != NGX_OK) {
        return rc;
    }

    h = ngx_http_webhook_find_header(r, "PAYPAL-AUTH-ALGO");

    if (h == NULL || h->value.len != sizeof("SHA256withRSA") - 1
        || ngx_strncmp(h->value.data, "SHA256withRSA", h->value.len) != 0)
    {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    h = ngx_http_webhook_find_header(r, "PAYPAL-TRANSMISSION-ID");

    if (h == NULL || h->value.len == 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    ctx->signed_id = h->value;

    h = ngx_http_webhook_find_header(r, "PAYPAL-CERT-URL");

    if (h == NULL || h->value.len == 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    pk = wlcf->public_keys->elts;

    for (i = 0; i < wlcf->public_keys->nelts; i++) {
        if (pk[i].url.len == h->value.len
            && ngx_strncmp(pk[i].url.data, h->value.data, h->value.len) == 0)
        {
            break;
        }
    }

    if (i == wlcf->public_keys->nelts) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webhook: PAYPAL-CERT-URL \"%V\" names no pinned "
                      "certificate", &h->value);
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
    }

    h = ngx_http_webhook_find_header(r, "PAYPAL-TRANSMISSION-TIME");

    if (h) {
        ts = h->value;

    } else {
        ngx_str_null(&ts);
    }

    return ngx_http_webhook_check_time(ctx, &ts, WEBHOOK_TS_RFC3339);
}


static ngx_int_t
ngx_http_webhook_paypal_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    u_char                          *p;
    ssize_t                          n;
    uint32_t                         crc;
    ngx_str_t                        url;
    const u_char                    *data;
    ngx_table_elt_t                 *h;
    ngx_http_webhook_asym_t          a;
    ngx_http_webhook_body_cursor_t   cur;
    u_char                           tail[1 + NGX_INT32_LEN];

    ngx_crc32_init(crc);

    ngx_http_webhook_body_open(&cur, r);

    for ( ;; ) {
        n = ngx_http_webhook_body_next(&cur, &data, NGX_MAX_SIZE_T_VALUE);

        if (n == 0) {
            break;
        }

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        ngx_crc32_update(&crc, (u_char *) data, (size_t) n);
    }

    ngx_crc32_final(crc);

    /* the header step found it */
    h = ngx_http_webhook_find_header(r, "PAYPAL-CERT-URL");
    if (h == NULL) {
        return NGX_ERROR;
    }

    url = h->value;

    if (ngx_http_webhook_asym_start(r, wlcf, WEBHOOK_SHA256, &url, &a)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = ngx_sprintf(tail, "|%uD", crc);

    if (ngx_http_webhook_asym_update(r, &a, ctx->signed_id.data,
                                     ctx->signed_id.len) != NGX_OK
        || ngx_http_webhook_asym_update(r, &a, (u_char *) "|", 1) != NGX_OK
        || ngx_http_webhook_asym_update(r, &a, ctx->signed_ts.data,
                                        ctx->signed_ts.len) != NGX_OK
        || ngx_http_webhook_asym_update(r, &a, (u_char *) "|", 1) != NGX_OK
        || ngx_http_webhook_asym_update(r, &a, wlcf->paypal_webhook_id.data,
                                        wlcf->paypal_webhook_id.len)
           != NGX_OK
        || ngx_http_webhook_asym_update(r, &a, tail, p - tail) != NGX_OK)
    {
        ngx_http_webhook_asym_free(&a);
        return NGX_ERROR;
    }

    return ngx_http_webhook_asym_finish(r, ctx, &a);
}
