
/*
 * ngx_http_webhook_module: embedded variables.
 *
 * All of them read the per-request state, which survives internal
 * redirects, so an error_page location or log_format still sees what the
 * module decided.  None is cacheable: a value read in an earlier phase
 * must not stick once the verdict is in.
 *
 * None carries a control byte either: what a request supplies is escaped
 * once, where it is taken (ngx_http_webhook_escape_value()), and every
 * other value is made here from digits and fixed names.
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

ngx_int_t
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
