
/*
 * ngx_http_webhook_module: asymmetric signatures with keys pinned in the
 * configuration (SendGrid's ECDSA P-256; RSA certificates): what the
 * three schemes share.  Each scheme's headers and signed string are in
 * its own file: ngx_http_webhook_sendgrid.c, ngx_http_webhook_paypal.c,
 * ngx_http_webhook_sns.c.
 *
 * webhook_public_key loads each key once, at configuration time
 * (src/core/webhook_pkey.c: a PEM certificate, a PEM public key, or
 * base64 of a DER public key); nothing is fetched on the request path.
 * Several keys at once allow rotation: a signature is accepted when one
 * of them verifies it.
 *
 * The signed bytes are streamed into one EVP_DigestVerify per key, and
 * into a SHA-256 that becomes the replay key: an ECDSA signature is not
 * unique (the same message signed twice, or (r, -s), gives another
 * valid one), so a record is keyed on what was signed, not on the
 * signature.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"
#include "ngx_http_webhook_asym.h"


/* what a preset needs of its keys */
typedef struct {
    const ngx_http_webhook_scheme_t *scheme;
    webhook_pkey_kind_e              kind;
    ngx_uint_t                       url;          /* url= required */
} ngx_http_webhook_asym_need_t;


static const ngx_http_webhook_asym_need_t  ngx_http_webhook_asym_needs[] = {
    { &ngx_http_webhook_sendgrid_scheme, WEBHOOK_PKEY_P256, 0 },
    { &ngx_http_webhook_paypal_scheme, WEBHOOK_PKEY_RSA, 1 },
    { &ngx_http_webhook_sns_scheme, WEBHOOK_PKEY_RSA, 1 },
};


/*
 * At merge time: every key of the location is of the kind the preset
 * verifies, and carries url= exactly where the preset matches the
 * sender's certificate URL.
 */

ngx_int_t
ngx_http_webhook_asym_init(ngx_conf_t *cf, ngx_http_webhook_loc_conf_t *wlcf)
{
    ngx_uint_t                           i;
    webhook_pkey_kind_e                  kind;
    ngx_http_webhook_public_key_t       *pk;
    const ngx_http_webhook_asym_need_t  *need;

    need = NULL;

    for (i = 0; i < sizeof(ngx_http_webhook_asym_needs)
                    / sizeof(ngx_http_webhook_asym_needs[0]); i++)
    {
        if (ngx_http_webhook_asym_needs[i].scheme == wlcf->preset->scheme) {
            need = &ngx_http_webhook_asym_needs[i];
            break;
        }
    }

    if (need == NULL) {
        return NGX_ERROR;
    }

    if (wlcf->preset->scheme == &ngx_http_webhook_paypal_scheme
        && wlcf->paypal_webhook_id.len == 0)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"webhook_verify %V\" in %s:%ui has no "
                      "\"webhook_paypal_webhook_id\"",
                      &wlcf->preset->name, wlcf->verify_file,
                      wlcf->verify_line);
        return NGX_ERROR;
    }

    pk = wlcf->public_keys->elts;

    for (i = 0; i < wlcf->public_keys->nelts; i++) {

        kind = pk[i].pkey ? webhook_pkey_kind(pk[i].pkey)
                          : WEBHOOK_PKEY_ED25519;

        if (kind != need->kind) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "webhook_public_key %V is an %s key: "
                          "\"webhook_verify %V\" in %s:%ui needs an %s key",
                          &pk[i].origin, webhook_pkey_kind_name(kind),
                          &wlcf->preset->name, wlcf->verify_file,
                          wlcf->verify_line, webhook_pkey_kind_name(need->kind));
            return NGX_ERROR;
        }

        if (need->url && pk[i].url.len == 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "webhook_public_key %V has no \"url=\": "
                          "\"webhook_verify %V\" in %s:%ui needs the URL "
                          "the sender names its certificate by",
                          &pk[i].origin, &wlcf->preset->name,
                          wlcf->verify_file, wlcf->verify_line);
            return NGX_ERROR;
        }

        if (!need->url && pk[i].url.len) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "webhook_public_key %V: \"url=\" is not used by "
                          "\"webhook_verify %V\" in %s:%ui",
                          &pk[i].origin, &wlcf->preset->name,
                          wlcf->verify_file, wlcf->verify_line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* a base64 signature header, decoded into ctx->asym_sig */

