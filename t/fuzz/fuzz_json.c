
/*
 * libFuzzer target: the JSON member scanner (src/core/webhook_json.c),
 * differential against jansson, on hostile bytes.  For each path the
 * module's presets use, the value the module would take (the scanner's
 * first member at the path, its token taken as it is when it has no
 * escapes, decoded by jansson otherwise, as src/ngx_http_webhook_json.c
 * does) is compared with jansson's parse of the whole document.  It
 * aborts when:
 *  - both have a value and the values differ;
 *  - jansson has one (a document it accepts, without duplicate keys) and
 *    the scanner has none, unless the document is deeper than the
 *    scanner's limit or the token longer than its maximum;
 *  - jansson accepts the whole document and the scanner refuses it
 *    (within its depth limit; jansson takes a NUL byte for the end);
 *  - the answer depends on how the document is split into pieces, or on
 *    which other paths are looked for in the same scan.
 *
 *     t/fuzz/run.sh [SECONDS] fuzz_json
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "webhook_json.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                          \
        }                                                                     \
    } while (0)


static const char  *paths[] = {
    "id", "type", "event", "event_id", "event.type", "event_type",
    "notification_id", "data.id", "event-data.id", "event-data.event",
    "signature.token", "signature.signature", "0.eventId", "entry.0.id",
    "entry.0.changes.0.value.messages.0.id", "0",
};

#define NPATHS  (sizeof(paths) / sizeof(paths[0]))


/* what the module makes of a path: a value, none, or a long token */
typedef struct {
    int     settled;
    int     has;
    int     is_long;
    size_t  len;
    char    value[WEBHOOK_JSON_TOKEN_MAX + 32];
} result_t;


typedef struct {
    result_t  *results;
    size_t    *index;           /* scan path -> results slot */
    size_t     nwanted;
    size_t     nsettled;
} scan_t;


static void
decode(result_t *res, webhook_json_type_e type, const unsigned char *token,
    size_t len)
{
    int             rc;
    json_t         *v;
    json_error_t    err;
    webhook_str_t   simple;

    rc = webhook_json_simple_value(type, token, len, &simple);

    if (rc == WEBHOOK_MISSING) {
        return;
    }

    if (rc == WEBHOOK_OK) {
        CHECK(simple.len <= sizeof(res->value));
        memcpy(res->value, simple.data, simple.len);
        res->len = simple.len;
        res->has = 1;
        return;
    }

    v = json_loadb((const char *) token, len, JSON_DECODE_ANY, &err);

    if (v == NULL) {
        return;
    }

    if (json_is_string(v)) {
        CHECK(json_string_length(v) <= sizeof(res->value));
        res->len = json_string_length(v);
        memcpy(res->value, json_string_value(v), res->len);
        res->has = 1;

    } else if (json_is_integer(v)) {
        res->len = snprintf(res->value, sizeof(res->value), "%lld",
                            (long long) json_integer_value(v));
        res->has = 1;
    }

    json_decref(v);
}


static int
member(void *data, size_t path, webhook_json_type_e type,
    const unsigned char *token, size_t len)
{
    scan_t    *s = data;
    result_t  *res;

    res = &s->results[s->index[path]];

    if (res->settled) {
        return 0;
    }

    res->settled = 1;
    s->nsettled++;

    if (type == WEBHOOK_JSON_LONG) {
        res->is_long = 1;

    } else if (type != WEBHOOK_JSON_OTHER) {
        CHECK(len >= 1 && len <= WEBHOOK_JSON_TOKEN_MAX);
        decode(res, type, token, len);
    }

    return s->nsettled == s->nwanted;
}


/* scan for the paths in which[0..n), feeding pieces of chunk bytes */

static int
scan(const uint8_t *data, size_t size, const size_t *which, size_t n,
    size_t chunk, result_t *results, int stop)
{
    int              rc;
    size_t           i, off, len;
    scan_t           s;
    webhook_json_t  *js;
    const char      *p[WEBHOOK_JSON_MAX_PATHS];
    uint8_t         *piece;

    js = malloc(sizeof(webhook_json_t));
    CHECK(js != NULL);

    for (i = 0; i < n; i++) {
        p[i] = paths[which[i]];
    }

    s.results = results;
    s.index = (size_t *) which;
    s.nwanted = stop ? n : (size_t) -1;
    s.nsettled = 0;

    CHECK(webhook_json_init(js, p, n, member, &s) == WEBHOOK_OK);

    rc = WEBHOOK_JSON_AGAIN;

    for (off = 0; off < size && rc == WEBHOOK_JSON_AGAIN; off += len) {
        len = (chunk && size - off > chunk) ? chunk : size - off;

        /* exactly the piece, so ASan sees a read past it */
        piece = malloc(len);
        CHECK(piece != NULL);
        memcpy(piece, data + off, len);
        rc = webhook_json_feed(js, piece, len);
        free(piece);
    }

    if (rc == WEBHOOK_JSON_AGAIN) {
        rc = webhook_json_end(js);
    }

    free(js);

    return rc;
}


