/*
 * Unit tests: signature header parsers and candidate decoding.
 */


#include <stdio.h>
#include <string.h>

#include "webhook_hmac.h"
#include "webhook_sigheader.h"
#include "test_core.h"


static int stripe(const char *header, webhook_sig_list_t *out);
static int paddle(const char *header, webhook_sig_list_t *out);
static int prefixed(const char *header, const char *prefix,
    webhook_sig_list_t *out);
static int standard(const char *header, webhook_sig_list_t *out);
static void test_kv_list(void);
static void test_prefixed(void);
static void test_versioned(void);
static void test_ts_list(void);
static void test_push(void);
static void test_decode_candidates(void);


#define SIG_A                                                                 \
    "55f0f458f245af15f56277f48aae5282d05c382dfd280605ce8a3fffe3368913"
#define SIG_B                                                                 \
    "fb75ecd3471d4bbeeae6bbbe2363eeb5932c4c45bff316f5d63a2ea8e7b4e4c1"


void
test_sigheader(void)
{
    test_kv_list();
    test_prefixed();
    test_versioned();
    test_ts_list();
    test_push();
    test_decode_candidates();

    tap_free_all();
}


static int
stripe(const char *header, webhook_sig_list_t *out)
{
    return webhook_parse_kv_list(tap_dups(header), strlen(header), ',', "t",
                                 "v1", out);
}


static int
paddle(const char *header, webhook_sig_list_t *out)
{
    return webhook_parse_kv_list(tap_dups(header), strlen(header), ';', "ts",
                                 "h1", out);
}


static int
prefixed(const char *header, const char *prefix, webhook_sig_list_t *out)
{
    return webhook_parse_prefixed(tap_dups(header), strlen(header), prefix,
                                  out);
}


static int
standard(const char *header, webhook_sig_list_t *out)
{
    return webhook_parse_versioned_list(tap_dups(header), strlen(header),
                                        "v1", out);
}


static int
recurly(const char *header, webhook_sig_list_t *out)
{
    return webhook_parse_ts_list(tap_dups(header), strlen(header), ',', out);
}


static void
test_ts_list(void)
{
    char                buf[2048];
    size_t              i;
    webhook_sig_list_t  l;

    tap_is_int(recurly("1542234146045," SIG_A, &l), WEBHOOK_OK,
               "ts list: timestamp and one signature");
    tap_is_str(l.timestamp.data, l.timestamp.len, "1542234146045",
               "ts list: the timestamp");
    tap_ok(l.ncandidates == 1, "ts list: one candidate");
    tap_is_str(l.candidates[0].data, l.candidates[0].len, SIG_A,
               "ts list: the candidate");

    tap_is_int(recurly("1542234146045, " SIG_A " ,\t" SIG_B, &l), WEBHOOK_OK,
               "ts list: two signatures, spaces around items");
    tap_ok(l.ncandidates == 2, "ts list: two candidates");
    tap_is_str(l.candidates[1].data, l.candidates[1].len, SIG_B,
               "ts list: the second candidate");

    tap_is_int(recurly("", &l), WEBHOOK_MISSING, "ts list: empty is missing");
    tap_is_int(recurly("1542234146045", &l), WEBHOOK_MALFORMED,
               "ts list: a timestamp alone");
    tap_is_int(recurly("1542234146045,", &l), WEBHOOK_MALFORMED,
               "ts list: trailing separator");
    tap_is_int(recurly("1542234146045,," SIG_A, &l), WEBHOOK_MALFORMED,
               "ts list: empty item");
    tap_is_int(recurly("," SIG_A, &l), WEBHOOK_MALFORMED,
               "ts list: empty timestamp");

    /* 16 signatures fit, 17 do not */

    strcpy(buf, "1");
    for (i = 0; i < WEBHOOK_MAX_CANDIDATES; i++) {
        strcat(buf, ",ab");
    }
    tap_is_int(recurly(buf, &l), WEBHOOK_OK, "ts list: 16 signatures");
    strcat(buf, ",ab");
    tap_is_int(recurly(buf, &l), WEBHOOK_MALFORMED,
               "ts list: 17 signatures are malformed");
}


