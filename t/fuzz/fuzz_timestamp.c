/*
 * libFuzzer target: timestamp parsing in every format and the tolerance
 * check, each against an independent reference:
 *  - integers against a 128-bit accumulation;
 *  - accepted RFC 3339 values against glibc's timegm();
 *  - webhook_check_timestamp() against 128-bit arithmetic.
 *
 *     t/fuzz/run.sh [SECONDS]
 */


#define _GNU_SOURCE

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "webhook_timestamp.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_integer(const uint8_t *data, size_t size);
static void check_rfc3339(const uint8_t *data, size_t size);
static void check_tolerance(const uint8_t *data, size_t size);
static int64_t load64(const uint8_t *p);


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int      rc, fmt;
    int64_t  sec;

    for (fmt = WEBHOOK_TS_AUTO; fmt <= WEBHOOK_TS_RFC3339; fmt++) {
        rc = webhook_parse_timestamp(data, size, (webhook_ts_format_t) fmt,
                                     &sec);
        CHECK(rc == WEBHOOK_OK || rc == WEBHOOK_MALFORMED
              || (rc == WEBHOOK_MISSING && size == 0));
    }

    check_integer(data, size);
    check_rfc3339(data, size);
    check_tolerance(data, size);

    return 0;
}


static void
check_integer(const uint8_t *data, size_t size)
{
    int        rc_s, rc_ms, rc_auto, digits;
    size_t     i;
    int64_t    s, ms, a;
    __int128   v;

    digits = (size > 0);
    v = 0;

    for (i = 0; i < size; i++) {
        if (data[i] < '0' || data[i] > '9') {
            digits = 0;
            break;
        }

        if (v <= INT64_MAX) {
            v = v * 10 + (data[i] - '0');
        }
    }

    rc_s = webhook_parse_timestamp(data, size, WEBHOOK_TS_SECONDS, &s);
    rc_ms = webhook_parse_timestamp(data, size, WEBHOOK_TS_MILLISECONDS,
                                    &ms);
    rc_auto = webhook_parse_timestamp(data, size, WEBHOOK_TS_AUTO, &a);

    if (!digits || size > 19 || v > INT64_MAX) {
        CHECK(rc_s != WEBHOOK_OK && rc_ms != WEBHOOK_OK);

        if (digits) {
            CHECK(rc_auto == WEBHOOK_MALFORMED);
        }

        return;
    }

    CHECK(rc_s == WEBHOOK_OK && s == (int64_t) v);
    CHECK(rc_ms == WEBHOOK_OK && ms == (int64_t) (v / 1000));
    CHECK(rc_auto == WEBHOOK_OK
          && a == (v >= 100000000000LL ? (int64_t) (v / 1000) : (int64_t) v));
}


static void
check_rfc3339(const uint8_t *data, size_t size)
{
    int        rc, y, mo, d, h, mi, s, oh, om, n;
    char       buf[64], sep, zone;
    int64_t    sec, expect;
    struct tm  tm;
    const char  *z;

    rc = webhook_parse_timestamp(data, size, WEBHOOK_TS_RFC3339, &sec);

    if (rc != WEBHOOK_OK) {
        return;
    }

    /* accepted: the shape is known, so sscanf() can serve as reference */

    CHECK(size >= 20 && size < sizeof(buf));

    memcpy(buf, data, size);
    buf[size] = '\0';

    n = sscanf(buf, "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &sep, &h, &mi,
               &s);
    CHECK(n == 7);

    z = buf + 19;

    if (*z == '.') {
        z++;
        z += strspn(z, "0123456789");
    }

    zone = *z;
    oh = 0;
    om = 0;

    if (zone == '+' || zone == '-') {
        CHECK(sscanf(z + 1, "%2d:%2d", &oh, &om) == 2);

    } else {
        CHECK(zone == 'Z' || zone == 'z');
    }

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;

    expect = (int64_t) timegm(&tm);

    /* timegm() normalises: a date that does not exist would move */

    CHECK(tm.tm_mday == d || s == 60);

    if (zone == '+') {
        expect -= oh * 3600 + om * 60;

    } else if (zone == '-') {
        expect += oh * 3600 + om * 60;
    }

    CHECK(sec == expect);
}


static void
check_tolerance(const uint8_t *data, size_t size)
{
    int       rc, expect;
    int64_t   now, ts, tol;
    __int128  d;

    if (size < 24) {
        return;
    }

    now = load64(data);
    ts = load64(data + 8);
    tol = load64(data + 16);

    rc = webhook_check_timestamp(now, ts, tol);

    d = (__int128) ts - now;

    if (tol <= 0) {
        expect = WEBHOOK_TS_VALID;

    } else if (d < -(__int128) tol) {
        expect = WEBHOOK_TS_EXPIRED;

    } else if (d > tol) {
        expect = WEBHOOK_TS_FUTURE;

    } else {
        expect = WEBHOOK_TS_VALID;
    }

    CHECK(rc == expect);
}


static int64_t
load64(const uint8_t *p)
{
    uint64_t  v;

    memcpy(&v, p, sizeof(v));

    return (int64_t) v;
}
