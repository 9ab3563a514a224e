/*
 * Unit tests: hex and base64 codecs.
 */


#include <stdint.h>
#include <string.h>

#include "webhook_codec.h"
#include "test_core.h"


typedef struct {
    const char  *plain;
    const char  *encoded;
} codec_pair_t;


static ssize_t decode(webhook_encoding_t enc, unsigned char *dst,
    size_t dst_size, const char *src, size_t len);
static void test_hex(void);
static void test_base64_good(void);
static void test_base64_bad(void);
static void test_base64_roundtrip(void);
static void test_encoders(void);


/* RFC 4648 section 10 */
static const codec_pair_t  rfc4648[] = {
    { "",       ""         },
    { "f",      "Zg=="     },
    { "fo",     "Zm8="     },
    { "foo",    "Zm9v"     },
    { "foob",   "Zm9vYg==" },
    { "fooba",  "Zm9vYmE=" },
    { "foobar", "Zm9vYmFy" },
};

static const char  *base64_bad[] = {
    "Zg=",              /* padded, but not to a multiple of 4 */
    "Zg===",            /* three pad characters */
    "Zm8==",            /* too much padding for two sextets */
    "Z===",
    "====",
    "=",
    "==",
    "Zg==Zg==",         /* "=" in the middle */
    "Zm=v",
    "Z",                /* a lone trailing sextet */
    "Zm9vY",
    "Zm9vY===",
    "Zm9v!",            /* outside the alphabet */
    "Zm 9v",            /* whitespace anywhere */
    " Zm9v",
    "Zm9v\n",
    "Zm9v\r\n",
    "Zm9v\t",
    "Zh==",             /* non-zero unused bits */
    "Zm9=",
    "-_-_",             /* base64url characters */
    "\xc3\xa9\xc3\xa9",
};


void
test_codec(void)
{
    test_hex();
    test_base64_good();
    test_base64_bad();
    test_base64_roundtrip();
    test_encoders();

    tap_free_all();
}


static ssize_t
decode(webhook_encoding_t enc, unsigned char *dst, size_t dst_size,
    const char *src, size_t len)
{
    return webhook_decode(enc, dst, dst_size, tap_dup(src, len), len);
}


static void
test_hex(void)
{
    ssize_t        n;
    unsigned char  buf[64];

    static const unsigned char  bytes[] = { 0x00, 0xff, 0x10, 0xab, 0xcd };

    n = decode(WEBHOOK_ENC_HEX, buf, sizeof(buf), "00ff10AbcD", 10);
    tap_is_int(n, 5, "hex: mixed case decodes");
    tap_is_mem(buf, 5, bytes, 5, "hex: mixed case bytes");

    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, sizeof(buf), "", 0), 0,
               "hex: empty decodes to nothing");
    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, sizeof(buf), "abc", 3), -1,
               "hex: odd length");
    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, sizeof(buf), "a", 1), -1,
               "hex: one digit");
    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, sizeof(buf), "zz", 2), -1,
               "hex: bad characters");
    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, sizeof(buf), "ag", 2), -1,
               "hex: 'g'");
    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, sizeof(buf), "ab cd", 5), -1,
               "hex: inner space");
    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, sizeof(buf), " abc", 4), -1,
               "hex: leading space");
    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, sizeof(buf), "abcd\n\n", 6), -1,
               "hex: trailing newlines");
    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, sizeof(buf), "0x12", 4), -1,
               "hex: 0x prefix");
    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, sizeof(buf), "ab\0d", 4), -1,
               "hex: embedded NUL");

    memset(buf, 0x5a, sizeof(buf));
    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, 1, "abcd", 4), -1,
               "hex: dst too small");
    tap_ok(buf[0] == 0x5a, "hex: nothing written when dst is too small");

    memset(buf, 0x5a, sizeof(buf));
    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, sizeof(buf), "abcdzz", 6), -1,
               "hex: bad tail");
    tap_ok(buf[0] == 0x5a, "hex: nothing written for a bad tail");

    tap_is_int(decode(WEBHOOK_ENC_HEX, buf, 2, "abcd", 4), 2,
               "hex: dst exactly large enough");
    tap_is_int(decode(WEBHOOK_ENC_HEX, NULL, 0, "", 0), 0,
               "hex: empty into no buffer");

    tap_is_int((int64_t) webhook_decoded_size(WEBHOOK_ENC_HEX, 64), 32,
               "hex: decoded size of 64");
    tap_is_int((int64_t) webhook_decoded_size(WEBHOOK_ENC_HEX, 0), 0,
               "hex: decoded size of 0");
}


