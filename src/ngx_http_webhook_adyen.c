
/*
 * ngx_http_webhook_module: Adyen's standard webhooks, signed field by
 * field.
 *
 * No header: each notification item of the JSON body carries its own
 * signature, additionalData.hmacSignature = base64(HMAC-SHA256(hex-decoded
 * key, signing string)), the signing string being eight fields of the
 * item joined with ':' in Adyen's order:
 *   pspReference:originalReference:merchantAccountCode:merchantReference:
 *   amount.value:amount.currency:eventCode:success
 * A field the item lacks is empty; values are the decoded JSON strings,
 * not escaped (the ':' and '\' escaping of Adyen's HPP signatures does not
 * apply to webhooks).  Every item must verify.
 *
 * The body is walked once by the member scanner of src/core/
 * (webhook_json.c), without a DOM: the start of each NotificationRequestItem
 * object closes the previous item, whose signature is checked then.  Only
 * these eight fields are authenticated; the rest of an item (eventDate,
 * reason, most of additionalData) is not signed by Adyen.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


/* Adyen sends one item per notification nowadays, six at most in the past */
#define NGX_HTTP_WEBHOOK_ADYEN_MAX_ITEMS  32

#define NGX_HTTP_WEBHOOK_ADYEN_MAC_LEN    32

/* the scanner's paths: the item's start, the signed fields, the signature */
#define NGX_HTTP_WEBHOOK_ADYEN_ITEM       0
#define NGX_HTTP_WEBHOOK_ADYEN_SIGNED     8
#define NGX_HTTP_WEBHOOK_ADYEN_SIG        9
#define NGX_HTTP_WEBHOOK_ADYEN_PATHS      10


#define ADYEN_ITEM  "notificationItems.*.NotificationRequestItem"

static const char *const  ngx_http_webhook_adyen_paths[] = {
    ADYEN_ITEM,
    ADYEN_ITEM ".pspReference",
    ADYEN_ITEM ".originalReference",
    ADYEN_ITEM ".merchantAccountCode",
    ADYEN_ITEM ".merchantReference",
    ADYEN_ITEM ".amount.value",
    ADYEN_ITEM ".amount.currency",
    ADYEN_ITEM ".eventCode",
    ADYEN_ITEM ".success",
    ADYEN_ITEM ".additionalData.hmacSignature"
};


typedef struct {
    ngx_http_request_t              *request;
    ngx_http_webhook_loc_conf_t     *conf;
    ngx_http_webhook_ctx_t          *ctx;

    ngx_str_t                        field[NGX_HTTP_WEBHOOK_ADYEN_PATHS];
    ngx_uint_t                       set;          /* bit per field */
    ngx_uint_t                       open;         /* an item is being read */

    ngx_uint_t                       items;
    u_char                          *macs;         /* the items' MACs */
    ngx_int_t                        verdict;
} ngx_http_webhook_adyen_t;


static ngx_int_t ngx_http_webhook_adyen_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static int ngx_http_webhook_adyen_member(void *data, size_t path,
    webhook_json_type_e type, const unsigned char *token, size_t len);
static ngx_int_t ngx_http_webhook_adyen_item(ngx_http_webhook_adyen_t *a);
static int ngx_http_webhook_adyen_cmp(const void *one, const void *two);


const ngx_http_webhook_scheme_t  ngx_http_webhook_adyen_scheme = {
    NULL,
    ngx_http_webhook_adyen_body
};