static void
test_push(void)
{
    size_t              i;
    webhook_sig_list_t  l;

    tap_is_int(prefixed(SIG_A, "", &l), WEBHOOK_OK, "push: a first header");
    tap_is_int(webhook_sig_list_push(&l, (const unsigned char *) SIG_B,
                                     strlen(SIG_B)),
               WEBHOOK_OK, "push: a second header's value");
    tap_ok(l.ncandidates == 2, "push: two candidates");
    tap_is_str(l.candidates[1].data, l.candidates[1].len, SIG_B,
               "push: the second candidate");
    tap_is_int(webhook_sig_list_push(&l, (const unsigned char *) "", 0),
               WEBHOOK_MALFORMED, "push: an empty value is malformed");

    for (i = 2; i < WEBHOOK_MAX_CANDIDATES; i++) {
        (void) webhook_sig_list_push(&l, (const unsigned char *) "ab", 2);
    }

    tap_ok(l.ncandidates == WEBHOOK_MAX_CANDIDATES, "push: 16 candidates");
    tap_is_int(webhook_sig_list_push(&l, (const unsigned char *) "ab", 2),
               WEBHOOK_MALFORMED, "push: a 17th is malformed");
}


static void
test_kv_list(void)
{
    int                 rc;
    char                buf[1024];
    size_t              i, n;
    webhook_sig_list_t  l;

    rc = stripe("t=1700000000,v1=" SIG_A, &l);
    tap_is_int(rc, WEBHOOK_OK, "stripe: real header");
    tap_is_int((int64_t) l.ncandidates, 1, "stripe: one candidate");
    tap_is_str(l.candidates[0].data, l.candidates[0].len, SIG_A,
               "stripe: the v1 value");
    tap_is_str(l.timestamp.data, l.timestamp.len, "1700000000",
               "stripe: the timestamp");

    rc = stripe("t=1700000000,v1=" SIG_B ",v1=" SIG_A ",v0=" SIG_A, &l);
    tap_is_int(rc, WEBHOOK_OK, "stripe: several v1, one wrong, and a v0");
    tap_is_int((int64_t) l.ncandidates, 2, "stripe: v0 is not a candidate");
    tap_is_str(l.candidates[0].data, l.candidates[0].len, SIG_B,
               "stripe: first v1 in order");
    tap_is_str(l.candidates[1].data, l.candidates[1].len, SIG_A,
               "stripe: second v1 in order");

    tap_is_int(stripe("t=1700000000,v0=" SIG_A, &l), WEBHOOK_MISSING,
               "stripe: only v0 is missing, never a downgrade");
    tap_is_int((int64_t) l.ncandidates, 0, "stripe: only v0, no candidate");
    tap_is_int(stripe("t=1700000000", &l), WEBHOOK_MISSING,
               "stripe: only t is missing");
    tap_is_int(stripe("", &l), WEBHOOK_MISSING, "stripe: empty is missing");
    tap_is_int(stripe("garbage", &l), WEBHOOK_MALFORMED,
               "stripe: garbage is malformed");
    tap_is_int(stripe("t=1,,v1=" SIG_A, &l), WEBHOOK_MALFORMED,
               "stripe: empty item");
    tap_is_int(stripe("t=1,v1=" SIG_A ",", &l), WEBHOOK_MALFORMED,
               "stripe: trailing separator");
    tap_is_int(stripe(",t=1,v1=" SIG_A, &l), WEBHOOK_MALFORMED,
               "stripe: leading separator");
    tap_is_int(stripe(" , ", &l), WEBHOOK_MALFORMED,
               "stripe: blank items");
    tap_is_int(stripe(" ", &l), WEBHOOK_MALFORMED,
               "stripe: a lone space is an empty item");
    tap_is_int(stripe("=1,v1=" SIG_A, &l), WEBHOOK_MALFORMED,
               "stripe: empty key");
    tap_is_int(stripe("t=1,v1=", &l), WEBHOOK_MALFORMED,
               "stripe: empty v1 value");
    tap_is_int(stripe("t=1,v1", &l), WEBHOOK_MALFORMED,
               "stripe: item without '='");
    tap_is_int(stripe("t=1,t=2,v1=" SIG_A, &l), WEBHOOK_MALFORMED,
               "stripe: duplicate t");
    tap_is_int(stripe("t=1,v1=" SIG_A ",t=1", &l), WEBHOOK_MALFORMED,
               "stripe: duplicate t after the signature");
    tap_is_int(stripe("t=1,v0=,v1=" SIG_A, &l), WEBHOOK_OK,
               "stripe: empty value of an ignored key");

    rc = stripe("v1=" SIG_A, &l);
    tap_is_int(rc, WEBHOOK_OK, "stripe: missing t parses");
    tap_ok(l.timestamp.len == 0 && l.ncandidates == 1,
           "stripe: missing t leaves the timestamp empty");

    rc = stripe(" t=1700000000 ,\tv1=" SIG_A "\t ,  v1=abc  ", &l);
    tap_is_int(rc, WEBHOOK_OK, "stripe: spaces and tabs around items");
    tap_is_str(l.timestamp.data, l.timestamp.len, "1700000000",
               "stripe: spaces, timestamp trimmed");
    tap_is_str(l.candidates[0].data, l.candidates[0].len, SIG_A,
               "stripe: spaces, first candidate trimmed");
    tap_is_str(l.candidates[1].data, l.candidates[1].len, "abc",
               "stripe: spaces, second candidate trimmed");

    tap_is_int(stripe("t =1,v1 =" SIG_A, &l), WEBHOOK_MISSING,
               "stripe: spaces inside the key make another key");
    tap_is_int(stripe("T=1,V1=" SIG_A, &l), WEBHOOK_MISSING,
               "stripe: keys are case-sensitive");
    tap_is_int(stripe("t=1,v10=" SIG_A ",v=" SIG_A, &l), WEBHOOK_MISSING,
               "stripe: keys compare exactly");

    rc = stripe("t=1,v1=ab==,v2=x=y", &l);
    tap_is_int(rc, WEBHOOK_OK, "stripe: values split on the first '='");
    tap_is_str(l.candidates[0].data, l.candidates[0].len, "ab==",
               "stripe: value keeps its '='");

    rc = webhook_parse_kv_list(tap_dup("t=1,v1=a\0b", 10), 10, ',', "t",
                               "v1", &l);
    tap_ok(rc == WEBHOOK_OK && l.candidates[0].len == 3,
           "stripe: a NUL byte is just a byte");

    /* 16 candidates fit, a 17th is malformed */

    n = (size_t) snprintf(buf, sizeof(buf), "t=1");

    for (i = 0; i < 16; i++) {
        n += (size_t) snprintf(buf + n, sizeof(buf) - n, ",v1=%02zx", i);
    }

    rc = stripe(buf, &l);
    tap_ok(rc == WEBHOOK_OK && l.ncandidates == 16, "stripe: 16 candidates");
    tap_is_str(l.candidates[15].data, l.candidates[15].len, "0f",
               "stripe: 16th candidate");

    snprintf(buf + n, sizeof(buf) - n, ",v1=10");
    tap_is_int(stripe(buf, &l), WEBHOOK_MALFORMED,
               "stripe: 17 candidates are malformed");

    /* unknown items do not count */

    snprintf(buf + n, sizeof(buf) - n, ",v0=10,v2=11,x=12");
    tap_is_int(stripe(buf, &l), WEBHOOK_OK,
               "stripe: 16 candidates and other items");

    /* no timestamp key in the scheme */

    rc = webhook_parse_kv_list(tap_dups("t=5,v1=abc"), 10, ',', NULL, "v1",
                               &l);
    tap_ok(rc == WEBHOOK_OK && l.timestamp.len == 0 && l.ncandidates == 1,
           "kv: NULL ts_key, t is just an unknown item");

    /* Paddle */

    rc = paddle("ts=1700000000;h1=" SIG_A ";h1=" SIG_B, &l);
    tap_is_int(rc, WEBHOOK_OK, "paddle: two h1");
    tap_is_int((int64_t) l.ncandidates, 2, "paddle: two candidates");
    tap_is_str(l.candidates[1].data, l.candidates[1].len, SIG_B,
               "paddle: second h1");
    tap_is_str(l.timestamp.data, l.timestamp.len, "1700000000",
               "paddle: ts");
    tap_is_int(paddle("ts=1700000000,h1=" SIG_A, &l), WEBHOOK_MISSING,
               "paddle: ',' is not its separator");
    tap_is_int(paddle("ts=1;ts=1;h1=" SIG_A, &l), WEBHOOK_MALFORMED,
               "paddle: duplicate ts");
    tap_is_int(paddle("ts=1;;h1=" SIG_A, &l), WEBHOOK_MALFORMED,
               "paddle: empty item");
    tap_is_int(paddle("ts=1;t=2;h1=" SIG_A, &l), WEBHOOK_OK,
               "paddle: t is not ts");
}


