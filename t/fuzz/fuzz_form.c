/*
 * libFuzzer target: Twilio's form decoding and sorting, query parameter
 * lookup, the default-port URL variant, and Ed25519 public key parsing,
 * on hostile bytes.  Besides the sanitizers, it checks invariants and
 * aborts when one breaks:
 *  - every key and value lies inside the buffer and no part grew;
 *  - parsing never returns more than the maximum;
 *  - sorting leaves the parameters ordered and without duplicates;
 *  - a query value lies inside the URL;
 *  - toggling the port twice gives the URL back.
 *
 *     t/fuzz/run.sh [SECONDS] fuzz_form
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_ed25519.h"
#include "webhook_form.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int param_cmp(const webhook_form_param_t *a,
    const webhook_form_param_t *b);


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                  i, n, m;
    ssize_t                 rc;
    const char             *err;
    unsigned char          *buf, *out, *back;
    webhook_str_t           v;
    webhook_form_param_t   *p;
    webhook_ed25519_key_t  *key;

    static const size_t  maxes[] = { 0, 1, 3, WEBHOOK_FORM_MAX_PARAMS };

    for (i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {

        /* exactly the input's size, so ASan sees a read past it */

        buf = malloc(size ? size : 1);
        p = malloc((maxes[i] ? maxes[i] : 1) * sizeof(*p));
        CHECK(buf != NULL && p != NULL);
        memcpy(buf, data, size);

        rc = webhook_form_parse(buf, size, p, maxes[i]);
        CHECK(rc == -2 || (rc >= 0 && (size_t) rc <= maxes[i]));

        if (rc > 0) {
            n = (size_t) rc;

            for (m = 0; m < n; m++) {
                CHECK(p[m].key >= buf && p[m].key + p[m].key_len
                                         <= buf + size);
                CHECK(p[m].value >= buf && p[m].value + p[m].value_len
                                           <= buf + size);
            }

            n = webhook_form_sort(p, n);
            CHECK(n >= 1 && n <= (size_t) rc);

            for (m = 1; m < n; m++) {
                CHECK(param_cmp(&p[m - 1], &p[m]) < 0);
            }
        }

        free(p);
        free(buf);
    }

    if (webhook_url_query_param(data, size, "bodySHA256", &v) == 0) {
        CHECK(v.data >= data && v.data + v.len <= data + size);
    }

    out = malloc(size + 4);
    back = malloc(size + 8);
    CHECK(out != NULL && back != NULL);

    n = webhook_url_toggle_port(data, size, out, size + 4);

    if (n) {
        CHECK(n == size + 4 || n == size + 3 || n == size - 4
              || n == size - 3);

        m = webhook_url_toggle_port(out, n, back, size + 8);
        CHECK(m == size && memcmp(back, data, size) == 0);
    }

    free(out);
    free(back);

    err = NULL;
    key = webhook_ed25519_key_parse(data, size, &err);
    CHECK((key == NULL) == (err != NULL));
    webhook_ed25519_key_free(key);

    return 0;
}


static int
param_cmp(const webhook_form_param_t *a, const webhook_form_param_t *b)
{
    int     rc;
    size_t  n;

    n = a->key_len < b->key_len ? a->key_len : b->key_len;
    rc = n ? memcmp(a->key, b->key, n) : 0;

    if (rc == 0) {
        rc = (a->key_len > b->key_len) - (a->key_len < b->key_len);
    }

    if (rc == 0) {
        n = a->value_len < b->value_len ? a->value_len : b->value_len;
        rc = n ? memcmp(a->value, b->value, n) : 0;
    }

    if (rc == 0) {
        rc = (a->value_len > b->value_len) - (a->value_len < b->value_len);
    }

    return rc;
}
