/*
 * Unit tests: pinned public keys (webhook_pkey.c): the text forms of a
 * key (PEM certificate, PEM public key, base64 DER), their kinds, RSA
 * and ECDSA P-256 verification streamed in pieces, and what is refused.
 * Keys are made here with OpenSSL, so no fixture can go stale.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "webhook_codec.h"
#include "webhook_pkey.h"
#include "test_core.h"


static EVP_PKEY *gen(const char *type, const char *arg);
static char *pem_pub(EVP_PKEY *pk);
static char *pem_cert(EVP_PKEY *pk);
static char *der64_pub(EVP_PKEY *pk);
static size_t sign(EVP_PKEY *pk, const EVP_MD *md, const char *msg,
    unsigned char *sig);
static int verify(webhook_pkey_t *key, webhook_digest_t d, const char *msg,
    const unsigned char *sig, size_t siglen);


void
test_pkey(void)
{
    int              ok;
    char            *text;
    size_t           siglen;
    EVP_PKEY        *ec, *rsa, *ec2, *rsa1k, *p384;
    const char      *err;
    webhook_pkey_t  *key, *key2;
    unsigned char    sig[WEBHOOK_PKEY_SIG_MAX];

    ec = gen("EC", "P-256");
    ec2 = gen("EC", "P-256");
    p384 = gen("EC", "P-384");
    rsa = gen("RSA", NULL);
    rsa1k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);

    if (ec == NULL || ec2 == NULL || p384 == NULL || rsa == NULL
        || rsa1k == NULL)
    {
        tap_ok(0, "pkey: OpenSSL made the test keys");
        return;
    }

    /* forms and kinds */

    text = der64_pub(ec);
    key = webhook_pkey_parse((unsigned char *) text, strlen(text), &err);
    tap_ok(key != NULL, "pkey: base64 DER P-256 key parses");
    tap_is_int(key ? (int) webhook_pkey_kind(key) : -1, WEBHOOK_PKEY_P256,
               "pkey: base64 DER P-256 key is P-256");

    /* sign in pieces, verify */

    siglen = sign(ec, EVP_sha256(), "1700000000[{\"event\":\"open\"}]", sig);
    ok = verify(key, WEBHOOK_SHA256, "1700000000[{\"event\":\"open\"}]", sig,
                siglen);
    tap_is_int(ok, 1, "pkey: ECDSA P-256 signature verifies");
    ok = verify(key, WEBHOOK_SHA256, "1700000001[{\"event\":\"open\"}]", sig,
                siglen);
    tap_is_int(ok, 0, "pkey: ECDSA over other bytes does not");
    ok = verify(key, WEBHOOK_SHA256, "1700000000[{\"event\":\"open\"}]", sig,
                siglen - 1);
    tap_is_int(ok, 0, "pkey: a truncated ECDSA signature does not");
    ok = verify(key, WEBHOOK_SHA256, "x", (unsigned char *) "", 0);
    tap_is_int(ok, 0, "pkey: an empty signature does not");
    webhook_pkey_free(key);
    free(text);

    text = pem_pub(ec2);
    key2 = webhook_pkey_parse((unsigned char *) text, strlen(text), &err);
    tap_ok(key2 != NULL, "pkey: PEM P-256 public key parses");
    ok = verify(key2, WEBHOOK_SHA256, "1700000000[{\"event\":\"open\"}]",
                sig, siglen);
    tap_is_int(ok, 0, "pkey: another P-256 key does not verify");
    webhook_pkey_free(key2);
    free(text);

    text = pem_cert(rsa);
    key = webhook_pkey_parse((unsigned char *) text, strlen(text), &err);
    tap_ok(key != NULL, "pkey: PEM certificate parses");
    tap_is_int(key ? (int) webhook_pkey_kind(key) : -1, WEBHOOK_PKEY_RSA,
               "pkey: the certificate's key is RSA");

    siglen = sign(rsa, EVP_sha1(), "Message\nhello\n", sig);
    tap_is_int(verify(key, WEBHOOK_SHA1, "Message\nhello\n", sig, siglen), 1,
               "pkey: SHA1withRSA verifies");
    tap_is_int(verify(key, WEBHOOK_SHA256, "Message\nhello\n", sig, siglen),
               0, "pkey: ... not as SHA256withRSA");
    siglen = sign(rsa, EVP_sha256(), "id|time|wh|123", sig);
    tap_is_int(verify(key, WEBHOOK_SHA256, "id|time|wh|123", sig, siglen), 1,
               "pkey: SHA256withRSA verifies");
    sig[10] ^= 1;
    tap_is_int(verify(key, WEBHOOK_SHA256, "id|time|wh|123", sig, siglen), 0,
               "pkey: a flipped bit does not");
    webhook_pkey_free(key);

    /* the certificate with surrounding whitespace */

    {
        char  *ws;

        ws = malloc(strlen(text) + 8);
        if (ws != NULL) {
            sprintf(ws, "\n  %s\n\n", text);
            key = webhook_pkey_parse((unsigned char *) ws, strlen(ws), &err);
            tap_ok(key != NULL, "pkey: whitespace around a PEM is ignored");
            webhook_pkey_free(key);
            free(ws);
        }
    }

    free(text);

    /* refused */

    text = pem_pub(rsa1k);
    key = webhook_pkey_parse((unsigned char *) text, strlen(text), &err);
    tap_ok(key == NULL && strstr(err, "2048") != NULL,
           "pkey: a 1024-bit RSA key is refused");
    webhook_pkey_free(key);
    free(text);

    text = pem_pub(p384);
    key = webhook_pkey_parse((unsigned char *) text, strlen(text), &err);
    tap_is_int(key ? (int) webhook_pkey_kind(key) : -1, WEBHOOK_PKEY_OTHER,
               "pkey: a P-384 key is of no supported kind");
    tap_ok(key == NULL
           || webhook_pkey_verify_start(key, WEBHOOK_SHA256) == NULL,
           "pkey: ... and cannot verify");
    webhook_pkey_free(key);
    free(text);

    key = webhook_pkey_parse((unsigned char *) "", 0, &err);
    tap_ok(key == NULL, "pkey: empty text is refused");
    key = webhook_pkey_parse((unsigned char *) "not a key", 9, &err);
    tap_ok(key == NULL, "pkey: text is refused");
    key = webhook_pkey_parse((unsigned char *) "AAAA", 4, &err);
    tap_ok(key == NULL, "pkey: base64 of no DER is refused");
    key = webhook_pkey_parse((unsigned char *)
                             "-----BEGIN CERTIFICATE-----\nAAAA\n"
                             "-----END CERTIFICATE-----\n", 58, &err);
    tap_ok(key == NULL, "pkey: a broken certificate is refused");

    text = der64_pub(ec);
    text = realloc(text, strlen(text) + 5);
    if (text != NULL) {
        /* DER followed by more bytes: "AAAA" decodes to three zeros */
        strcat(text, "AAAA");
        key = webhook_pkey_parse((unsigned char *) text, strlen(text), &err);
        tap_ok(key == NULL, "pkey: bytes after the DER key are refused");
        free(text);
    }

    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec2);
    EVP_PKEY_free(p384);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa1k);
}