static void
test_prefixed(void)
{
    webhook_sig_list_t  l;

    tap_is_int(prefixed("sha256=" SIG_A, "sha256=", &l), WEBHOOK_OK,
               "prefixed: sha256=");
    tap_ok(l.ncandidates == 1 && l.timestamp.len == 0,
           "prefixed: one candidate, no timestamp");
    tap_is_str(l.candidates[0].data, l.candidates[0].len, SIG_A,
               "prefixed: the value");

    tap_is_int(prefixed("sha1=0123", "sha256=", &l), WEBHOOK_MALFORMED,
               "prefixed: sha1= where sha256= is expected");
    tap_is_int(prefixed("garbage", "sha256=", &l), WEBHOOK_MALFORMED,
               "prefixed: garbage");
    tap_is_int(prefixed("sha256=", "sha256=", &l), WEBHOOK_MALFORMED,
               "prefixed: nothing after the prefix");
    tap_is_int(prefixed("sha25", "sha256=", &l), WEBHOOK_MALFORMED,
               "prefixed: shorter than the prefix");
    tap_is_int(prefixed("SHA256=" SIG_A, "sha256=", &l), WEBHOOK_MALFORMED,
               "prefixed: case-sensitive");
    tap_is_int(prefixed(" sha256=" SIG_A, "sha256=", &l), WEBHOOK_MALFORMED,
               "prefixed: leading space");
    tap_is_int(prefixed("", "sha256=", &l), WEBHOOK_MISSING,
               "prefixed: empty is missing");
    tap_ok(l.ncandidates == 0, "prefixed: missing, no candidate");

    tap_is_int(prefixed("v0=" SIG_A, "v0=", &l), WEBHOOK_OK,
               "prefixed: slack v0=");
    tap_is_int(prefixed("v1=" SIG_A, "v0=", &l), WEBHOOK_MALFORMED,
               "prefixed: slack v1= refused");

    tap_is_int(prefixed("0PXR9rHuGqBGAZag1teiKwLGgXGPBVzQTsc53yIkjM0=", "",
                        &l),
               WEBHOOK_OK, "prefixed: bare value");
    tap_is_str(l.candidates[0].data, l.candidates[0].len,
               "0PXR9rHuGqBGAZag1teiKwLGgXGPBVzQTsc53yIkjM0=",
               "prefixed: bare value is the whole header");
    tap_is_int(prefixed("", "", &l), WEBHOOK_MISSING,
               "prefixed: bare, empty is missing");
}


