
/*
 * ngx_http_webhook_module: fields of a JSON body ($webhook_id and
 * $webhook_event for providers that put them there, Mailgun's signature,
 * a signed timestamp).
 *
 * The body is never parsed as a whole.  The scanner of src/core/
 * (webhook_json.c) is fed the body where nginx keeps it, piece by piece
 * (memory buffers in place, a temp file 64 KiB at a time through the
 * body cursor), and stops as soon as the paths asked for are settled;
 * it checks the grammar of everything it passes over.  A token found
 * without escapes is taken as it is; jansson decodes the others (escapes,
 * integer range).
 *
 * What a path yields depends on the body alone, never on what else was
 * asked first:
 *  - the first member at the path wins (duplicates after it are not
 *    looked at), if it is a string or an integer; otherwise the path has
 *    no value;
 *  - a syntax error before that member means the path has no value;
 *    what lies after the members asked for is not read.
 * Each path is settled once per request and remembered, so the id, the
 * event, the replay key and the status all see the same member.
 * Paths are dotted; a segment of digits also indexes an array
 * ("0.eventId", "entry.0.id").  A body larger than 1 MiB is not scanned.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"
#include "webhook_json.h"


/* webhook deliveries are small; a larger body is not looked into */
#define NGX_HTTP_WEBHOOK_JSON_MAX     (1024 * 1024)

/* distinct paths remembered per request: a location asks for a few */
#define NGX_HTTP_WEBHOOK_JSON_FIELDS  WEBHOOK_JSON_MAX_PATHS


typedef struct {
    const char                      *path;
    ngx_str_t                        value;
    unsigned                         settled:1;
    unsigned                         valid:1;
} ngx_http_webhook_json_field_t;


struct ngx_http_webhook_json_s {
    ngx_uint_t                       nfields;
    ngx_http_webhook_json_field_t    fields[NGX_HTTP_WEBHOOK_JSON_FIELDS];
};


/* one scan: the fields asked for, and those it looks for */
typedef struct {
    ngx_http_request_t              *request;
    ngx_http_webhook_json_field_t  **asked;
    ngx_uint_t                       nasked;
    ngx_http_webhook_json_field_t   *wanted[WEBHOOK_JSON_MAX_PATHS];
    ngx_uint_t                       satisfied;
    ngx_uint_t                       error;
} ngx_http_webhook_json_scan_t;


static ngx_http_webhook_json_field_t *ngx_http_webhook_json_get(
    ngx_http_webhook_json_t *js, const char *path);
static void ngx_http_webhook_json_scan(ngx_http_request_t *r,
    ngx_http_webhook_json_scan_t *scan);
static int ngx_http_webhook_json_member(void *data, size_t path,
    webhook_json_type_e type, const unsigned char *token, size_t len);
static ngx_int_t ngx_http_webhook_json_decode(ngx_http_request_t *r,
    ngx_http_webhook_json_field_t *f, webhook_json_type_e type,
    const u_char *token, size_t len);
static ngx_uint_t ngx_http_webhook_json_satisfied(
    ngx_http_webhook_json_field_t **asked, ngx_uint_t n);


/* One path: NGX_OK, NGX_DECLINED (not there, or not JSON), NGX_ERROR. */

ngx_int_t
ngx_http_webhook_json_field(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, const char *path, ngx_str_t *out)
{
    const char  *paths[NGX_HTTP_WEBHOOK_MAX_SOURCES];

    ngx_memzero(paths, sizeof(paths));
    paths[0] = path;

    return ngx_http_webhook_json_string(r, ctx, paths, out);
}


/*
 * The first of paths (dotted, "event.type") that names a string or an
 * integer in the body, in the request pool.  NGX_DECLINED if none.
 */

