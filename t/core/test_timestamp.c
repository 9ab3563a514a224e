/*
 * Unit tests: timestamp parsing and the tolerance check.
 */


#include <string.h>

#include "webhook_timestamp.h"
#include "test_core.h"


typedef struct {
    const char           *text;
    webhook_ts_format_t   format;
    int                   rc;
    int64_t               sec;
} ts_case_t;


static void test_parse(void);
static void test_check(void);


#define AUTO   WEBHOOK_TS_AUTO
#define SEC    WEBHOOK_TS_SECONDS
#define MS     WEBHOOK_TS_MILLISECONDS
#define RFC    WEBHOOK_TS_RFC3339
#define OK     WEBHOOK_OK
#define BAD    WEBHOOK_MALFORMED
#define NONE   WEBHOOK_MISSING


static const ts_case_t  cases[] = {

    /* integers */

    { "1700000000",             AUTO, OK,   1700000000 },
    { "1700000000",             SEC,  OK,   1700000000 },
    { "1700000000000",          MS,   OK,   1700000000 },
    { "1700000000999",          MS,   OK,   1700000000 },
    { "1700000000000",          AUTO, OK,   1700000000 },
    { "1700000000999",          AUTO, OK,   1700000000 },
    { "1700000000000",          SEC,  OK,   1700000000000LL },
    { "1700000000",             MS,   OK,   1700000 },
    { "0",                      AUTO, OK,   0 },
    { "0",                      MS,   OK,   0 },
    { "0001700000000",          AUTO, OK,   1700000000 },
    { "99999999999",            AUTO, OK,   99999999999LL },
    { "100000000000",           AUTO, OK,   100000000 },
    { "9223372036854775807",    SEC,  OK,   INT64_MAX },
    { "9223372036854775807",    AUTO, OK,   INT64_MAX / 1000 },
    { "9223372036854775807",    MS,   OK,   INT64_MAX / 1000 },
    { "9223372036854775808",    SEC,  BAD,  0 },
    { "9223372036854775808",    AUTO, BAD,  0 },
    { "9999999999999999999",    SEC,  BAD,  0 },
    { "18446744073709551616",   SEC,  BAD,  0 },
    { "12345678901234567890",   AUTO, BAD,  0 },
    { "00000000000000000001",   SEC,  BAD,  0 },
    { "99999999999999999999999999999999", AUTO, BAD, 0 },
    { "1e9",                    AUTO, BAD,  0 },
    { "1e9",                    SEC,  BAD,  0 },
    { "+1700000000",            AUTO, BAD,  0 },
    { "+1700000000",            SEC,  BAD,  0 },
    { "-1700000000",            SEC,  BAD,  0 },
    { " 1700000000",            AUTO, BAD,  0 },
    { " 1700000000",            SEC,  BAD,  0 },
    { "1700000000 ",            SEC,  BAD,  0 },
    { "1700000000.5",           SEC,  BAD,  0 },
    { "1700000000.5",           AUTO, BAD,  0 },
    { "0x10",                   SEC,  BAD,  0 },
    { "1700000000\n",           AUTO, BAD,  0 },
    { "\xd9\xa1",               AUTO, BAD,  0 },
    { "2023-11-14T22:13:20Z",   SEC,  BAD,  0 },
    { "2023-11-14T22:13:20Z",   MS,   BAD,  0 },
    { "",                       AUTO, NONE, 0 },
    { "",                       SEC,  NONE, 0 },
    { "",                       MS,   NONE, 0 },
    { "",                       RFC,  NONE, 0 },

    /* RFC 3339 */

    { "2023-11-14T22:13:20Z",                 AUTO, OK, 1700000000 },
    { "2023-11-14T22:13:20Z",                 RFC,  OK, 1700000000 },
    { "2023-11-14T22:13:20.123456789Z",       RFC,  OK, 1700000000 },
    { "2023-11-14T22:13:20.123456789Z",       AUTO, OK, 1700000000 },
    { "2023-11-14T22:13:20.999999999Z",       AUTO, OK, 1700000000 },
    { "2023-11-14T22:13:20.5Z",               AUTO, OK, 1700000000 },
    { "2023-11-14T22:13:20.123456789012345678Z", AUTO, OK, 1700000000 },
    { "2023-11-14T22:13:20.1234567890123456789Z", AUTO, BAD, 0 },
    { "2023-11-14T22:13:20.Z",                AUTO, BAD, 0 },
    { "2023-11-14T22:13:20.",                 AUTO, BAD, 0 },
    { "2023-11-14T22:13:20.5",                AUTO, BAD, 0 },
    { "2023-11-14t22:13:20z",                 AUTO, OK, 1700000000 },
    { "2023-11-14 22:13:20Z",                 AUTO, OK, 1700000000 },
    { "2023-11-14T23:13:20+01:00",            AUTO, OK, 1700000000 },
    { "2023-11-14T17:13:20-05:00",            AUTO, OK, 1700000000 },
    { "2023-11-15T03:43:20+05:30",            AUTO, OK, 1700000000 },
    { "2023-11-14T22:13:20.75-00:00",         AUTO, OK, 1700000000 },
    { "2023-11-15T21:13:20+23:00",            AUTO, OK, 1700000000 },
    { "2023-11-14T22:13:20+24:00",            AUTO, BAD, 0 },
    { "2023-11-14T22:13:20+01:60",            AUTO, BAD, 0 },
    { "2023-11-14T22:13:20+0100",             AUTO, BAD, 0 },
    { "2023-11-14T22:13:20+01",               AUTO, BAD, 0 },
    { "2023-11-14T22:13:20+01:00:00",         AUTO, BAD, 0 },
    { "2023-11-14T22:13:20+1:00",             AUTO, BAD, 0 },
    { "2023-11-14T22:13:20 +01:00",           AUTO, BAD, 0 },
    { "2023-11-14T22:13:20",                  AUTO, BAD, 0 },
    { "2023-11-14T22:13:20ZZ",                AUTO, BAD, 0 },
    { "2023-11-14T22:13:20Z ",                AUTO, BAD, 0 },
    { " 2023-11-14T22:13:20Z",                AUTO, BAD, 0 },
    { "2023-11-14T22:13:20UTC",               AUTO, BAD, 0 },
    { "2023-11-14",                           AUTO, BAD, 0 },
    { "2023-11-14X22:13:20Z",                 AUTO, BAD, 0 },
    { "2023/11/14T22:13:20Z",                 AUTO, BAD, 0 },
    { "2023-1-14T22:13:20Z",                  AUTO, BAD, 0 },
    { "2023-11-14T22:13:2Z",                  AUTO, BAD, 0 },
    { "+2023-11-14T22:13:20Z",                AUTO, BAD, 0 },
    { "12023-11-14T22:13:20Z",                AUTO, BAD, 0 },
    { "2023-11-14T22-13-20Z",                 AUTO, BAD, 0 },
    { "1700000000",                           RFC,  BAD, 0 },
    { "Tue, 14 Nov 2023 22:13:20 GMT",        AUTO, BAD, 0 },

    /* calendar edges */

    { "1970-01-01T00:00:00Z",   AUTO, OK, 0 },
    { "1969-12-31T23:59:59Z",   AUTO, OK, -1 },
    { "1969-12-31T23:59:59.9Z", AUTO, OK, -1 },
    { "0000-01-01T00:00:00Z",   AUTO, OK, -62167219200LL },
    { "0000-01-01T00:00:00+23:59", AUTO, OK, -62167219200LL - 86340 },
    { "9999-12-31T23:59:59Z",   AUTO, OK, 253402300799LL },
    { "9999-12-31T23:59:59-23:59", AUTO, OK, 253402300799LL + 86340 },
    { "2024-02-29T00:00:00Z",   AUTO, OK, 1709164800 },
    { "2000-02-29T00:00:00Z",   AUTO, OK, 951782400 },
    { "2023-02-29T00:00:00Z",   AUTO, BAD, 0 },
    { "1900-02-29T00:00:00Z",   AUTO, BAD, 0 },
    { "2100-02-29T00:00:00Z",   AUTO, BAD, 0 },
    { "2024-02-30T00:00:00Z",   AUTO, BAD, 0 },
    { "2023-03-01T00:00:00Z",   AUTO, OK, 1677628800 },
    { "2023-12-31T23:59:59Z",   AUTO, OK, 1704067199 },
    { "2023-13-01T00:00:00Z",   AUTO, BAD, 0 },
    { "2023-00-01T00:00:00Z",   AUTO, BAD, 0 },
    { "2023-01-00T00:00:00Z",   AUTO, BAD, 0 },
    { "2023-01-32T00:00:00Z",   AUTO, BAD, 0 },
    { "2023-04-31T00:00:00Z",   AUTO, BAD, 0 },
    { "2023-11-14T24:00:00Z",   AUTO, BAD, 0 },
    { "2023-11-14T23:60:00Z",   AUTO, BAD, 0 },
    { "2016-12-31T23:59:60Z",   AUTO, OK, 1483228800 },
    { "2016-12-31T23:59:61Z",   AUTO, BAD, 0 },
    { "2023-11-14T22:13:99Z",   AUTO, BAD, 0 },
};


