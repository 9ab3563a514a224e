/*
 * libFuzzer target: CIDR parsing and matching (allowlist files are
 * operator input, but a typo must never crash nginx -t):
 *  - an accepted CIDR keeps no bit below its mask, and its own network
 *    address always matches it.
 *
 *     t/fuzz/run.sh [SECONDS] fuzz_cidr
 */


#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "webhook_cidr.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cidr(const uint8_t *data, size_t size);


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_cidr(data, size);

    return 0;
}


static void
check_cidr(const uint8_t *data, size_t size)
{
    size_t          i, n;
    webhook_cidr_t  c;

    if (webhook_cidr_parse(data, size, &c) != WEBHOOK_OK) {
        return;
    }

    CHECK(c.family == AF_INET || c.family == AF_INET6);

    n = (c.family == AF_INET) ? 4 : 16;

    CHECK(c.prefix <= n * 8);

    for (i = 0; i < n; i++) {
        CHECK((c.addr[i] & ~c.mask[i]) == 0);
    }

    CHECK(webhook_cidr_match(&c, c.family, c.addr));
}

