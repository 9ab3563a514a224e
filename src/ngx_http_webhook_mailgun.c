
/*
 * ngx_http_webhook_module: Mailgun's signature object.
 *
 * Mailgun sends no signature header: the JSON body carries
 *   "signature": {"timestamp": "...", "token": "...", "signature": "<hex>"}
 * where signature = hex(HMAC-SHA256(signing key, timestamp + token)).
 * The event data itself is NOT signed by this scheme: what is
 * authenticated is that Mailgun produced this timestamp and token, and
 * the token is what a replay cache should remember (Mailgun's advice).
 *
 * Everything lives in the body, so the whole verdict waits for it; the
 * three members are read by the JSON member scanner
 * (ngx_http_webhook_json.c: no DOM, the first duplicate wins, a body over
 * 1 MiB is not looked into).  A body that is not JSON has no signature:
 * signature_missing.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


static ngx_int_t ngx_http_webhook_mailgun_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);


const ngx_http_webhook_scheme_t  ngx_http_webhook_mailgun_scheme = {
    NULL,
    ngx_http_webhook_mailgun_body
};


static ngx_int_t
ngx_http_webhook_mailgun_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    int               match;
    ngx_int_t         rc;
    ngx_str_t         sig, ts, token;
    ngx_uint_t        nkeys;
    webhook_hmac_t  **keys;
    u_char            mac[WEBHOOK_MAC_MAX];

    rc = ngx_http_webhook_json_field(r, ctx, "signature.signature", &sig);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    if (webhook_decode(WEBHOOK_ENC_HEX, mac, sizeof(mac), sig.data, sig.len)
        != (ssize_t) webhook_digest_size(wlcf->preset->digest))
    {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    rc = ngx_http_webhook_json_field(r, ctx, "signature.token", &token);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK || token.len == 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    /* a string or a number; the signed bytes are its text either way */

    rc = ngx_http_webhook_json_field(r, ctx, "signature.timestamp", &ts);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_str_null(&ts);
    }

    rc = ngx_http_webhook_check_time(ctx, &ts, wlcf->preset->ts_format);

    if (rc != NGX_HTTP_WEBHOOK_PASS) {
        return rc;
    }

    keys = wlcf->keys->elts;
    nkeys = wlcf->keys->nelts;

    if (webhook_hmac_start_all(keys, nkeys) != WEBHOOK_OK
        || webhook_hmac_update_all(keys, nkeys, ts.data, ts.len)
           != WEBHOOK_OK
        || webhook_hmac_update_all(keys, nkeys, token.data, token.len)
           != WEBHOOK_OK)
    {
        return ngx_http_webhook_hmac_failed(r);
    }

    match = webhook_hmac_match(keys, nkeys, mac, 1);

    if (match == WEBHOOK_ERROR) {
        return ngx_http_webhook_hmac_failed(r);
    }

    if (match < 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
    }

    ctx->secret_index = (ngx_uint_t) match + 1;

    return NGX_OK;
}
