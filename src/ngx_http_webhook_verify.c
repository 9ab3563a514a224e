
/*
 * ngx_http_webhook_module: signature verification.
 *
 * Two steps, so that everything that can be refused without the body is
 * refused before it is read (nginx then discards it instead of buffering
 * it):
 *   ngx_http_webhook_verify_headers()  signature header syntax, candidate
 *                                      decoding, timestamp and its age;
 *   ngx_http_webhook_verify_body()     the HMAC over the signed bytes,
 *                                      body included, against every
 *                                      secret at once.
 * Both leave their verdict in ctx->reason.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


static ngx_int_t ngx_http_webhook_parse_signatures(
    const ngx_http_webhook_preset_t *preset, ngx_str_t *value,
    webhook_sig_list_t *list);
static ngx_int_t ngx_http_webhook_hash_body(ngx_http_request_t *r,
    webhook_hmac_t **keys, ngx_uint_t nkeys);
static ngx_int_t ngx_http_webhook_request_field(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_http_complex_value_t *cv,
    const ngx_http_webhook_source_t *source, ngx_str_t *out);


ngx_table_elt_t *
ngx_http_webhook_find_header(ngx_http_request_t *r, const char *name)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0 || h[i].key.len != len) {
            continue;
        }

        if (ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0) {
            return &h[i];
        }
    }
}


ngx_int_t
ngx_http_webhook_verify_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    size_t                            mac_len;
    int64_t                           ts;
    ngx_int_t                         rc;
    ngx_str_t                         ts_value;
    ngx_uint_t                        i;
    ngx_table_elt_t                  *sig, *h;
    webhook_sig_list_t                list;
    const ngx_http_webhook_family_t  *family;
    const ngx_http_webhook_preset_t  *preset;

    preset = wlcf->preset;
    family = NULL;
    sig = NULL;

    for (i = 0; i < NGX_HTTP_WEBHOOK_MAX_FAMILIES; i++) {
        if (preset->families[i].signature == NULL) {
            break;
        }

        sig = ngx_http_webhook_find_header(r, preset->families[i].signature);

        if (sig) {
            family = &preset->families[i];
            break;
        }
    }

    if (family == NULL) {
        ctx->reason = NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
        return NGX_OK;
    }

    ctx->family = family;

    rc = ngx_http_webhook_parse_signatures(preset, &sig->value, &list);

    if (rc != NGX_OK) {
        ctx->reason = rc;
        return NGX_OK;
    }

    /* a scheme that signs the delivery id cannot be checked without it */

    if (family->id) {
        h = ngx_http_webhook_find_header(r, family->id);

        if (h == NULL || h->value.len == 0) {
            ctx->reason = NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
            return NGX_OK;
        }

        ctx->signed_id = h->value;
    }

    mac_len = webhook_digest_size(preset->digest);

    ctx->candidates = ngx_pnalloc(r->pool, list.ncandidates * mac_len);
    if (ctx->candidates == NULL) {
        return NGX_ERROR;
    }

    if (webhook_decode_candidates(&list, preset->encoding, mac_len,
                                  ctx->candidates)
        != WEBHOOK_OK)
    {
        ctx->reason = NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
        return NGX_OK;
    }

    ctx->ncandidates = list.ncandidates;

    if (!preset->signs_timestamp) {
        return NGX_OK;
    }

    if (family->timestamp) {
        h = ngx_http_webhook_find_header(r, family->timestamp);
        ts_value = h ? h->value : (ngx_str_t) ngx_null_string;

    } else {
        ts_value.data = (u_char *) list.timestamp.data;
        ts_value.len = list.timestamp.len;
    }

    /* a timestamp that does not parse is no timestamp */

    if (webhook_parse_timestamp(ts_value.data, ts_value.len,
                                preset->ts_format, &ts)
        != WEBHOOK_OK)
    {
        ctx->reason = NGX_HTTP_WEBHOOK_TIMESTAMP_MISSING;
        return NGX_OK;
    }

    ctx->signed_ts = ts_value;
    ctx->timestamp = ts;
    ctx->has_timestamp = 1;

    switch (webhook_check_timestamp((int64_t) ngx_time(), ts,
                                    (int64_t) wlcf->tolerance))
    {
    case WEBHOOK_TS_EXPIRED:
        ctx->reason = NGX_HTTP_WEBHOOK_TIMESTAMP_EXPIRED;
        break;

    case WEBHOOK_TS_FUTURE:
        ctx->reason = NGX_HTTP_WEBHOOK_TIMESTAMP_FUTURE;
        break;

    default:
        break;
    }

    return NGX_OK;
}


/* NGX_OK with list filled, or the reason the header is refused */