static json_t *
lookup(json_t *v, const char *path)
{
    char         key[64];
    size_t       len, i, index;
    const char  *dot;

    while (v && *path) {
        dot = strchr(path, '.');
        len = dot ? (size_t) (dot - path) : strlen(path);
        memcpy(key, path, len);
        key[len] = '\0';
        path += len + (dot ? 1 : 0);

        if (json_is_object(v)) {
            v = json_object_get(v, key);
            continue;
        }

        if (!json_is_array(v) || len > 9) {
            return NULL;
        }

        index = 0;

        for (i = 0; i < len; i++) {
            if (key[i] < '0' || key[i] > '9') {
                return NULL;
            }

            index = index * 10 + (key[i] - '0');
        }

        v = json_array_get(v, index);
    }

    return v;
}


static size_t
depth(json_t *v)
{
    size_t       d, max;
    json_t      *item;
    const char  *key;
    size_t       i;

    max = 0;

    if (json_is_object(v)) {
        json_object_foreach(v, key, item) {
            d = depth(item);
            max = d > max ? d : max;
        }

        return max + 1;
    }

    if (json_is_array(v)) {
        json_array_foreach(v, i, item) {
            d = depth(item);
            max = d > max ? d : max;
        }

        return max + 1;
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int            rc, whole;
    size_t         i, chunk, all[NPATHS], deep;
    json_t        *doc, *v;
    json_error_t   err;
    result_t      *together, *alone, *split;
    static const size_t  chunks[] = { 1, 2, 3, 7, 16, 17, 64 };

    together = calloc(NPATHS, sizeof(result_t));
    alone = calloc(NPATHS, sizeof(result_t));
    split = calloc(NPATHS, sizeof(result_t));
    CHECK(together && alone && split);

    for (i = 0; i < NPATHS; i++) {
        all[i] = i;
    }

    chunk = size ? chunks[data[0] % (sizeof(chunks) / sizeof(chunks[0]))] : 1;

    /* all paths in one scan, whole; then each alone; then in pieces */

    scan(data, size, all, NPATHS, 0, together, 1);
    scan(data, size, all, NPATHS, chunk, split, 1);

    for (i = 0; i < NPATHS; i++) {
        scan(data, size, &all[i], 1, 0, alone, 1);

        CHECK(together[i].has == alone[i].has);
        CHECK(together[i].has == split[i].has);
        CHECK(together[i].is_long == alone[i].is_long);

        if (together[i].has) {
            CHECK(together[i].len == alone[i].len
                  && memcmp(together[i].value, alone[i].value,
                            together[i].len) == 0);
            CHECK(together[i].len == split[i].len
                  && memcmp(together[i].value, split[i].value,
                            together[i].len) == 0);
        }
    }

    /* the grammar: what jansson accepts, the scanner accepts */

    memset(split, 0, NPATHS * sizeof(result_t));
    rc = scan(data, size, all, NPATHS, chunk, split, 0);

    doc = json_loadb((const char *) data, size, JSON_DECODE_ANY, &err);
    deep = doc ? depth(doc) : 0;
    whole = (doc != NULL);

    /* jansson takes a NUL byte for the end of the input: not JSON */

    if (whole && deep <= WEBHOOK_JSON_MAX_DEPTH
        && memchr(data, '\0', size) == NULL)
    {
        CHECK(rc == WEBHOOK_JSON_DONE);
    }

    json_decref(doc);

    /* the values: where both have one, it is the same */

    doc = json_loadb((const char *) data, size,
                     JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);

    for (i = 0; doc && i < NPATHS; i++) {
        char    buf[32];
        size_t  len;

        v = lookup(doc, paths[i]);

        if (json_is_string(v)) {
            len = json_string_length(v);

            if (together[i].has) {
                CHECK(together[i].len == len
                      && memcmp(together[i].value, json_string_value(v), len)
                         == 0);

            } else {
                CHECK(together[i].is_long || deep > WEBHOOK_JSON_MAX_DEPTH);
            }

        } else if (json_is_integer(v)) {
            len = snprintf(buf, sizeof(buf), "%lld",
                           (long long) json_integer_value(v));

            if (together[i].has) {
                CHECK(together[i].len == len
                      && memcmp(together[i].value, buf, len) == 0);

            } else {
                CHECK(together[i].is_long || deep > WEBHOOK_JSON_MAX_DEPTH);
            }

        } else {
            CHECK(!together[i].has);
        }
    }

    json_decref(doc);

    free(together);
    free(alone);
    free(split);

    return 0;
}
