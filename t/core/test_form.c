/*
 * Unit tests: form decoding and sorting, query parameters and the default
 * port variant of a URL (Twilio's scheme), with Twilio's documented
 * example as the end-to-end check.
 */


#include <stdio.h>
#include <string.h>

#include "webhook_codec.h"
#include "webhook_form.h"
#include "webhook_hmac.h"
#include "test_core.h"


static ssize_t parse(const char *body, webhook_form_param_t *params,
    size_t max);
static void test_parse(void);
static void test_sort(void);
static void test_limits(void);
static void test_twilio_example(void);
static void test_query(void);
static void test_port(void);
static void test_body_hash(void);


void
test_form(void)
{
    test_parse();
    test_sort();
    test_limits();
    test_twilio_example();
    test_query();
    test_port();
    test_body_hash();

    tap_free_all();
}


/* a heap copy exactly as long as the body, so ASan sees any overread */

static ssize_t
parse(const char *body, webhook_form_param_t *params, size_t max)
{
    return webhook_form_parse((unsigned char *) tap_dups(body),
                              strlen(body), params, max);
}


static void
test_parse(void)
{
    ssize_t               n;
    webhook_form_param_t  p[8];

    n = parse("a=1&b=%2B1+2&c=%e2%82%ac", p, 8);
    tap_is_int(n, 3, "parse: three pairs");
    tap_is_str(p[0].key, p[0].key_len, "a", "parse: first key");
    tap_is_str(p[0].value, p[0].value_len, "1", "parse: first value");
    tap_is_str(p[1].value, p[1].value_len, "+1 2",
               "parse: %%2B is '+', '+' is a space");
    tap_is_str(p[2].value, p[2].value_len, "\xe2\x82\xac",
               "parse: lower-case %%XX decodes to bytes");

    n = parse("k%3Dx=v%3D1=2", p, 8);
    tap_is_int(n, 1, "parse: one pair, split on the first '='");
    tap_is_str(p[0].key, p[0].key_len, "k=x", "parse: encoded '=' in a key");
    tap_is_str(p[0].value, p[0].value_len, "v=1=2",
               "parse: later '=' belong to the value");

    n = parse("&&a&b=&=c&", p, 8);
    tap_is_int(n, 3, "parse: empty pairs skipped");
    tap_is_str(p[0].key, p[0].key_len, "a", "parse: key without '='");
    tap_is_int((int64_t) p[0].value_len, 0, "parse: ... has an empty value");
    tap_is_int((int64_t) p[1].value_len, 0, "parse: 'b=' has an empty value");
    tap_is_int((int64_t) p[2].key_len, 0, "parse: '=c' has an empty key");
    tap_is_str(p[2].value, p[2].value_len, "c", "parse: ... and value c");

    n = parse("a=%&b=%4&c=%zz&d=%4g%41", p, 8);
    tap_is_int(n, 4, "parse: bad escapes");
    tap_is_str(p[0].value, p[0].value_len, "%", "parse: lone '%%' kept");
    tap_is_str(p[1].value, p[1].value_len, "%4",
               "parse: '%%4' at the end kept");
    tap_is_str(p[2].value, p[2].value_len, "%zz", "parse: '%%zz' kept");
    tap_is_str(p[3].value, p[3].value_len, "%4gA",
               "parse: '%%4g' kept, the next escape decoded");

    tap_is_int(parse("", p, 8), 0, "parse: empty body, no parameters");
    tap_is_int(parse("%00=%00", p, 8), 1, "parse: NUL bytes");
    tap_is_int((int64_t) p[0].key_len, 1, "parse: a NUL key has length 1");
}


