/*
 * ngx_http_webhook_module: hex and base64 codecs.
 *
 * Decoding is strict and all-or-nothing: the whole input is validated and
 * the exact output size known before a single byte is written, so a
 * hostile header can neither decode "partially" nor write past dst.
 */


#include <limits.h>
#include <string.h>

#include "webhook_codec.h"


static int webhook_base64_value(unsigned char c, int url);
static ssize_t webhook_hex_decode(unsigned char *dst, size_t dst_size,
    const unsigned char *src, size_t len);
static ssize_t webhook_base64_decode(unsigned char *dst, size_t dst_size,
    const unsigned char *src, size_t len, int url);


static const char  webhook_hex_digits[] = "0123456789abcdef";

/* a hex digit's value, 0xff for any other byte */
static const unsigned char  webhook_hex_table[256] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
    0x08, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

static const char  webhook_base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


ssize_t
webhook_decode(webhook_encoding_t enc, unsigned char *dst, size_t dst_size,
    const unsigned char *src, size_t len)
{
    switch (enc) {

    case WEBHOOK_ENC_HEX:
        return webhook_hex_decode(dst, dst_size, src, len);

    case WEBHOOK_ENC_BASE64:
        return webhook_base64_decode(dst, dst_size, src, len, 0);

    case WEBHOOK_ENC_BASE64URL:
        return webhook_base64_decode(dst, dst_size, src, len, 1);
    }

    return -1;
}


size_t
webhook_decoded_size(webhook_encoding_t enc, size_t len)
{
    if (enc == WEBHOOK_ENC_HEX) {
        return len / 2;
    }

    /* written so that no intermediate can overflow for any len */
    return len / 4 * 3 + len % 4 * 3 / 4;
}


void
webhook_hex_encode(char *dst, const unsigned char *src, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        *dst++ = webhook_hex_digits[src[i] >> 4];
        *dst++ = webhook_hex_digits[src[i] & 0x0f];
    }
}


size_t
webhook_base64_encode(char *dst, const unsigned char *src, size_t len)
{
    char          *d;
    unsigned long  v;

    d = dst;

    while (len >= 3) {
        v = (unsigned long) src[0] << 16 | (unsigned long) src[1] << 8
            | src[2];

        *d++ = webhook_base64_alphabet[(v >> 18) & 0x3f];
        *d++ = webhook_base64_alphabet[(v >> 12) & 0x3f];
        *d++ = webhook_base64_alphabet[(v >> 6) & 0x3f];
        *d++ = webhook_base64_alphabet[v & 0x3f];

        src += 3;
        len -= 3;
    }

    if (len) {
        v = (unsigned long) src[0] << 16;

        if (len == 2) {
            v |= (unsigned long) src[1] << 8;
        }

        *d++ = webhook_base64_alphabet[(v >> 18) & 0x3f];
        *d++ = webhook_base64_alphabet[(v >> 12) & 0x3f];
        *d++ = (len == 2) ? webhook_base64_alphabet[(v >> 6) & 0x3f] : '=';
        *d++ = '=';
    }

    return (size_t) (d - dst);
}


static int
webhook_base64_value(unsigned char c, int url)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    /* the two alphabets are never mixed: "+" in a base64url value is bad */

    if (c == (url ? '-' : '+')) {
        return 62;
    }

    if (c == (url ? '_' : '/')) {
        return 63;
    }

    return -1;
}


static ssize_t
webhook_hex_decode(unsigned char *dst, size_t dst_size,
    const unsigned char *src, size_t len)
{
    size_t         i, n;
    unsigned char  hi, lo, bad;

    if (len % 2) {
        return -1;
    }

    n = len / 2;

    if (n > dst_size || n > (size_t) SSIZE_MAX) {
        return -1;
    }

    /*
     * Validate everything first: nothing is written for a bad input.  A
     * table, not comparisons: a signature is decoded on every request.
     */

    bad = 0;

    for (i = 0; i < len; i++) {
        bad |= webhook_hex_table[src[i]];
    }

    if (bad & 0x80) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        hi = webhook_hex_table[src[2 * i]];
        lo = webhook_hex_table[src[2 * i + 1]];
        dst[i] = (unsigned char) (hi << 4 | lo);
    }

    return (ssize_t) n;
}


static ssize_t
webhook_base64_decode(unsigned char *dst, size_t dst_size,
    const unsigned char *src, size_t len, int url)
{
    int            c;
    size_t         i, n, pad, rem;
    unsigned long  v;

    /*
     * At most two trailing "=" are padding; any other "=" is left in the
     * data and rejected below as a character outside the alphabet.
     */

    pad = 0;

    while (pad < 2 && len > pad && src[len - 1 - pad] == '=') {
        pad++;
    }

    if (pad && len % 4) {
        return -1;
    }

    len -= pad;
    rem = len % 4;

    /* one sextet alone cannot carry a whole byte */

    if (rem == 1) {
        return -1;
    }

    n = len / 4 * 3 + (rem ? rem - 1 : 0);

    if (n > dst_size || n > (size_t) SSIZE_MAX) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (webhook_base64_value(src[i], url) < 0) {
            return -1;
        }
    }

    /*
     * The unused low bits of the last sextet must be zero (RFC 4648
     * section 3.5): otherwise several header strings decode to the same
     * MAC, and a value used as a replay id could be varied at will.
     */

    if (rem) {
        c = webhook_base64_value(src[len - 1], url);

        if (c & (rem == 2 ? 0x0f : 0x03)) {
            return -1;
        }
    }

    for (i = 0; i + 4 <= len; i += 4) {
        v = (unsigned long) webhook_base64_value(src[i], url) << 18
            | (unsigned long) webhook_base64_value(src[i + 1], url) << 12
            | (unsigned long) webhook_base64_value(src[i + 2], url) << 6
            | (unsigned long) webhook_base64_value(src[i + 3], url);

        *dst++ = (unsigned char) (v >> 16);
        *dst++ = (unsigned char) (v >> 8);
        *dst++ = (unsigned char) v;
    }

    if (rem) {
        v = (unsigned long) webhook_base64_value(src[i], url) << 18
            | (unsigned long) webhook_base64_value(src[i + 1], url) << 12;

        if (rem == 3) {
            v |= (unsigned long) webhook_base64_value(src[i + 2], url) << 6;
        }

        *dst++ = (unsigned char) (v >> 16);

        if (rem == 3) {
            *dst = (unsigned char) (v >> 8);
        }
    }

    return (ssize_t) n;
}