static ngx_int_t
ngx_http_webhook_parse_signatures(const ngx_http_webhook_preset_t *preset,
    ngx_str_t *value, webhook_sig_list_t *list)
{
    int  rc;

    switch (preset->header_format) {

    case NGX_HTTP_WEBHOOK_HDR_KV_LIST:
        rc = webhook_parse_kv_list(value->data, value->len,
                                   preset->separator, preset->ts_key,
                                   preset->sig_key, list);
        break;

    case NGX_HTTP_WEBHOOK_HDR_VERSIONED_LIST:
        rc = webhook_parse_versioned_list(value->data, value->len,
                                          preset->sig_key, list);
        break;

    default: /* NGX_HTTP_WEBHOOK_HDR_PREFIXED */
        rc = webhook_parse_prefixed(value->data, value->len,
                                    preset->sig_key, list);
        break;
    }

    switch (rc) {

    case WEBHOOK_OK:
        return NGX_OK;

    case WEBHOOK_MISSING:
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;

    default:
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }
}


ngx_int_t
ngx_http_webhook_verify_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    int                             match;
    ngx_str_t                      *piece;
    ngx_uint_t                      nkeys;
    webhook_hmac_t                **keys;
    const ngx_http_webhook_part_t  *part;

    keys = wlcf->keys->elts;
    nkeys = wlcf->keys->nelts;

    if (webhook_hmac_start_all(keys, nkeys) != WEBHOOK_OK) {
        goto failed;
    }

    for (part = wlcf->preset->payload;
         part->type != NGX_HTTP_WEBHOOK_PART_END;
         part++)
    {
        switch (part->type) {

        case NGX_HTTP_WEBHOOK_PART_BODY:
            if (ngx_http_webhook_hash_body(r, keys, nkeys) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;

        case NGX_HTTP_WEBHOOK_PART_LITERAL:
            if (webhook_hmac_update_all(keys, nkeys, part->literal,
                                        ngx_strlen(part->literal))
                != WEBHOOK_OK)
            {
                goto failed;
            }

            continue;

        case NGX_HTTP_WEBHOOK_PART_TIMESTAMP:
            piece = &ctx->signed_ts;
            break;

        default: /* NGX_HTTP_WEBHOOK_PART_ID */
            piece = &ctx->signed_id;
            break;
        }

        if (webhook_hmac_update_all(keys, nkeys, piece->data, piece->len)
            != WEBHOOK_OK)
        {
            goto failed;
        }
    }

    match = webhook_hmac_match_mac(keys, nkeys, ctx->candidates,
                                   ctx->ncandidates, ctx->matched_mac);

    if (match == WEBHOOK_ERROR) {
        goto failed;
    }

    if (match < 0) {
        ctx->reason = NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
        return NGX_OK;
    }

    ctx->verified = 1;
    ctx->secret_index = (ngx_uint_t) match + 1;
    ctx->matched_mac_len = webhook_digest_size(wlcf->preset->digest);

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                  "webhook: HMAC computation failed in OpenSSL");
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_webhook_hash_body(ngx_http_request_t *r, webhook_hmac_t **keys,
    ngx_uint_t nkeys)
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

        if (webhook_hmac_update_all(keys, nkeys, p, (size_t) n)
            != WEBHOOK_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "webhook: HMAC computation failed in OpenSSL");
            return NGX_ERROR;
        }
    }
}


/* $webhook_id: webhook_id if set, else the preset's source */

ngx_int_t
ngx_http_webhook_request_id(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_str_t *id)
{
    if (!ctx->id_evaluated) {
        if (ngx_http_webhook_request_field(r, ctx, ctx->conf->id,
                                           ctx->conf->preset
                                           ? &ctx->conf->preset->id : NULL,
                                           &ctx->id)
            == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        /* fields from the body are known for good once it was read */
        ctx->id_evaluated = ctx->body_read;
    }

    *id = ctx->id;

    return id->len ? NGX_OK : NGX_DECLINED;
}


/* $webhook_event: webhook_event if set, else the preset's source */

ngx_int_t
ngx_http_webhook_request_event(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_str_t *event)
{
    if (!ctx->event_evaluated) {
        if (ngx_http_webhook_request_field(r, ctx, ctx->conf->event,
                                           ctx->conf->preset
                                           ? &ctx->conf->preset->event : NULL,
                                           &ctx->event)
            == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        ctx->event_evaluated = ctx->body_read;
    }

    *event = ctx->event;

    return event->len ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_webhook_request_field(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_http_complex_value_t *cv,
    const ngx_http_webhook_source_t *source, ngx_str_t *out)
{
    ngx_int_t         rc;
    ngx_uint_t        i;
    ngx_table_elt_t  *h;

    ngx_str_null(out);

    if (cv) {
        return ngx_http_complex_value(r, cv, out);
    }

    if (source == NULL) {
        return NGX_OK;
    }

    switch (source->type) {

    case NGX_HTTP_WEBHOOK_SRC_HEADER:
        for (i = 0; i < NGX_HTTP_WEBHOOK_MAX_SOURCES && source->names[i]; i++)
        {
            h = ngx_http_webhook_find_header(r, source->names[i]);

            if (h && h->value.len) {
                *out = h->value;
                break;
            }
        }

        return NGX_OK;

    case NGX_HTTP_WEBHOOK_SRC_JSON:
        rc = ngx_http_webhook_json_string(r, ctx, source->names, out);
        return (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;

    case NGX_HTTP_WEBHOOK_SRC_SIGNED_ID:
        *out = ctx->signed_id;
        return NGX_OK;

    default:
        return NGX_OK;
    }
}