static void
test_versioned(void)
{
    int                 rc;
    char                buf[1024];
    size_t              i, n;
    webhook_sig_list_t  l;

    rc = standard("v1,a v1a,b v2,c", &l);
    tap_is_int(rc, WEBHOOK_OK, "standard: v1 among unknown versions");
    tap_is_int((int64_t) l.ncandidates, 1, "standard: one v1");
    tap_is_str(l.candidates[0].data, l.candidates[0].len, "a",
               "standard: the v1 value");
    tap_ok(l.timestamp.len == 0, "standard: no timestamp in the header");

    rc = standard("v1a,b v1,KE++Vv9JMXWVuGOxU6hAYtFxYnOP977+jdk7MQ7+mQg=  "
                  "v1,c==", &l);
    tap_ok(rc == WEBHOOK_OK && l.ncandidates == 2,
           "standard: two v1, two spaces between");
    tap_is_str(l.candidates[0].data, l.candidates[0].len,
               "KE++Vv9JMXWVuGOxU6hAYtFxYnOP977+jdk7MQ7+mQg=",
               "standard: first v1");
    tap_is_str(l.candidates[1].data, l.candidates[1].len, "c==",
               "standard: second v1");

    rc = standard("  v1,a  ", &l);
    tap_ok(rc == WEBHOOK_OK && l.ncandidates == 1 && l.candidates[0].len == 1,
           "standard: leading and trailing spaces");

    tap_is_int(standard("v1a,b v2,c", &l), WEBHOOK_MISSING,
               "standard: no v1 is missing");
    tap_is_int(standard("", &l), WEBHOOK_MISSING, "standard: empty");
    tap_is_int(standard("   ", &l), WEBHOOK_MISSING, "standard: only spaces");
    tap_is_int(standard("v1", &l), WEBHOOK_MALFORMED,
               "standard: entry without ','");
    tap_is_int(standard(",abc", &l), WEBHOOK_MALFORMED,
               "standard: empty version");
    tap_is_int(standard("v1,", &l), WEBHOOK_MALFORMED,
               "standard: empty signature");
    tap_is_int(standard("v1,a v2", &l), WEBHOOK_MALFORMED,
               "standard: a malformed entry of another version");
    tap_is_int(standard("v1,a v2, v1,b", &l), WEBHOOK_MALFORMED,
               "standard: an empty signature of another version");
    tap_is_int(standard("V1,a", &l), WEBHOOK_MISSING,
               "standard: versions are case-sensitive");
    tap_is_int(standard("v1=a", &l), WEBHOOK_MALFORMED,
               "standard: '=' is not ','");

    rc = standard("v1,abc,def", &l);
    tap_is_str(l.candidates[0].data, l.candidates[0].len, "abc,def",
               "standard: split on the first ','");

    rc = standard("v1,a\tv1,b", &l);
    tap_ok(rc == WEBHOOK_OK && l.ncandidates == 1
           && l.candidates[0].len == 6,
           "standard: a tab does not separate entries");

    n = 0;

    for (i = 0; i < 16; i++) {
        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "v1,%02zx v1a,x ",
                               i);
    }

    rc = standard(buf, &l);
    tap_ok(rc == WEBHOOK_OK && l.ncandidates == 16,
           "standard: 16 candidates among 32 entries");

    snprintf(buf + n, sizeof(buf) - n, "v1,10");
    tap_is_int(standard(buf, &l), WEBHOOK_MALFORMED,
               "standard: 17 candidates are malformed");
}


