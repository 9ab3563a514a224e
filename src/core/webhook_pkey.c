
/*
 * ngx_http_webhook_module: pinned public keys (RSA, ECDSA P-256) and
 * their verification.
 */


#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "webhook_codec.h"
#include "webhook_pkey.h"


/* a PEM certificate is a few KiB; anything far bigger is not one key */
#define WEBHOOK_PKEY_TEXT_MAX  65536

#define WEBHOOK_PKEY_CERT_PEM  "-----BEGIN CERTIFICATE-----"
#define WEBHOOK_PKEY_PUB_PEM   "-----BEGIN PUBLIC KEY-----"


struct webhook_pkey_s {
    EVP_PKEY             *pkey;
    webhook_pkey_kind_e   kind;
};


struct webhook_pkey_verify_s {
    EVP_MD_CTX           *md;
};


static EVP_PKEY *webhook_pkey_from_pem(const unsigned char *p, size_t len,
    int cert, const char **err);
static EVP_PKEY *webhook_pkey_from_der64(const unsigned char *p, size_t len,
    const char **err);
static webhook_pkey_kind_e webhook_pkey_classify(EVP_PKEY *pkey);


webhook_pkey_t *
webhook_pkey_parse(const unsigned char *p, size_t len, const char **err)
{
    EVP_PKEY        *pkey;
    webhook_pkey_t  *key;

    while (len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
        len--;
    }

    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'
                   || p[len - 1] == '\r' || p[len - 1] == '\n'))
    {
        len--;
    }

    if (len == 0) {
        *err = "empty";
        return NULL;
    }

    if (len > WEBHOOK_PKEY_TEXT_MAX) {
        *err = "too long for a public key or a certificate";
        return NULL;
    }

    if (len >= sizeof(WEBHOOK_PKEY_CERT_PEM) - 1
        && memcmp(p, WEBHOOK_PKEY_CERT_PEM, sizeof(WEBHOOK_PKEY_CERT_PEM) - 1)
           == 0)
    {
        pkey = webhook_pkey_from_pem(p, len, 1, err);

    } else if (len >= sizeof(WEBHOOK_PKEY_PUB_PEM) - 1
               && memcmp(p, WEBHOOK_PKEY_PUB_PEM,
                         sizeof(WEBHOOK_PKEY_PUB_PEM) - 1)
                  == 0)
    {
        pkey = webhook_pkey_from_pem(p, len, 0, err);

    } else {
        pkey = webhook_pkey_from_der64(p, len, err);
    }

    if (pkey == NULL) {
        return NULL;
    }

    key = calloc(1, sizeof(webhook_pkey_t));
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        *err = "out of memory";
        return NULL;
    }

    key->pkey = pkey;
    key->kind = webhook_pkey_classify(pkey);

    if (key->kind == WEBHOOK_PKEY_RSA
        && EVP_PKEY_get_bits(pkey) < WEBHOOK_PKEY_RSA_MIN_BITS)
    {
        webhook_pkey_free(key);
        *err = "an RSA key shorter than 2048 bits";
        return NULL;
    }

    return key;
}


void
webhook_pkey_free(webhook_pkey_t *key)
{
    if (key == NULL) {
        return;
    }

    EVP_PKEY_free(key->pkey);
    free(key);
}


webhook_pkey_kind_e
webhook_pkey_kind(const webhook_pkey_t *key)
{
    return key->kind;
}


const char *
webhook_pkey_kind_name(webhook_pkey_kind_e kind)
{
    switch (kind) {
    case WEBHOOK_PKEY_RSA:
        return "RSA";
    case WEBHOOK_PKEY_P256:
        return "ECDSA P-256";
    case WEBHOOK_PKEY_ED25519:
        return "Ed25519";
    default:
        return "unsupported";
    }
}


