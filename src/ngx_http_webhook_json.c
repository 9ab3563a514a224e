
/*
 * ngx_http_webhook_module: fields of a JSON body ($webhook_id and
 * $webhook_event for providers that put them there).
 *
 * The body is parsed at most once per request, only when a field is
 * asked for, straight from the body buffers (jansson pulls through a
 * callback, so a body in a temp file is never assembled in memory), and
 * only up to a size bound; jansson bounds the nesting depth itself
 * (JSON_PARSER_MAX_DEPTH, 2048 in Debian 12's 2.14) and fails deeper
 * documents instead of recursing without end.  A body that is not JSON
 * yields no field; it never fails a scheme that does not need JSON.
 * Paths are dotted; a segment of digits indexes an array ("0.eventId",
 * "entry.0.id").
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


/* webhook deliveries are small; a larger body is not parsed for fields */
#define NGX_HTTP_WEBHOOK_JSON_MAX   (1024 * 1024)

/* a path segment longer than this is a configuration mistake */
#define NGX_HTTP_WEBHOOK_JSON_PATH  64


static size_t ngx_http_webhook_json_read(void *buffer, size_t buflen,
    void *data);
static json_t *ngx_http_webhook_json_lookup(json_t *root, const char *path);


static json_t *
ngx_http_webhook_json_body(ngx_http_request_t *r, ngx_http_webhook_ctx_t *ctx)
{
    json_error_t                     err;
    ngx_http_webhook_body_cursor_t   cur;

    if (ctx->json_parsed) {
        return ctx->json;
    }

    /* not read (yet, or at all: refused before it): no fields, for now */

    if (!ctx->body_read) {
        return NULL;
    }

    ctx->json_parsed = 1;

    if (ngx_http_webhook_body_length(r) > NGX_HTTP_WEBHOOK_JSON_MAX) {
        return NULL;
    }

    ngx_http_webhook_body_open(&cur, r);

    /* freed by the ctx's pool cleanup (ngx_http_webhook_handler.c) */
    ctx->json = json_load_callback(ngx_http_webhook_json_read, &cur,
                                   JSON_DECODE_ANY, &err);

    if (ctx->json == NULL) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "webhook: body is not JSON: %s at %d:%d",
                       err.text, err.line, err.column);
    }

    return ctx->json;
}


static size_t
ngx_http_webhook_json_read(void *buffer, size_t buflen, void *data)
{
    ngx_http_webhook_body_cursor_t *cur = data;

    ssize_t  n;

    n = ngx_http_webhook_body_copy(cur, buffer, buflen);

    return (n == NGX_ERROR) ? (size_t) -1 : (size_t) n;
}


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
 * integer in the body, copied to the request pool.  NGX_DECLINED if none.
 */

ngx_int_t
ngx_http_webhook_json_string(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, const char *const *paths, ngx_str_t *out)
{
    u_char      *p;
    json_t      *root, *v;
    ngx_uint_t   i;

    root = ngx_http_webhook_json_body(r, ctx);

    if (root == NULL) {
        return NGX_DECLINED;
    }

    for (i = 0; i < NGX_HTTP_WEBHOOK_MAX_SOURCES && paths[i]; i++) {

        v = ngx_http_webhook_json_lookup(root, paths[i]);

        if (json_is_string(v)) {
            out->len = json_string_length(v);
            out->data = ngx_pnalloc(r->pool, out->len);
            if (out->data == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(out->data, json_string_value(v), out->len);
            return NGX_OK;
        }

        if (json_is_integer(v)) {
            p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
            if (p == NULL) {
                return NGX_ERROR;
            }

            out->data = p;
            out->len = ngx_sprintf(p, "%L", (int64_t) json_integer_value(v))
                       - p;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static json_t *
ngx_http_webhook_json_lookup(json_t *root, const char *path)
{
    char         key[NGX_HTTP_WEBHOOK_JSON_PATH];
    size_t       len, i, index;
    json_t      *v;
    const char  *dot;

    v = root;

    while (v && *path) {

        dot = strchr(path, '.');
        len = dot ? (size_t) (dot - path) : ngx_strlen(path);

        if (len == 0 || len >= sizeof(key)) {
            return NULL;
        }

        ngx_memcpy(key, path, len);
        key[len] = '\0';
        path += len + (dot ? 1 : 0);

        if (json_is_object(v)) {
            v = json_object_get(v, key);
            continue;
        }

        if (!json_is_array(v) || len > 9) {
            return NULL;
        }

        index = 0;

        for (i = 0; i < len; i++) {
            if (key[i] < '0' || key[i] > '9') {
                return NULL;
            }

            index = index * 10 + (key[i] - '0');
        }

        v = json_array_get(v, index);
    }

    return v;
}
