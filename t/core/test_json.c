
/*
 * The JSON member scanner (src/core/webhook_json.c): members found by
 * path, in document order, with the same answer however the document is
 * split into pieces; malformed documents refused up to where it stops.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_core.h"
#include "webhook_json.h"


typedef struct {
    char    out[4096];
    size_t  len;
    int     stop_after;     /* stop at this many reports, 0: never */
    int     reports;
} found_t;


static int
collect(void *data, size_t path, webhook_json_type_e type,
    const unsigned char *token, size_t len)
{
    found_t     *f = data;
    const char  *t;

    t = (type == WEBHOOK_JSON_STRING) ? "S" : (type == WEBHOOK_JSON_NUMBER)
        ? "N" : (type == WEBHOOK_JSON_OTHER) ? "O" : "L";

    f->len += snprintf(f->out + f->len, sizeof(f->out) - f->len,
                       "%s%zu:%s:%.*s", f->len ? " " : "", path, t,
                       (int) len, token ? (const char *) token : "");

    return (f->stop_after && ++f->reports >= f->stop_after);
}


/*
 * Scan doc[0..len) for the paths in pieces of chunk bytes (0: whole);
 * the reports in f, the result (feed's last answer, then end's).
 */

static int
scan_chunks(const char *doc, size_t len, const char *const *paths,
    size_t npaths, size_t chunk, int stop_after, found_t *f)
{
    int                   rc;
    size_t                off, n;
    webhook_json_t        js;
    const unsigned char  *copy;

    memset(f, 0, sizeof(*f));
    f->stop_after = stop_after;

    if (webhook_json_init(&js, paths, npaths, collect, f) != WEBHOOK_OK) {
        return -100;
    }

    rc = WEBHOOK_JSON_AGAIN;

    for (off = 0; off < len && rc == WEBHOOK_JSON_AGAIN; off += n) {
        n = (chunk && len - off > chunk) ? chunk : len - off;

        /* each piece its own allocation: ASan sees a read past it */
        copy = tap_dup(doc + off, n);
        rc = webhook_json_feed(&js, copy, n);
    }

    if (rc == WEBHOOK_JSON_AGAIN) {
        rc = webhook_json_end(&js);
    }

    return rc;
}


/* whole, byte by byte and in 7-byte pieces: all must agree */

static void
expect(const char *doc, const char *const *paths, size_t npaths,
    int stop_after, int rc, const char *out, const char *name)
{
    int      got;
    size_t   i;
    found_t  f;

    static const size_t  chunks[] = { 0, 1, 7 };

    for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        got = scan_chunks(doc, strlen(doc), paths, npaths, chunks[i],
                          stop_after, &f);

        tap_is_int(got, rc, "%s: result (pieces of %zu)", name, chunks[i]);
        tap_is_str(f.out, f.len, out, "%s: members (pieces of %zu)", name,
                   chunks[i]);
    }
}


#define P(...)  (const char *const []) { __VA_ARGS__ }
#define N(...)  (sizeof((const char *const []) { __VA_ARGS__ })               \
                 / sizeof(const char *))
#define PATHS(...)  P(__VA_ARGS__), N(__VA_ARGS__)


