/*
 * Unit tests: HMAC (RFC 2202, RFC 4231, the providers' vectors),
 * key rotation matching and the constant-time comparisons.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_codec.h"
#include "webhook_hmac.h"
#include "webhook_sigheader.h"
#include "test_core.h"


typedef struct {
    webhook_digest_t   digest;
    const char        *key;         /* NULL: key_byte repeated key_len */
    unsigned char      key_byte;
    size_t             key_len;
    const char        *data;
    const char        *mac_hex;
} rfc_vector_t;


typedef enum {
    KEY_PLAIN = 0,                  /* the secret's bytes, verbatim */
    KEY_WHSEC,                      /* base64 after "whsec_" */
    KEY_HEX
} key_kind_t;


typedef enum {
    HDR_KV = 0,                     /* t=..,v1=.. (sep, ts_key, sig_key) */
    HDR_PREFIXED,                   /* prefix + value */
    HDR_VERSIONED                   /* "v1,<sig> ..." */
} header_kind_t;


typedef struct {
    const char          *name;      /* vectors/<name>.msg */
    const char          *key;
    key_kind_t           key_kind;
    webhook_digest_t     digest;
    webhook_encoding_t   enc;
    const char          *expected;  /* encoded MAC */
    header_kind_t        hdr;
    const char          *header;
    char                 sep;
    const char          *arg1;      /* ts_key, prefix or version */
    const char          *arg2;      /* sig_key */
    const char          *timestamp; /* expected signed timestamp, or NULL */
} provider_vector_t;


static webhook_hmac_t *new_key(webhook_digest_t digest, const char *key);
static int mac_hex(webhook_hmac_t *h, const void *data, size_t len,
    char *hex);
static unsigned char *read_file(const char *dir, const char *name,
    size_t *len);
static void test_rfc_vectors(void);
static void test_reuse(void);
static void test_match(void);
static void test_equal(void);
static int token_eq(const unsigned char *token, size_t len,
    const unsigned char *secret, size_t slen);
static void test_provider(const char *dir, const provider_vector_t *v);


static const char  *jefe_data = "what do ya want for nothing?";
static const char  *big_key_data =
    "Test Using Larger Than Block-Size Key - Hash Key First";


