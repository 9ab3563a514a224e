
/*
 * ngx_http_webhook_module: asymmetric signatures with keys pinned in the
 * configuration (SendGrid's ECDSA P-256; RSA certificates).
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


/* the verifications of one request, one per key tried */
typedef struct {
    webhook_pkey_verify_t           *v[NGX_HTTP_WEBHOOK_MAX_KEYS];
    ngx_uint_t                       index[NGX_HTTP_WEBHOOK_MAX_KEYS];
    ngx_uint_t                       n;
    webhook_hash_t                  *hash;         /* of the signed bytes */
} ngx_http_webhook_asym_t;


/* what a preset needs of its keys */
typedef struct {
    const ngx_http_webhook_scheme_t *scheme;
    webhook_pkey_kind_e              kind;
    ngx_uint_t                       url;          /* url= required */
} ngx_http_webhook_asym_need_t;


static ngx_int_t ngx_http_webhook_sendgrid_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_sendgrid_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);

static ngx_int_t ngx_http_webhook_paypal_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_paypal_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);

static ngx_int_t ngx_http_webhook_sns_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_sns_verify(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    json_t *root);
static ngx_int_t ngx_http_webhook_sns_string(json_t *root, const char *name,
    ngx_str_t *value);

static ngx_int_t ngx_http_webhook_asym_signature(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_str_t *value);
static ngx_int_t ngx_http_webhook_asym_start(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, webhook_digest_t digest,
    ngx_str_t *url, ngx_http_webhook_asym_t *a);
static ngx_int_t ngx_http_webhook_asym_update(ngx_http_request_t *r,
    ngx_http_webhook_asym_t *a, const u_char *p, size_t len);
static ngx_int_t ngx_http_webhook_asym_body(ngx_http_request_t *r,
    ngx_http_webhook_asym_t *a);
static ngx_int_t ngx_http_webhook_asym_finish(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_http_webhook_asym_t *a);
static void ngx_http_webhook_asym_free(ngx_http_webhook_asym_t *a);


const ngx_http_webhook_scheme_t  ngx_http_webhook_sendgrid_scheme = {
    ngx_http_webhook_sendgrid_headers,
    ngx_http_webhook_sendgrid_body
};


const ngx_http_webhook_scheme_t  ngx_http_webhook_paypal_scheme = {
    ngx_http_webhook_paypal_headers,
    ngx_http_webhook_paypal_body
};


const ngx_http_webhook_scheme_t  ngx_http_webhook_sns_scheme = {
    NULL,
    ngx_http_webhook_sns_body
};


static const ngx_http_webhook_asym_need_t  ngx_http_webhook_asym_needs[] = {
    { &ngx_http_webhook_sendgrid_scheme, WEBHOOK_PKEY_P256, 0 },
    { &ngx_http_webhook_paypal_scheme, WEBHOOK_PKEY_RSA, 1 },
    { &ngx_http_webhook_sns_scheme, WEBHOOK_PKEY_RSA, 1 },
};


/* the fields of SNS's canonical string, in its order, by message type */
static const char *const  ngx_http_webhook_sns_notification[] = {
    "Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type", NULL
};