void
test_timestamp(void)
{
    test_parse();
    test_check();

    tap_free_all();
}


static void
test_parse(void)
{
    int                   rc;
    size_t                i, len;
    int64_t               sec;
    const ts_case_t      *c;
    const unsigned char  *p;

    static const char  *names[] = { "auto", "seconds", "ms", "rfc3339" };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        c = &cases[i];
        len = strlen(c->text);
        p = tap_dup(c->text, len);

        sec = 0x5a5a;
        rc = webhook_parse_timestamp(p, len, c->format, &sec);

        if (c->rc == OK) {
            if (!tap_ok(rc == OK && sec == c->sec, "ts %s \"%s\" = %lld",
                        names[c->format], c->text, (long long) c->sec))
            {
                tap_diag("got rc %d, sec %lld", rc, (long long) sec);
            }

        } else {
            tap_is_int(rc, c->rc, "ts %s \"%s\" is %s", names[c->format],
                       c->text, c->rc == NONE ? "missing" : "malformed");
        }
    }

    /* the bytes after len are never looked at */

    p = tap_dup("17000000009", 11);
    rc = webhook_parse_timestamp(p, 10, AUTO, &sec);
    tap_ok(rc == OK && sec == 1700000000, "ts: only len bytes are read");

    p = tap_dup("2023-11-14T22:13:20Z", 20);
    tap_is_int(webhook_parse_timestamp(p, 19, AUTO, &sec), BAD,
               "ts: a zone beyond len is not seen");

    tap_is_int(webhook_parse_timestamp(tap_dup("1", 1), 1,
                                       (webhook_ts_format_t) 9, &sec),
               BAD, "ts: unknown format");
}


