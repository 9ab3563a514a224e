/*
 * webhook_redis's URL, split without resolving anything:
 *   "redis://host[:port][/db]"   host and port are left to the caller
 *                                (nginx's ngx_parse_url resolves them);
 *   "unix:/absolute/path";
 *   "sentinel://host[:port][,host[:port]...]/MASTER_NAME".
 */

#ifndef _WEBHOOK_REDIS_URL_H_INCLUDED_
#define _WEBHOOK_REDIS_URL_H_INCLUDED_


#include "webhook_core.h"


#define WEBHOOK_REDIS_DB_MAX  2147483647


typedef struct {
    int            unix_socket;     /* 1: "unix:", path is set */
    int            sentinel;        /* 1: "sentinel://", hosts and master */
    webhook_str_t  host;            /* "host[:port]", "[::1]:6380"; with
                                       sentinel://, the comma list */
    webhook_str_t  path;            /* the socket path, with its "/" */
    webhook_str_t  master;          /* Sentinel's name of the primary */
    int64_t        db;              /* 0 unless given */
} webhook_redis_url_t;


/*
 * WEBHOOK_OK, or WEBHOOK_MALFORMED with *err set to a static description,
 * starting with its separator (": ..." or ", expected ...")
 * (another scheme, a relative socket path, an empty host, a database that
 * is not a number up to WEBHOOK_REDIS_DB_MAX, a master name that is empty
 * or not printable ASCII without spaces).  Spans point into p.
 */
int webhook_redis_url_parse(const unsigned char *p, size_t len,
    webhook_redis_url_t *url, const char **err);

/*
 * The next host of a sentinel:// comma list: 1 with it in *host (maybe
 * empty: ",," is the caller's to refuse) and *list moved past it, 0 when
 * the list is used up.
 */
int webhook_redis_url_next_host(webhook_str_t *list, webhook_str_t *host);


#endif /* _WEBHOOK_REDIS_URL_H_INCLUDED_ */