static ngx_int_t
ngx_http_webhook_adyen_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    int                              rc;
    ssize_t                          n;
    ngx_uint_t                       i;
    const u_char                    *data;
    webhook_json_t                  *js;
    webhook_hash_t                  *hash;
    ngx_http_webhook_adyen_t         a;
    ngx_http_webhook_body_cursor_t   cur;

    ngx_memzero(&a, sizeof(ngx_http_webhook_adyen_t));

    a.request = r;
    a.conf = wlcf;
    a.ctx = ctx;
    a.verdict = NGX_HTTP_WEBHOOK_PASS;

    a.macs = ngx_pnalloc(r->pool, NGX_HTTP_WEBHOOK_ADYEN_MAX_ITEMS
                                  * NGX_HTTP_WEBHOOK_ADYEN_MAC_LEN);
    js = ngx_palloc(r->pool, sizeof(webhook_json_t));

    if (a.macs == NULL || js == NULL) {
        return NGX_ERROR;
    }

    if (webhook_json_init(js, ngx_http_webhook_adyen_paths,
                          NGX_HTTP_WEBHOOK_ADYEN_PATHS,
                          ngx_http_webhook_adyen_member, &a)
        != WEBHOOK_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_webhook_body_open(&cur, r);

    do {
        n = ngx_http_webhook_body_next(&cur, &data, NGX_MAX_SIZE_T_VALUE);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        rc = (n == 0) ? webhook_json_end(js)
                      : webhook_json_feed(js, data, (size_t) n);

    } while (rc == WEBHOOK_JSON_AGAIN);

    if (a.verdict == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (a.verdict != NGX_HTTP_WEBHOOK_PASS) {
        return a.verdict;
    }

    if (rc == WEBHOOK_JSON_ERROR) {
        /* not JSON: no signature; broken after items: refused whole */
        return (a.items || a.open) ? NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED
                                   : NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    if (a.open) {
        a.verdict = ngx_http_webhook_adyen_item(&a);

        if (a.verdict != NGX_HTTP_WEBHOOK_PASS) {
            return a.verdict;
        }
    }

    if (a.items == 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    /*
     * The replay key: the items' MACs, sorted so that the same items in
     * another order are the same delivery, then hashed.
     */

    ngx_qsort(a.macs, a.items, NGX_HTTP_WEBHOOK_ADYEN_MAC_LEN,
              ngx_http_webhook_adyen_cmp);

    hash = webhook_hash_new(WEBHOOK_SHA256);
    if (hash == NULL) {
        return ngx_http_webhook_hmac_failed(r);
    }

    for (i = 0; i < a.items; i++) {
        if (webhook_hash_update(hash,
                                a.macs + i * NGX_HTTP_WEBHOOK_ADYEN_MAC_LEN,
                                NGX_HTTP_WEBHOOK_ADYEN_MAC_LEN)
            != WEBHOOK_OK)
        {
            webhook_hash_free(hash);
            return ngx_http_webhook_hmac_failed(r);
        }
    }

    rc = webhook_hash_finish(hash, ctx->matched_mac);
    webhook_hash_free(hash);

    if (rc != WEBHOOK_OK) {
        return ngx_http_webhook_hmac_failed(r);
    }

    ctx->matched_mac_len = 32;

    return NGX_HTTP_WEBHOOK_PASS;
}


/* one member at a path: an item starts, or a field of the current one */

static int
ngx_http_webhook_adyen_member(void *data, size_t path,
    webhook_json_type_e type, const unsigned char *token, size_t len)
{
    ngx_http_webhook_adyen_t *a = data;

    ngx_int_t  rc;

    if (path == NGX_HTTP_WEBHOOK_ADYEN_ITEM) {

        if (type != WEBHOOK_JSON_OTHER) {
            /* an item that is a string or a number: nothing signed */
            a->verdict = NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
            return 1;
        }

        if (a->open) {
            a->verdict = ngx_http_webhook_adyen_item(a);

            if (a->verdict != NGX_HTTP_WEBHOOK_PASS) {
                return 1;
            }
        }

        if (a->items == NGX_HTTP_WEBHOOK_ADYEN_MAX_ITEMS) {
            a->verdict = NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
            return 1;
        }

        ngx_memzero(a->field, sizeof(a->field));
        a->set = 0;
        a->open = 1;

        return 0;
    }

    /*
     * A field twice in one item: a JSON library keeps the last one, this
     * scanner sees the first; neither is trusted.  A field that is not a
     * string or an integer (an object, a literal, a fraction, too long)
     * has no signed text.
     */

    if (!a->open || (a->set & (1 << path))) {
        a->verdict = NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
        return 1;
    }

    a->set |= 1 << path;

    if (type == WEBHOOK_JSON_LONG && path != NGX_HTTP_WEBHOOK_ADYEN_SIG) {
        a->verdict = NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
        return 1;
    }

    rc = ngx_http_webhook_json_value(a->request, type, token, len,
                                     &a->field[path]);

    if (rc == NGX_ERROR) {
        a->verdict = NGX_ERROR;
        return 1;
    }

    if (rc != NGX_OK) {
        a->verdict = NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
        return 1;
    }

    return 0;
}


/* the item read so far: its signature against the signing string */

static ngx_int_t
ngx_http_webhook_adyen_item(ngx_http_webhook_adyen_t *a)
{
    int               match;
    ssize_t           n;
    ngx_str_t        *sig;
    ngx_uint_t        i, nkeys;
    webhook_hmac_t  **keys;
    u_char            mac[NGX_HTTP_WEBHOOK_ADYEN_MAC_LEN + 1];

    a->open = 0;

    sig = &a->field[NGX_HTTP_WEBHOOK_ADYEN_SIG];

    if (!(a->set & (1 << NGX_HTTP_WEBHOOK_ADYEN_SIG)) || sig->len == 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISSING;
    }

    n = webhook_decode(WEBHOOK_ENC_BASE64, mac, sizeof(mac), sig->data,
                       sig->len);

    if (n != NGX_HTTP_WEBHOOK_ADYEN_MAC_LEN) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED;
    }

    keys = a->conf->keys->elts;
    nkeys = a->conf->keys->nelts;

    if (webhook_hmac_start_all(keys, nkeys) != WEBHOOK_OK) {
        return ngx_http_webhook_hmac_failed(a->request);
    }

    for (i = 1; i <= NGX_HTTP_WEBHOOK_ADYEN_SIGNED; i++) {

        if ((i > 1
             && webhook_hmac_update_all(keys, nkeys, ":", 1) != WEBHOOK_OK)
            || webhook_hmac_update_all(keys, nkeys, a->field[i].data,
                                       a->field[i].len)
               != WEBHOOK_OK)
        {
            return ngx_http_webhook_hmac_failed(a->request);
        }
    }

    match = webhook_hmac_match(keys, nkeys, mac, 1);

    if (match == WEBHOOK_ERROR) {
        return ngx_http_webhook_hmac_failed(a->request);
    }

    if (match < 0) {
        return NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH;
    }

    if (a->items == 0) {
        a->ctx->secret_index = (ngx_uint_t) match + 1;
    }

    ngx_memcpy(a->macs + a->items * NGX_HTTP_WEBHOOK_ADYEN_MAC_LEN, mac,
               NGX_HTTP_WEBHOOK_ADYEN_MAC_LEN);
    a->items++;

    return NGX_HTTP_WEBHOOK_PASS;
}


static int
ngx_http_webhook_adyen_cmp(const void *one, const void *two)
{
    return ngx_memcmp(one, two, NGX_HTTP_WEBHOOK_ADYEN_MAC_LEN);
}
