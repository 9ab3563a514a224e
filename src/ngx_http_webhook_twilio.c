
/*
 * ngx_http_webhook_module: Twilio's X-Twilio-Signature.
 *
 * base64(HMAC-SHA1(auth token, URL + params)), where URL is the URL
 * Twilio requested (webhook_public_url) and params are the decoded form
 * parameters of the body, sorted by key then value, each as key + value.
 * For JSON bodies Twilio appends bodySHA256=<hex sha256(body)> to the
 * URL and signs the URL alone; the body is then checked against that
 * hash.
 *
 * Without bodySHA256 the body is always read as form parameters, whatever
 * its Content-Type says, so no body is ever left unsigned: a body that is
 * not a form simply does not match.
 *
 * As Twilio's SDK does, the URL is also tried with the scheme's default
 * port toggled (":443" added or removed), since Twilio signs the URL as
 * it was configured, with or without it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


#define NGX_HTTP_WEBHOOK_SHA256_LEN  32


static ngx_int_t ngx_http_webhook_twilio_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_twilio_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_twilio_form(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, webhook_form_param_t **params,
    size_t *n);
static ngx_int_t ngx_http_webhook_twilio_match(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    webhook_form_param_t *params, size_t n, ngx_int_t *index);
static ngx_int_t ngx_http_webhook_twilio_hmac(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    ngx_str_t *url, webhook_form_param_t *params, size_t n,
    ngx_int_t *index);


const ngx_http_webhook_scheme_t  ngx_http_webhook_twilio_scheme = {
    ngx_http_webhook_twilio_headers,
    ngx_http_webhook_twilio_body
};


/*
 * With bodySHA256 in the URL the signature covers the URL alone, so it
 * is checked here, before the body is read; the body's hash waits.
 */

static ngx_int_t
ngx_http_webhook_twilio_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t      index;
    ngx_str_t      url;
    webhook_str_t  hash;

    if (ngx_http_webhook_public_url(r, ctx, &url) != NGX_OK) {
        return NGX_ERROR;
    }

    if (webhook_url_query_param(url.data, url.len, "bodySHA256", &hash)
        != WEBHOOK_OK)
    {
        return NGX_OK;
    }

    ctx->body_hash = 1;

    index = -1;

    if (ngx_http_webhook_twilio_match(r, wlcf, ctx, NULL, 0, &index)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a hash Twilio did not write as 64 hex digits cannot match a body */

    if (index < 0
        || webhook_decode(WEBHOOK_ENC_HEX, ctx->body_sha256,
                          NGX_HTTP_WEBHOOK_SHA256_LEN, hash.data, hash.len)
           != NGX_HTTP_WEBHOOK_SHA256_LEN)
    {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
    }

    ctx->secret_index = (ngx_uint_t) index + 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhook_twilio_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    size_t                 n;
    ngx_int_t              rc, index;
    webhook_form_param_t  *params;
    u_char                 md[NGX_HTTP_WEBHOOK_SHA256_LEN];

    if (ctx->body_hash) {

        if (ngx_http_webhook_body_sha256(r, md) != NGX_OK) {
            return NGX_ERROR;
        }

        if (!webhook_mac_equal(md, ctx->body_sha256, sizeof(md))) {
            ctx->secret_index = 0;
            return NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
        }

        return NGX_HTTP_WEBHOOK_PASS;
    }

    rc = ngx_http_webhook_twilio_form(r, ctx, &params, &n);

    if (rc != NGX_OK) {
        return rc;
    }

    index = -1;

    if (ngx_http_webhook_twilio_match(r, wlcf, ctx, params, n, &index)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (index < 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
    }

    ctx->secret_index = (ngx_uint_t) index + 1;

    return NGX_OK;
}


/*
 * The form parameters, sorted.  Sorting needs them all at once, so the
 * body is copied to the request pool and decoded there (the buffers
 * proxy sends upstream stay untouched).
 */

static ngx_int_t
ngx_http_webhook_twilio_form(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, webhook_form_param_t **params, size_t *n)
{
    ssize_t    count;
    ngx_str_t  body;

    *params = NULL;
    *n = 0;

    /* a copy: the form is decoded in place */

    if (ngx_http_webhook_body_span(r, 1, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    if (body.len == 0) {
        return NGX_OK;
    }

    *params = ngx_palloc(r->pool, WEBHOOK_FORM_MAX_PARAMS
                                  * sizeof(webhook_form_param_t));
    if (*params == NULL) {
        return NGX_ERROR;
    }

    count = webhook_form_parse(body.data, body.len, *params,
                               WEBHOOK_FORM_MAX_PARAMS);

    if (count < 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webhook: twilio body has more than %d form "
                      "parameters", WEBHOOK_FORM_MAX_PARAMS);
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
    }

    *n = webhook_form_sort(*params, (size_t) count);

    return NGX_OK;
}


/* the URL as configured, then with the default port toggled */

static ngx_int_t
ngx_http_webhook_twilio_match(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    webhook_form_param_t *params, size_t n, ngx_int_t *index)
{
    ngx_str_t  url, variant;

    if (ngx_http_webhook_public_url(r, ctx, &url) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_webhook_twilio_hmac(r, wlcf, ctx, &url, params, n, index)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (*index >= 0) {
        return NGX_OK;
    }

    variant.data = ngx_pnalloc(r->pool, url.len + 4);
    if (variant.data == NULL) {
        return NGX_ERROR;
    }

    variant.len = webhook_url_toggle_port(url.data, url.len, variant.data,
                                          url.len + 4);

    if (variant.len == 0) {
        return NGX_OK;
    }

    return ngx_http_webhook_twilio_hmac(r, wlcf, ctx, &variant, params, n,
                                        index);
}


static ngx_int_t
ngx_http_webhook_twilio_hmac(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    ngx_str_t *url, webhook_form_param_t *params, size_t n,
    ngx_int_t *index)
{
    int               match;
    size_t            i;
    ngx_uint_t        nkeys;
    webhook_hmac_t  **keys;

    keys = wlcf->keys->elts;
    nkeys = wlcf->keys->nelts;

    if (webhook_hmac_start_all(keys, nkeys) != WEBHOOK_OK
        || webhook_hmac_update_all(keys, nkeys, url->data, url->len)
           != WEBHOOK_OK)
    {
        return ngx_http_webhook_hmac_failed(r);
    }

    for (i = 0; i < n; i++) {
        if (webhook_hmac_update_all(keys, nkeys, params[i].key,
                                    params[i].key_len)
            != WEBHOOK_OK
            || webhook_hmac_update_all(keys, nkeys, params[i].value,
                                       params[i].value_len)
               != WEBHOOK_OK)
        {
            return ngx_http_webhook_hmac_failed(r);
        }
    }

    match = webhook_hmac_match_mac(keys, nkeys, ctx->candidates,
                                   ctx->ncandidates, ctx->matched_mac);

    if (match == WEBHOOK_ERROR) {
        return ngx_http_webhook_hmac_failed(r);
    }

    /* the verified MAC: the replay key of a delivery */
    if (match >= 0) {
        ctx->matched_mac_len = webhook_hmac_size(keys[0]);
    }

    *index = match;

    return NGX_OK;
}


