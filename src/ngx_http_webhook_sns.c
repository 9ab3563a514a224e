
/*
 * ngx_http_webhook_module: Amazon SNS messages (RSA certificates, pinned).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"
#include "ngx_http_webhook_asym.h"


static ngx_int_t ngx_http_webhook_sns_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_sns_verify(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    json_t *root);
static ngx_int_t ngx_http_webhook_sns_string(json_t *root, const char *name,
    ngx_str_t *value);


const ngx_http_webhook_scheme_t  ngx_http_webhook_sns_scheme = {
    NULL,
    ngx_http_webhook_sns_body
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
    json_t        *root;
    ngx_str_t      body;
    ngx_int_t      rc;
    json_error_t   err;

    if (ngx_http_webhook_body_span(r, 0, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    if (body.len == 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    root = json_loadb((const char *) body.data, body.len,
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