static void
test_json_found(void)
{
    expect("{\"id\":\"evt_1\",\"type\":\"invoice.paid\"}", PATHS("id", "type"),
           0, WEBHOOK_JSON_DONE, "0:S:\"evt_1\" 1:S:\"invoice.paid\"",
           "top-level members");

    expect(" \r\n\t{ \"type\" : \"a\" ,\n \"id\" : 42 } \n",
           PATHS("id", "type"), 0, WEBHOOK_JSON_DONE, "1:S:\"a\" 0:N:42",
           "whitespace everywhere, document order");

    expect("{\"signature\":{\"timestamp\":\"1700000000\",\"token\":\"tok\","
           "\"signature\":\"ab\"},\"event-data\":{\"id\":\"E1\","
           "\"event\":\"delivered\",\"n\":[1,{\"id\":\"no\"}]}}",
           PATHS("event-data.id", "signature.token", "signature.signature"),
           0, WEBHOOK_JSON_DONE,
           "1:S:\"tok\" 2:S:\"ab\" 0:S:\"E1\"", "nested members (Mailgun)");

    expect("{\"data\":{\"id\":\"inner\"},\"id\":\"outer\"}", PATHS("id"),
           0, WEBHOOK_JSON_DONE, "0:S:\"outer\"",
           "a member of the same name deeper is not the path");

    expect("[{\"eventId\":\"a\"},{\"eventId\":\"b\"}]",
           PATHS("0.eventId", "1.eventId", "2.eventId"),
           0, WEBHOOK_JSON_DONE, "0:S:\"a\" 1:S:\"b\"", "array indexes");

    expect("{\"entry\":[{\"id\":\"x\",\"changes\":[{\"field\":\"messages\","
           "\"value\":{\"messages\":[{\"id\":\"wamid.1\"}]}}]}]}",
           PATHS("entry.0.changes.0.value.messages.0.id", "entry.0.id",
                 "entry.0.changes.0.field"),
           0, WEBHOOK_JSON_DONE,
           "1:S:\"x\" 2:S:\"messages\" 0:S:\"wamid.1\"", "WhatsApp paths");

    expect("{\"0\":\"key\"}", PATHS("0"), 0, WEBHOOK_JSON_DONE, "0:S:\"key\"",
           "a digit segment names a key in an object");

    expect("{\"items\":[{\"id\":1},{\"x\":2},{\"id\":\"3\"}],\"m\":{\"a\":"
           "true,\"b\":null}}", PATHS("items.*.id", "m.*"),
           0, WEBHOOK_JSON_DONE, "0:N:1 0:S:\"3\" 1:O: 1:O:",
           "'*' matches every item and every member");

    expect("{\"id\":{\"a\":1},\"x\":[\"id\"],\"type\":[1],\"t\":true,"
           "\"f\":false,\"n\":null}", PATHS("id", "type", "t", "f", "n"),
           0, WEBHOOK_JSON_DONE, "0:O: 1:O: 2:O: 3:O: 4:O:",
           "objects, arrays and literals are reported without a token");

    expect("{\"id\":\"a\\\"b\\\\c\\u00e9\\/\",\"n\":-0.5e+10}",
           PATHS("id", "n"), 0, WEBHOOK_JSON_DONE,
           "0:S:\"a\\\"b\\\\c\\u00e9\\/\" 1:N:-0.5e+10",
           "tokens are passed as sent, escapes and all");

    expect("{\"id\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
           PATHS("id"), 0, WEBHOOK_JSON_DONE,
           "0:S:\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
           "UTF-8 in a token");

    expect("{\"a\":1}", PATHS("id"), 0, WEBHOOK_JSON_DONE, "",
           "absent: done, nothing reported");

    expect("[]", PATHS("0"), 0, WEBHOOK_JSON_DONE, "", "empty array");
    expect("{}", PATHS("id"), 0, WEBHOOK_JSON_DONE, "", "empty object");
    expect("12", PATHS("id"), 0, WEBHOOK_JSON_DONE, "", "a top-level number");
    expect("\"s\"", PATHS("id"), 0, WEBHOOK_JSON_DONE, "",
           "a top-level string");
}


