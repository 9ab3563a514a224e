
/*
 * ngx_http_webhook_module: the IP allowlist.
 *
 * Rules are parsed once, at configuration time (CIDR matching is in
 * src/core/webhook_cidr.c); a request is checked against the address
 * nginx holds for the connection, which the realip module may already
 * have replaced with the client's behind a balancer.  The check runs
 * before the body is read, so a refused client's body is discarded.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


/* an allowlist file is a handful of provider ranges, not a database */
#define NGX_HTTP_WEBHOOK_ALLOW_FILE_MAX  (1024 * 1024)


static char *ngx_http_webhook_allow_add(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *wlcf, u_char *p, size_t len,
    ngx_str_t *file, ngx_uint_t line);


char *
ngx_http_webhook_allow_ip(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    ngx_str_t  *value;

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "all") == 0) {
        wlcf->allow_all = 1;

        /* an explicit rule at this level: do not inherit the parent's */
        if (wlcf->allow == NGX_CONF_UNSET_PTR) {
            wlcf->allow = ngx_array_create(cf->pool, 1,
                                           sizeof(webhook_cidr_t));
            if (wlcf->allow == NULL) {
                return NGX_CONF_ERROR;
            }
        }

        return NGX_CONF_OK;
    }

    return ngx_http_webhook_allow_add(cf, wlcf, value[1].data, value[1].len,
                                      NULL, 0);
}


char *
ngx_http_webhook_allow_ip_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    u_char               *buf;
    char                 *rv;
    ssize_t               n;
    unsigned              line;
    ngx_fd_t              fd;
    ngx_str_t            *value, name;
    ngx_file_t            file;
    webhook_str_t         rule;
    ngx_file_info_t       fi;
    const unsigned char  *pos;

    value = cf->args->elts;
    name = value[1];

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "webhook_allow_ip_file: cannot open \"%V\"",
                           &name);
        return NGX_CONF_ERROR;
    }

    rv = NGX_CONF_ERROR;
    buf = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || !ngx_is_file(&fi)
        || ngx_file_size(&fi) > NGX_HTTP_WEBHOOK_ALLOW_FILE_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "webhook_allow_ip_file: \"%V\" is not a regular "
                           "file of at most %d bytes", &name,
                           NGX_HTTP_WEBHOOK_ALLOW_FILE_MAX);
        goto done;
    }

    buf = ngx_alloc((size_t) ngx_file_size(&fi) + 1, cf->log);
    if (buf == NULL) {
        goto done;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = name;
    file.log = cf->log;

    n = ngx_read_file(&file, buf, (size_t) ngx_file_size(&fi), 0);

    if (n == NGX_ERROR || n != ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "webhook_allow_ip_file: cannot read \"%V\"",
                           &name);
        goto done;
    }

    /* one rule per line; "#" starts a comment; blank lines are fine */

    pos = buf;
    line = 0;

    while (webhook_cidr_next_rule(&pos, buf + n, &rule, &line)) {

        if (ngx_http_webhook_allow_add(cf, wlcf, (u_char *) rule.data,
                                       rule.len, &name, line)
            != NGX_CONF_OK)
        {
            goto done;
        }
    }

    /* an empty file allows nobody, as an empty list would */
    if (wlcf->allow == NGX_CONF_UNSET_PTR) {
        wlcf->allow = ngx_array_create(cf->pool, 1, sizeof(webhook_cidr_t));
        if (wlcf->allow == NULL) {
            goto done;
        }
    }

    rv = NGX_CONF_OK;

done:

    if (buf) {
        ngx_free(buf);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", &name);
    }

    return rv;
}


static char *
ngx_http_webhook_allow_add(ngx_conf_t *cf, ngx_http_webhook_loc_conf_t *wlcf,
    u_char *p, size_t len, ngx_str_t *file, ngx_uint_t line)
{
    ngx_str_t        text;
    webhook_cidr_t  *cidr;

    text.data = p;
    text.len = len;

    if (wlcf->allow == NGX_CONF_UNSET_PTR) {
        wlcf->allow = ngx_array_create(cf->pool, 4, sizeof(webhook_cidr_t));
        if (wlcf->allow == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    cidr = ngx_array_push(wlcf->allow);
    if (cidr == NULL) {
        return NGX_CONF_ERROR;
    }

    if (webhook_cidr_parse(p, len, cidr) != WEBHOOK_OK) {
        if (file) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid CIDR \"%V\" in %V:%ui", &text, file,
                               line);
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid CIDR \"%V\" in webhook_allow_ip",
                               &text);
        }

        return NGX_CONF_ERROR;
    }

    if (cidr->host_bits_set) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "low address bits of %V are meaningless", &text);
    }

    return NGX_CONF_OK;
}


ngx_uint_t
ngx_http_webhook_allowed(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf)
{
    int                   family;
    ngx_uint_t            i;
    const u_char         *addr;
    webhook_cidr_t       *cidr;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    if (wlcf->allow_all) {
        return 1;
    }

    switch (r->connection->sockaddr->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) r->connection->sockaddr;
        family = AF_INET;
        addr = (u_char *) &sin->sin_addr;
        break;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) r->connection->sockaddr;
        family = AF_INET6;
        addr = sin6->sin6_addr.s6_addr;
        break;
#endif

    default:
        /* a unix socket peer has no address to allow */
        return 0;
    }

    cidr = wlcf->allow->elts;

    for (i = 0; i < wlcf->allow->nelts; i++) {
        if (webhook_cidr_match(&cidr[i], family, addr)) {
            return 1;
        }
    }

    return 0;
}
