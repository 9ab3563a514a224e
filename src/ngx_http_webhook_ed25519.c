
/*
 * ngx_http_webhook_module: Ed25519 signatures (Discord, Standard
 * Webhooks' "v1a").
 *
 * webhook_public_key takes the same VALUE forms as webhook_secret
 * (file:, env:, literal); the key is parsed once, at configuration time,
 * into an EVP_PKEY freed with the configuration.  A request does one
 * EVP_DigestVerify per signature and key.
 *
 * OpenSSL's Ed25519 is one-shot: RFC 8032 hashes the message twice, so
 * it cannot be fed piecewise as HMAC is.  The signed bytes (timestamp +
 * body, or id.timestamp.body) are therefore copied into one buffer in
 * the request pool: the only scheme that copies the body, bounded by
 * client_max_body_size like the body itself.
 *
 * Each verification hashes that whole message again (SHA-512 over R,
 * the key and the message), so a header's candidates are de-duplicated
 * and more than NGX_HTTP_WEBHOOK_ED25519_MAX different ones make the
 * header malformed, refused before the body is read: the work per
 * request is at most that many verifications per public key.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


/* a sender signs with its current key, and its next one while it rotates */
#define NGX_HTTP_WEBHOOK_ED25519_MAX  2


static void ngx_http_webhook_public_key_free(void *data);
static void ngx_http_webhook_pkey_free(void *data);
static ngx_int_t ngx_http_webhook_ed25519_message(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    ngx_str_t *msg);


char *
ngx_http_webhook_public_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    ngx_str_t                      *value;
    const char                     *err, *perr;
    ngx_pool_cleanup_t             *cln;
    ngx_http_webhook_secret_t       text;
    ngx_http_webhook_public_key_t  *pk;

    if (wlcf->public_keys == NGX_CONF_UNSET_PTR) {
        wlcf->public_keys = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_webhook_public_key_t));
        if (wlcf->public_keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (wlcf->public_keys->nelts == NGX_HTTP_WEBHOOK_MAX_KEYS) {
        return "is given more than " ngx_value(NGX_HTTP_WEBHOOK_MAX_KEYS)
               " times in one location";
    }

    value = cf->args->elts;

    ngx_memzero(&text, sizeof(ngx_http_webhook_secret_t));

    /* a public key is not secret: no permission check, no warning */

    if (ngx_http_webhook_secret_load(cf, &value[1], &text, 0)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    pk = ngx_array_push(wlcf->public_keys);
    if (pk == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(pk, sizeof(ngx_http_webhook_public_key_t));

    pk->origin = text.origin;

    if (cf->args->nelts == 3) {
        if (value[2].len <= 4
            || ngx_strncmp(value[2].data, "url=", 4) != 0)
        {
            wlcf->public_keys->nelts--;
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        pk->url.data = value[2].data + 4;
        pk->url.len = value[2].len - 4;
    }

    /* an Ed25519 key in any of its forms, else a certificate or an RSA or
       ECDSA key (ngx_http_webhook_asym.c): the preset decides at merge */

    pk->key = webhook_ed25519_key_parse(text.value.data, text.value.len,
                                        &err);

    if (pk->key == NULL) {
        pk->pkey = webhook_pkey_parse(text.value.data, text.value.len,
                                      &perr);
    }

    if (pk->key == NULL && pk->pkey == NULL) {
        wlcf->public_keys->nelts--;
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "webhook_public_key %V is not a public key: %s; "
                           "%s", &pk->origin, err, perr);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        webhook_ed25519_key_free(pk->key);
        webhook_pkey_free(pk->pkey);
        wlcf->public_keys->nelts--;
        return NGX_CONF_ERROR;
    }

    if (pk->key) {
        cln->handler = ngx_http_webhook_public_key_free;
        cln->data = pk->key;

    } else {
        cln->handler = ngx_http_webhook_pkey_free;
        cln->data = pk->pkey;
    }

    return NGX_CONF_OK;
}


static void
ngx_http_webhook_public_key_free(void *data)
{
    webhook_ed25519_key_free(data);
}


static void
ngx_http_webhook_pkey_free(void *data)
{
    webhook_pkey_free(data);
}


/*
 * The candidates (decoded, back to back) without repeats: NGX_OK, or
 * NGX_DECLINED when more than NGX_HTTP_WEBHOOK_ED25519_MAX differ.
 * Signatures are public: a plain comparison will do.
 */

ngx_int_t
ngx_http_webhook_ed25519_distinct(ngx_http_webhook_ctx_t *ctx)
{
    u_char      *sig;
    ngx_uint_t   i, j, n;

    n = 0;

    for (i = 0; i < ctx->ned25519; i++) {
        sig = ctx->ed25519 + i * WEBHOOK_ED25519_SIG_LEN;

        for (j = 0; j < n; j++) {
            if (ngx_memcmp(ctx->ed25519 + j * WEBHOOK_ED25519_SIG_LEN, sig,
                           WEBHOOK_ED25519_SIG_LEN)
                == 0)
            {
                break;
            }
        }

        if (j < n) {
            continue;
        }

        if (n == NGX_HTTP_WEBHOOK_ED25519_MAX) {
            return NGX_DECLINED;
        }

        if (n != i) {
            ngx_memcpy(ctx->ed25519 + n * WEBHOOK_ED25519_SIG_LEN, sig,
                       WEBHOOK_ED25519_SIG_LEN);
        }

        n++;
    }

    ctx->ned25519 = n;

    return NGX_OK;
}


/*
 * Every Ed25519 candidate against every public key: *index is the
 * 0-based index of the key that verified one, or stays -1.  Keys and
 * signatures are public, so there is no timing to hide here.
 */

ngx_int_t
ngx_http_webhook_ed25519_match(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    ngx_int_t *index)
{
    int                             rc;
    ngx_str_t                       msg;
    ngx_uint_t                      i, j;
    ngx_http_webhook_public_key_t  *pk;

    if (wlcf->public_keys == NULL || wlcf->public_keys->nelts == 0) {
        return NGX_OK;
    }

    if (ngx_http_webhook_ed25519_message(r, wlcf, ctx, &msg) != NGX_OK) {
        return NGX_ERROR;
    }

    pk = wlcf->public_keys->elts;

    for (i = 0; i < wlcf->public_keys->nelts; i++) {
        for (j = 0; j < ctx->ned25519; j++) {

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "webhook: Ed25519 verify, key %ui, candidate %ui",
                           i + 1, j + 1);

            rc = webhook_ed25519_verify(pk[i].key,
                                        ctx->ed25519
                                        + j * WEBHOOK_ED25519_SIG_LEN,
                                        msg.data, msg.len);

            if (rc == WEBHOOK_ERROR) {
                ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                              "webhook: Ed25519 verification failed in "
                              "OpenSSL");
                return NGX_ERROR;
            }

            if (rc == 1) {
                /* the verified signature: the replay key of a delivery
                   without a signed id */
                ngx_memcpy(ctx->matched_mac,
                           ctx->ed25519 + j * WEBHOOK_ED25519_SIG_LEN,
                           WEBHOOK_ED25519_SIG_LEN);
                ctx->matched_mac_len = WEBHOOK_ED25519_SIG_LEN;

                *index = (ngx_int_t) i;
                return NGX_OK;
            }
        }
    }

    return NGX_OK;
}


