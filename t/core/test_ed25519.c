/*
 * Unit tests: Ed25519 public key forms and verification (RFC 8032
 * section 7.1 tests 1 and 2, and the Discord vector).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_codec.h"
#include "webhook_ed25519.h"
#include "test_core.h"


static webhook_ed25519_key_t *key(const char *text);
static void test_key_forms(void);
static void test_rfc8032(void);
static void test_discord(const char *dir);


#define RFC1_PUB                                                              \
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define RFC1_SIG                                                              \
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"        \
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
#define RFC2_PUB                                                              \
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"
#define RFC2_SIG                                                              \
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"        \
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
#define DISCORD_SIG                                                           \
    "962c923010f03af43974131ad4344091bb7ca2883ab45ccf15a1343a37c548db"        \
    "828a56c32a4e40c8d98276e9e6f5c537dc8e825666a1d00c78d00eee28d73102"

#define RFC1_B64     "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define RFC1_B64URL  "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC1_PEM                                                              \
    "-----BEGIN PUBLIC KEY-----\n"                                            \
    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"          \
    "-----END PUBLIC KEY-----\n"
#define P256_PEM                                                              \
    "-----BEGIN PUBLIC KEY-----\n"                                            \
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEb/Z20UF3LvCG7wtOPi0ndU3Oj3IX\n"      \
    "VppVnTyPmHLCmTNU93PZqrj6kPiZPU8N9SmTiHU6oXagCDeiE9adUVdU4A==\n"          \
    "-----END PUBLIC KEY-----\n"


void
test_ed25519(const char *dir)
{
    test_key_forms();
    test_rfc8032();
    test_discord(dir);

    tap_free_all();
}


static webhook_ed25519_key_t *
key(const char *text)
{
    const char  *err;

    err = NULL;

    return webhook_ed25519_key_parse(tap_dups(text), strlen(text), &err);
}


static void
test_key_forms(void)
{
    size_t                  i;
    const char             *err;
    unsigned char           raw[WEBHOOK_ED25519_KEY_LEN];
    unsigned char           want[WEBHOOK_ED25519_KEY_LEN];
    webhook_ed25519_key_t  *k;

    static const char  *good[] = {
        RFC1_PUB,
        "D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A",
        RFC1_B64,
        "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        RFC1_B64URL,
        "whpk_" RFC1_B64,
        RFC1_PEM,
        "  " RFC1_PUB "\n",
        "\n" RFC1_PEM "\n\n",
    };

    static const char  *bad[] = {
        "",
        " \n",
        RFC1_PUB "00",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f70751",
        "whpk_",
        "whpk_" RFC1_PUB,
        "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHUR==",
        "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n",
        "-----BEGIN PUBLIC KEY-----",
        P256_PEM,
    };

    webhook_decode(WEBHOOK_ENC_HEX, want, sizeof(want),
                   tap_dups(RFC1_PUB), 64);

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        k = key(good[i]);

        tap_ok(k != NULL && webhook_ed25519_key_raw(k, raw) == WEBHOOK_OK
               && memcmp(raw, want, sizeof(want)) == 0,
               "key forms: good #%zu parses to the RFC 8032 test 1 key", i);

        webhook_ed25519_key_free(k);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        k = webhook_ed25519_key_parse(tap_dups(bad[i]), strlen(bad[i]),
                                      &err);

        tap_ok(k == NULL && err != NULL, "key forms: bad #%zu refused (%s)",
               i, err ? err : "no message");

        webhook_ed25519_key_free(k);
    }

    webhook_ed25519_key_free(NULL);
}


static void
test_rfc8032(void)
{
    unsigned char           sig[WEBHOOK_ED25519_SIG_LEN];
    unsigned char           msg[1];
    webhook_ed25519_key_t  *k1, *k2;

    k1 = key(RFC1_PUB);
    k2 = key(RFC2_PUB);

    if (!tap_ok(k1 && k2, "rfc 8032: keys")) {
        webhook_ed25519_key_free(k1);
        webhook_ed25519_key_free(k2);
        return;
    }

    webhook_decode(WEBHOOK_ENC_HEX, sig, sizeof(sig), tap_dups(RFC1_SIG),
                   128);
    tap_is_int(webhook_ed25519_verify(k1, sig, tap_dup("", 0), 0), 1,
               "rfc 8032 test 1: the empty message verifies");
    tap_is_int(webhook_ed25519_verify(k2, sig, tap_dup("", 0), 0), 0,
               "rfc 8032 test 1: not with the test 2 key");
    tap_is_int(webhook_ed25519_verify(k1, sig, tap_dup("x", 1), 1), 0,
               "rfc 8032 test 1: not over another message");

    sig[63] ^= 0x01;
    tap_is_int(webhook_ed25519_verify(k1, sig, tap_dup("", 0), 0), 0,
               "rfc 8032 test 1: one bit of the signature flipped");

    webhook_decode(WEBHOOK_ENC_HEX, sig, sizeof(sig), tap_dups(RFC2_SIG),
                   128);
    msg[0] = 0x72;
    tap_is_int(webhook_ed25519_verify(k2, sig, tap_dup(msg, 1), 1), 1,
               "rfc 8032 test 2: one byte message verifies");

    /* S >= L: a non-canonical signature is refused, not "fixed" */

    memset(sig + 32, 0xff, 32);
    tap_is_int(webhook_ed25519_verify(k2, sig, tap_dup(msg, 1), 1), 0,
               "rfc 8032: a signature with S out of range is refused");

    webhook_ed25519_key_free(k1);
    webhook_ed25519_key_free(k2);
}


static void
test_discord(const char *dir)
{
    FILE                   *f;
    char                    path[4096];
    long                    size;
    unsigned char          *msg;
    unsigned char           sig[WEBHOOK_ED25519_SIG_LEN];
    webhook_ed25519_key_t  *k;

    if (dir == NULL) {
        tap_skip("no vectors directory", "discord: vector");
        return;
    }

    snprintf(path, sizeof(path), "%s/discord.msg", dir);

    f = fopen(path, "rb");
    msg = NULL;
    size = -1;

    if (f && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0
        && fseek(f, 0, SEEK_SET) == 0)
    {
        msg = malloc((size_t) size);

        if (msg && fread(msg, 1, (size_t) size, f) != (size_t) size) {
            free(msg);
            msg = NULL;
        }
    }

    if (f) {
        fclose(f);
    }

    if (!tap_ok(msg != NULL, "discord: read %s", path)) {
        return;
    }

    k = key(RFC1_PUB);
    webhook_decode(WEBHOOK_ENC_HEX, sig, sizeof(sig), tap_dups(DISCORD_SIG),
                   128);

    tap_is_int(webhook_ed25519_verify(k, sig, msg, (size_t) size), 1,
               "discord: timestamp + body verifies with the RFC 8032 key");

    msg[size - 2] ^= 0x20;
    tap_is_int(webhook_ed25519_verify(k, sig, msg, (size_t) size), 0,
               "discord: tampered body refused");

    webhook_ed25519_key_free(k);
    free(msg);
}