static void
test_sort(void)
{
    size_t                n;
    webhook_form_param_t  p[8];

    n = (size_t) parse("b=2&a=2&B=1&a=1&a=2&a=10", p, 8);
    n = webhook_form_sort(p, n);

    tap_is_int((int64_t) n, 5, "sort: the duplicate a=2 dropped");
    tap_is_str(p[0].key, p[0].key_len, "B", "sort: upper case first");
    tap_is_str(p[1].value, p[1].value_len, "1", "sort: a=1");
    tap_is_str(p[2].value, p[2].value_len, "10",
               "sort: a=10, values bytewise");
    tap_is_str(p[3].value, p[3].value_len, "2", "sort: a=2");
    tap_is_str(p[4].key, p[4].key_len, "b", "sort: b last");

    n = (size_t) parse("ab=1&a=2", p, 8);
    n = webhook_form_sort(p, n);
    tap_is_str(p[0].key, p[0].key_len, "a", "sort: a prefix sorts first");

    tap_is_int((int64_t) webhook_form_sort(p, 0), 0, "sort: nothing");
}


static void
test_limits(void)
{
    char                  body[4 * (WEBHOOK_FORM_MAX_PARAMS + 1) + 1];
    size_t                i;
    webhook_form_param_t  p[WEBHOOK_FORM_MAX_PARAMS];

    body[0] = '\0';

    for (i = 0; i < WEBHOOK_FORM_MAX_PARAMS; i++) {
        strcat(body, "a=1&");
    }

    tap_is_int(parse(body, p, WEBHOOK_FORM_MAX_PARAMS),
               WEBHOOK_FORM_MAX_PARAMS, "limits: exactly the maximum");

    strcat(body, "b");

    tap_is_int(parse(body, p, WEBHOOK_FORM_MAX_PARAMS), WEBHOOK_MALFORMED,
               "limits: one more is refused");
}


/*
 * https://www.twilio.com/docs/usage/security#validating-requests:
 * token 12345, the URL, five parameters -> 0/KCTR6DLpKmkAf8muzZqo1nDgQ=
 */

static void
test_twilio_example(void)
{
    char                  b64[64];
    size_t                i, n, blen;
    const char           *url;
    unsigned char         mac[WEBHOOK_MAC_MAX];
    webhook_hmac_t       *h;
    webhook_form_param_t  p[8];

    url = "https://mycompany.com/myapp.php?foo=1&bar=2";

    n = (size_t) parse("To=%2B18005551212&From=%2B12349013030&Digits=1234"
                       "&Caller=%2B12349013030&CallSid=CA1234567890ABCDE",
                       p, 8);
    n = webhook_form_sort(p, n);

    h = webhook_hmac_new(WEBHOOK_SHA1, (const unsigned char *) "12345", 5);

    if (!tap_ok(h != NULL, "twilio: key")) {
        return;
    }

    webhook_hmac_start(h);
    webhook_hmac_update(h, url, strlen(url));

    for (i = 0; i < n; i++) {
        webhook_hmac_update(h, p[i].key, p[i].key_len);
        webhook_hmac_update(h, p[i].value, p[i].value_len);
    }

    webhook_hmac_finish(h, mac);
    webhook_hmac_free(h);

    blen = webhook_base64_encode(b64, mac, 20);

    tap_is_str(b64, blen, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
               "twilio: the documented example, from an unsorted body");
}


static void
test_query(void)
{
    int            rc;
    const char    *url;
    webhook_str_t  v;

    url = "https://h/p?a=1&bodySHA256=abc&bodySHA256=def#frag";

    rc = webhook_url_query_param(tap_dups(url), strlen(url), "bodySHA256",
                                 &v);
    tap_is_int(rc, WEBHOOK_OK, "query: found");
    tap_is_str(v.data, v.len, "abc", "query: the first of two");

    url = "https://h/p?xbodySHA256=1&bodySHA2560=2";
    rc = webhook_url_query_param(tap_dups(url), strlen(url), "bodySHA256",
                                 &v);
    tap_is_int(rc, WEBHOOK_MISSING, "query: names compare exactly");

    url = "https://h/bodySHA256=1#?bodySHA256=2";
    rc = webhook_url_query_param(tap_dups(url), strlen(url), "bodySHA256",
                                 &v);
    tap_is_int(rc, WEBHOOK_MISSING, "query: a '?' after '#' starts none");

    url = "https://h/p?bodySHA256";
    rc = webhook_url_query_param(tap_dups(url), strlen(url), "bodySHA256",
                                 &v);
    tap_is_int(rc, WEBHOOK_MISSING, "query: a name without '=' is no value");

    url = "https://h/p?bodySHA256=";
    rc = webhook_url_query_param(tap_dups(url), strlen(url), "bodySHA256",
                                 &v);
    tap_ok(rc == WEBHOOK_OK && v.len == 0, "query: an empty value");

    url = "https://h/p";
    rc = webhook_url_query_param(tap_dups(url), strlen(url), "bodySHA256",
                                 &v);
    tap_is_int(rc, WEBHOOK_MISSING, "query: no query");
}


