
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
 * Both return their verdict (NGX_HTTP_WEBHOOK_PASS or a reason, or
 * NGX_ERROR) to the handler, which alone records and refuses.  A signed
 * timestamp is parsed here and checked against the tolerance by
 * ngx_http_webhook_window(), a step of its own.
 *
 * Most presets are plain data run through the generic steps here; a
 * scheme that does not fit (GitLab's token, Twilio, Mailgun) adds a step
 * of its own through preset->scheme.  Ed25519 signatures (Discord,
 * Standard Webhooks' "v1a") are collected here and checked in
 * ngx_http_webhook_ed25519.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


static ngx_int_t ngx_http_webhook_parse_signatures(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_str_t *value,
    webhook_sig_list_t *list, webhook_sig_list_t *ed);
static ngx_uint_t ngx_http_webhook_is_handshake(ngx_http_request_t *r,
    const char *name);
static ngx_int_t ngx_http_webhook_more_signatures(ngx_http_request_t *r,
    const char *more, ngx_table_elt_t *first, webhook_sig_list_t *list);
static ngx_int_t ngx_http_webhook_decode(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, webhook_sig_list_t *list,
    webhook_encoding_t enc, size_t size, u_char **out);
static ngx_int_t ngx_http_webhook_signed_timestamp(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    webhook_sig_list_t *list);
static ngx_int_t ngx_http_webhook_prepare_pieces(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_hmac_payload(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    ngx_int_t *index);
static ngx_int_t ngx_http_webhook_body_timestamp(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_escape_value(ngx_pool_t *pool,
    ngx_str_t *value);
static ngx_int_t ngx_http_webhook_request_field(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_http_complex_value_t *cv,
    const ngx_http_webhook_source_t *source, ngx_str_t *out);
static ngx_int_t ngx_http_webhook_request_source(ngx_http_request_t *r,
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
    ngx_int_t                         rc;
    ngx_uint_t                        i;
    ngx_table_elt_t                  *sig, *h;
    webhook_sig_list_t                list, ed;
    const ngx_http_webhook_family_t  *family;
    const ngx_http_webhook_preset_t  *preset;

    preset = wlcf->preset;
    family = NULL;
    sig = NULL;

    /* Mailgun: no header at all, everything is in the body */

    if (preset->families[0].signature == NULL) {
        goto scheme;
    }

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

        if (preset->handshake && wlcf->handshake
            && ngx_http_webhook_is_handshake(r, preset->handshake))
        {
            ctx->handshake = 1;
            return NGX_OK;
        }

        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    ctx->family = family;

    rc = ngx_http_webhook_parse_signatures(r, wlcf, &sig->value, &list, &ed);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (preset->sig_more
        && ngx_http_webhook_more_signatures(r, preset->sig_more, sig, &list)
           != NGX_OK)
    {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    /* a scheme that signs the delivery id cannot be checked without it */

    if (family->id) {
        h = ngx_http_webhook_find_header(r, family->id);

        if (h == NULL || h->value.len == 0) {
            return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
        }

        ctx->signed_id = h->value;
    }

    switch (preset->sig_type) {

    case NGX_HTTP_WEBHOOK_SIG_TOKEN:
        ctx->token.data = (u_char *) list.candidates[0].data;
        ctx->token.len = list.candidates[0].len;
        rc = NGX_OK;
        break;

    case NGX_HTTP_WEBHOOK_SIG_ED25519:
        rc = ngx_http_webhook_decode(r, ctx, &list, preset->encoding,
                                     WEBHOOK_ED25519_SIG_LEN, &ctx->ed25519);
        ctx->ned25519 = list.ncandidates;
        break;

    default: /* NGX_HTTP_WEBHOOK_SIG_HMAC */
        mac_len = webhook_digest_size(preset->digest);

        rc = ngx_http_webhook_decode(r, ctx, &list, preset->encoding, mac_len,
                                     &ctx->candidates);
        ctx->ncandidates = list.ncandidates;

        if (rc == NGX_OK) {
            rc = ngx_http_webhook_decode(r, ctx, &ed, preset->encoding,
                                         WEBHOOK_ED25519_SIG_LEN,
                                         &ctx->ed25519);
            ctx->ned25519 = ed.ncandidates;
        }

        break;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    /* bounded Ed25519 work: repeats once, too many different is malformed */

    if (ctx->ned25519 && ngx_http_webhook_ed25519_distinct(ctx) != NGX_OK) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    if (preset->signs_timestamp && preset->ts_json == NULL) {
        rc = ngx_http_webhook_signed_timestamp(r, wlcf, ctx, &list);

        if (rc != NGX_OK) {
            return rc;
        }
    }

scheme:

    if (preset->scheme && preset->scheme->headers) {
        return preset->scheme->headers(r, wlcf, ctx);
    }

    return NGX_OK;
}


/*
 * NGX_OK with the candidates of the versions this location can check in
 * list (HMAC, or the scheme's only kind) and ed (Standard Webhooks'
 * Ed25519 "v1a"), or the reason the header is refused.
 */

static ngx_int_t
ngx_http_webhook_parse_signatures(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_str_t *value,
    webhook_sig_list_t *list, webhook_sig_list_t *ed)
{
    int                               rc, erc;
    const ngx_http_webhook_preset_t  *preset;

    preset = wlcf->preset;

    ngx_memzero(ed, sizeof(webhook_sig_list_t));

    switch (preset->header_format) {

    case NGX_HTTP_WEBHOOK_HDR_KV_LIST:
        rc = webhook_parse_kv_list(value->data, value->len,
                                   preset->separator, preset->ts_key,
                                   preset->sig_key, list);
        break;

    case NGX_HTTP_WEBHOOK_HDR_TS_LIST:
        rc = webhook_parse_ts_list(value->data, value->len,
                                   preset->separator, list);
        break;

    case NGX_HTTP_WEBHOOK_HDR_VERSIONED_LIST:
        rc = webhook_parse_versioned_list(value->data, value->len,
                                          preset->sig_key, list);

        if (preset->ed25519_key == NULL || rc == WEBHOOK_MALFORMED) {
            break;
        }

        erc = webhook_parse_versioned_list(value->data, value->len,
                                           preset->ed25519_key, ed);

        if (erc == WEBHOOK_MALFORMED) {
            rc = WEBHOOK_MALFORMED;
            break;
        }

        /*
         * Only the versions this location has keys for count: "v1a"
         * alone without webhook_public_key is as if no signature were
         * there, never a pass, and the same for "v1" without a secret.
         */

        if (wlcf->keys == NULL || wlcf->keys->nelts == 0) {
            list->ncandidates = 0;
        }

        if (wlcf->public_keys == NULL || wlcf->public_keys->nelts == 0) {
            ed->ncandidates = 0;
        }

        rc = (list->ncandidates || ed->ncandidates) ? WEBHOOK_OK
                                                    : WEBHOOK_MISSING;
        break;

    case NGX_HTTP_WEBHOOK_HDR_PATTERN:
        if (wlcf->sig_pattern) {
            rc = ngx_http_webhook_pattern_match(r, wlcf->sig_pattern, value,
                                                list);
            if (rc == WEBHOOK_ERROR) {
                return NGX_ERROR;
            }

            break;
        }

        /* no pattern: the whole value is the one candidate */

        rc = webhook_parse_prefixed(value->data, value->len, "", list);
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


/*
 * A sender's unsigned endpoint handshake, passed on unverified when
 * webhook_handshake is on (Asana: a POST with X-Hook-Secret that the
 * application answers by echoing it).  Only its exact shape: the header
 * once, 1..256 visible ASCII characters, and no body at all (a length of
 * 0, or none on HTTP/1.x without chunked encoding), so nothing but that
 * header reaches the upstream unverified.
 */

static ngx_uint_t
ngx_http_webhook_is_handshake(ngx_http_request_t *r, const char *name)
{
    size_t            len, i;
    ngx_uint_t        n, found;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *value;

    if (r->headers_in.chunked) {
        return 0;
    }

    if (r->headers_in.content_length_n > 0
        || (r->headers_in.content_length_n < 0
            && r->http_version >= NGX_HTTP_VERSION_20))
    {
        return 0;
    }

    len = ngx_strlen(name);
    found = 0;
    value = NULL;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (n = 0; /* void */; n++) {

        if (n >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            n = 0;
        }

        if (h[n].hash == 0 || h[n].key.len != len
            || ngx_strncasecmp(h[n].key.data, (u_char *) name, len) != 0)
        {
            continue;
        }

        if (found++) {
            return 0;
        }

        value = &h[n];
    }

    if (value == NULL || value->value.len == 0 || value->value.len > 256) {
        return 0;
    }

    for (i = 0; i < value->value.len; i++) {
        if (value->value.data[i] < 0x21 || value->value.data[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


/*
 * The candidates of the headers besides the first that carry one
 * signature each: Box's box-signature-secondary (more is the name), or
 * DocuSign's X-DocuSign-Signature-1..N (more is "X-DocuSign-Signature-#":
 * the prefix, then a decimal number).  Each is one more candidate of
 * list; more than WEBHOOK_MAX_CANDIDATES in all, or an empty one, is
 * NGX_DECLINED (malformed).  One pass over the request's headers.
 */

static ngx_int_t
ngx_http_webhook_more_signatures(ngx_http_request_t *r, const char *more,
    ngx_table_elt_t *first, webhook_sig_list_t *list)
{
    size_t            len, i;
    ngx_uint_t        n, numbered;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(more);
    numbered = (len && more[len - 1] == '#');

    if (numbered) {
        len--;
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (n = 0; /* void */; n++) {

        if (n >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            n = 0;
        }

        if (&h[n] == first || h[n].hash == 0) {
            continue;
        }

        if (numbered) {
            if (h[n].key.len <= len || h[n].key.len > len + 3
                || ngx_strncasecmp(h[n].key.data, (u_char *) more, len) != 0)
            {
                continue;
            }

            for (i = len; i < h[n].key.len; i++) {
                if (h[n].key.data[i] < '0' || h[n].key.data[i] > '9') {
                    break;
                }
            }

            if (i < h[n].key.len) {
                continue;
            }

        } else if (h[n].key.len != len
                   || ngx_strncasecmp(h[n].key.data, (u_char *) more, len)
                      != 0)
        {
            continue;
        }

        if (webhook_sig_list_push(list, h[n].value.data, h[n].value.len)
            != WEBHOOK_OK)
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * The candidates of list decoded to size bytes each, back to back;
 * signature_malformed if one does not decode to that.
 */

static ngx_int_t
ngx_http_webhook_decode(ngx_http_request_t *r, ngx_http_webhook_ctx_t *ctx,
    webhook_sig_list_t *list, webhook_encoding_t enc, size_t size,
    u_char **out)
{
    if (list->ncandidates == 0) {
        return NGX_OK;
    }

    *out = ngx_pnalloc(r->pool, list->ncandidates * size);
    if (*out == NULL) {
        return NGX_ERROR;
    }

    if (webhook_decode_candidates(list, enc, size, *out) != WEBHOOK_OK) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhook_signed_timestamp(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    webhook_sig_list_t *list)
{
    ngx_str_t                         value;
    ngx_table_elt_t                  *h;
    const ngx_http_webhook_family_t  *family;

    family = ctx->family;

    if (wlcf->preset->custom) {
        /* webhook_timestamp */

        if (ngx_http_complex_value(r, wlcf->timestamp, &value) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (family->timestamp) {
        h = ngx_http_webhook_find_header(r, family->timestamp);

        if (h) {
            value = h->value;

        } else {
            ngx_str_null(&value);
        }

    } else {
        value.data = (u_char *) list->timestamp.data;
        value.len = list->timestamp.len;
    }

    return ngx_http_webhook_check_time(ctx, &value, wlcf->preset->ts_format);
}


/*
 * Parse a signed timestamp, for every scheme alike, into ctx for the
 * window step.  A timestamp that does not parse is no timestamp:
 * timestamp_missing.
 */

ngx_int_t
ngx_http_webhook_check_time(ngx_http_webhook_ctx_t *ctx, ngx_str_t *value,
    webhook_ts_format_t fmt)
{
    int64_t  ts;

    if (webhook_parse_timestamp(value->data, value->len, fmt, &ts)
        != WEBHOOK_OK)
    {
        return NGX_HTTP_WEBHOOK_TIMESTAMP_MISSING;
    }

    ctx->signed_ts = *value;
    ctx->timestamp = ts;
    ctx->has_timestamp = 1;

    return NGX_HTTP_WEBHOOK_PASS;
}


/* the window step: the signed timestamp against webhook_tolerance */

ngx_int_t
ngx_http_webhook_window(ngx_http_webhook_loc_conf_t *wlcf,
    ngx_http_webhook_ctx_t *ctx)
{
    switch (webhook_check_timestamp((int64_t) ngx_time(), ctx->timestamp,
                                    (int64_t) wlcf->tolerance))
    {
    case WEBHOOK_TS_EXPIRED:
        return NGX_HTTP_WEBHOOK_TIMESTAMP_EXPIRED;

    case WEBHOOK_TS_FUTURE:
        return NGX_HTTP_WEBHOOK_TIMESTAMP_FUTURE;

    default:
        return NGX_HTTP_WEBHOOK_PASS;
    }
}


ngx_int_t
ngx_http_webhook_verify_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t                         index;
    const ngx_http_webhook_preset_t  *preset;

    preset = wlcf->preset;

    if (preset->scheme && preset->scheme->body) {
        return preset->scheme->body(r, wlcf, ctx);
    }

    if (ngx_http_webhook_prepare_pieces(r, wlcf, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    index = -1;

    if (ctx->ncandidates) {
        if (ngx_http_webhook_hmac_payload(r, wlcf, ctx, &index) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (index < 0 && ctx->ned25519) {
        if (ngx_http_webhook_ed25519_match(r, wlcf, ctx, &index) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (index < 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
    }

    ctx->secret_index = (ngx_uint_t) index + 1;

    /* a timestamp inside the body is trusted only once the MAC holds */

    if (preset->ts_json) {
        return ngx_http_webhook_body_timestamp(r, wlcf, ctx);
    }

    return NGX_HTTP_WEBHOOK_PASS;
}


/*
 * The value of every part that is neither the body nor a literal, once
 * per request: the HMAC walks them once, Ed25519 copies them.
 */

static ngx_int_t
ngx_http_webhook_prepare_pieces(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_uint_t                      i;
    ngx_str_t                      *piece;
    const ngx_http_webhook_part_t  *part;

    if (ctx->pieces_ready) {
        return NGX_OK;
    }

    for (i = 0; i < NGX_HTTP_WEBHOOK_MAX_PARTS; i++) {

        part = &wlcf->preset->payload[i];
        piece = &ctx->pieces[i];

        switch (part->type) {

        case NGX_HTTP_WEBHOOK_PART_END:
            ctx->pieces_ready = 1;
            return NGX_OK;

        case NGX_HTTP_WEBHOOK_PART_LITERAL:
            piece->data = (u_char *) part->literal;
            piece->len = ngx_strlen(part->literal);
            break;

        case NGX_HTTP_WEBHOOK_PART_TIMESTAMP:
            *piece = ctx->signed_ts;
            break;

        case NGX_HTTP_WEBHOOK_PART_ID:
            *piece = ctx->signed_id;
            break;

        case NGX_HTTP_WEBHOOK_PART_METHOD:
            *piece = r->method_name;
            break;

        case NGX_HTTP_WEBHOOK_PART_URL:
            if (ngx_http_webhook_public_url(r, ctx, piece) != NGX_OK) {
                return NGX_ERROR;
            }

            break;

        case NGX_HTTP_WEBHOOK_PART_VALUE:
            if (ngx_http_complex_value(r, part->value, piece) != NGX_OK) {
                return NGX_ERROR;
            }

            break;

        default: /* NGX_HTTP_WEBHOOK_PART_BODY */
            ngx_str_null(piece);
            break;
        }
    }

    ctx->pieces_ready = 1;

    return NGX_OK;
}


/* HMAC of the signed bytes with every secret: *index of the one matched */

static ngx_int_t
ngx_http_webhook_hmac_payload(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    ngx_int_t *index)
{
    int                             match;
    ngx_uint_t                      i, nkeys;
    webhook_hmac_t                **keys;
    const ngx_http_webhook_part_t  *part;

    if (wlcf->keys == NULL || wlcf->keys->nelts == 0) {
        return NGX_OK;
    }

    keys = wlcf->keys->elts;
    nkeys = wlcf->keys->nelts;

    if (webhook_hmac_start_all(keys, nkeys) != WEBHOOK_OK) {
        return ngx_http_webhook_hmac_failed(r);
    }

    for (i = 0; i < NGX_HTTP_WEBHOOK_MAX_PARTS; i++) {

        part = &wlcf->preset->payload[i];

        if (part->type == NGX_HTTP_WEBHOOK_PART_END) {
            break;
        }

        if (part->type == NGX_HTTP_WEBHOOK_PART_BODY) {
            if (ngx_http_webhook_hash_body(r, keys, nkeys) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (webhook_hmac_update_all(keys, nkeys, ctx->pieces[i].data,
                                    ctx->pieces[i].len)
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

    /* the verified MAC: the replay key of a delivery without an id */
    if (match >= 0) {
        ctx->matched_mac_len = webhook_hmac_size(keys[0]);
    }

    *index = match;

    return NGX_OK;
}


/*
 * SHA-256 of the body as nginx holds it (memory and temp file): Twilio's
 * bodySHA256, and the replay key of a token scheme's delivery without an
 * id.
 */

ngx_int_t
ngx_http_webhook_body_sha256(ngx_http_request_t *r, u_char *md)
{
    ssize_t                          n;
    ngx_int_t                        rc;
    const u_char                    *p;
    webhook_hash_t                  *h;
    ngx_http_webhook_body_cursor_t   cur;

    h = webhook_hash_new(WEBHOOK_SHA256);
    if (h == NULL) {
        return ngx_http_webhook_hmac_failed(r);
    }

    ngx_http_webhook_body_open(&cur, r);

    rc = NGX_OK;

    for ( ;; ) {
        n = ngx_http_webhook_body_next(&cur, &p, NGX_MAX_SIZE_T_VALUE);

        if (n == 0) {
            break;
        }

        if (n == NGX_ERROR) {
            rc = NGX_ERROR;
            break;
        }

        if (webhook_hash_update(h, p, (size_t) n) != WEBHOOK_OK) {
            rc = ngx_http_webhook_hmac_failed(r);
            break;
        }
    }

    if (rc == NGX_OK && webhook_hash_finish(h, md) != WEBHOOK_OK) {
        rc = ngx_http_webhook_hmac_failed(r);
    }

    webhook_hash_free(h);

    return rc;
}


/*
 * What a request supplies ($webhook_id and $webhook_event: a header, a
 * JSON or form field, a URL argument, any webhook_id or webhook_event
 * value) reaches the variables, the replay key and the log only through
 * here.  proxy_set_header sends a variable as it is, so a CR or LF in a
 * value would add a header, or a whole request, at the upstream: every
 * byte below 0x20, and 0x7F, becomes "\xNN" (two lowercase hex digits),
 * and so does the backslash itself, so that the escaping is one-to-one:
 * two different ids never share a value, nor a replay record.  Printable
 * ASCII and UTF-8 stay as they are, and a clean value is not copied.
 *
 * Escaping, not refusing: a refusal would need a reason of its own, it
 * would turn a monitor-mode roll-out into a filter, and it would let one
 * unsigned field (Mailgun's event data) get a genuine delivery refused.
 */

static ngx_int_t
ngx_http_webhook_escape_value(ngx_pool_t *pool, ngx_str_t *value)
{
    u_char      *p, *s, *end;
    ngx_uint_t   n;

    static u_char  hex[] = "0123456789abcdef";

    n = 0;
    end = value->data + value->len;

    for (s = value->data; s < end; s++) {
        if (*s < 0x20 || *s == 0x7f || *s == '\\') {
            n++;
        }
    }

    if (n == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(pool, value->len + 3 * n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    s = value->data;
    value->data = p;

    for ( /* void */ ; s < end; s++) {
        if (*s < 0x20 || *s == 0x7f || *s == '\\') {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = hex[*s >> 4];
            *p++ = hex[*s & 0xf];
            continue;
        }

        *p++ = *s;
    }

    value->len = p - value->data;

    return NGX_OK;
}



ngx_int_t
ngx_http_webhook_hmac_failed(ngx_http_request_t *r)
{
    ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                  "webhook: HMAC computation failed in OpenSSL");

    return NGX_ERROR;
}


ngx_int_t
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
            return ngx_http_webhook_hmac_failed(r);
        }
    }
}


/* Linear: the signed timestamp is a field of the (verified) JSON body */

static ngx_int_t
ngx_http_webhook_body_timestamp(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t  rc;
    ngx_str_t  value;

    rc = ngx_http_webhook_json_field(r, ctx, wlcf->preset->ts_json, &value);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_str_null(&value);
    }

    return ngx_http_webhook_check_time(ctx, &value, wlcf->preset->ts_format);
}


/* webhook_public_url, evaluated once per request */

ngx_int_t
ngx_http_webhook_public_url(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_str_t *url)
{
    if (!ctx->url_evaluated) {

        if (ctx->conf->public_url == NULL) {
            ngx_str_null(&ctx->url);

        } else if (ngx_http_complex_value(r, ctx->conf->public_url,
                                          &ctx->url)
                   != NGX_OK)
        {
            return NGX_ERROR;
        }

        ctx->url_evaluated = 1;
    }

    *url = ctx->url;

    return NGX_OK;
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


/* the id or the event, escaped once for every use (variables.c) */

static ngx_int_t
ngx_http_webhook_request_field(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_http_complex_value_t *cv,
    const ngx_http_webhook_source_t *source, ngx_str_t *out)
{
    if (ngx_http_webhook_request_source(r, ctx, cv, source, out) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_webhook_escape_value(r->pool, out);
}


static ngx_int_t
ngx_http_webhook_request_source(ngx_http_request_t *r,
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