static void
test_check(void)
{
    tap_is_int(webhook_check_timestamp(1000, 700, 300), WEBHOOK_TS_VALID,
               "check: exactly tolerance old is valid");
    tap_is_int(webhook_check_timestamp(1000, 699, 300), WEBHOOK_TS_EXPIRED,
               "check: one second older is expired");
    tap_is_int(webhook_check_timestamp(1000, 1300, 300), WEBHOOK_TS_VALID,
               "check: exactly tolerance ahead is valid");
    tap_is_int(webhook_check_timestamp(1000, 1301, 300), WEBHOOK_TS_FUTURE,
               "check: one second further is future");
    tap_is_int(webhook_check_timestamp(1000, 1000, 300), WEBHOOK_TS_VALID,
               "check: now is valid");
    tap_is_int(webhook_check_timestamp(1000, 1000, 1), WEBHOOK_TS_VALID,
               "check: now, tolerance 1");
    tap_is_int(webhook_check_timestamp(1000, 998, 1), WEBHOOK_TS_EXPIRED,
               "check: tolerance 1, two seconds old");
    tap_is_int(webhook_check_timestamp(1700000000, 0, 0), WEBHOOK_TS_VALID,
               "check: tolerance 0 disables");
    tap_is_int(webhook_check_timestamp(0, INT64_MAX, 0), WEBHOOK_TS_VALID,
               "check: tolerance 0 disables the future check too");
    tap_is_int(webhook_check_timestamp(1000, 0, -5), WEBHOOK_TS_VALID,
               "check: a negative tolerance is off");

    tap_is_int(webhook_check_timestamp(INT64_MAX, INT64_MIN, 300),
               WEBHOOK_TS_EXPIRED, "check: INT64_MAX now, INT64_MIN ts");
    tap_is_int(webhook_check_timestamp(INT64_MIN, INT64_MAX, 300),
               WEBHOOK_TS_FUTURE, "check: INT64_MIN now, INT64_MAX ts");
    tap_is_int(webhook_check_timestamp(INT64_MAX, INT64_MIN, INT64_MAX),
               WEBHOOK_TS_EXPIRED, "check: full span beyond INT64_MAX");
    tap_is_int(webhook_check_timestamp(INT64_MIN, INT64_MAX, INT64_MAX),
               WEBHOOK_TS_FUTURE, "check: full span ahead beyond INT64_MAX");
    tap_is_int(webhook_check_timestamp(INT64_MAX, 0, INT64_MAX),
               WEBHOOK_TS_VALID, "check: INT64_MAX apart, INT64_MAX tolerance");
    tap_is_int(webhook_check_timestamp(0, INT64_MIN, INT64_MAX),
               WEBHOOK_TS_EXPIRED, "check: 2^63 apart, INT64_MAX tolerance");
    tap_is_int(webhook_check_timestamp(-1, INT64_MIN, INT64_MAX),
               WEBHOOK_TS_VALID, "check: 2^63-1 apart, INT64_MAX tolerance");
    tap_is_int(webhook_check_timestamp(INT64_MIN, INT64_MIN + 300, 300),
               WEBHOOK_TS_VALID, "check: at INT64_MIN, exactly tolerance");
    tap_is_int(webhook_check_timestamp(INT64_MAX, INT64_MAX - 301, 300),
               WEBHOOK_TS_EXPIRED, "check: at INT64_MAX, one beyond");
    tap_is_int(webhook_check_timestamp(INT64_MAX, INT64_MAX, 300),
               WEBHOOK_TS_VALID, "check: INT64_MAX both");
}