ngx_int_t
ngx_http_webhook_json_string(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, const char *const *paths, ngx_str_t *out)
{
    ngx_uint_t                      i, n;
    ngx_http_webhook_json_field_t  *asked[NGX_HTTP_WEBHOOK_MAX_SOURCES];
    ngx_http_webhook_json_scan_t    scan;

    /* not read (yet, or at all: refused before it): no fields, for now */

    if (!ctx->body_read) {
        return NGX_DECLINED;
    }

    if (ctx->json == NULL) {
        ctx->json = ngx_pcalloc(r->pool, sizeof(ngx_http_webhook_json_t));
        if (ctx->json == NULL) {
            return NGX_ERROR;
        }
    }

    n = 0;

    for (i = 0; i < NGX_HTTP_WEBHOOK_MAX_SOURCES && paths[i]; i++) {
        asked[n] = ngx_http_webhook_json_get(ctx->json, paths[i]);

        if (asked[n]) {
            n++;
        }
    }

    if (!ngx_http_webhook_json_satisfied(asked, n)) {
        scan.request = r;
        scan.asked = asked;
        scan.nasked = n;

        ngx_http_webhook_json_scan(r, &scan);

        if (scan.error) {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < n; i++) {
        if (asked[i]->valid) {
            *out = asked[i]->value;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/* the field remembered for path, added unsettled; NULL when full */

static ngx_http_webhook_json_field_t *
ngx_http_webhook_json_get(ngx_http_webhook_json_t *js, const char *path)
{
    ngx_uint_t                      i;
    ngx_http_webhook_json_field_t  *f;

    for (i = 0; i < js->nfields; i++) {
        f = &js->fields[i];

        if (f->path == path || ngx_strcmp(f->path, path) == 0) {
            return f;
        }
    }

    if (js->nfields == NGX_HTTP_WEBHOOK_JSON_FIELDS) {
        return NULL;
    }

    f = &js->fields[js->nfields++];
    f->path = path;

    return f;
}


/*
 * Feed the body to the scanner until the fields asked for are settled.
 * Fields it passed over without meeting (the document ended, or broke)
 * are settled without a value; those it did not reach stay unsettled.
 */

static void
ngx_http_webhook_json_scan(ngx_http_request_t *r,
    ngx_http_webhook_json_scan_t *scan)
{
    int                              rc;
    ssize_t                          n;
    ngx_uint_t                       i, npaths;
    const u_char                    *data;
    webhook_json_t                   js;
    ngx_http_webhook_body_cursor_t   cur;
    const char                      *paths[WEBHOOK_JSON_MAX_PATHS];

    scan->satisfied = 0;
    scan->error = 0;
    npaths = 0;

    for (i = 0; i < scan->nasked; i++) {
        if (!scan->asked[i]->settled) {
            scan->wanted[npaths] = scan->asked[i];
            paths[npaths++] = scan->asked[i]->path;
        }
    }

    if (ngx_http_webhook_body_length(r) > NGX_HTTP_WEBHOOK_JSON_MAX
        || webhook_json_init(&js, paths, npaths,
                             ngx_http_webhook_json_member, scan)
           != WEBHOOK_OK)
    {
        rc = WEBHOOK_JSON_ERROR;
        goto settle;
    }

    ngx_http_webhook_body_open(&cur, r);

    do {
        n = ngx_http_webhook_body_next(&cur, &data,
                                      NGX_HTTP_WEBHOOK_JSON_MAX);

        if (n == NGX_ERROR) {
            rc = WEBHOOK_JSON_ERROR;
            break;
        }

        rc = (n == 0) ? webhook_json_end(&js)
                      : webhook_json_feed(&js, data, (size_t) n);

    } while (rc == WEBHOOK_JSON_AGAIN);

    if (rc == WEBHOOK_JSON_ERROR) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "webhook: body is not JSON where it was read");
    }

settle:

    if (scan->satisfied || scan->error) {
        return;
    }

    for (i = 0; i < npaths; i++) {
        scan->wanted[i]->settled = 1;
    }
}


static int
ngx_http_webhook_json_member(void *data, size_t path,
    webhook_json_type_e type, const unsigned char *token, size_t len)
{
    ngx_http_webhook_json_scan_t *scan = data;

    ngx_http_webhook_json_field_t  *f;

    f = scan->wanted[path];

    if (f->settled) {
        /* a duplicate: the first one won */
        return 0;
    }

    f->settled = 1;

    if (type == WEBHOOK_JSON_STRING || type == WEBHOOK_JSON_NUMBER) {
        if (ngx_http_webhook_json_decode(scan->request, f, type, token, len)
            != NGX_OK)
        {
            scan->error = 1;
            return 1;
        }
    }

    scan->satisfied = ngx_http_webhook_json_satisfied(scan->asked,
                                                      scan->nasked);

    return scan->satisfied;
}


/*
 * A token the scanner reported, as its value (a string, or an integer in
 * range, as decimal text in the request pool): NGX_OK, NGX_DECLINED when
 * it has none (another type, or a number that is not an integer), or
 * NGX_ERROR.  For schemes that walk the body themselves (Adyen's items).
 */

ngx_int_t
ngx_http_webhook_json_value(ngx_http_request_t *r, webhook_json_type_e type,
    const u_char *token, size_t len, ngx_str_t *value)
{
    ngx_http_webhook_json_field_t  f;

    if (type != WEBHOOK_JSON_STRING && type != WEBHOOK_JSON_NUMBER) {
        return NGX_DECLINED;
    }

    ngx_memzero(&f, sizeof(ngx_http_webhook_json_field_t));

    if (ngx_http_webhook_json_decode(r, &f, type, token, len) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!f.valid) {
        return NGX_DECLINED;
    }

    *value = f.value;

    return NGX_OK;
}


/* The token through jansson: a string, or an integer in range. */

static ngx_int_t
ngx_http_webhook_json_decode(ngx_http_request_t *r,
    ngx_http_webhook_json_field_t *f, webhook_json_type_e type,
    const u_char *token, size_t len)
{
    u_char         *p;
    json_t         *v;
    ngx_int_t       rc;
    json_error_t    err;
    webhook_str_t   simple;

    /* most ids and event types: no escapes, nothing to decode */

    rc = webhook_json_simple_value(type, token, len, &simple);

    if (rc == WEBHOOK_MISSING) {
        return NGX_OK;
    }

    if (rc == WEBHOOK_OK) {
        f->value.data = ngx_pnalloc(r->pool, simple.len);
        if (f->value.data == NULL) {
            return NGX_ERROR;
        }

        f->value.len = simple.len;
        ngx_memcpy(f->value.data, simple.data, simple.len);
        f->valid = 1;
        return NGX_OK;
    }

    v = json_loadb((const char *) token, len, JSON_DECODE_ANY, &err);

    if (v == NULL) {
        return NGX_OK;
    }

    rc = NGX_OK;

    if (json_is_string(v)) {
        f->value.len = json_string_length(v);
        f->value.data = ngx_pnalloc(r->pool, f->value.len);

        if (f->value.data == NULL) {
            rc = NGX_ERROR;

        } else {
            ngx_memcpy(f->value.data, json_string_value(v), f->value.len);
            f->valid = 1;
        }

    } else if (json_is_integer(v)) {
        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);

        if (p == NULL) {
            rc = NGX_ERROR;

        } else {
            f->value.data = p;
            f->value.len = ngx_sprintf(p, "%L",
                                       (int64_t) json_integer_value(v))
                           - p;
            f->valid = 1;
        }
    }

    json_decref(v);

    return rc;
}


/*
 * Paths in order of preference: the answer is known once the first that
 * is not settled without a value is settled with one (or all are settled).
 */

static ngx_uint_t
ngx_http_webhook_json_satisfied(ngx_http_webhook_json_field_t **asked,
    ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (!asked[i]->settled) {
            return 0;
        }

        if (asked[i]->valid) {
            return 1;
        }
    }

    return 1;
}
