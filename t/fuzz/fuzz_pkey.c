/*
 * libFuzzer target: the public keys of SendGrid, PayPal and Amazon SNS
 * (webhook_pkey.c).  The first byte picks:
 *  - even: the rest is the text of webhook_public_key (a PEM certificate,
 *    a PEM public key, base64 of a DER one): a parse either fails with a
 *    description or gives a key of a known kind, which then takes a
 *    verification of the same bytes under a signature of hostile bytes
 *    without crashing;
 *  - odd: the rest is "N MESSAGE SIGNATURE" (N: the message's length, one
 *    byte) against two fixed keys (ECDSA P-256, RSA 2048), with SHA-1 and
 *    SHA-256: a signature of hostile bytes, DER or not, over any message,
 *    never verifies.
 *
 *     ./build.sh fuzz [SECONDS]      (t/fuzz/run.sh SECONDS fuzz_pkey)
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_pkey.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const uint8_t *data, size_t size);
static void check_signature(const uint8_t *data, size_t size);
static int verify(const webhook_pkey_t *key, webhook_digest_t digest,
    const uint8_t *msg, size_t msglen, const uint8_t *sig, size_t siglen);


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


static const char  p256_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEyRO3GpkPLXY4jPNeCTfhqlZ86UoJ\n"
    "phgBYJPZaS0WUS7vZhdepymw9ycbrNGbqPbY2Uq2fX+/QCL+PC45a629pA==\n"
    "-----END PUBLIC KEY-----\n";

static const char  rsa_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAo1H7jyIgI5/5VLbIGTOm\n"
    "HrLXaAu50aivr6ziqOHaWHVWACrkfwaH4kuM0B2Xzhb/7jMM4Ilk2xeW5Yu7LaUG\n"
    "QilXxbKiiJzyVPWyPVO+1D2/eS4t33ZV3GH7Pr4lZpdiuMhW5Y6CIV6gutwmEHNN\n"
    "cPBrMa8T2zloDEwvCFiIzvyHAX2wUMyl/BJNLNJtdvsfsPgjyiUTmslFxKE5gWmS\n"
    "bt6bgARmD/od/NKgzy6j650IEiKIWNU1jTlgvuSkdFNZUKdlfZesC5aaUC0fxlnO\n"
    "DbEuH3SIOfcNsTVNwBGlJOYt3hsFvYoK3vSbga78WuLFh6Axg5Pf7kBvruTLyp/G\n"
    "2wIDAQAB\n"
    "-----END PUBLIC KEY-----\n";


static webhook_pkey_t  *keys[2];


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char  *err;

    if (keys[0] == NULL) {
        keys[0] = webhook_pkey_parse((const unsigned char *) p256_pem,
                                     sizeof(p256_pem) - 1, &err);
        keys[1] = webhook_pkey_parse((const unsigned char *) rsa_pem,
                                     sizeof(rsa_pem) - 1, &err);
        CHECK(keys[0] != NULL && keys[1] != NULL);
        CHECK(webhook_pkey_kind(keys[0]) == WEBHOOK_PKEY_P256);
        CHECK(webhook_pkey_kind(keys[1]) == WEBHOOK_PKEY_RSA);
    }

    if (size == 0) {
        return 0;
    }

    if (data[0] % 2 == 0) {
        check_text(data + 1, size - 1);

    } else {
        check_signature(data + 1, size - 1);
    }

    return 0;
}


static void
check_text(const uint8_t *data, size_t size)
{
    const char           *err, *name;
    unsigned char        *copy;
    webhook_pkey_t       *key;
    webhook_pkey_kind_e   kind;

    /* an exact-size copy: a read past the text is ASan's to see */
    copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    memcpy(copy, data, size);

    err = NULL;
    key = webhook_pkey_parse(copy, size, &err);

    if (key == NULL) {
        CHECK(err != NULL && *err != '\0');
        free(copy);
        return;
    }

    kind = webhook_pkey_kind(key);
    CHECK(kind == WEBHOOK_PKEY_OTHER || kind == WEBHOOK_PKEY_RSA
          || kind == WEBHOOK_PKEY_P256 || kind == WEBHOOK_PKEY_ED25519);

    name = webhook_pkey_kind_name(kind);
    CHECK(name != NULL && *name != '\0');

    /* the text signs nothing it carries: its own bytes never verify (a
       key OpenSSL takes but cannot verify with starts nothing: -1) */
    CHECK(verify(key, WEBHOOK_SHA256, copy, size, copy,
                 size < WEBHOOK_PKEY_SIG_MAX ? size : WEBHOOK_PKEY_SIG_MAX)
          != 1);

    webhook_pkey_free(key);
    free(copy);
}


static void
check_signature(const uint8_t *data, size_t size)
{
    size_t          msglen, siglen, i;
    const uint8_t  *msg, *sig;

    if (size == 0) {
        return;
    }

    msglen = data[0];
    data++;
    size--;

    if (msglen > size) {
        msglen = size;
    }

    msg = data;
    sig = data + msglen;
    siglen = size - msglen;

    if (siglen > WEBHOOK_PKEY_SIG_MAX) {
        siglen = WEBHOOK_PKEY_SIG_MAX;
    }

    for (i = 0; i < 2; i++) {
        CHECK(verify(keys[i], WEBHOOK_SHA256, msg, msglen, sig, siglen) == 0);
        CHECK(verify(keys[i], WEBHOOK_SHA1, msg, msglen, sig, siglen) == 0);
    }
}


/*
 * The message fed in two pieces, as a body arrives in buffers: 1 valid, 0
 * not, -1 when the key starts no verification (a kind other than RSA and
 * P-256, or a key OpenSSL refuses to verify with).
 */

static int
verify(const webhook_pkey_t *key, webhook_digest_t digest,
    const uint8_t *msg, size_t msglen, const uint8_t *sig, size_t siglen)
{
    uint8_t                *copy;
    webhook_pkey_verify_t  *v;
    int                     rc;

    v = webhook_pkey_verify_start(key, digest);
    if (v == NULL) {
        return -1;
    }

    CHECK(webhook_pkey_verify_update(v, msg, msglen / 2) == WEBHOOK_OK);
    CHECK(webhook_pkey_verify_update(v, msg + msglen / 2,
                                     msglen - msglen / 2)
          == WEBHOOK_OK);

    copy = malloc(siglen ? siglen : 1);
    CHECK(copy != NULL);
    memcpy(copy, sig, siglen);

    rc = webhook_pkey_verify_finish(v, copy, siglen);
    CHECK(rc == 0 || rc == 1);

    free(copy);

    return rc;
}
