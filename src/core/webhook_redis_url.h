/*
 * webhook_redis's URL, split without resolving anything:
 *   "redis://host[:port][/db]"   host and port are left to the caller
 *                                (nginx's ngx_parse_url resolves them);
 *   "unix:/absolute/path".
 */

#ifndef _WEBHOOK_REDIS_URL_H_INCLUDED_
#define _WEBHOOK_REDIS_URL_H_INCLUDED_


#include "webhook_core.h"


#define WEBHOOK_REDIS_DB_MAX  2147483647


typedef struct {
    int            unix_socket;     /* 1: "unix:", path is set */
    webhook_str_t  host;            /* "host[:port]", "[::1]:6380" */
    webhook_str_t  path;            /* the socket path, with its "/" */
    int64_t        db;              /* 0 unless given */
} webhook_redis_url_t;


/*
 * WEBHOOK_OK, or WEBHOOK_MALFORMED with *err set to a static description,
 * starting with its separator (": ..." or ", expected ...")
 * (another scheme, a relative socket path, an empty host, a database that
 * is not a number up to WEBHOOK_REDIS_DB_MAX).  Spans point into p.
 */
int webhook_redis_url_parse(const unsigned char *p, size_t len,
    webhook_redis_url_t *url, const char **err);


#endif /* _WEBHOOK_REDIS_URL_H_INCLUDED_ */
