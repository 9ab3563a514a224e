
/*
 * ngx_http_webhook_module: Braintree's webhook notifications.
 *
 * A form body (application/x-www-form-urlencoded) with two fields:
 *   bt_payload    base64 of the notification's XML (with newlines);
 *   bt_signature  "public_key|hex" pairs joined with '&', where
 *                 hex = HMAC-SHA1 of bt_payload keyed with SHA-1 of the
 *                 API key pair's private key.
 * webhook_secret holds "public_key:private_key" (one line per API key
 * pair; several for rotation); the HMAC key, SHA-1 of the private key,
 * is made at configuration time (ngx_http_webhook_secret.c).  A pair is
 * checked only against the secrets of its public key.  As Braintree's
 * own libraries do, the signature may cover the payload or the payload
 * followed by "\n" (a trailing newline some form decoders drop).
 *
 * The form is decoded in a copy of the body, as for Twilio (bounded by
 * client_max_body_size); the XML is not parsed: its timestamp is signed
 * but not checked here.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


/* a notification signed for more API keys than this is not Braintree's */
#define NGX_HTTP_WEBHOOK_BRAINTREE_MAX_PAIRS  8

#define NGX_HTTP_WEBHOOK_BRAINTREE_MAC_LEN    20


static ngx_int_t ngx_http_webhook_braintree_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_braintree_fields(ngx_http_request_t *r,
    ngx_str_t *sig, ngx_str_t *payload);
static ngx_int_t ngx_http_webhook_braintree_pair(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    ngx_str_t *pub, ngx_str_t *hex, ngx_str_t *payload);


const ngx_http_webhook_scheme_t  ngx_http_webhook_braintree_scheme = {
    NULL,
    ngx_http_webhook_braintree_body
};


static ngx_int_t
ngx_http_webhook_braintree_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    u_char      *p, *end, *amp, *bar;
    ngx_int_t    rc, verdict;
    ngx_str_t    sig, payload, pub, hex;
    ngx_uint_t   npairs;

    rc = ngx_http_webhook_braintree_fields(r, &sig, &payload);

    if (rc != NGX_OK) {
        return rc;
    }

    /* Braintree's libraries refuse any other byte in the payload */

    for (p = payload.data; p < payload.data + payload.len; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
              || (*p >= '0' && *p <= '9') || *p == '+' || *p == '/'
              || *p == '=' || *p == '\n'))
        {
            return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
        }
    }

    verdict = NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
    npairs = 0;

    p = sig.data;
    end = sig.data + sig.len;

    while (p < end) {

        amp = ngx_strlchr(p, end, '&');
        if (amp == NULL) {
            amp = end;
        }

        bar = ngx_strlchr(p, amp, '|');

        if (bar != NULL) {

            if (++npairs > NGX_HTTP_WEBHOOK_BRAINTREE_MAX_PAIRS) {
                return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
            }

            pub.data = p;
            pub.len = bar - p;
            hex.data = bar + 1;
            hex.len = amp - bar - 1;

            if (verdict != NGX_HTTP_WEBHOOK_PASS) {
                rc = ngx_http_webhook_braintree_pair(r, wlcf, ctx, &pub, &hex,
                                                     &payload);
                if (rc == NGX_ERROR) {
                    return NGX_ERROR;
                }

                if (rc == NGX_OK) {
                    verdict = NGX_HTTP_WEBHOOK_PASS;
                }
            }
        }

        p = amp + 1;
    }

    if (npairs == 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    return verdict;
}


/* bt_signature and bt_payload, once each, from the decoded form */

static ngx_int_t
ngx_http_webhook_braintree_fields(ngx_http_request_t *r, ngx_str_t *sig,
    ngx_str_t *payload)
{
    ssize_t                n, i;
    ngx_str_t              body;
    webhook_form_param_t  *params;

    ngx_str_null(sig);
    ngx_str_null(payload);

    /* a copy: the form is decoded in place */

    if (ngx_http_webhook_body_span(r, 1, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    if (body.len == 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    params = ngx_palloc(r->pool, WEBHOOK_FORM_MAX_PARAMS
                                 * sizeof(webhook_form_param_t));
    if (params == NULL) {
        return NGX_ERROR;
    }

    n = webhook_form_parse(body.data, body.len, params,
                           WEBHOOK_FORM_MAX_PARAMS);

    if (n < 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    for (i = 0; i < n; i++) {

        if (params[i].key_len == 12
            && ngx_strncmp(params[i].key, "bt_signature", 12) == 0)
        {
            if (sig->data) {
                return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
            }

            sig->data = (u_char *) params[i].value;
            sig->len = params[i].value_len;

        } else if (params[i].key_len == 10
                   && ngx_strncmp(params[i].key, "bt_payload", 10) == 0)
        {
            if (payload->data) {
                return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
            }

            payload->data = (u_char *) params[i].value;
            payload->len = params[i].value_len;
        }
    }

    if (sig->data == NULL || sig->len == 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    if (payload->data == NULL || payload->len == 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    return NGX_OK;
}


/*
 * One "public_key|hex" pair against the secrets of that public key:
 * NGX_OK when one verifies it, NGX_DECLINED when none does.
 */

static ngx_int_t
ngx_http_webhook_braintree_pair(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    ngx_str_t *pub, ngx_str_t *hex, ngx_str_t *payload)
{
    u_char                     *colon;
    ngx_uint_t                  i, nl;
    webhook_hmac_t            **keys;
    ngx_http_webhook_secret_t  *secret;
    u_char                      sent[NGX_HTTP_WEBHOOK_BRAINTREE_MAC_LEN];
    u_char                      mac[WEBHOOK_MAC_MAX];

    if (webhook_decode(WEBHOOK_ENC_HEX, sent, sizeof(sent), hex->data,
                       hex->len)
        != NGX_HTTP_WEBHOOK_BRAINTREE_MAC_LEN)
    {
        return NGX_DECLINED;
    }

    secret = wlcf->secrets->elts;
    keys = wlcf->keys->elts;

    for (i = 0; i < wlcf->keys->nelts; i++) {

        /* "public_key:private_key", checked at configuration time */
        colon = ngx_strlchr(secret[i].value.data,
                            secret[i].value.data + secret[i].value.len, ':');

        if (colon == NULL
            || (size_t) (colon - secret[i].value.data) != pub->len
            || ngx_strncmp(secret[i].value.data, pub->data, pub->len) != 0)
        {
            continue;
        }

        for (nl = 0; nl < 2; nl++) {

            if (webhook_hmac_start(keys[i]) != WEBHOOK_OK
                || webhook_hmac_update(keys[i], payload->data, payload->len)
                   != WEBHOOK_OK
                || (nl && webhook_hmac_update(keys[i], "\n", 1)
                          != WEBHOOK_OK)
                || webhook_hmac_finish(keys[i], mac) != WEBHOOK_OK)
            {
                return ngx_http_webhook_hmac_failed(r);
            }

            if (webhook_mac_equal(mac, sent,
                                  NGX_HTTP_WEBHOOK_BRAINTREE_MAC_LEN))
            {
                ctx->secret_index = i + 1;
                ngx_memcpy(ctx->matched_mac, sent,
                           NGX_HTTP_WEBHOOK_BRAINTREE_MAC_LEN);
                ctx->matched_mac_len = NGX_HTTP_WEBHOOK_BRAINTREE_MAC_LEN;
                return NGX_OK;
            }
        }
    }

    return NGX_DECLINED;
}
