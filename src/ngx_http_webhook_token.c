
/*
 * ngx_http_webhook_module: plaintext token schemes (GitLab's
 * X-Gitlab-Token).
 *
 * The header carries the secret itself.  Each configured secret is kept
 * as its SHA-256, made at configuration time; the token is digested the
 * same way and compared with every secret's digest by CRYPTO_memcmp,
 * every secret every time, so the time depends on the token's length and
 * the number of secrets, never on a secret's length or bytes.  The
 * verdict is reached from the headers alone: the body is not signed, so
 * it need not be read first.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "ngx_http_webhook_module.h"


static ngx_int_t ngx_http_webhook_token_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static void ngx_http_webhook_token_wipe(void *data);


const ngx_http_webhook_scheme_t  ngx_http_webhook_token_scheme = {
    ngx_http_webhook_token_headers,
    NULL
};


/* the secrets' digests, once per location, wiped with the configuration */

ngx_int_t
ngx_http_webhook_token_init(ngx_conf_t *cf, ngx_http_webhook_loc_conf_t *wlcf)
{
    u_char                     *p;
    size_t                      size;
    ngx_uint_t                  i;
    ngx_pool_cleanup_t         *cln;
    ngx_http_webhook_secret_t  *secret;

    size = wlcf->secrets->nelts * WEBHOOK_TOKEN_DIGEST_LEN;

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(ngx_str_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(cf->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ((ngx_str_t *) cln->data)->data = p;
    ((ngx_str_t *) cln->data)->len = size;
    cln->handler = ngx_http_webhook_token_wipe;

    secret = wlcf->secrets->elts;

    for (i = 0; i < wlcf->secrets->nelts; i++) {
        if (webhook_token_digest(secret[i].value.data, secret[i].value.len,
                                 p + i * WEBHOOK_TOKEN_DIGEST_LEN)
            != WEBHOOK_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "webhook: cannot digest webhook_secret %V",
                               &secret[i].origin);
            return NGX_ERROR;
        }
    }

    wlcf->token_digests = p;

    return NGX_OK;
}


static void
ngx_http_webhook_token_wipe(void *data)
{
    ngx_str_t  *s = data;

    OPENSSL_cleanse(s->data, s->len);
}


static ngx_int_t
ngx_http_webhook_token_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    int  index;

    index = webhook_token_match(ctx->token.data, ctx->token.len,
                                wlcf->token_digests, wlcf->secrets->nelts);

    if (index == WEBHOOK_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "webhook: SHA-256 failed in OpenSSL");
        return NGX_ERROR;
    }

    if (index < 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
    }

    ctx->secret_index = (ngx_uint_t) index + 1;

    return NGX_OK;
}