static void
test_base64_good(void)
{
    size_t         i, len;
    ssize_t        n;
    unsigned char  buf[64];

    static const unsigned char  high[] = { 0xfb, 0xff, 0xbf };

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        n = decode(WEBHOOK_ENC_BASE64, buf, sizeof(buf), rfc4648[i].encoded,
                   strlen(rfc4648[i].encoded));
        tap_is_mem(buf, n < 0 ? 0 : (size_t) n, rfc4648[i].plain,
                   strlen(rfc4648[i].plain), "base64: \"%s\"",
                   rfc4648[i].encoded);
        tap_is_int(n, (int64_t) strlen(rfc4648[i].plain),
                   "base64: \"%s\" length", rfc4648[i].encoded);

        /* the same without padding: padding is optional */

        len = strcspn(rfc4648[i].encoded, "=");
        n = decode(WEBHOOK_ENC_BASE64, buf, sizeof(buf), rfc4648[i].encoded,
                   len);
        tap_is_mem(buf, n < 0 ? 0 : (size_t) n, rfc4648[i].plain,
                   strlen(rfc4648[i].plain), "base64: \"%.*s\" unpadded",
                   (int) len, rfc4648[i].encoded);

        n = decode(WEBHOOK_ENC_BASE64URL, buf, sizeof(buf),
                   rfc4648[i].encoded, strlen(rfc4648[i].encoded));
        tap_is_mem(buf, n < 0 ? 0 : (size_t) n, rfc4648[i].plain,
                   strlen(rfc4648[i].plain), "base64url: \"%s\"",
                   rfc4648[i].encoded);
    }

    n = decode(WEBHOOK_ENC_BASE64, buf, sizeof(buf), "+/+/", 4);
    tap_is_mem(buf, n < 0 ? 0 : (size_t) n, high, 3, "base64: '+' and '/'");

    n = decode(WEBHOOK_ENC_BASE64URL, buf, sizeof(buf), "-_-_", 4);
    tap_is_mem(buf, n < 0 ? 0 : (size_t) n, high, 3,
               "base64url: '-' and '_'");

    tap_is_int(decode(WEBHOOK_ENC_BASE64URL, buf, sizeof(buf), "+/+/", 4),
               -1, "base64url: '+' and '/' refused");

    n = decode(WEBHOOK_ENC_BASE64, buf, sizeof(buf),
               "0PXR9rHuGqBGAZag1teiKwLGgXGPBVzQTsc53yIkjM0=", 44);
    tap_is_int(n, 32, "base64: a Shopify signature is 32 bytes");

    memset(buf, 0x5a, sizeof(buf));
    tap_is_int(decode(WEBHOOK_ENC_BASE64, buf, 5, "Zm9vYmFy", 8), -1,
               "base64: dst too small");
    tap_ok(buf[0] == 0x5a, "base64: nothing written when dst is too small");
    tap_is_int(decode(WEBHOOK_ENC_BASE64, buf, 6, "Zm9vYmFy", 8), 6,
               "base64: dst exactly large enough");
    tap_is_int(decode(WEBHOOK_ENC_BASE64, buf, 1, "Zg==", 4), 1,
               "base64: padding does not count against dst");

    tap_is_int((int64_t) webhook_decoded_size(WEBHOOK_ENC_BASE64, 44), 33,
               "base64: decoded size of 44");
    tap_is_int((int64_t) webhook_decoded_size(WEBHOOK_ENC_BASE64, 43), 32,
               "base64: decoded size of 43");
    tap_is_int((int64_t) webhook_decoded_size(WEBHOOK_ENC_BASE64URL, 3), 2,
               "base64url: decoded size of 3");
    tap_ok(webhook_decoded_size(WEBHOOK_ENC_BASE64, SIZE_MAX) > SIZE_MAX / 2
           && webhook_decoded_size(WEBHOOK_ENC_BASE64, SIZE_MAX) < SIZE_MAX,
           "base64: decoded size of SIZE_MAX does not wrap");

    tap_is_int(webhook_decode((webhook_encoding_t) 42, buf, sizeof(buf),
                              tap_dups("00"), 2),
               -1, "decode: unknown encoding");
}