static const char *const  ngx_http_webhook_sns_confirmation[] = {
    "Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
    "TopicArn", "Type", NULL
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


/*
 * Amazon SNS: everything is in the JSON body.  Signature (base64) is
 * SHA1withRSA (SignatureVersion "1") or SHA256withRSA ("2") of the
 * canonical string: for each field of the message type's list that the
 * message has (Subject is optional), its name, '\n', its value, '\n'.
 * SigningCertURL must be the url= of a pinned certificate; nothing is
 * fetched.  Timestamp (ISO 8601) is signed: the window applies once the
 * signature holds.  SubscriptionConfirmation and UnsubscribeConfirmation
 * are verified the same way and passed on: the ERP confirms by fetching
 * SubscribeURL itself.
 *
 * The body is parsed with jansson (duplicate keys refused), bounded by
 * client_max_body_size: Message values are up to 256 KiB of escaped text,
 * beyond what the member scanner hands out.
 */

static ngx_int_t
ngx_http_webhook_sns_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    off_t                            len;
    u_char                          *buf;
    json_t                          *root;
    ssize_t                          got;
    ngx_int_t                        rc;
    json_error_t                     err;
    ngx_http_webhook_body_cursor_t   cur;

    len = ngx_http_webhook_body_length(r);

    if (len == 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    if ((uint64_t) len > NGX_MAX_SIZE_T_VALUE / 2) {
        return NGX_ERROR;
    }

    buf = ngx_pnalloc(r->pool, (size_t) len);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    ngx_http_webhook_body_open(&cur, r);

    got = ngx_http_webhook_body_copy(&cur, buf, (size_t) len);

    if (got != (ssize_t) len) {
        return NGX_ERROR;
    }

    root = json_loadb((const char *) buf, (size_t) len,
                      JSON_REJECT_DUPLICATES, &err);

    if (root == NULL) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    rc = ngx_http_webhook_sns_verify(r, wlcf, ctx, root);

    json_decref(root);

    return rc;
}


static ngx_int_t
ngx_http_webhook_sns_verify(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    json_t *root)
{
    ngx_int_t                 rc;
    ngx_str_t                 sig, version, url, type, ts, value;
    ngx_uint_t                i;
    webhook_digest_t          digest;
    const char *const        *fields;
    ngx_http_webhook_asym_t   a;

    rc = ngx_http_webhook_sns_string(root, "Signature", &sig);

    if (rc != NGX_OK) {
        return rc == NGX_DECLINED ? NGX_HTTP_WEBHOOK_SIGNATURE_MISSING
                                  : NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    rc = ngx_http_webhook_asym_signature(r, ctx, &sig);

    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_webhook_sns_string(root, "SignatureVersion", &version)
        != NGX_OK
        || version.len != 1 || (version.data[0] != '1'
                                && version.data[0] != '2'))
    {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    digest = (version.data[0] == '1') ? WEBHOOK_SHA1 : WEBHOOK_SHA256;

    if (ngx_http_webhook_sns_string(root, "Type", &type) != NGX_OK) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    if (type.len == sizeof("Notification") - 1
        && ngx_strncmp(type.data, "Notification", type.len) == 0)
    {
        fields = ngx_http_webhook_sns_notification;

    } else if ((type.len == sizeof("SubscriptionConfirmation") - 1
                && ngx_strncmp(type.data, "SubscriptionConfirmation",
                               type.len) == 0)
               || (type.len == sizeof("UnsubscribeConfirmation") - 1
                   && ngx_strncmp(type.data, "UnsubscribeConfirmation",
                                  type.len) == 0))
    {
        fields = ngx_http_webhook_sns_confirmation;

    } else {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    if (ngx_http_webhook_sns_string(root, "SigningCertURL", &url) != NGX_OK) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    rc = ngx_http_webhook_sns_string(root, "Timestamp", &ts);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    if (rc != NGX_OK) {
        ngx_str_null(&ts);
    }

    rc = ngx_http_webhook_check_time(ctx, &ts, WEBHOOK_TS_RFC3339);

    /* the value lives in the JSON document, freed after this step */
    ngx_str_null(&ctx->signed_ts);

    if (rc != NGX_HTTP_WEBHOOK_PASS) {
        return rc;
    }

    if (ngx_http_webhook_asym_start(r, wlcf, digest, &url, &a) != NGX_OK) {
        return NGX_ERROR;
    }

    if (a.n == 0) {
        ngx_http_webhook_asym_free(&a);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webhook: SigningCertURL \"%V\" names no pinned "
                      "certificate", &url);
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
    }

    for (i = 0; fields[i]; i++) {

        rc = ngx_http_webhook_sns_string(root, fields[i], &value);

        if (rc == NGX_DECLINED && ngx_strcmp(fields[i], "Subject") == 0) {
            /* "Subject": only when the message has one */
            continue;
        }

        if (rc != NGX_OK) {
            ngx_http_webhook_asym_free(&a);
            return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
        }

        if (ngx_http_webhook_asym_update(r, &a, (u_char *) fields[i],
                                         ngx_strlen(fields[i])) != NGX_OK
            || ngx_http_webhook_asym_update(r, &a, (u_char *) "\n", 1)
               != NGX_OK
            || ngx_http_webhook_asym_update(r, &a, value.data, value.len)
               != NGX_OK
            || ngx_http_webhook_asym_update(r, &a, (u_char *) "\n", 1)
               != NGX_OK)
        {
            ngx_http_webhook_asym_free(&a);
            return NGX_ERROR;
        }
    }

    return ngx_http_webhook_asym_finish(r, ctx, &a);
}


/* a member that is a string: NGX_OK, NGX_DECLINED absent, NGX_ERROR not a
   string */

static ngx_int_t
ngx_http_webhook_sns_string(json_t *root, const char *name, ngx_str_t *value)
{
    json_t  *v;

    v = json_object_get(root, name);

    if (v == NULL) {
        return NGX_DECLINED;
    }

    if (!json_is_string(v)) {
        return NGX_ERROR;
    }

    value->data = (u_char *) json_string_value(v);
    value->len = json_string_length(v);

    return NGX_OK;
}


/* a base64 signature header, decoded into ctx->asym_sig */

static ngx_int_t
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

static ngx_int_t
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


static ngx_int_t
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


static ngx_int_t
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

static ngx_int_t
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


static void
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
