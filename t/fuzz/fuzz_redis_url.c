/*
 * libFuzzer target: webhook_redis URLs, split before nginx resolves the
 * hosts ("redis://host[:port][/db]", "unix:/path",
 * "sentinel://host[:port],.../MASTER"):
 *  - an accepted URL's spans lie inside it; a socket path is absolute
 *    and holds no NUL; a host is not empty and holds no "/"; the database
 *    is in range; a master name is printable ASCII without spaces, and
 *    the sentinel host list walks back to itself, comma by comma;
 *  - the parts put back together give the URL again.
 *
 *     ./build.sh fuzz [SECONDS]      (t/fuzz/run.sh SECONDS fuzz_redis_url)
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_redis_url.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc;
    size_t                n, i, dblen;
    webhook_str_t         list, host;
    int64_t               v;
    const char           *err;
    unsigned char        *url, *back;
    webhook_redis_url_t   u;

    url = malloc(size ? size : 1);
    CHECK(url != NULL);
    memcpy(url, data, size);

    err = NULL;
    rc = webhook_redis_url_parse(url, size, &u, &err);

    if (rc != WEBHOOK_OK) {
        CHECK(rc == WEBHOOK_MALFORMED && err != NULL);
        free(url);
        return 0;
    }

    back = malloc(size + 32);
    CHECK(back != NULL);

    if (u.sentinel) {
        CHECK(u.host.data == url + 11 && u.host.len > 0);
        CHECK(u.master.len > 0 && u.master.data == u.host.data + u.host.len + 1);
        CHECK(u.master.data + u.master.len == url + size);

        for (i = 0; i < u.master.len; i++) {
            CHECK(u.master.data[i] > 0x20 && u.master.data[i] < 0x7f
                  && u.master.data[i] != '/');
        }

        memcpy(back, "sentinel://", 11);
        n = 11;
        list = u.host;
        i = 0;

        while (webhook_redis_url_next_host(&list, &host)) {
            CHECK(host.data >= u.host.data
                  && host.data + host.len <= u.host.data + u.host.len);
            CHECK(memchr(host.data, ',', host.len) == NULL);
            if (i++) {
                back[n++] = ',';
            }
            memcpy(back + n, host.data, host.len);
            n += host.len;
        }

        back[n++] = '/';
        memcpy(back + n, u.master.data, u.master.len);
        n += u.master.len;

    } else if (u.unix_socket) {
        CHECK(u.path.data == url + 5 && u.path.len == size - 5);
        CHECK(u.path.len > 0 && u.path.data[0] == '/');
        CHECK(memchr(u.path.data, '\0', u.path.len) == NULL);

        memcpy(back, "unix:", 5);
        memcpy(back + 5, u.path.data, u.path.len);
        n = 5 + u.path.len;

    } else {
        CHECK(u.host.data == url + 8 && u.host.len > 0);
        CHECK(u.host.data + u.host.len <= url + size);
        CHECK(memchr(u.host.data, '/', u.host.len) == NULL);
        CHECK(u.db >= 0 && u.db <= WEBHOOK_REDIS_DB_MAX);

        memcpy(back, "redis://", 8);
        memcpy(back + 8, u.host.data, u.host.len);
        n = 8 + u.host.len;

        if (n < size) {
            /* "/", then the database's digits (leading zeros allowed) */
            back[n++] = '/';
            dblen = size - n;

            if (dblen) {
                /* every byte a digit, and their value is the database */
                v = 0;
                for (i = 0; i < dblen; i++) {
                    CHECK(url[n + i] >= '0' && url[n + i] <= '9');
                    v = v * 10 + (url[n + i] - '0');
                    CHECK(v <= WEBHOOK_REDIS_DB_MAX);
                }
                CHECK(v == u.db);

                memcpy(back + n, url + n, dblen);
                n += dblen;

            } else {
                CHECK(u.db == 0);
            }
        }
    }

    CHECK(n == size && memcmp(back, url, size) == 0);

    free(back);
    free(url);

    return 0;
}
