/*
 * ngx_http_webhook_module: signature header parsers.
 *
 * Every parser walks p[0..len) with explicit bounds and only records
 * ranges into it; nothing is copied, terminated or allocated.
 */


#include <string.h>

#include "webhook_sigheader.h"


static void webhook_sig_list_init(webhook_sig_list_t *out);
static int webhook_str_is(const unsigned char *p, size_t len, const char *s,
    size_t slen);
static int webhook_sig_list_add(webhook_sig_list_t *out,
    const unsigned char *p, size_t len);


int
webhook_parse_kv_list(const unsigned char *p, size_t len, char sep,
    const char *ts_key, const char *sig_key, webhook_sig_list_t *out)
{
    int                   ts_seen;
    size_t                ts_len, sig_len;
    const unsigned char  *end, *item, *last, *eq, *next;

    webhook_sig_list_init(out);

    if (len == 0) {
        return WEBHOOK_MISSING;
    }

    ts_len = ts_key ? strlen(ts_key) : 0;
    sig_len = strlen(sig_key);
    ts_seen = 0;

    end = p + len;
    item = p;

    for ( ;; ) {
        next = memchr(item, (unsigned char) sep, (size_t) (end - item));
        last = next ? next : end;

        while (item < last && (*item == ' ' || *item == '\t')) {
            item++;
        }

        while (last > item && (last[-1] == ' ' || last[-1] == '\t')) {
            last--;
        }

        /* "t=1,,v1=..." or a trailing separator: not the scheme's shape */

        if (item == last) {
            return WEBHOOK_MALFORMED;
        }

        eq = memchr(item, '=', (size_t) (last - item));

        if (eq == NULL || eq == item) {
            return WEBHOOK_MALFORMED;
        }

        if (ts_key && webhook_str_is(item, (size_t) (eq - item), ts_key,
                                     ts_len))
        {
            /* two timestamps leave it open which one was signed */

            if (ts_seen) {
                return WEBHOOK_MALFORMED;
            }

            ts_seen = 1;
            out->timestamp.data = eq + 1;
            out->timestamp.len = (size_t) (last - eq - 1);

        } else if (webhook_str_is(item, (size_t) (eq - item), sig_key,
                                  sig_len))
        {
            if (webhook_sig_list_add(out, eq + 1, (size_t) (last - eq - 1))
                != WEBHOOK_OK)
            {
                return WEBHOOK_MALFORMED;
            }
        }

        /* any other key (Stripe's "v0", a future "v2") is skipped */

        if (next == NULL) {
            break;
        }

        item = next + 1;
    }

    return out->ncandidates ? WEBHOOK_OK : WEBHOOK_MISSING;
}


int
webhook_parse_prefixed(const unsigned char *p, size_t len,
    const char *prefix, webhook_sig_list_t *out)
{
    size_t  plen;

    webhook_sig_list_init(out);

    if (len == 0) {
        return WEBHOOK_MISSING;
    }

    plen = strlen(prefix);

    if (len <= plen || memcmp(p, prefix, plen) != 0) {
        return WEBHOOK_MALFORMED;
    }

    out->candidates[0].data = p + plen;
    out->candidates[0].len = len - plen;
    out->ncandidates = 1;

    return WEBHOOK_OK;
}


int
webhook_parse_versioned_list(const unsigned char *p, size_t len,
    const char *version, webhook_sig_list_t *out)
{
    size_t                vlen;
    const unsigned char  *end, *entry, *last, *comma;

    webhook_sig_list_init(out);

    if (len == 0) {
        return WEBHOOK_MISSING;
    }

    vlen = strlen(version);
    end = p + len;
    entry = p;

    for ( ;; ) {

        while (entry < end && *entry == ' ') {
            entry++;
        }

        if (entry == end) {
            break;
        }

        last = memchr(entry, ' ', (size_t) (end - entry));
        if (last == NULL) {
            last = end;
        }

        comma = memchr(entry, ',', (size_t) (last - entry));

        if (comma == NULL || comma == entry || comma + 1 == last) {
            return WEBHOOK_MALFORMED;
        }

        /* entries of other versions ("v1a" Ed25519, future ones) skipped */

        if (webhook_str_is(entry, (size_t) (comma - entry), version, vlen)) {
            if (webhook_sig_list_add(out, comma + 1,
                                     (size_t) (last - comma - 1))
                != WEBHOOK_OK)
            {
                return WEBHOOK_MALFORMED;
            }
        }

        entry = last;
    }

    return out->ncandidates ? WEBHOOK_OK : WEBHOOK_MISSING;
}



int
webhook_parse_ts_list(const unsigned char *p, size_t len, char sep,
    webhook_sig_list_t *out)
{
    const unsigned char  *end, *item, *last, *next;

    webhook_sig_list_init(out);

    if (len == 0) {
        return WEBHOOK_MISSING;
    }

    end = p + len;
    item = p;

    for ( ;; ) {
        next = memchr(item, (unsigned char) sep, (size_t) (end - item));
        last = next ? next : end;

        while (item < last && (*item == ' ' || *item == '\t')) {
            item++;
        }

        while (last > item && (last[-1] == ' ' || last[-1] == '\t')) {
            last--;
        }

        if (item == last) {
            return WEBHOOK_MALFORMED;
        }

        if (out->timestamp.data == NULL) {
            out->timestamp.data = item;
            out->timestamp.len = (size_t) (last - item);

        } else if (webhook_sig_list_add(out, item, (size_t) (last - item))
                   != WEBHOOK_OK)
        {
            return WEBHOOK_MALFORMED;
        }

        if (next == NULL) {
            break;
        }

        item = next + 1;
    }

    /* a timestamp alone is a header without a signature */

    return out->ncandidates ? WEBHOOK_OK : WEBHOOK_MALFORMED;
}


int
webhook_sig_list_push(webhook_sig_list_t *list, const unsigned char *p,
    size_t len)
{
    return webhook_sig_list_add(list, p, len);
}

int
webhook_decode_candidates(const webhook_sig_list_t *list,
    webhook_encoding_t enc, size_t expect, unsigned char *out)
{
    size_t   i;
    ssize_t  n;

    if (list->ncandidates > WEBHOOK_MAX_CANDIDATES) {
        return WEBHOOK_MALFORMED;
    }

    for (i = 0; i < list->ncandidates; i++) {

        /*
         * dst_size is exactly expect: a longer value fails as "does not
         * fit", a shorter one is caught by the length check.
         */

        n = webhook_decode(enc, out + i * expect, expect,
                           list->candidates[i].data,
                           list->candidates[i].len);

        if (n < 0 || (size_t) n != expect) {
            return WEBHOOK_MALFORMED;
        }
    }

    return WEBHOOK_OK;
}


static void
webhook_sig_list_init(webhook_sig_list_t *out)
{
    memset(out, 0, sizeof(webhook_sig_list_t));
}


static int
webhook_str_is(const unsigned char *p, size_t len, const char *s,
    size_t slen)
{
    return len == slen && memcmp(p, s, len) == 0;
}


static int
webhook_sig_list_add(webhook_sig_list_t *out, const unsigned char *p,
    size_t len)
{
    /* an empty value or a 17th signature is malformed, never ignored */

    if (len == 0 || out->ncandidates == WEBHOOK_MAX_CANDIDATES) {
        return WEBHOOK_MALFORMED;
    }

    out->candidates[out->ncandidates].data = p;
    out->candidates[out->ncandidates].len = len;
    out->ncandidates++;

    return WEBHOOK_OK;
}
