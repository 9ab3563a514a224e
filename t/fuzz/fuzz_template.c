/*
 * libFuzzer target: the custom scheme's parsing.  The first byte picks:
 *  - even: a webhook_signed_payload template: "{body}" found exactly once
 *    is reported at an offset where it is, and never otherwise;
 *  - odd: "PATTERN\nHEADER": the pattern compiled with PCRE2 as nginx
 *    does (with the module's match and depth limits), then its matches
 *    walked over the header: every candidate lies inside the header, is
 *    not empty, and there are at most WEBHOOK_MAX_CANDIDATES; the walk
 *    ends (empty matches advance).
 *
 *     ./build.sh fuzz [SECONDS]      (t/fuzz/run.sh SECONDS fuzz_template)
 */


#define PCRE2_CODE_UNIT_WIDTH  8

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "webhook_custom.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_template(const uint8_t *data, size_t size);
static void check_pattern(const uint8_t *data, size_t size);
static int match(void *data, const unsigned char *value, size_t len,
    size_t offset, size_t ov[4]);


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


typedef struct {
    pcre2_code           *re;
    pcre2_match_data     *md;
    pcre2_match_context  *mc;
    size_t                calls;
} pattern_t;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }

    if (data[0] & 1) {
        check_pattern(data + 1, size - 1);

    } else {
        check_template(data + 1, size - 1);
    }

    return 0;
}


static void
check_template(const uint8_t *data, size_t size)
{
    int             rc;
    size_t          body, count, i, n;
    unsigned char  *p;

    p = malloc(size ? size : 1);
    CHECK(p != NULL);
    memcpy(p, data, size);

    rc = webhook_template_body(p, size, &body, &count);

    n = 0;
    for (i = 0; i + WEBHOOK_BODY_TOKEN_LEN <= size; i++) {
        n += (memcmp(p + i, WEBHOOK_BODY_TOKEN, WEBHOOK_BODY_TOKEN_LEN) == 0);
    }

    CHECK(count == n);
    CHECK((rc == WEBHOOK_OK) == (n == 1));

    if (rc == WEBHOOK_OK) {
        CHECK(body + WEBHOOK_BODY_TOKEN_LEN <= size);
        CHECK(memcmp(p + body, WEBHOOK_BODY_TOKEN, WEBHOOK_BODY_TOKEN_LEN)
              == 0);
    }

    free(p);
}


static void
check_pattern(const uint8_t *data, size_t size)
{
    int                  rc, errcode;
    size_t               i, plen, vlen, erroff;
    uint32_t             captures;
    pattern_t            pt;
    unsigned char       *value;
    webhook_sig_list_t   list;
    const uint8_t       *nl;

    nl = memchr(data, '\n', size);
    if (nl == NULL) {
        return;
    }

    plen = nl - data;
    vlen = size - plen - 1;

    pt.re = pcre2_compile(data, plen, 0, &errcode, &erroff, NULL);
    if (pt.re == NULL) {
        return;
    }

    if (pcre2_pattern_info(pt.re, PCRE2_INFO_CAPTURECOUNT, &captures) != 0
        || captures < 1)
    {
        /* nginx -t refuses a pattern without a group */
        pcre2_code_free(pt.re);
        return;
    }

    pt.md = pcre2_match_data_create(captures + 1, NULL);
    pt.mc = pcre2_match_context_create(NULL);
    CHECK(pt.md != NULL && pt.mc != NULL);
    pcre2_set_match_limit(pt.mc, 100000);
    pcre2_set_depth_limit(pt.mc, 10000);
    pt.calls = 0;

    value = malloc(vlen ? vlen : 1);
    CHECK(value != NULL);
    memcpy(value, nl + 1, vlen);

    rc = webhook_pattern_candidates(value, vlen, match, &pt, &list);

    CHECK(pt.calls <= vlen + 2);
    CHECK(list.ncandidates <= WEBHOOK_MAX_CANDIDATES);

    if (rc == WEBHOOK_OK) {
        CHECK(list.ncandidates > 0);

        for (i = 0; i < list.ncandidates; i++) {
            CHECK(list.candidates[i].len > 0);
            CHECK(list.candidates[i].data >= value);
            CHECK(list.candidates[i].data + list.candidates[i].len
                  <= value + vlen);
        }

    } else {
        CHECK(rc == WEBHOOK_MISSING || rc == WEBHOOK_MALFORMED);
    }

    free(value);
    pcre2_match_context_free(pt.mc);
    pcre2_match_data_free(pt.md);
    pcre2_code_free(pt.re);
}


/* what the module's PCRE2 callback does (src/ngx_http_webhook_custom.c) */

static int
match(void *data, const unsigned char *value, size_t len, size_t offset,
    size_t ov[4])
{
    pattern_t *pt = data;

    int          rc, i;
    PCRE2_SIZE  *v;

    pt->calls++;

    rc = pcre2_match(pt->re, value, len, offset, 0, pt->md, pt->mc);

    if (rc == PCRE2_ERROR_NOMATCH) {
        return 0;
    }

    if (rc < 0) {
        return -1;
    }

    v = pcre2_get_ovector_pointer(pt->md);

    for (i = 0; i < 4; i++) {
        ov[i] = ((i < 2 || rc >= 2) && v[i] != PCRE2_UNSET)
                ? (size_t) v[i] : WEBHOOK_UNSET;
    }

    return 1;
}
