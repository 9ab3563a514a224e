/*
 * ngx_http_webhook_module: webhook_redis URLs.
 */


#include <string.h>

#include "webhook_redis_url.h"


static int webhook_redis_url_sentinel(const unsigned char *p,
    const unsigned char *last, webhook_redis_url_t *url, const char **err);


#define WEBHOOK_PREFIX_IS(p, len, s)                                          \
    ((len) >= sizeof(s) - 1 && memcmp(p, s, sizeof(s) - 1) == 0)


int
webhook_redis_url_parse(const unsigned char *p, size_t len,
    webhook_redis_url_t *url, const char **err)
{
    const unsigned char  *last, *slash, *d;

    memset(url, 0, sizeof(webhook_redis_url_t));

    if (WEBHOOK_PREFIX_IS(p, len, "unix:")) {

        if (len == 5 || p[5] != '/') {
            *err = ": the socket path must be absolute";
            return WEBHOOK_MALFORMED;
        }

        url->unix_socket = 1;
        url->path.data = p + 5;
        url->path.len = len - 5;

        if (memchr(url->path.data, '\0', url->path.len) != NULL) {
            *err = ": the socket path holds a NUL byte";
            return WEBHOOK_MALFORMED;
        }

        return WEBHOOK_OK;
    }

    if (WEBHOOK_PREFIX_IS(p, len, "sentinel://")) {
        return webhook_redis_url_sentinel(p + 11, p + len, url, err);
    }

    if (!WEBHOOK_PREFIX_IS(p, len, "redis://")) {
        *err = ", expected \"redis://host:port/db\", \"unix:/path\" or "
               "\"sentinel://host:port/MASTER_NAME\"";
        return WEBHOOK_MALFORMED;
    }

    last = p + len;
    p += 8;

    /* the database: after the first "/" past the host ("[::1]" has none) */

    slash = memchr(p, '/', last - p);

    if (slash) {

        for (d = slash + 1; d < last; d++) {
            if (*d < '0' || *d > '9') {
                *err = ": bad database number";
                return WEBHOOK_MALFORMED;
            }

            url->db = url->db * 10 + (*d - '0');

            if (url->db > WEBHOOK_REDIS_DB_MAX) {
                *err = ": bad database number";
                return WEBHOOK_MALFORMED;
            }
        }

        last = slash;
    }

    if (p == last) {
        *err = ": no host";
        return WEBHOOK_MALFORMED;
    }

    url->host.data = p;
    url->host.len = last - p;

    return WEBHOOK_OK;
}


static int
webhook_redis_url_sentinel(const unsigned char *p, const unsigned char *last,
    webhook_redis_url_t *url, const char **err)
{
    const unsigned char  *slash, *q;

    url->sentinel = 1;

    slash = memchr(p, '/', last - p);

    if (slash == NULL || slash == p || slash + 1 == last) {
        *err = ", expected \"sentinel://host:port[,host:port...]/"
               "MASTER_NAME\"";
        return WEBHOOK_MALFORMED;
    }

    /* the name: printable, no spaces (it travels in a pub/sub message) */

    for (q = slash + 1; q < last; q++) {
        if (*q <= 0x20 || *q >= 0x7f || *q == '/') {
            *err = ": bad master name";
            return WEBHOOK_MALFORMED;
        }
    }

    url->host.data = p;
    url->host.len = slash - p;
    url->master.data = slash + 1;
    url->master.len = last - slash - 1;

    return WEBHOOK_OK;
}


int
webhook_redis_url_next_host(webhook_str_t *list, webhook_str_t *host)
{
    const unsigned char  *comma;

    if (list->data == NULL) {
        return 0;
    }

    comma = memchr(list->data, ',', list->len);

    host->data = list->data;

    if (comma == NULL) {
        host->len = list->len;
        list->data = NULL;
        list->len = 0;
        return 1;
    }

    host->len = comma - list->data;
    list->len -= host->len + 1;
    list->data = comma + 1;

    return 1;
}