ngx_int_t
ngx_http_webhook_asym_signature(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_str_t *value)
{
    ssize_t  n;

    if (value->len == 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    if (webhook_decoded_size(WEBHOOK_ENC_BASE64, value->len)
        > WEBHOOK_PKEY_SIG_MAX)
    {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    ctx->asym_sig.data = ngx_pnalloc(r->pool, WEBHOOK_PKEY_SIG_MAX);
    if (ctx->asym_sig.data == NULL) {
        return NGX_ERROR;
    }

    n = webhook_decode(WEBHOOK_ENC_BASE64, ctx->asym_sig.data,
                       WEBHOOK_PKEY_SIG_MAX, value->data, value->len);

    if (n <= 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    ctx->asym_sig.len = (size_t) n;

    return NGX_OK;
}


/* one verification per key (with url: the keys pinned for that URL) */

ngx_int_t
ngx_http_webhook_asym_start(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, webhook_digest_t digest,
    ngx_str_t *url, ngx_http_webhook_asym_t *a)
{
    ngx_uint_t                      i;
    ngx_http_webhook_public_key_t  *pk;

    ngx_memzero(a, sizeof(ngx_http_webhook_asym_t));

    a->hash = webhook_hash_new(WEBHOOK_SHA256);
    if (a->hash == NULL) {
        goto failed;
    }

    pk = wlcf->public_keys->elts;

    for (i = 0; i < wlcf->public_keys->nelts; i++) {

        if (url
            && (pk[i].url.len != url->len
                || ngx_strncmp(pk[i].url.data, url->data, url->len) != 0))
        {
            continue;
        }

        a->v[a->n] = webhook_pkey_verify_start(pk[i].pkey, digest);
        if (a->v[a->n] == NULL) {
            goto failed;
        }

        a->index[a->n++] = i;
    }

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                  "webhook: signature verification failed in OpenSSL");

    ngx_http_webhook_asym_free(a);

    return NGX_ERROR;
}


ngx_int_t
ngx_http_webhook_asym_update(ngx_http_request_t *r,
    ngx_http_webhook_asym_t *a, const u_char *p, size_t len)
{
    ngx_uint_t  i;

    if (webhook_hash_update(a->hash, p, len) != WEBHOOK_OK) {
        goto failed;
    }

    for (i = 0; i < a->n; i++) {
        if (webhook_pkey_verify_update(a->v[i], p, len) != WEBHOOK_OK) {
            goto failed;
        }
    }

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                  "webhook: signature verification failed in OpenSSL");

    return NGX_ERROR;
}


ngx_int_t
ngx_http_webhook_asym_body(ngx_http_request_t *r, ngx_http_webhook_asym_t *a)
{
    ssize_t                          n;
    const u_char                    *p;
    ngx_http_webhook_body_cursor_t   cur;

    ngx_http_webhook_body_open(&cur, r);

    for ( ;; ) {
        n = ngx_http_webhook_body_next(&cur, &p, NGX_MAX_SIZE_T_VALUE);

        if (n == 0) {
            return NGX_OK;
        }

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (ngx_http_webhook_asym_update(r, a, p, (size_t) n) != NGX_OK) {
            return NGX_ERROR;
        }
    }
}


/*
 * The verdict: the first key that verifies ctx->asym_sig.  The digest
 * of the signed bytes becomes the replay key.  Keys and signatures are
 * public: no timing to hide.
 */

ngx_int_t
ngx_http_webhook_asym_finish(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_http_webhook_asym_t *a)
{
    int         rc;
    ngx_int_t   verdict;
    ngx_uint_t  i;

    verdict = NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;

    if (webhook_hash_finish(a->hash, ctx->matched_mac) != WEBHOOK_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "webhook: signature verification failed in OpenSSL");
        ngx_http_webhook_asym_free(a);
        return NGX_ERROR;
    }

    for (i = 0; i < a->n; i++) {

        rc = webhook_pkey_verify_finish(a->v[i], ctx->asym_sig.data,
                                        ctx->asym_sig.len);
        a->v[i] = NULL;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "webhook: public key %ui: %d", a->index[i] + 1, rc);

        if (rc == 1 && verdict != NGX_HTTP_WEBHOOK_PASS) {
            ctx->secret_index = a->index[i] + 1;
            ctx->matched_mac_len = 32;
            verdict = NGX_HTTP_WEBHOOK_PASS;
        }
    }

    ngx_http_webhook_asym_free(a);

    return verdict;
}


void
ngx_http_webhook_asym_free(ngx_http_webhook_asym_t *a)
{
    ngx_uint_t  i;

    for (i = 0; i < a->n; i++) {
        webhook_pkey_verify_free(a->v[i]);
        a->v[i] = NULL;
    }

    webhook_hash_free(a->hash);
    a->hash = NULL;
}