static void
test_decode_candidates(void)
{
    int                 rc;
    unsigned char       out[WEBHOOK_MAX_CANDIDATES * WEBHOOK_MAC_MAX];
    webhook_sig_list_t  l;

    static const unsigned char  sig_a[] = {
        0x55, 0xf0, 0xf4, 0x58, 0xf2, 0x45, 0xaf, 0x15,
        0xf5, 0x62, 0x77, 0xf4, 0x8a, 0xae, 0x52, 0x82,
        0xd0, 0x5c, 0x38, 0x2d, 0xfd, 0x28, 0x06, 0x05,
        0xce, 0x8a, 0x3f, 0xff, 0xe3, 0x36, 0x89, 0x13
    };

    stripe("t=1,v1=" SIG_B ",v1=" SIG_A, &l);
    rc = webhook_decode_candidates(&l, WEBHOOK_ENC_HEX, 32, out);
    tap_is_int(rc, WEBHOOK_OK, "decode: two hex candidates");
    tap_is_mem(out + 32, 32, sig_a, 32, "decode: second lands at 32");

    stripe("t=1,v1=" SIG_A ",v1=abcd", &l);
    tap_is_int(webhook_decode_candidates(&l, WEBHOOK_ENC_HEX, 32, out),
               WEBHOOK_MALFORMED, "decode: a short candidate");

    stripe("t=1,v1=" SIG_A "00", &l);
    tap_is_int(webhook_decode_candidates(&l, WEBHOOK_ENC_HEX, 32, out),
               WEBHOOK_MALFORMED, "decode: a long candidate");

    stripe("t=1,v1=" SIG_A, &l);
    tap_is_int(webhook_decode_candidates(&l, WEBHOOK_ENC_HEX, 20, out),
               WEBHOOK_MALFORMED, "decode: sha256 length where sha1 is due");

    stripe("t=1,v1=zz" SIG_A, &l);
    tap_is_int(webhook_decode_candidates(&l, WEBHOOK_ENC_HEX, 33, out),
               WEBHOOK_MALFORMED, "decode: bad hex");

    stripe("t=1,v1=" SIG_A, &l);
    tap_is_int(webhook_decode_candidates(&l, WEBHOOK_ENC_BASE64, 32, out),
               WEBHOOK_MALFORMED, "decode: hex read as base64 is the wrong "
               "length");

    standard("v1,KE++Vv9JMXWVuGOxU6hAYtFxYnOP977+jdk7MQ7+mQg= v1,"
             "KE++Vv9JMXWVuGOxU6hAYtFxYnOP977+jdk7MQ7+mQg", &l);
    tap_is_int(webhook_decode_candidates(&l, WEBHOOK_ENC_BASE64, 32, out),
               WEBHOOK_OK, "decode: base64, padded and unpadded");
    tap_ok(memcmp(out, out + 32, 32) == 0,
           "decode: padded and unpadded decode alike");

    standard("v1,KE++Vv9JMXWVuGOxU6hAYtFxYnOP977+jdk7MQ7+mQg=", &l);
    tap_is_int(webhook_decode_candidates(&l, WEBHOOK_ENC_BASE64URL, 32, out),
               WEBHOOK_MALFORMED, "decode: base64 read as base64url");

    prefixed("sha1=a0b34aac64e270a867a37c9410302004dea23b5c", "sha1=", &l);
    tap_is_int(webhook_decode_candidates(&l, WEBHOOK_ENC_HEX, 20, out),
               WEBHOOK_OK, "decode: sha1 hex");
    tap_is_int(webhook_decode_candidates(&l, WEBHOOK_ENC_HEX, 32, out),
               WEBHOOK_MALFORMED, "decode: sha1 where sha256 is due");

    prefixed("", "", &l);
    tap_is_int(webhook_decode_candidates(&l, WEBHOOK_ENC_HEX, 32, out),
               WEBHOOK_OK, "decode: no candidates, nothing to do");
}
