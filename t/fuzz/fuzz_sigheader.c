/*
 * libFuzzer target: every signature header parser, candidate decoding, the
 * codecs and token comparison, on hostile bytes.  Besides the sanitizers,
 * it checks invariants and aborts when one breaks:
 *  - candidates and the timestamp lie inside the input, never empty;
 *  - whatever decodes is the canonical encoding of its bytes (strictness);
 *  - a decode never claims more than webhook_decoded_size();
 *  - webhook_token_match() agrees with memcmp().
 *
 *     t/fuzz/run.sh [SECONDS]
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_codec.h"
#include "webhook_hmac.h"
#include "webhook_sigheader.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_list(const uint8_t *data, size_t size, int rc,
    const webhook_sig_list_t *l);
static void check_decode(webhook_encoding_t enc, const uint8_t *data,
    size_t size);
static int canonical(webhook_encoding_t enc, const uint8_t *data,
    size_t size, const unsigned char *dec, size_t n);


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    size_t              half;
    webhook_sig_list_t  l;
    unsigned char       digest[WEBHOOK_TOKEN_DIGEST_LEN];

    rc = webhook_parse_kv_list(data, size, ',', "t", "v1", &l);
    check_list(data, size, rc, &l);

    rc = webhook_parse_kv_list(data, size, ';', "ts", "h1", &l);
    check_list(data, size, rc, &l);

    rc = webhook_parse_kv_list(data, size, ',', NULL, "v1", &l);
    check_list(data, size, rc, &l);
    CHECK(l.timestamp.len == 0);

    rc = webhook_parse_prefixed(data, size, "sha256=", &l);
    check_list(data, size, rc, &l);
    CHECK(rc != WEBHOOK_OK || l.ncandidates == 1);

    rc = webhook_parse_prefixed(data, size, "v0=", &l);
    check_list(data, size, rc, &l);

    rc = webhook_parse_prefixed(data, size, "", &l);
    check_list(data, size, rc, &l);
    CHECK(rc == (size ? WEBHOOK_OK : WEBHOOK_MISSING));

    rc = webhook_parse_versioned_list(data, size, "v1", &l);
    check_list(data, size, rc, &l);

    rc = webhook_parse_ts_list(data, size, ',', &l);
    check_list(data, size, rc, &l);
    CHECK(rc != WEBHOOK_OK || (l.timestamp.len && l.ncandidates));

    /* a second header's value as one more candidate (Box, DocuSign) */

    rc = webhook_parse_prefixed(data, size, "", &l);
    if (rc == WEBHOOK_OK) {
        rc = webhook_sig_list_push(&l, data, size);
        CHECK(rc == WEBHOOK_OK && l.ncandidates == 2);
        check_list(data, size, rc, &l);
    }

    check_decode(WEBHOOK_ENC_HEX, data, size);
    check_decode(WEBHOOK_ENC_BASE64, data, size);
    check_decode(WEBHOOK_ENC_BASE64URL, data, size);

    half = size / 2;
    CHECK(webhook_token_digest(data + half, size - half, digest)
          == WEBHOOK_OK);
    rc = webhook_token_match(data, half, digest, 1);
    CHECK(rc == ((half == size - half
                  && memcmp(data, data + half, half) == 0) ? 0 : -1));

    return 0;
}


static void
check_list(const uint8_t *data, size_t size, int rc,
    const webhook_sig_list_t *l)
{
    size_t                i;
    ssize_t               n;
    unsigned char        *out;
    const webhook_str_t  *c;

    static const webhook_encoding_t  encs[] = {
        WEBHOOK_ENC_HEX, WEBHOOK_ENC_BASE64, WEBHOOK_ENC_BASE64URL
    };

    static const size_t  sizes[] = { 20, 32, 64 };

    CHECK(rc == WEBHOOK_OK || rc == WEBHOOK_MISSING
          || rc == WEBHOOK_MALFORMED);

    if (rc != WEBHOOK_OK) {
        return;
    }

    CHECK(l->ncandidates >= 1 && l->ncandidates <= WEBHOOK_MAX_CANDIDATES);

    for (i = 0; i < l->ncandidates; i++) {
        c = &l->candidates[i];
        CHECK(c->len > 0);
        CHECK(c->data >= data && c->data + c->len <= data + size);
    }

    if (l->timestamp.len) {
        CHECK(l->timestamp.data >= data
              && l->timestamp.data + l->timestamp.len <= data + size);
    }

    /* exactly the room the caller gives: ASan sees any overflow */

    for (i = 0; i < 9; i++) {
        out = malloc(l->ncandidates * sizes[i % 3]);
        CHECK(out != NULL);

        rc = webhook_decode_candidates(l, encs[i / 3], sizes[i % 3], out);
        CHECK(rc == WEBHOOK_OK || rc == WEBHOOK_MALFORMED);

        if (rc == WEBHOOK_OK) {
            c = &l->candidates[0];
            n = webhook_decode(encs[i / 3], out, sizes[i % 3], c->data,
                               c->len);
            CHECK(n == (ssize_t) sizes[i % 3]);
        }

        free(out);
    }
}


static void
check_decode(webhook_encoding_t enc, const uint8_t *data, size_t size)
{
    size_t          max;
    ssize_t         n, m;
    unsigned char  *dst;

    max = webhook_decoded_size(enc, size);

    dst = malloc(max ? max : 1);
    CHECK(dst != NULL);

    n = webhook_decode(enc, dst, max, data, size);
    CHECK(n >= -1 && n <= (ssize_t) max);

    if (n >= 0) {
        CHECK(canonical(enc, data, size, dst, (size_t) n));

        /* one byte less room must refuse, not truncate */

        if (n > 0) {
            m = webhook_decode(enc, dst, (size_t) n - 1, data, size);
            CHECK(m == -1);
        }
    }

    free(dst);
}


static int
canonical(webhook_encoding_t enc, const uint8_t *data, size_t size,
    const unsigned char *dec, size_t n)
{
    int     ok;
    char   *re;
    size_t  i, len, want;

    re = malloc(4 * (n / 3 + 1) + 2 * n + 1);
    CHECK(re != NULL);

    ok = 1;

    if (enc == WEBHOOK_ENC_HEX) {
        webhook_hex_encode(re, dec, n);
        ok = (size == 2 * n);

        for (i = 0; ok && i < size; i++) {
            ok = (re[i] == data[i]
                  || (data[i] >= 'A' && data[i] <= 'F'
                      && re[i] == data[i] - 'A' + 'a'));
        }

    } else {
        len = webhook_base64_encode(re, dec, n);

        if (enc == WEBHOOK_ENC_BASE64URL) {
            for (i = 0; i < len; i++) {
                re[i] = (re[i] == '+') ? '-' : (re[i] == '/') ? '_' : re[i];
            }
        }

        /* padding is optional: the input is the encoding with or without */

        want = len;

        while (want && re[want - 1] == '=') {
            want--;
        }

        ok = (size == len || size == want) && memcmp(re, data, size) == 0;
    }

    free(re);

    return ok;
}