static void
test_json_keys(void)
{
    expect("{\"\\u0069d\":\"x\"}", PATHS("id"), 0, WEBHOOK_JSON_DONE,
           "0:S:\"x\"", "keys are compared decoded");

    expect("{\"\\ud83d\\ude00\":\"smile\",\"\\u00e9\":1}",
           PATHS("\xf0\x9f\x98\x80", "\xc3\xa9"), 0, WEBHOOK_JSON_DONE,
           "0:S:\"smile\" 1:N:1", "surrogate pairs and \\u00e9 in keys");

    expect("{\"\\ud83did\":1,\"\\ude00\":2,\"i\\u0000d\":3,\"\\ud83d\":4}",
           PATHS("id", "*"), 0, WEBHOOK_JSON_DONE,
           "1:N:1 1:N:2 1:N:3 1:N:4",
           "a lone surrogate or U+0000 in a key names nothing");

    expect("{\"i\\nd\":1,\"id\\t\":2}", PATHS("i\nd", "id\t"), 0,
           WEBHOOK_JSON_DONE, "0:N:1 1:N:2", "short escapes in keys");

    expect("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
           "aaaaaaa\":1}",
           PATHS("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                 "aaaaaaa", "*"), 0, WEBHOOK_JSON_DONE, "1:N:1",
           "a key longer than the key buffer matches only '*'");
}


static void
test_json_duplicates(void)
{
    expect("{\"id\":\"first\",\"id\":\"second\"}", PATHS("id"), 0,
           WEBHOOK_JSON_DONE, "0:S:\"first\" 0:S:\"second\"",
           "duplicates are all reported, in order");

    expect("{\"id\":\"first\",\"id\":\"second\"}", PATHS("id"), 1,
           WEBHOOK_JSON_DONE, "0:S:\"first\"",
           "a caller stopping at the first: the first wins");
}


static void
test_json_stop(void)
{
    /* what follows the last wanted member is never read */

    expect("{\"id\":\"a\",\"type\":\"b\", garbage", PATHS("id", "type"), 2,
           WEBHOOK_JSON_DONE, "0:S:\"a\" 1:S:\"b\"",
           "stops when the handler says so");

    expect("{\"id\":\"a\",\"type\":\"b\", garbage", PATHS("id", "type"), 0,
           WEBHOOK_JSON_ERROR, "0:S:\"a\" 1:S:\"b\"",
           "without stopping, the garbage is refused");

    expect("{\"id\":7,", PATHS("id"), 1, WEBHOOK_JSON_DONE, "0:N:7",
           "a number is complete at its delimiter");
}


static void
test_json_malformed(void)
{
    size_t  i;

    static const char  *bad[] = {
        "", " ", "{", "[", "{\"id\"", "{\"id\":", "{\"id\":\"a", "{\"a\":1,}",
        "[1,]", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{1:2}", "{\"a\":tru}",
        "{\"a\":truex}", "{\"a\":nul}", "{\"a\":01}", "{\"a\":-}",
        "{\"a\":1.}", "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":.5}",
        "{\"a\":+1}", "{\"a\":1]", "[1}", "{\"a\":\"\x01\"}",
        "{\"a\":\"\\x\"}", "{\"a\":\"\\u12g4\"}", "{\"a\":\"\xc0\x80\"}",
        "{\"a\":\"\xc1\xbf\"}", "{\"a\":\"\xe0\x80\x80\"}",
        "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf0\x80\x80\x80\"}",
        "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xf5\x80\x80\x80\"}",
        "{\"a\":\"\x80\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xe2\x82\"}",
        "{} {}", "{}x", "\xef\xbb\xbf{}", "{'a':1}", "[1 2]", "{\"a\"::1}",
        "12 3", "-", "nan", "{\"a\":[}", "{\"\x01\":1}",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect(bad[i], PATHS("zz"), 0, WEBHOOK_JSON_ERROR, "",
               "malformed refused");
    }

    /* the error comes before the member: nothing is reported */

    expect("{\"x\":[1,2,,3],\"id\":\"a\"}", PATHS("id"), 1, WEBHOOK_JSON_ERROR,
           "", "an error before the member hides it");

}


static void
test_json_limits(void)
{
    int      rc;
    char     doc[4096], *p;
    size_t   i;
    found_t  f;

    /* depth: WEBHOOK_JSON_MAX_DEPTH containers are fine, one more is not */

    p = doc;
    for (i = 0; i < WEBHOOK_JSON_MAX_DEPTH; i++) {
        *p++ = '[';
    }
    for (i = 0; i < WEBHOOK_JSON_MAX_DEPTH; i++) {
        *p++ = ']';
    }

    rc = scan_chunks(doc, p - doc, PATHS("0"), 0, 0, &f);
    tap_is_int(rc, WEBHOOK_JSON_DONE, "nesting at the depth limit");

    p = doc;
    for (i = 0; i <= WEBHOOK_JSON_MAX_DEPTH; i++) {
        *p++ = '[';
    }
    for (i = 0; i <= WEBHOOK_JSON_MAX_DEPTH; i++) {
        *p++ = ']';
    }

    rc = scan_chunks(doc, p - doc, PATHS("0"), 0, 0, &f);
    tap_is_int(rc, WEBHOOK_JSON_ERROR, "one level deeper is refused");

    /* a token of exactly the maximum, and one byte more */

    p = doc;
    p += sprintf(p, "{\"id\":\"");
    memset(p, 'x', WEBHOOK_JSON_TOKEN_MAX - 2);
    p += WEBHOOK_JSON_TOKEN_MAX - 2;
    p += sprintf(p, "\",\"n\":\"");
    memset(p, 'y', WEBHOOK_JSON_TOKEN_MAX - 1);
    p += WEBHOOK_JSON_TOKEN_MAX - 1;
    p += sprintf(p, "\",\"k\":1}");

    rc = scan_chunks(doc, p - doc, PATHS("id", "n", "k"), 5, 0, &f);
    tap_is_int(rc, WEBHOOK_JSON_DONE, "long tokens: scanned");
    tap_ok(f.len > WEBHOOK_JSON_TOKEN_MAX
           && strncmp(f.out, "0:S:\"xx", 7) == 0
           && strcmp(f.out + f.len - 12, "\" 1:L: 2:N:1") == 0,
           "a token of the maximum is whole, one longer is reported long");

    /* paths the scanner cannot take */

    tap_is_int(scan_chunks("{}", 2, PATHS(""), 0, 0, &f), -100,
               "an empty path is refused");
    tap_is_int(scan_chunks("{}", 2, PATHS("a..b"), 0, 0, &f), -100,
               "an empty segment is refused");
    tap_is_int(scan_chunks("{}", 2, PATHS("a."), 0, 0, &f), -100,
               "a trailing dot is refused");
    tap_is_int(scan_chunks("{}", 2,
                           PATHS("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17"),
                           0, 0, &f),
               -100, "more segments than the maximum are refused");
    tap_is_int(scan_chunks("{}", 2,
                           PATHS("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16"),
                           0, 0, &f),
               WEBHOOK_JSON_DONE, "the maximum of segments is taken");
    tap_is_int(scan_chunks("{}", 2,
                           PATHS("a", "a", "a", "a", "a", "a", "a", "a", "a",
                                 "a", "a", "a", "a", "a", "a", "a", "a"),
                           0, 0, &f),
               -100, "more paths than the maximum are refused");
}


static void
test_json_long_string(void)
{
    int      rc;
    char    *doc;
    size_t   i, len;
    found_t  f;

    /* a large body: the wanted member after 256 KiB of plain string */

    len = 256 * 1024;
    doc = malloc(len + 64);

    if (doc == NULL) {
        tap_ok(0, "malloc");
        return;
    }

    i = sprintf(doc, "{\"pad\":\"");
    memset(doc + i, 'x', len);
    i += len;
    i += sprintf(doc + i, "\",\"type\":\"t\"}");

    rc = scan_chunks(doc, i, PATHS("type"), 65536, 0, &f);
    tap_is_int(rc, WEBHOOK_JSON_DONE, "a long plain string is skipped");
    tap_is_str(f.out, f.len, "0:S:\"t\"", "the member after it is found");

    doc[100000] = '\x1f';
    rc = scan_chunks(doc, i, PATHS("type"), 65536, 0, &f);
    tap_is_int(rc, WEBHOOK_JSON_ERROR, "a control byte deep inside is refused");

    doc[100000] = '\xff';
    rc = scan_chunks(doc, i, PATHS("type"), 4093, 0, &f);
    tap_is_int(rc, WEBHOOK_JSON_ERROR, "a byte 0xff deep inside is refused");

    free(doc);
}


static void
test_json_simple(void)
{
    webhook_str_t  v;

#define SIMPLE(type, tok)                                                     \
    webhook_json_simple_value(type, (const unsigned char *) tok,             \
                              sizeof(tok) - 1, &v)

    tap_is_int(SIMPLE(WEBHOOK_JSON_STRING, "\"evt_1\""), WEBHOOK_OK,
               "simple: a string without escapes");
    tap_is_str(v.data, v.len, "evt_1", "simple: its bytes, unquoted");
    tap_is_int(SIMPLE(WEBHOOK_JSON_STRING, "\"\""), WEBHOOK_OK,
               "simple: the empty string");
    tap_is_int(v.len, 0, "simple: empty");
    tap_is_int(SIMPLE(WEBHOOK_JSON_STRING, "\"a\\nb\""), WEBHOOK_MALFORMED,
               "simple: escapes are for the library");
    tap_is_int(SIMPLE(WEBHOOK_JSON_NUMBER, "-12"), WEBHOOK_OK,
               "simple: an integer");
    tap_is_str(v.data, v.len, "-12", "simple: as sent");
    tap_is_int(SIMPLE(WEBHOOK_JSON_NUMBER, "-0"), WEBHOOK_OK, "simple: -0");
    tap_is_str(v.data, v.len, "0", "simple: -0 is 0");
    tap_is_int(SIMPLE(WEBHOOK_JSON_NUMBER, "999999999999999999"), WEBHOOK_OK,
               "simple: 18 digits");
    tap_is_int(SIMPLE(WEBHOOK_JSON_NUMBER, "9223372036854775807"),
               WEBHOOK_MALFORMED, "simple: 19 digits are for the library");
    tap_is_int(SIMPLE(WEBHOOK_JSON_NUMBER, "1.5"), WEBHOOK_MISSING,
               "simple: a fraction is no value");
    tap_is_int(SIMPLE(WEBHOOK_JSON_NUMBER, "1e3"), WEBHOOK_MISSING,
               "simple: an exponent is no value");
    tap_is_int(SIMPLE(WEBHOOK_JSON_OTHER, "{"), WEBHOOK_MALFORMED,
               "simple: not a token");

#undef SIMPLE
}


void
test_json(void)
{
    test_json_found();
    test_json_keys();
    test_json_duplicates();
    test_json_stop();
    test_json_malformed();
    test_json_limits();
    test_json_long_string();
    test_json_simple();
}
