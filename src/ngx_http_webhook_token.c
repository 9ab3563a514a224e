
/*
 * ngx_http_webhook_module: plaintext token schemes (GitLab's
 * X-Gitlab-Token).
 *
 * The header carries the secret itself.  It is compared with every
 * configured secret in constant time (the time depends on the lengths
 * only, webhook_token_equal()), every secret every time, and the verdict
 * is reached from the headers alone: the body is not signed, so it need
 * not be read first.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


static ngx_int_t ngx_http_webhook_token_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);


const ngx_http_webhook_scheme_t  ngx_http_webhook_token_scheme = {
    ngx_http_webhook_token_headers,
    NULL
};


static ngx_int_t
ngx_http_webhook_token_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t                   index;
    ngx_uint_t                  i;
    ngx_http_webhook_secret_t  *secret;

    secret = wlcf->secrets->elts;
    index = -1;

    /* no early exit: which secret matched is not told by the time */

    for (i = 0; i < wlcf->secrets->nelts; i++) {
        if (webhook_token_equal(ctx->token.data, ctx->token.len,
                                secret[i].value.data, secret[i].value.len)
            && index < 0)
        {
            index = (ngx_int_t) i;
        }
    }

    if (index < 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
    }

    ctx->secret_index = (ngx_uint_t) index + 1;

    return NGX_OK;
}
