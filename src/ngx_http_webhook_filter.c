
/*
 * ngx_http_webhook_module: the header filter, a module of its own
 * (ngx_http_webhook_filter_module, an HTTP filter in `config`) so that
 * it takes its place among nginx's filters in static and dynamic builds
 * alike.
 *
 * Once the response's status is known, and before a byte of it leaves:
 *   - the replay record the request holds is settled: committed if the
 *     upstream answered 2xx, dropped otherwise (ngx_http_webhook_replay.c),
 *     so a resend right after the answer finds the delivery settled;
 *   - the RateLimit-* headers, and Retry-After on the module's 429, are
 *     added (values from ngx_http_webhook_limit.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


static ngx_int_t ngx_http_webhook_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhook_filter_init(ngx_conf_t *cf);


static ngx_http_module_t  ngx_http_webhook_filter_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_webhook_filter_init,          /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_webhook_filter_module = {
    NGX_MODULE_V1,
    &ngx_http_webhook_filter_module_ctx,   /* module context */
    NULL,                                  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;


static ngx_int_t
ngx_http_webhook_header_filter(ngx_http_request_t *r)
{
    ngx_http_webhook_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_webhook_get_ctx(r);

    if (ctx == NULL) {
        return ngx_http_next_header_filter(r);
    }

    ngx_http_webhook_replay_settle(r, ctx);

    if (ngx_http_webhook_limit_headers(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_webhook_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_webhook_header_filter;

    return NGX_OK;
}
