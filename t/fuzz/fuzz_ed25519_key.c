/*
 * libFuzzer target: Ed25519 public keys in every text form the module
 * reads (webhook_public_key: PEM, "whpk_" + base64, 64 hex digits, base64
 * or base64url of the raw key), on hostile bytes:
 *  - a parse either fails with a description or gives a key whose 32 raw
 *    bytes come back;
 *  - the same raw key written in each other form parses to the same key.
 *
 *     ./build.sh fuzz [SECONDS]      (t/fuzz/run.sh SECONDS fuzz_ed25519_key)
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_codec.h"
#include "webhook_ed25519.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_key(const char *text, size_t len, const unsigned char *raw);


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                    text[128];
    size_t                  n;
    const char             *err;
    unsigned char          *copy, raw[WEBHOOK_ED25519_KEY_LEN];
    webhook_ed25519_key_t  *key;

    copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    memcpy(copy, data, size);

    err = NULL;
    key = webhook_ed25519_key_parse(copy, size, &err);
    free(copy);

    if (key == NULL) {
        CHECK(err != NULL && err[0] != '\0');
        return 0;
    }

    CHECK(webhook_ed25519_key_raw(key, raw) == WEBHOOK_OK);
    webhook_ed25519_key_free(key);

    /* the other forms of the same key */

    webhook_hex_encode(text, raw, sizeof(raw));
    same_key(text, 2 * sizeof(raw), raw);

    n = webhook_base64_encode(text, raw, sizeof(raw));
    same_key(text, n, raw);

    memcpy(text, "whpk_", 5);
    n = webhook_base64_encode(text + 5, raw, sizeof(raw));
    same_key(text, 5 + n, raw);

    return 0;
}


static void
same_key(const char *text, size_t len, const unsigned char *raw)
{
    const char             *err;
    unsigned char           back[WEBHOOK_ED25519_KEY_LEN];
    webhook_ed25519_key_t  *key;

    key = webhook_ed25519_key_parse((const unsigned char *) text, len, &err);
    CHECK(key != NULL);
    CHECK(webhook_ed25519_key_raw(key, back) == WEBHOOK_OK);
    CHECK(memcmp(back, raw, sizeof(back)) == 0);
    webhook_ed25519_key_free(key);
}