/* the signed bytes in one piece: the parts, the body copied in place */

static ngx_int_t
ngx_http_webhook_ed25519_message(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    ngx_str_t *msg)
{
    u_char                          *p;
    off_t                            body;
    size_t                           len;
    ssize_t                          n;
    ngx_uint_t                       i;
    ngx_http_webhook_body_cursor_t   cur;
    const ngx_http_webhook_part_t   *part;

    body = ngx_http_webhook_body_length(r);

    if ((uint64_t) body > NGX_MAX_SIZE_T_VALUE / 2) {
        return NGX_ERROR;
    }

    len = 0;

    for (i = 0; i < NGX_HTTP_WEBHOOK_MAX_PARTS; i++) {
        part = &wlcf->preset->payload[i];

        if (part->type == NGX_HTTP_WEBHOOK_PART_END) {
            break;
        }

        len += (part->type == NGX_HTTP_WEBHOOK_PART_BODY)
               ? (size_t) body : ctx->pieces[i].len;
    }

    msg->data = ngx_pnalloc(r->pool, len ? len : 1);
    if (msg->data == NULL) {
        return NGX_ERROR;
    }

    p = msg->data;

    for (i = 0; i < NGX_HTTP_WEBHOOK_MAX_PARTS; i++) {
        part = &wlcf->preset->payload[i];

        if (part->type == NGX_HTTP_WEBHOOK_PART_END) {
            break;
        }

        if (part->type != NGX_HTTP_WEBHOOK_PART_BODY) {
            p = ngx_cpymem(p, ctx->pieces[i].data, ctx->pieces[i].len);
            continue;
        }

        ngx_http_webhook_body_open(&cur, r);

        n = ngx_http_webhook_body_copy(&cur, p, (size_t) body);

        if (n == NGX_ERROR || n != (ssize_t) body) {
            return NGX_ERROR;
        }

        p += n;
    }

    msg->len = p - msg->data;

    return NGX_OK;
}
