
/*
 * ngx_http_webhook_module: walking the request body where nginx keeps it.
 *
 * After ngx_http_read_client_request_body() the body is a chain of memory
 * buffers or, once it spilled past client_body_buffer_size, an in-file
 * buffer over the temp file.  The cursor hands memory out in place and
 * pread()s file data into a scratch buffer; a parser that needs the body
 * in one piece gets it as one span.  Nothing here moves pos or file_pos,
 * and the file offset is restored: proxy sends this same chain upstream.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


#define NGX_HTTP_WEBHOOK_READ_SIZE  65536


/*
 * One scratch buffer per worker: a body walk runs start to finish inside
 * one handler call, and a worker runs one handler at a time.
 */
static u_char  ngx_http_webhook_scratch[NGX_HTTP_WEBHOOK_READ_SIZE];


void
ngx_http_webhook_body_open(ngx_http_webhook_body_cursor_t *cur,
    ngx_http_request_t *r)
{
    cur->request = r;
    cur->chain = r->request_body ? r->request_body->bufs : NULL;
    cur->offset = 0;
}


static off_t
ngx_http_webhook_buf_size(ngx_buf_t *b)
{
    if (ngx_buf_in_memory(b)) {
        return b->last - b->pos;
    }

    if (b->in_file) {
        return b->file_last - b->file_pos;
    }

    return 0;
}


/*
 * The next span of at most max bytes: a pointer into a memory buffer, or
 * into the scratch buffer for file data.  Returns its length, 0 at the
 * end of the body, NGX_ERROR if the temp file cannot be read.
 */

ssize_t
ngx_http_webhook_body_next(ngx_http_webhook_body_cursor_t *cur,
    const u_char **data, size_t max)
{
    off_t       size, left;
    size_t      n;
    ssize_t     got;
    off_t       saved;
    ngx_buf_t  *b;

    for ( ;; ) {

        if (cur->chain == NULL) {
            return 0;
        }

        b = cur->chain->buf;
        size = ngx_http_webhook_buf_size(b);

        if (cur->offset < size) {
            break;
        }

        cur->chain = cur->chain->next;
        cur->offset = 0;
    }

    left = size - cur->offset;
    n = (left < (off_t) max) ? (size_t) left : max;

    if (ngx_buf_in_memory(b)) {
        *data = b->pos + cur->offset;
        cur->offset += n;
        return (ssize_t) n;
    }

    if (n > NGX_HTTP_WEBHOOK_READ_SIZE) {
        n = NGX_HTTP_WEBHOOK_READ_SIZE;
    }

    saved = b->file->offset;

    got = ngx_read_file(b->file, ngx_http_webhook_scratch, n,
                        b->file_pos + cur->offset);

    b->file->offset = saved;

    if (got == NGX_ERROR) {
        return NGX_ERROR;
    }

    if ((size_t) got != n) {
        ngx_log_error(NGX_LOG_CRIT, cur->request->connection->log, 0,
                      "webhook: short read of client body temp file \"%V\": "
                      "%z of %uz bytes", &b->file->name, got, n);
        return NGX_ERROR;
    }

    *data = ngx_http_webhook_scratch;
    cur->offset += n;

    return (ssize_t) n;
}


/* Copy up to size bytes (for parsers that pull into their own buffer). */

ssize_t
ngx_http_webhook_body_copy(ngx_http_webhook_body_cursor_t *cur, u_char *dst,
    size_t size)
{
    size_t         total;
    ssize_t        n;
    const u_char  *p;

    total = 0;

    while (total < size) {
        n = ngx_http_webhook_body_next(cur, &p, size - total);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (n == 0) {
            break;
        }

        ngx_memcpy(dst + total, p, (size_t) n);
        total += (size_t) n;
    }

    return (ssize_t) total;
}


/*
 * The body's exact bytes as one span, for a parser that needs them in one
 * piece.  One buffer in memory (the usual case: the body fit
 * client_body_buffer_size) is used where it is, unless copy is set: it is
 * the buffer proxy sends upstream, so a parser that writes in place (a
 * form decoder) asks for a copy.  Otherwise the body is gathered once
 * into one allocation of its size from r->pool, the parts on disk read
 * straight into it.  An empty body is an empty span.
 */

ngx_int_t
ngx_http_webhook_body_span(ngx_http_request_t *r, ngx_uint_t copy,
    ngx_str_t *body)
{
    off_t         len, saved;
    size_t        size;
    u_char       *p;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    cl = r->request_body->bufs;

    if (!copy && cl->next == NULL && !cl->buf->in_file
        && ngx_buf_in_memory(cl->buf))
    {
        body->data = cl->buf->pos;
        body->len = cl->buf->last - cl->buf->pos;
        return NGX_OK;
    }

    len = ngx_http_webhook_body_length(r);

    if (len == 0) {
        return NGX_OK;
    }

    if ((uint64_t) len > NGX_MAX_SIZE_T_VALUE / 2) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, (size_t) len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    body->len = (size_t) len;

    for ( /* void */ ; cl; cl = cl->next) {
        b = cl->buf;
        size = (size_t) ngx_http_webhook_buf_size(b);

        if (size == 0) {
            continue;
        }

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, size);
            continue;
        }

        saved = b->file->offset;

        n = ngx_read_file(b->file, p, size, b->file_pos);

        b->file->offset = saved;

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if ((size_t) n != size) {
            ngx_log_error(NGX_LOG_CRIT, r->connection->log, 0,
                          "webhook: short read of client body temp file "
                          "\"%V\": %z of %uz bytes", &b->file->name, n,
                          size);
            return NGX_ERROR;
        }

        p += size;
    }

    return NGX_OK;
}


off_t
ngx_http_webhook_body_length(ngx_http_request_t *r)
{
    off_t         len;
    ngx_chain_t  *cl;

    len = 0;

    if (r->request_body == NULL) {
        return 0;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_http_webhook_buf_size(cl->buf);
    }

    return len;
}