static void
test_port(void)
{
    size_t          i, n;
    unsigned char   out[128];

    static const struct {
        const char  *in;
        const char  *out;           /* "" for no variant */
    } cases[] = {
        { "https://h.example/p?q=1", "https://h.example:443/p?q=1" },
        { "https://h.example:443/p?q=1", "https://h.example/p?q=1" },
        { "http://h.example/p", "http://h.example:80/p" },
        { "http://h.example:80", "http://h.example" },
        { "https://h.example", "https://h.example:443" },
        { "https://h.example?x", "https://h.example:443?x" },
        { "https://[::1]/p", "https://[::1]:443/p" },
        { "https://[::1]:443/p", "https://[::1]/p" },
        { "https://u:pw@h/p", "https://u:pw@h:443/p" },
        { "https://h:8443/p", "" },
        { "https://h:80/p", "" },
        { "http://h:443/p", "" },
        { "https://:443/p", "" },
        { "https:///p", "" },
        { "ftp://h/p", "" },
        { "https:/", "" },
        { "https://:1][::443/p", "" },
        { "https://h::443/p", "" },
        { "https://[::1]x/p", "" },
        { "https://[]/p", "" },
        { "https://[::1/p", "" },
        { "", "" },
    };

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = webhook_url_toggle_port(tap_dups(cases[i].in),
                                    strlen(cases[i].in), out, sizeof(out));
        tap_is_str(out, n, cases[i].out, "port: \"%s\"", cases[i].in);
    }

    n = webhook_url_toggle_port(tap_dups("https://h/p"), 11, out, 14);
    tap_is_int((int64_t) n, 0, "port: no room, no variant");

    n = webhook_url_toggle_port(tap_dups("https://h/p"), 11, out, 15);
    tap_is_str(out, n, "https://h:443/p", "port: exactly enough room");
}


/* Twilio's bodySHA256: the providers.md JSON vector, fed in two pieces */

static void
test_body_hash(void)
{
    char             hex[65];
    const char      *body;
    unsigned char    md[32];
    webhook_hash_t  *h;

    body = "{\"id\":\"evt_test_0001\",\"type\":\"test.event\",\"data\":"
           "{\"amount\":1000,\"currency\":\"usd\"}}";

    h = webhook_hash_new(WEBHOOK_SHA256);

    if (!tap_ok(h != NULL, "hash: new")) {
        return;
    }

    tap_ok(webhook_hash_update(h, tap_dup(body, 10), 10) == WEBHOOK_OK
           && webhook_hash_update(h, tap_dups(body + 10), strlen(body) - 10)
              == WEBHOOK_OK
           && webhook_hash_update(h, NULL, 0) == WEBHOOK_OK
           && webhook_hash_finish(h, md) == WEBHOOK_OK,
           "hash: fed in pieces");

    webhook_hex_encode(hex, md, sizeof(md));

    tap_is_str(hex, 64, "3eba1eef2c41586ecae7c50465139b35"
                        "c23686c5c5e52671c92d106b95c6b3db",
               "hash: the twilio_json bodySHA256");

    webhook_hash_free(h);
    webhook_hash_free(NULL);
}
