
/*
 * ngx_http_webhook_module: embedded variables.
 *
 * All of them read the per-request state, which survives internal
 * redirects, so an error_page location or log_format still sees what the
 * module decided.  None is cacheable: a value read in an earlier phase
 * must not stick once the verdict is in.
 *
 * None carries a control byte either: what a request supplies is escaped
 * once, where it is taken (ngx_http_webhook_escape_value() in
 * ngx_http_webhook_verify.c), and every other value is made here from
 * digits and fixed names.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


#define NGX_HTTP_WEBHOOK_VAR_PROVIDER      0
#define NGX_HTTP_WEBHOOK_VAR_VERIFIED      1
#define NGX_HTTP_WEBHOOK_VAR_ID            2
#define NGX_HTTP_WEBHOOK_VAR_TIMESTAMP     3
#define NGX_HTTP_WEBHOOK_VAR_EVENT         4
#define NGX_HTTP_WEBHOOK_VAR_SECRET_INDEX  5
#define NGX_HTTP_WEBHOOK_VAR_REASON        6
#define NGX_HTTP_WEBHOOK_VAR_RL_REMAINING  7


static ngx_int_t ngx_http_webhook_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_webhook_vars[] = {

    { ngx_string("webhook_provider"), NULL, ngx_http_webhook_variable,
      NGX_HTTP_WEBHOOK_VAR_PROVIDER, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webhook_verified"), NULL, ngx_http_webhook_variable,
      NGX_HTTP_WEBHOOK_VAR_VERIFIED, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webhook_id"), NULL, ngx_http_webhook_variable,
      NGX_HTTP_WEBHOOK_VAR_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webhook_timestamp"), NULL, ngx_http_webhook_variable,
      NGX_HTTP_WEBHOOK_VAR_TIMESTAMP, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webhook_event"), NULL, ngx_http_webhook_variable,
      NGX_HTTP_WEBHOOK_VAR_EVENT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webhook_secret_index"), NULL, ngx_http_webhook_variable,
      NGX_HTTP_WEBHOOK_VAR_SECRET_INDEX, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webhook_reject_reason"), NULL, ngx_http_webhook_variable,
      NGX_HTTP_WEBHOOK_VAR_REASON, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("webhook_ratelimit_remaining"), NULL,
      ngx_http_webhook_variable,
      NGX_HTTP_WEBHOOK_VAR_RL_REMAINING, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_webhook_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_webhook_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhook_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                  *p;
    ngx_int_t                rc;
    ngx_str_t                s;
    ngx_http_webhook_ctx_t  *ctx;

    ctx = ngx_http_webhook_get_ctx(r->main);

    ngx_str_null(&s);

    if (ctx == NULL) {
        if (data == NGX_HTTP_WEBHOOK_VAR_VERIFIED) {
            ngx_str_set(&s, "0");
            goto found;
        }

        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_WEBHOOK_VAR_PROVIDER:
        if (ctx->conf->preset) {
            s = ctx->conf->preset->name;
        }
        break;

    case NGX_HTTP_WEBHOOK_VAR_VERIFIED:
        if (ctx->verified) {
            ngx_str_set(&s, "1");
        } else {
            ngx_str_set(&s, "0");
        }
        break;

    case NGX_HTTP_WEBHOOK_VAR_ID:
        rc = ngx_http_webhook_request_id(r->main, ctx, &s);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
        break;

    case NGX_HTTP_WEBHOOK_VAR_EVENT:
        rc = ngx_http_webhook_request_event(r->main, ctx, &s);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }
        break;

    case NGX_HTTP_WEBHOOK_VAR_TIMESTAMP:
        if (!ctx->has_timestamp) {
            break;
        }

        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        s.data = p;
        s.len = ngx_sprintf(p, "%L", ctx->timestamp) - p;
        break;

    case NGX_HTTP_WEBHOOK_VAR_SECRET_INDEX:
        if (ctx->secret_index == 0) {
            break;
        }

        p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        s.data = p;
        s.len = ngx_sprintf(p, "%ui", ctx->secret_index) - p;
        break;

    case NGX_HTTP_WEBHOOK_VAR_RL_REMAINING:
        if (!ctx->rl_set) {
            break;
        }

        p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        s.data = p;
        s.len = ngx_sprintf(p, "%uL", ctx->rl_remaining) - p;
        break;

    default: /* NGX_HTTP_WEBHOOK_VAR_REASON: refused, or would have been */
        s = *ngx_http_webhook_reason_name(
                 ctx->reason != NGX_HTTP_WEBHOOK_PASS ? ctx->reason
                                                      : ctx->would_reason);
        break;
    }

    if (s.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

found:

    v->len = s.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = s.data;

    return NGX_OK;
}