static EVP_PKEY *
gen(const char *type, const char *arg)
{
    if (arg) {
        return EVP_PKEY_Q_keygen(NULL, NULL, type, arg);
    }

    return EVP_PKEY_Q_keygen(NULL, NULL, type, (size_t) 2048);
}


static char *
bio_text(BIO *bio)
{
    char  *p, *s;
    long   n;

    n = BIO_get_mem_data(bio, &p);
    s = malloc((size_t) n + 1);
    if (s != NULL) {
        memcpy(s, p, (size_t) n);
        s[n] = '\0';
    }

    BIO_free(bio);
    return s;
}


static char *
pem_pub(EVP_PKEY *pk)
{
    BIO  *bio;

    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, pk);
    return bio_text(bio);
}


static char *
pem_cert(EVP_PKEY *pk)
{
    BIO   *bio;
    X509  *x;

    x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pk);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (unsigned char *) "sns.test", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_sign(x, pk, EVP_sha256());

    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, x);
    X509_free(x);
    return bio_text(bio);
}


static char *
der64_pub(EVP_PKEY *pk)
{
    int             n;
    char           *s;
    unsigned char  *der;

    der = NULL;
    n = i2d_PUBKEY(pk, &der);
    s = malloc(4 * ((size_t) n + 2) / 3 + 4);
    if (s != NULL) {
        s[webhook_base64_encode(s, der, (size_t) n)] = '\0';
    }

    OPENSSL_free(der);
    return s;
}


static size_t
sign(EVP_PKEY *pk, const EVP_MD *md, const char *msg, unsigned char *sig)
{
    size_t       len;
    EVP_MD_CTX  *ctx;

    len = WEBHOOK_PKEY_SIG_MAX;
    ctx = EVP_MD_CTX_new();

    if (EVP_DigestSignInit(ctx, NULL, md, NULL, pk) != 1
        || EVP_DigestSign(ctx, sig, &len, (const unsigned char *) msg,
                          strlen(msg))
           != 1)
    {
        len = 0;
    }

    EVP_MD_CTX_free(ctx);
    return len;
}


/* the message fed one byte at a time */

static int
verify(webhook_pkey_t *key, webhook_digest_t d, const char *msg,
    const unsigned char *sig, size_t siglen)
{
    size_t                  i;
    webhook_pkey_verify_t  *v;

    if (key == NULL) {
        return -1;
    }

    v = webhook_pkey_verify_start(key, d);
    if (v == NULL) {
        return -1;
    }

    for (i = 0; msg[i]; i++) {
        if (webhook_pkey_verify_update(v, msg + i, 1) != WEBHOOK_OK) {
            webhook_pkey_verify_free(v);
            return -1;
        }
    }

    return webhook_pkey_verify_finish(v, sig, siglen);
}