static const rfc_vector_t  rfc_vectors[] = {

    /* RFC 2202 section 3: HMAC-SHA-1, test cases 1, 2 and 6 */

    { WEBHOOK_SHA1, NULL, 0x0b, 20, "Hi There",
      "b617318655057264e28bc0b6fb378c8ef146be00" },
    { WEBHOOK_SHA1, "Jefe", 0, 4, "what do ya want for nothing?",
      "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
    { WEBHOOK_SHA1, NULL, 0xaa, 80,
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "aa4ae5e15272d00e95705637ce8a3b55ed402112" },

    /* RFC 4231 section 4: HMAC-SHA-256 and -512, test cases 1, 2 and 6 */

    { WEBHOOK_SHA256, NULL, 0x0b, 20, "Hi There",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
    { WEBHOOK_SHA512, NULL, 0x0b, 20, "Hi There",
      "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
      "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
    { WEBHOOK_SHA256, "Jefe", 0, 4, "what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
    { WEBHOOK_SHA512, "Jefe", 0, 4, "what do ya want for nothing?",
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
      "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
    { WEBHOOK_SHA256, NULL, 0xaa, 131,
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
    { WEBHOOK_SHA512, NULL, 0xaa, 131,
      "Test Using Larger Than Block-Size Key - Hash Key First",
      "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
      "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },

    /* an empty key and an empty message are legal HMAC */

    { WEBHOOK_SHA256, "", 0, 0, "",
      "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad" },
    { WEBHOOK_SHA1, "", 0, 0, "",
      "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d" },
};


/* the providers' documented examples (t/vectors/) */

static const provider_vector_t  provider_vectors[] = {

    { "stripe", "whsec_5f0e8c3b2a1d4e6f7a8b9c0d1e2f3a4b", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "55f0f458f245af15f56277f48aae5282d05c382dfd280605ce8a3fffe3368913",
      HDR_KV, "t=1700000000,v1=55f0f458f245af15f56277f48aae5282d05c382dfd"
      "280605ce8a3fffe3368913", ',', "t", "v1", "1700000000" },

    { "stripe_utf8", "whsec_5f0e8c3b2a1d4e6f7a8b9c0d1e2f3a4b", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "fb75ecd3471d4bbeeae6bbbe2363eeb5932c4c45bff316f5d63a2ea8e7b4e4c1",
      HDR_KV, "t=1700000000,v1=fb75ecd3471d4bbeeae6bbbe2363eeb5932c4c45bff3"
      "16f5d63a2ea8e7b4e4c1", ',', "t", "v1", "1700000000" },

    { "calendly", "calendly_signing_key_0123456789abcdef", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "1692640d67680445f1d580843c0ee3ead30f2da9779046a785fe8a157aa4ad57",
      HDR_KV, "t=1700000000,v1=1692640d67680445f1d580843c0ee3ead30f2da97790"
      "46a785fe8a157aa4ad57", ',', "t", "v1", "1700000000" },

    { "paddle",
      "pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI",
      KEY_PLAIN, WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "41c7f56572a2c5b11621d61a67f43954e1fc2d044915c7623942780f3ec69ab4",
      HDR_KV, "ts=1700000000;h1=41c7f56572a2c5b11621d61a67f43954e1fc2d04491"
      "5c7623942780f3ec69ab4", ';', "ts", "h1", "1700000000" },

    { "standardwebhooks_known", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      KEY_WHSEC, WEBHOOK_SHA256, WEBHOOK_ENC_BASE64,
      "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
      HDR_VERSIONED, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
      0, "v1", NULL, NULL },

    { "standardwebhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      KEY_WHSEC, WEBHOOK_SHA256, WEBHOOK_ENC_BASE64,
      "KE++Vv9JMXWVuGOxU6hAYtFxYnOP977+jdk7MQ7+mQg=",
      HDR_VERSIONED, "v1a,AAAA v1,KE++Vv9JMXWVuGOxU6hAYtFxYnOP977+jdk7MQ7+m"
      "Qg= v2,zzz", 0, "v1", NULL, NULL },

    { "standardwebhooks_utf8", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      KEY_WHSEC, WEBHOOK_SHA256, WEBHOOK_ENC_BASE64,
      "4zH69FWf5ckUjPGiyeZzOTtOzrwO69gSMQbVwUK40hU=",
      HDR_VERSIONED, "v1,4zH69FWf5ckUjPGiyeZzOTtOzrwO69gSMQbVwUK40hU=",
      0, "v1", NULL, NULL },

    { "github_docs", "It's a Secret to Everybody", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
      HDR_PREFIXED, "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c2"
      "2c46f4379c8b043e17", 0, "sha256=", NULL, NULL },

    { "github_docs", "It's a Secret to Everybody", KEY_PLAIN,
      WEBHOOK_SHA1, WEBHOOK_ENC_HEX,
      "01dc10d0c83e72ed246219cdd91669667fe2ca59",
      HDR_PREFIXED, "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59",
      0, "sha1=", NULL, NULL },

    { "github", "gh_webhook_secret_0123456789", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "a41543cc0b934a575c49463f4cd0dfbfb148f85ad00245b9f2dc5a8859789da7",
      HDR_PREFIXED, "sha256=a41543cc0b934a575c49463f4cd0dfbfb148f85ad00245"
      "b9f2dc5a8859789da7", 0, "sha256=", NULL, NULL },

    { "github", "gh_webhook_secret_0123456789", KEY_PLAIN,
      WEBHOOK_SHA1, WEBHOOK_ENC_HEX,
      "24917ebbc377d65719c3746117386204d034b217",
      HDR_PREFIXED, "sha1=24917ebbc377d65719c3746117386204d034b217",
      0, "sha1=", NULL, NULL },

    { "meta", "0123456789abcdef0123456789abcdef", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "ad3357fe1a36bd995ce2a2901f6319bf06dd68c504a51e95a662d7e8abb49080",
      HDR_PREFIXED, "sha256=ad3357fe1a36bd995ce2a2901f6319bf06dd68c504a51e"
      "95a662d7e8abb49080", 0, "sha256=", NULL, NULL },

    { "shopify", "shpss_0123456789abcdef0123456789abcdef", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_BASE64,
      "0PXR9rHuGqBGAZag1teiKwLGgXGPBVzQTsc53yIkjM0=",
      HDR_PREFIXED, "0PXR9rHuGqBGAZag1teiKwLGgXGPBVzQTsc53yIkjM0=",
      0, "", NULL, NULL },

    { "slack_docs", "8f742231b10e8888abcd99yyyzzz85a5", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
      HDR_PREFIXED, "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd2751"
      "9666489c69b503", 0, "v0=", NULL, NULL },

    { "slack", "slack_signing_secret_0123456789ab", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "5dd419ca8a05b1877f1bccee23e321526beef0f5375cc79befdfad2e5fbede06",
      HDR_PREFIXED, "v0=5dd419ca8a05b1877f1bccee23e321526beef0f5375cc79bef"
      "dfad2e5fbede06", 0, "v0=", NULL, NULL },

    { "razorpay", "rzp_webhook_secret_0123456789", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "39536a849ffac26b54dd3f0310236cd484ef2de608b1272e276f85edfc5db30a",
      HDR_PREFIXED, "39536a849ffac26b54dd3f0310236cd484ef2de608b1272e276f8"
      "5edfc5db30a", 0, "", NULL, NULL },

    { "twilio", "12345", KEY_PLAIN, WEBHOOK_SHA1, WEBHOOK_ENC_BASE64,
      "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
      HDR_PREFIXED, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", 0, "", NULL, NULL },

    { "twilio_json", "12345", KEY_PLAIN, WEBHOOK_SHA1, WEBHOOK_ENC_BASE64,
      "cgBQ0wO4ymBgWTcuSFc6XvgyyjI=",
      HDR_PREFIXED, "cgBQ0wO4ymBgWTcuSFc6XvgyyjI=", 0, "", NULL, NULL },

    { "square", "sq_sig_key_0123456789abcdefABCD", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_BASE64,
      "gnc8QYWMYogOC1stlmnZ8Xf4RBvl96qSPX+AdXsiHIA=",
      HDR_PREFIXED, "gnc8QYWMYogOC1stlmnZ8Xf4RBvl96qSPX+AdXsiHIA=",
      0, "", NULL, NULL },

    { "square", "sq_sig_key_0123456789abcdefABCD", KEY_PLAIN,
      WEBHOOK_SHA1, WEBHOOK_ENC_BASE64,
      "v3ho4BAVYp6wV9LQ09y71zOah74=",
      HDR_PREFIXED, "v3ho4BAVYp6wV9LQ09y71zOah74=", 0, "", NULL, NULL },

    { "zoom", "zoom_secret_token_0123456789", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "f24a311f2efdd618f5e7e2b7141e59a3a763b8aae1bce20b7ea4122415e46b24",
      HDR_PREFIXED, "v0=f24a311f2efdd618f5e7e2b7141e59a3a763b8aae1bce20b7e"
      "a4122415e46b24", 0, "v0=", NULL, NULL },

    { "zoom_crc", "zoom_secret_token_0123456789", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "50a89ffb84f615fb4b3374bbf1d27632785835ad2e4a0ed59a73c959eb827cfb",
      HDR_PREFIXED, "50a89ffb84f615fb4b3374bbf1d27632785835ad2e4a0ed59a73c9"
      "59eb827cfb", 0, "", NULL, NULL },

    { "twitch", "twitch_eventsub_secret_0123456789", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "38689e507d4ac903600646d7b9e56a1fa09a1f20082d16ce3e59384253b75290",
      HDR_PREFIXED, "sha256=38689e507d4ac903600646d7b9e56a1fa09a1f20082d16"
      "ce3e59384253b75290", 0, "sha256=", NULL, NULL },

    { "hubspot", "hubspot-client-secret-0123-4567-89ab", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_BASE64,
      "42UmhxMd3r3SbEkP/HttoCF26+RkaP2jXoqsUHMFcKk=",
      HDR_PREFIXED, "42UmhxMd3r3SbEkP/HttoCF26+RkaP2jXoqsUHMFcKk=",
      0, "", NULL, NULL },

    { "bitbucket", "bitbucket_webhook_secret_0123", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "47a83238caa9250d16bb9f53289fc2bf0d188ed5f18d1686a2de48c96c2c297d",
      HDR_PREFIXED, "sha256=47a83238caa9250d16bb9f53289fc2bf0d188ed5f18d16"
      "86a2de48c96c2c297d", 0, "sha256=", NULL, NULL },

    { "linear", "lin_wh_0123456789abcdef0123456789abcdef", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "aa55936cea923c881129de6968209949507b9978d48fe36cdc31c5b1f11b5998",
      HDR_PREFIXED, "aa55936cea923c881129de6968209949507b9978d48fe36cdc31c5"
      "b1f11b5998", 0, "", NULL, NULL },

    { "intercom", "intercom_client_secret_0123456789", KEY_PLAIN,
      WEBHOOK_SHA1, WEBHOOK_ENC_HEX,
      "a0b34aac64e270a867a37c9410302004dea23b5c",
      HDR_PREFIXED, "sha1=a0b34aac64e270a867a37c9410302004dea23b5c",
      0, "sha1=", NULL, NULL },

    { "mailgun", "key-0123456789abcdef0123456789abcdef", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX,
      "8eca04bed63975049c9a26a326d5625dad24439c7dc94e19844a6c482592f784",
      HDR_PREFIXED, "8eca04bed63975049c9a26a326d5625dad24439c7dc94e19844a6c"
      "482592f784", 0, "", NULL, NULL },

    { "typeform", "typeform_secret_0123456789abcdef", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_BASE64,
      "ZB8MCrJiAYulyfzmJ96EmPcO+PJaQZ7JEfwKLYecmTM=",
      HDR_PREFIXED, "sha256=ZB8MCrJiAYulyfzmJ96EmPcO+PJaQZ7JEfwKLYecmTM=",
      0, "sha256=", NULL, NULL },

    { "xero", "xero_webhook_key_0123456789abcdefABCDEFGHIJ==", KEY_PLAIN,
      WEBHOOK_SHA256, WEBHOOK_ENC_BASE64,
      "6Qvd9+BDn7vTM9aT5L6b5ZuyL+tDO0OyTXFgCq79xMs=",
      HDR_PREFIXED, "6Qvd9+BDn7vTM9aT5L6b5ZuyL+tDO0OyTXFgCq79xMs=",
      0, "", NULL, NULL },

    { "adyen",
      "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056",
      KEY_HEX, WEBHOOK_SHA256, WEBHOOK_ENC_BASE64,
      "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0=",
      HDR_PREFIXED, "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0=",
      0, "", NULL, NULL },
};


void
test_hmac(void)
{
    tap_is_int(webhook_hmac_library_init(), WEBHOOK_OK, "hmac: library init");
    tap_is_int(webhook_hmac_library_init(), WEBHOOK_OK,
               "hmac: library init again is a no-op");

    tap_is_int((int64_t) webhook_digest_size(WEBHOOK_SHA1), 20,
               "digest size sha1");
    tap_is_int((int64_t) webhook_digest_size(WEBHOOK_SHA256), 32,
               "digest size sha256");
    tap_is_int((int64_t) webhook_digest_size(WEBHOOK_SHA512), 64,
               "digest size sha512");
    tap_ok(strcmp(webhook_digest_name(WEBHOOK_SHA1), "sha1") == 0
           && strcmp(webhook_digest_name(WEBHOOK_SHA256), "sha256") == 0
           && strcmp(webhook_digest_name(WEBHOOK_SHA512), "sha512") == 0,
           "digest names");
    tap_ok(webhook_hmac_new((webhook_digest_t) 42,
                            (const unsigned char *) "k", 1) == NULL,
           "hmac: unknown digest refused");

    webhook_hmac_free(NULL);
    tap_ok(1, "hmac: free(NULL) is a no-op");

    test_rfc_vectors();
    test_reuse();
    test_match();
    test_equal();

    tap_free_all();
}


void
test_vectors(const char *dir)
{
    size_t  i;

    for (i = 0; i < sizeof(provider_vectors) / sizeof(provider_vectors[0]);
         i++)
    {
        test_provider(dir, &provider_vectors[i]);
    }

    tap_free_all();
}


static webhook_hmac_t *
new_key(webhook_digest_t digest, const char *key)
{
    return webhook_hmac_new(digest, (const unsigned char *) key, strlen(key));
}


static int
mac_hex(webhook_hmac_t *h, const void *data, size_t len, char *hex)
{
    unsigned char  mac[WEBHOOK_MAC_MAX];

    if (webhook_hmac_start(h) != WEBHOOK_OK
        || webhook_hmac_update(h, data, len) != WEBHOOK_OK
        || webhook_hmac_finish(h, mac) != WEBHOOK_OK)
    {
        return -1;
    }

    webhook_hex_encode(hex, mac, webhook_hmac_size(h));
    hex[2 * webhook_hmac_size(h)] = '\0';

    return 0;
}


static unsigned char *
read_file(const char *dir, const char *name, size_t *len)
{
    FILE           *f;
    char            path[4096];
    long            size;
    unsigned char  *p;

    snprintf(path, sizeof(path), "%s/%s.msg", dir, name);

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    p = NULL;

    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0
        && fseek(f, 0, SEEK_SET) == 0)
    {
        /* exactly the file's size, so a read past it is an ASan report */

        p = malloc(size ? (size_t) size : 1);

        if (p && fread(p, 1, (size_t) size, f) != (size_t) size) {
            free(p);
            p = NULL;
        }

        *len = (size_t) size;
    }

    fclose(f);

    return p;
}


static void
test_rfc_vectors(void)
{
    char                 hex[2 * WEBHOOK_MAC_MAX + 1];
    size_t               i, j;
    unsigned char        key[256], mac[WEBHOOK_MAC_MAX], mac2[WEBHOOK_MAC_MAX];
    webhook_hmac_t      *h;
    const rfc_vector_t  *v;

    for (i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
        v = &rfc_vectors[i];

        if (v->key) {
            memcpy(key, v->key, v->key_len);

        } else {
            memset(key, v->key_byte, v->key_len);
        }

        h = webhook_hmac_new(v->digest, key, v->key_len);

        if (!tap_ok(h != NULL, "%s vector %zu: context",
                    webhook_digest_name(v->digest), i))
        {
            continue;
        }

        tap_is_int((int64_t) webhook_hmac_size(h),
                   (int64_t) webhook_digest_size(v->digest),
                   "%s vector %zu: size", webhook_digest_name(v->digest), i);

        mac_hex(h, v->data, strlen(v->data), hex);
        tap_is_str(hex, strlen(hex), v->mac_hex, "%s vector %zu: MAC",
                   webhook_digest_name(v->digest), i);

        /* one byte at a time gives the same MAC as one update */

        webhook_hmac_start(h);

        for (j = 0; v->data[j]; j++) {
            webhook_hmac_update(h, &v->data[j], 1);
        }

        webhook_hmac_update(h, NULL, 0);
        webhook_hmac_finish(h, mac);

        webhook_hmac_start(h);
        webhook_hmac_update(h, v->data, strlen(v->data));
        webhook_hmac_finish(h, mac2);

        tap_ok(webhook_mac_equal(mac, mac2, webhook_hmac_size(h)),
               "%s vector %zu: byte-wise updates",
               webhook_digest_name(v->digest), i);

        webhook_hmac_free(h);
    }

    /* NULL key with length 0 is the empty key */

    h = webhook_hmac_new(WEBHOOK_SHA256, NULL, 0);
    tap_ok(h != NULL, "hmac: NULL empty key");

    if (h) {
        mac_hex(h, "", 0, hex);
        tap_is_str(hex, strlen(hex), rfc_vectors[9].mac_hex,
                   "hmac: NULL empty key MAC");
        webhook_hmac_free(h);
    }
}


static void
test_reuse(void)
{
    int              ok;
    char             hex[2 * WEBHOOK_MAC_MAX + 1];
    char             ref1[2 * WEBHOOK_MAC_MAX + 1];
    char             ref2[2 * WEBHOOK_MAC_MAX + 1];
    size_t           i;
    unsigned char    mac[WEBHOOK_MAC_MAX];
    webhook_hmac_t  *h, *fresh;

    h = webhook_hmac_new(WEBHOOK_SHA512, (const unsigned char *) "Jefe", 4);
    fresh = webhook_hmac_new(WEBHOOK_SHA512, (const unsigned char *) "Jefe",
                             4);

    if (!tap_ok(h != NULL && fresh != NULL, "reuse: contexts")) {
        webhook_hmac_free(h);
        webhook_hmac_free(fresh);
        return;
    }

    mac_hex(fresh, jefe_data, strlen(jefe_data), ref1);
    mac_hex(fresh, big_key_data, strlen(big_key_data), ref2);

    tap_is_str(ref1, strlen(ref1), rfc_vectors[6].mac_hex,
               "reuse: reference MAC");

    /*
     * Many cycles on one context, alternating messages and abandoning
     * some half-fed MACs, must give the same results every time: the key
     * survives EVP_MAC_init(ctx, NULL, 0, NULL) and no state leaks over.
     */

    ok = 1;

    for (i = 0; i < 2000 && ok; i++) {

        if (i % 3 == 0) {
            webhook_hmac_start(h);
            webhook_hmac_update(h, "abandoned", 9);
        }

        if (i % 2) {
            mac_hex(h, jefe_data, strlen(jefe_data), hex);
            ok = (strcmp(hex, ref1) == 0);

        } else {
            mac_hex(h, big_key_data, strlen(big_key_data), hex);
            ok = (strcmp(hex, ref2) == 0);
        }
    }

    tap_ok(ok, "reuse: 2000 start/update/finish cycles (stopped at %zu)", i);

    webhook_hmac_free(h);
    webhook_hmac_free(fresh);

    /* new() leaves the context started: finish alone is a MAC of nothing */

    h = webhook_hmac_new(WEBHOOK_SHA1, NULL, 0);
    tap_ok(h != NULL && webhook_hmac_finish(h, mac) == WEBHOOK_OK,
           "reuse: finish right after new");

    if (h) {
        webhook_hex_encode(hex, mac, 20);
        tap_is_str(hex, 40, rfc_vectors[10].mac_hex,
                   "reuse: finish right after new is the MAC of nothing");
        webhook_hmac_free(h);
    }
}


static void
test_match(void)
{
    unsigned char    good[32], bad[32], cands[3 * 32], sha1[20];
    webhook_hmac_t  *old, *cur, *cur2, *other, *keys[3];

    static const char  body[] = "{\"id\":\"evt_1\"}";

    old = new_key(WEBHOOK_SHA256, "old-secret");
    cur = new_key(WEBHOOK_SHA256, "new-secret");
    cur2 = new_key(WEBHOOK_SHA256, "new-secret");
    other = new_key(WEBHOOK_SHA1, "sha1-secret");

    if (!tap_ok(old && cur && cur2 && other, "match: contexts")) {
        goto done;
    }

    webhook_hmac_start(cur);
    webhook_hmac_update(cur, body, sizeof(body) - 1);
    webhook_hmac_finish(cur, good);

    memcpy(bad, good, 32);
    bad[31] ^= 1;

    /* the right key second, its candidate last behind two wrong ones */

    keys[0] = old;
    keys[1] = cur;

    memcpy(cands, bad, 32);
    memset(cands + 32, 0, 32);
    memcpy(cands + 64, good, 32);

    tap_is_int(webhook_hmac_start_all(keys, 2), WEBHOOK_OK, "match: start");
    tap_is_int(webhook_hmac_update_all(keys, 2, body, 5), WEBHOOK_OK,
               "match: update");
    webhook_hmac_update_all(keys, 2, body + 5, sizeof(body) - 6);
    tap_is_int(webhook_hmac_match(keys, 2, cands, 3), 1,
               "match: 2 keys x 3 candidates, second key, last candidate");

    /* the right key first, its candidate in the middle */

    keys[0] = cur;
    keys[1] = old;

    memcpy(cands + 32, good, 32);
    memcpy(cands + 64, bad, 32);

    webhook_hmac_start_all(keys, 2);
    webhook_hmac_update_all(keys, 2, body, sizeof(body) - 1);
    tap_is_int(webhook_hmac_match(keys, 2, cands, 3), 0,
               "match: 2 keys x 3 candidates, first key, middle candidate");

    /* the same secret twice: the first index that matched */

    keys[0] = old;
    keys[1] = cur;
    keys[2] = cur2;

    webhook_hmac_start_all(keys, 3);
    webhook_hmac_update_all(keys, 3, body, sizeof(body) - 1);
    tap_is_int(webhook_hmac_match(keys, 3, cands, 3), 1,
               "match: a secret listed twice, first index");

    memcpy(cands + 32, bad, 32);

    webhook_hmac_start_all(keys, 2);
    webhook_hmac_update_all(keys, 2, body, sizeof(body) - 1);
    tap_is_int(webhook_hmac_match(keys, 2, cands, 3), -1,
               "match: no candidate matches");

    memcpy(cands, good, 32);

    webhook_hmac_start_all(keys, 2);
    webhook_hmac_update_all(keys, 2, body, sizeof(body) - 2);
    tap_is_int(webhook_hmac_match(keys, 2, cands, 3), -1,
               "match: one byte less of body does not match");

    webhook_hmac_start_all(keys, 2);
    webhook_hmac_update_all(keys, 2, body, sizeof(body) - 1);
    tap_is_int(webhook_hmac_match(keys, 2, cands, 0), -1,
               "match: no candidates");
    tap_is_int(webhook_hmac_match(keys, 0, cands, 3), -1, "match: no keys");

    /* mixed digests cannot work: the candidates are laid out by one size */

    keys[1] = other;

    webhook_hmac_start_all(keys, 2);
    webhook_hmac_update_all(keys, 2, body, sizeof(body) - 1);
    tap_is_int(webhook_hmac_match(keys, 2, cands, 3), WEBHOOK_ERROR,
               "match: mixed digest sizes are an error");

    /* a SHA-1 key alone, 20-byte candidates */

    webhook_hmac_start(other);
    webhook_hmac_update(other, body, sizeof(body) - 1);
    webhook_hmac_finish(other, sha1);

    memset(cands, 0xee, 40);
    memcpy(cands + 40, sha1, 20);

    webhook_hmac_start_all(&other, 1);
    webhook_hmac_update_all(&other, 1, body, sizeof(body) - 1);
    tap_is_int(webhook_hmac_match(&other, 1, cands, 3), 0,
               "match: sha1, third 20-byte candidate");

done:

    webhook_hmac_free(old);
    webhook_hmac_free(cur);
    webhook_hmac_free(cur2);
    webhook_hmac_free(other);
}


/* a token against a secret, the secret digested first as token.c does */

static int
token_eq(const unsigned char *token, size_t len, const unsigned char *secret,
    size_t slen)
{
    unsigned char  digest[WEBHOOK_TOKEN_DIGEST_LEN];

    if (webhook_token_digest(secret, slen, digest) != WEBHOOK_OK) {
        return WEBHOOK_ERROR;
    }

    return webhook_token_match(token, len, digest, 1) == 0;
}


static void
test_equal(void)
{
    unsigned char  a[64], b[64], digest[WEBHOOK_TOKEN_DIGEST_LEN];

    memset(a, 0x41, sizeof(a));
    memcpy(b, a, sizeof(a));

    tap_ok(webhook_mac_equal(a, b, 64) == 1, "mac_equal: equal");
    b[63] ^= 0x80;
    tap_ok(webhook_mac_equal(a, b, 64) == 0, "mac_equal: last bit differs");
    tap_ok(webhook_mac_equal(a, b, 63) == 1, "mac_equal: compares n bytes");
    b[0] ^= 1;
    tap_ok(webhook_mac_equal(a, b, 1) == 0, "mac_equal: first byte differs");
    tap_ok(webhook_mac_equal(a, b, 0) == 1, "mac_equal: zero bytes");

#define TOKEN_EQ(x, y)                                                       \
    token_eq(tap_dups(x), strlen(x), tap_dups(y), strlen(y))

    tap_ok(TOKEN_EQ("gitlab-secret-token", "gitlab-secret-token") == 1,
           "token_equal: equal");
    tap_ok(TOKEN_EQ("gitlab-secret-token", "gitlab-secret-tokeN") == 0,
           "token_equal: last byte differs");
    tap_ok(TOKEN_EQ("gitlab-secret-token", "Gitlab-secret-token") == 0,
           "token_equal: first byte differs");
    tap_ok(TOKEN_EQ("gitlab-secret-token", "gitlab-secret") == 0,
           "token_equal: prefix");
    tap_ok(TOKEN_EQ("gitlab", "gitlab-secret-token") == 0,
           "token_equal: longer");
    tap_ok(TOKEN_EQ("abc", "abcabc") == 0,
           "token_equal: periodic extension");
    tap_ok(TOKEN_EQ("abcabc", "abc") == 0,
           "token_equal: periodic extension, reversed");
    tap_ok(TOKEN_EQ("", "") == 1, "token_equal: both empty");
    tap_ok(TOKEN_EQ("", "x") == 0, "token_equal: empty vs one byte");
    tap_ok(TOKEN_EQ("x", "") == 0, "token_equal: one byte vs empty");
    tap_ok(token_eq(tap_dup("a\0b", 3), 3, tap_dup("a\0c", 3), 3)
           == 0, "token_equal: bytes after a NUL count");

    tap_ok(webhook_token_digest((const unsigned char *) "one", 3, a)
           == WEBHOOK_OK
           && webhook_token_digest((const unsigned char *) "two", 3, a + 32)
              == WEBHOOK_OK
           && webhook_token_match((const unsigned char *) "two", 3, a, 2)
              == 1
           && webhook_token_match((const unsigned char *) "one", 3, a, 2)
              == 0
           && webhook_token_match((const unsigned char *) "six", 3, a, 2)
              == -1, "token_match: the index of the secret, or -1");

    tap_ok(webhook_token_digest((const unsigned char *) "abc", 3, digest)
           == WEBHOOK_OK
           && memcmp(digest, "\xba\x78\x16\xbf\x8f\x01\xcf\xea", 8) == 0,
           "token_digest: SHA-256");

#undef TOKEN_EQ
}


static void
test_provider(const char *dir, const provider_vector_t *v)
{
    int                  rc;
    char                 hex[2 * WEBHOOK_MAC_MAX + 1], enc[2 * WEBHOOK_MAC_MAX];
    size_t               len, keylen, n;
    ssize_t              klen;
    unsigned char        key[128], mac[WEBHOOK_MAC_MAX];
    unsigned char        cands[WEBHOOK_MAX_CANDIDATES * WEBHOOK_MAC_MAX];
    unsigned char       *msg;
    webhook_hmac_t      *h;
    const char          *dname;
    webhook_sig_list_t   list;

    dname = webhook_digest_name(v->digest);

    if (dir == NULL) {
        tap_skip("no vectors directory", "%s %s: vector", v->name, dname);
        return;
    }

    msg = read_file(dir, v->name, &len);

    if (!tap_ok(msg != NULL, "%s %s: read %s/%s.msg", v->name, dname, dir,
                v->name))
    {
        return;
    }

    /* the key as the preset would derive it from the secret */

    keylen = strlen(v->key);

    switch (v->key_kind) {

    case KEY_WHSEC:
        klen = webhook_decode(WEBHOOK_ENC_BASE64, key, sizeof(key),
                              tap_dups(v->key + 6), keylen - 6);
        break;

    case KEY_HEX:
        klen = webhook_decode(WEBHOOK_ENC_HEX, key, sizeof(key),
                              tap_dups(v->key), keylen);
        break;

    default:
        memcpy(key, v->key, keylen);
        klen = (ssize_t) keylen;
    }

    h = (klen < 0) ? NULL
                   : webhook_hmac_new(v->digest, key, (size_t) klen);

    if (!tap_ok(h != NULL, "%s %s: key", v->name, dname)) {
        free(msg);
        return;
    }

    webhook_hmac_start(h);
    webhook_hmac_update(h, msg, len);
    webhook_hmac_finish(h, mac);

    if (v->enc == WEBHOOK_ENC_HEX) {
        webhook_hex_encode(hex, mac, webhook_hmac_size(h));
        n = 2 * webhook_hmac_size(h);

    } else {
        n = webhook_base64_encode(enc, mac, webhook_hmac_size(h));
        memcpy(hex, enc, n);
    }

    tap_is_str(hex, n, v->expected, "%s %s: MAC over %zu signed bytes",
               v->name, dname, len);

    /* the whole path: parse the real header, decode, match */

    switch (v->hdr) {

    case HDR_KV:
        rc = webhook_parse_kv_list(tap_dups(v->header), strlen(v->header),
                                   v->sep, v->arg1, v->arg2, &list);
        break;

    case HDR_VERSIONED:
        rc = webhook_parse_versioned_list(tap_dups(v->header),
                                          strlen(v->header), v->arg1, &list);
        break;

    default:
        rc = webhook_parse_prefixed(tap_dups(v->header), strlen(v->header),
                                    v->arg1, &list);
    }

    if (v->timestamp) {
        tap_is_str(list.timestamp.data, list.timestamp.len, v->timestamp,
                   "%s %s: signed timestamp", v->name, dname);
    }

    if (rc == WEBHOOK_OK) {
        rc = webhook_decode_candidates(&list, v->enc, webhook_hmac_size(h),
                                       cands);
    }

    if (rc == WEBHOOK_OK) {
        webhook_hmac_start_all(&h, 1);
        webhook_hmac_update_all(&h, 1, msg, len);
        rc = webhook_hmac_match(&h, 1, cands, list.ncandidates);
    }

    tap_is_int(rc, 0, "%s %s: header parsed, decoded and matched", v->name,
               dname);

    /* and one flipped byte of the body does not match */

    msg[len / 2] ^= 0x01;
    webhook_hmac_start_all(&h, 1);
    webhook_hmac_update_all(&h, 1, msg, len);
    tap_is_int(webhook_hmac_match(&h, 1, cands, list.ncandidates), -1,
               "%s %s: tampered body does not match", v->name, dname);

    webhook_hmac_free(h);
    free(msg);
}