webhook_pkey_verify_t *
webhook_pkey_verify_start(const webhook_pkey_t *key, webhook_digest_t digest)
{
    const EVP_MD           *md;
    webhook_pkey_verify_t  *v;

    switch (digest) {
    case WEBHOOK_SHA1:
        md = EVP_sha1();
        break;
    case WEBHOOK_SHA256:
        md = EVP_sha256();
        break;
    default:
        return NULL;
    }

    if (key->kind != WEBHOOK_PKEY_RSA && key->kind != WEBHOOK_PKEY_P256) {
        return NULL;
    }

    v = calloc(1, sizeof(webhook_pkey_verify_t));
    if (v == NULL) {
        return NULL;
    }

    v->md = EVP_MD_CTX_new();

    if (v->md == NULL
        || EVP_DigestVerifyInit(v->md, NULL, md, NULL, key->pkey) != 1)
    {
        webhook_pkey_verify_free(v);
        return NULL;
    }

    return v;
}


int
webhook_pkey_verify_update(webhook_pkey_verify_t *v, const void *data,
    size_t len)
{
    if (len == 0) {
        return WEBHOOK_OK;
    }

    return EVP_DigestVerifyUpdate(v->md, data, len) == 1
           ? WEBHOOK_OK : WEBHOOK_ERROR;
}


int
webhook_pkey_verify_finish(webhook_pkey_verify_t *v,
    const unsigned char *sig, size_t siglen)
{
    int  rc;

    /* 1: valid; 0: not; < 0: not even a signature (bad DER): not valid */

    rc = EVP_DigestVerifyFinal(v->md, sig, siglen);

    webhook_pkey_verify_free(v);

    return rc == 1 ? 1 : 0;
}


void
webhook_pkey_verify_free(webhook_pkey_verify_t *v)
{
    if (v == NULL) {
        return;
    }

    EVP_MD_CTX_free(v->md);
    free(v);
}


static EVP_PKEY *
webhook_pkey_from_pem(const unsigned char *p, size_t len, int cert,
    const char **err)
{
    BIO       *bio;
    X509      *x509;
    EVP_PKEY  *pkey;

    bio = BIO_new_mem_buf(p, (int) len);
    if (bio == NULL) {
        *err = "out of memory";
        return NULL;
    }

    if (cert) {
        x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        pkey = (x509 != NULL) ? X509_get_pubkey(x509) : NULL;
        X509_free(x509);

        if (pkey == NULL) {
            *err = "not a PEM certificate";
        }

    } else {
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);

        if (pkey == NULL) {
            *err = "not a PEM public key";
        }
    }

    BIO_free(bio);

    return pkey;
}


static EVP_PKEY *
webhook_pkey_from_der64(const unsigned char *p, size_t len, const char **err)
{
    ssize_t               n;
    EVP_PKEY             *pkey;
    unsigned char        *der;
    const unsigned char  *q;

    der = malloc(webhook_decoded_size(WEBHOOK_ENC_BASE64, len) + 1);
    if (der == NULL) {
        *err = "out of memory";
        return NULL;
    }

    n = webhook_decode(WEBHOOK_ENC_BASE64, der,
                       webhook_decoded_size(WEBHOOK_ENC_BASE64, len) + 1,
                       p, len);

    if (n <= 0) {
        free(der);
        *err = "not a PEM certificate, a PEM public key, or base64 of a "
               "DER public key";
        return NULL;
    }

    q = der;
    pkey = d2i_PUBKEY(NULL, &q, (long) n);

    if (pkey != NULL && q != der + n) {
        /* bytes after the key: not one DER structure */
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }

    free(der);

    if (pkey == NULL) {
        *err = "the base64 is not a DER SubjectPublicKeyInfo";
    }

    return pkey;
}


static webhook_pkey_kind_e
webhook_pkey_classify(EVP_PKEY *pkey)
{
    char    group[32];
    size_t  len;

    switch (EVP_PKEY_get_base_id(pkey)) {

    case EVP_PKEY_RSA:
        return WEBHOOK_PKEY_RSA;

    case EVP_PKEY_ED25519:
        return WEBHOOK_PKEY_ED25519;

    case EVP_PKEY_EC:
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) == 1
            && strcmp(group, "prime256v1") == 0)
        {
            return WEBHOOK_PKEY_P256;
        }

        return WEBHOOK_PKEY_OTHER;

    default:
        return WEBHOOK_PKEY_OTHER;
    }
}
