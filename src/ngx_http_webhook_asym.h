
/*
 * ngx_http_webhook_module: what the asymmetric schemes share (SendGrid's
 * ngx_http_webhook_sendgrid.c, PayPal's ngx_http_webhook_paypal.c, SNS's
 * ngx_http_webhook_sns.c), and only they: one verification per pinned
 * key, fed the signed bytes, with their SHA-256 as the replay key
 * (ngx_http_webhook_asym.c).
 */


#ifndef _NGX_HTTP_WEBHOOK_ASYM_H_INCLUDED_
#define _NGX_HTTP_WEBHOOK_ASYM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


/* the verifications of one request, one per key tried */
typedef struct {
    webhook_pkey_verify_t           *v[NGX_HTTP_WEBHOOK_MAX_KEYS];
    ngx_uint_t                       index[NGX_HTTP_WEBHOOK_MAX_KEYS];
    ngx_uint_t                       n;
    webhook_hash_t                  *hash;         /* of the signed bytes */
} ngx_http_webhook_asym_t;


/* a base64 signature (a header's value), decoded into ctx->asym_sig */
ngx_int_t ngx_http_webhook_asym_signature(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_str_t *value);

/*
 * Start one verification per pinned key (with url: only the keys pinned
 * for that URL; none is not an error, a->n is 0), feed it pieces or the
 * whole body, finish with the verdict (NGX_HTTP_WEBHOOK_PASS or
 * SIGNATURE_MISMATCH; it frees a).  On NGX_ERROR from update or body the
 * caller frees a.
 */
ngx_int_t ngx_http_webhook_asym_start(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, webhook_digest_t digest,
    ngx_str_t *url, ngx_http_webhook_asym_t *a);
ngx_int_t ngx_http_webhook_asym_update(ngx_http_request_t *r,
    ngx_http_webhook_asym_t *a, const u_char *p, size_t len);
ngx_int_t ngx_http_webhook_asym_body(ngx_http_request_t *r,
    ngx_http_webhook_asym_t *a);
ngx_int_t ngx_http_webhook_asym_finish(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_http_webhook_asym_t *a);
void ngx_http_webhook_asym_free(ngx_http_webhook_asym_t *a);


#endif /* _NGX_HTTP_WEBHOOK_ASYM_H_INCLUDED_ */
