/*
 * libFuzzer target: CIDR parsing and matching (allowlist files are
 * operator input, but a typo must never crash nginx -t), and the
 * sliding-window arithmetic over arbitrary counts:
 *  - an accepted CIDR keeps no bit below its mask, and its own network
 *    address always matches it;
 *  - a window verdict never admits past the limit and never reports more
 *    remaining than the limit.
 *
 *     t/fuzz/run.sh [SECONDS] fuzz_cidr
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "webhook_cidr.h"
#include "webhook_window.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cidr(const uint8_t *data, size_t size);
static void check_window(const uint8_t *data, size_t size);


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_cidr(data, size);
    check_window(data, size);

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


static void
check_window(const uint8_t *data, size_t size)
{
    uint64_t                  prev, cur, limit;
    int64_t                   period, elapsed;
    webhook_window_verdict_t  v;

    if (size < 20) {
        return;
    }

    prev = cur = limit = 0;
    period = elapsed = 0;

    memcpy(&prev, data, 4);
    memcpy(&cur, data + 4, 4);
    memcpy(&limit, data + 8, 4);
    memcpy(&period, data + 12, 4);
    memcpy(&elapsed, data + 16, 4);

    prev &= 0xffffffff;
    cur &= 0xffffffff;
    limit = (limit & 0xffffffff) % WEBHOOK_WINDOW_LIMIT_MAX + 1;
    period = (period & 0xffffffff) % WEBHOOK_WINDOW_PERIOD_MAX + 1;
    elapsed = (elapsed & 0xffffffff) % period;

    webhook_window_check(prev, cur, elapsed, period, limit, &v);

    CHECK(v.remaining < limit);
    CHECK(v.reset_ms >= 0 && v.reset_ms <= 2 * period);

    if (v.admit) {
        CHECK(cur + 1 <= limit);
    }
}
