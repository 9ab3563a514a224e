/*
 * Unit tests: webhook_redis URLs.
 */


#include <string.h>

#include "webhook_redis_url.h"
#include "test_core.h"


static int
parse(const char *text, webhook_redis_url_t *u, const char **err)
{
    return webhook_redis_url_parse(tap_dups(text), strlen(text), u, err);
}


void
test_redis_url(void)
{
    const char           *err;
    webhook_str_t         list, host;
    webhook_redis_url_t   u;

    tap_is_int(parse("redis://127.0.0.1:6379/2", &u, &err), WEBHOOK_OK,
               "redis URL: host, port and db");
    tap_is_str(u.host.data, u.host.len, "127.0.0.1:6379",
               "redis URL: host and port for nginx to resolve");
    tap_is_int(u.db, 2, "redis URL: db");
    tap_is_int(parse("redis://[::1]:6380", &u, &err), WEBHOOK_OK,
               "redis URL: IPv6, no db");
    tap_is_str(u.host.data, u.host.len, "[::1]:6380", "redis URL: [::1]");
    tap_is_int(u.db, 0, "redis URL: db 0 by default");
    tap_is_int(parse("redis://cache/", &u, &err), WEBHOOK_OK,
               "redis URL: an empty db is 0");
    tap_is_int(parse("unix:/run/redis.sock", &u, &err), WEBHOOK_OK,
               "redis URL: unix socket");
    tap_ok(u.unix_socket, "redis URL: unix_socket set");
    tap_is_str(u.path.data, u.path.len, "/run/redis.sock",
               "redis URL: socket path");
    tap_is_int(parse("redis://h/2147483647", &u, &err), WEBHOOK_OK,
               "redis URL: the largest db");

    tap_is_int(parse("unix:run.sock", &u, &err), WEBHOOK_MALFORMED,
               "redis URL: relative socket path");
    tap_is_int(parse("unix:", &u, &err), WEBHOOK_MALFORMED,
               "redis URL: no socket path");
    tap_is_int(webhook_redis_url_parse(tap_dup("unix:/a\0b", 9), 9, &u, &err),
               WEBHOOK_MALFORMED, "redis URL: NUL in the socket path");
    tap_is_int(parse("redis://", &u, &err), WEBHOOK_MALFORMED,
               "redis URL: no host");
    tap_is_int(parse("redis:///1", &u, &err), WEBHOOK_MALFORMED,
               "redis URL: no host before the db");
    tap_is_int(parse("redis://h/1x", &u, &err), WEBHOOK_MALFORMED,
               "redis URL: db not a number");
    tap_is_int(parse("redis://h/-1", &u, &err), WEBHOOK_MALFORMED,
               "redis URL: negative db");
    tap_is_int(parse("redis://h/2147483648", &u, &err), WEBHOOK_MALFORMED,
               "redis URL: db out of range");
    tap_is_int(parse("redis://h/99999999999999999999999", &u, &err),
               WEBHOOK_MALFORMED, "redis URL: db overflow");
    tap_is_int(parse("http://h", &u, &err), WEBHOOK_MALFORMED,
               "redis URL: another scheme");
    tap_is_int(parse("rediss://h", &u, &err), WEBHOOK_MALFORMED,
               "redis URL: TLS is not supported");

    tap_is_int(parse("sentinel://a:26379,[::1],b/mymaster", &u, &err),
               WEBHOOK_OK, "sentinel URL");
    tap_ok(u.sentinel, "sentinel URL: sentinel set");
    tap_is_str(u.master.data, u.master.len, "mymaster",
               "sentinel URL: master name");
    list = u.host;
    tap_ok(webhook_redis_url_next_host(&list, &host), "sentinel: host 1");
    tap_is_str(host.data, host.len, "a:26379", "sentinel: a:26379");
    tap_ok(webhook_redis_url_next_host(&list, &host), "sentinel: host 2");
    tap_is_str(host.data, host.len, "[::1]", "sentinel: [::1]");
    tap_ok(webhook_redis_url_next_host(&list, &host), "sentinel: host 3");
    tap_is_str(host.data, host.len, "b", "sentinel: b");
    tap_ok(!webhook_redis_url_next_host(&list, &host), "sentinel: 3 hosts");

    tap_is_int(parse("sentinel://a,,b/m", &u, &err), WEBHOOK_OK,
               "sentinel URL: an empty host is the caller's to refuse");
    list = u.host;
    (void) webhook_redis_url_next_host(&list, &host);
    tap_ok(webhook_redis_url_next_host(&list, &host) && host.len == 0,
           "sentinel: the empty host is reported");
    tap_is_int(parse("sentinel://a:26379", &u, &err), WEBHOOK_MALFORMED,
               "sentinel URL: no master name");
    tap_is_int(parse("sentinel://a/", &u, &err), WEBHOOK_MALFORMED,
               "sentinel URL: an empty master name");
    tap_is_int(parse("sentinel:///m", &u, &err), WEBHOOK_MALFORMED,
               "sentinel URL: no hosts");
    tap_is_int(parse("sentinel://a/my master", &u, &err), WEBHOOK_MALFORMED,
               "sentinel URL: a space in the master name");
    tap_is_int(parse("sentinel://a/m/x", &u, &err), WEBHOOK_MALFORMED,
               "sentinel URL: a slash in the master name");
}
