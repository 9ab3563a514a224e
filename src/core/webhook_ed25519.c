/*
 * ngx_http_webhook_module: Ed25519 public keys and verification.
 */


#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "webhook_codec.h"
#include "webhook_ed25519.h"


/* a PEM public key is about 113 bytes; anything far bigger is not one */
#define WEBHOOK_ED25519_PEM_MAX  4096


struct webhook_ed25519_key_s {
    EVP_PKEY  *pkey;
};


static EVP_PKEY *webhook_ed25519_from_pem(const unsigned char *p,
    size_t len, const char **err);
static EVP_PKEY *webhook_ed25519_from_text(const unsigned char *p,
    size_t len, const char **err);


webhook_ed25519_key_t *
webhook_ed25519_key_parse(const unsigned char *p, size_t len,
    const char **err)
{
    EVP_PKEY               *pkey;
    webhook_ed25519_key_t  *key;

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
        *err = "the key is empty";
        return NULL;
    }

    if (len > 10 && memcmp(p, "-----BEGIN", 10) == 0) {
        pkey = webhook_ed25519_from_pem(p, len, err);

    } else {
        pkey = webhook_ed25519_from_text(p, len, err);
    }

    if (pkey == NULL) {
        return NULL;
    }

    key = OPENSSL_zalloc(sizeof(webhook_ed25519_key_t));
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        *err = "out of memory";
        return NULL;
    }

    key->pkey = pkey;

    return key;
}


void
webhook_ed25519_key_free(webhook_ed25519_key_t *key)
{
    if (key == NULL) {
        return;
    }

    EVP_PKEY_free(key->pkey);
    OPENSSL_free(key);
}


int
webhook_ed25519_key_raw(const webhook_ed25519_key_t *key, unsigned char *raw)
{
    size_t  len;

    len = WEBHOOK_ED25519_KEY_LEN;

    if (EVP_PKEY_get_raw_public_key(key->pkey, raw, &len) != 1
        || len != WEBHOOK_ED25519_KEY_LEN)
    {
        return WEBHOOK_ERROR;
    }

    return WEBHOOK_OK;
}


int
webhook_ed25519_verify(const webhook_ed25519_key_t *key,
    const unsigned char *sig, const unsigned char *msg, size_t len)
{
    int          rc;
    EVP_MD_CTX  *md;

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return WEBHOOK_ERROR;
    }

    /* no digest: Ed25519 hashes the message itself (RFC 8032 "pure") */

    if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, key->pkey) != 1) {
        EVP_MD_CTX_free(md);
        return WEBHOOK_ERROR;
    }

    rc = EVP_DigestVerify(md, sig, WEBHOOK_ED25519_SIG_LEN, msg, len);

    EVP_MD_CTX_free(md);

    /* 0 is a bad signature; below 0 also covers a malformed one */

    return rc == 1;
}


static EVP_PKEY *
webhook_ed25519_from_pem(const unsigned char *p, size_t len,
    const char **err)
{
    BIO       *bio;
    EVP_PKEY  *pkey;

    if (len > WEBHOOK_ED25519_PEM_MAX) {
        *err = "the PEM key is too long";
        return NULL;
    }

    bio = BIO_new_mem_buf(p, (int) len);
    if (bio == NULL) {
        *err = "out of memory";
        return NULL;
    }

    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (pkey == NULL) {
        *err = "not a PEM public key (\"-----BEGIN PUBLIC KEY-----\")";
        return NULL;
    }

    if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(pkey);
        *err = "the PEM key is not an Ed25519 key";
        return NULL;
    }

    return pkey;
}


static EVP_PKEY *
webhook_ed25519_from_text(const unsigned char *p, size_t len,
    const char **err)
{
    ssize_t             n;
    EVP_PKEY           *pkey;
    webhook_encoding_t  enc;
    unsigned char       raw[WEBHOOK_ED25519_KEY_LEN];

    if (len > 5 && memcmp(p, "whpk_", 5) == 0) {
        p += 5;
        len -= 5;
        enc = WEBHOOK_ENC_BASE64;

    } else if (len == 2 * WEBHOOK_ED25519_KEY_LEN) {
        enc = WEBHOOK_ENC_HEX;

    } else if (memchr(p, '-', len) || memchr(p, '_', len)) {
        enc = WEBHOOK_ENC_BASE64URL;

    } else {
        enc = WEBHOOK_ENC_BASE64;
    }

    n = webhook_decode(enc, raw, sizeof(raw), p, len);

    if (n != WEBHOOK_ED25519_KEY_LEN) {
        *err = "not 32 bytes in hex or base64, \"whpk_\" + base64, or PEM";
        return NULL;
    }

    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw,
                                       sizeof(raw));

    if (pkey == NULL) {
        *err = "OpenSSL refused the Ed25519 key";
    }

    return pkey;
}