static void
test_base64_bad(void)
{
    size_t         i;
    unsigned char  buf[64];

    for (i = 0; i < sizeof(base64_bad) / sizeof(base64_bad[0]); i++) {
        tap_is_int(decode(WEBHOOK_ENC_BASE64, buf, sizeof(buf),
                          base64_bad[i], strlen(base64_bad[i])),
                   -1, "base64: \"%s\" refused", base64_bad[i]);
    }

    tap_is_int(decode(WEBHOOK_ENC_BASE64URL, buf, sizeof(buf), "Zg=", 3), -1,
               "base64url: bad padding");
    tap_is_int(decode(WEBHOOK_ENC_BASE64URL, buf, sizeof(buf), "Zm9vY", 5),
               -1, "base64url: lone trailing sextet");
    tap_is_int(decode(WEBHOOK_ENC_BASE64, buf, sizeof(buf), "Zm\0v", 4), -1,
               "base64: embedded NUL");
}


static void
test_base64_roundtrip(void)
{
    int            ok;
    char           enc[512];
    size_t         len, elen, i;
    ssize_t        n;
    unsigned char  src[256], dst[256];

    for (i = 0; i < sizeof(src); i++) {
        src[i] = (unsigned char) (i * 7 + 3);
    }

    /* every length from 0 to 256, so every tail shape is met */

    ok = 1;

    for (len = 0; len <= sizeof(src); len++) {
        elen = webhook_base64_encode(enc, src, len);

        if (elen != 4 * ((len + 2) / 3)) {
            ok = 0;
            break;
        }

        n = decode(WEBHOOK_ENC_BASE64, dst, len, enc, elen);

        if (n != (ssize_t) len || memcmp(src, dst, len) != 0) {
            ok = 0;
            break;
        }

        webhook_hex_encode(enc, src, len);
        n = decode(WEBHOOK_ENC_HEX, dst, len, enc, 2 * len);

        if (n != (ssize_t) len || memcmp(src, dst, len) != 0) {
            ok = 0;
            break;
        }
    }

    tap_ok(ok, "base64 and hex round trips of 0..256 bytes (stopped at %zu)",
           len);
}


static void
test_encoders(void)
{
    char    out[64];
    size_t  i, n;

    static const unsigned char  bytes[] = { 0x00, 0xab, 0xff, 0x10 };

    for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        n = webhook_base64_encode(out,
                                  (const unsigned char *) rfc4648[i].plain,
                                  strlen(rfc4648[i].plain));
        tap_is_str(out, n, rfc4648[i].encoded, "base64 encode \"%s\"",
                   rfc4648[i].plain);
    }

    webhook_hex_encode(out, bytes, sizeof(bytes));
    tap_is_str(out, 2 * sizeof(bytes), "00abff10", "hex encode, lowercase");

    memset(out, '#', sizeof(out));
    webhook_hex_encode(out, bytes, 0);
    tap_ok(out[0] == '#', "hex encode of nothing writes nothing");
}
