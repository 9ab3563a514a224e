/*
 * ngx_http_webhook_module: HMAC through OpenSSL 3 EVP_MAC, constant-time
 * comparisons.
 */


#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "webhook_hmac.h"


struct webhook_hmac_s {
    EVP_MAC_CTX       *ctx;
    size_t             size;
    webhook_digest_t   digest;
};


struct webhook_hash_s {
    EVP_MD_CTX        *ctx;
    webhook_digest_t   digest;
};


static const char *webhook_openssl_digest_name(webhook_digest_t digest);


/*
 * Fetched once per process and never freed: OpenSSL keeps its own
 * reference in the provider store until exit anyway, and a worker that
 * re-fetched per request would pay OpenSSL 3's lock-heavy algorithm
 * lookup every time.  Workers are single-threaded, so a plain static is enough.
 */
static EVP_MAC  *webhook_hmac_mac;

/* an empty key is legal HMAC, but OpenSSL takes a NULL key as "keep" */
static const unsigned char  webhook_hmac_empty_key[1];


int
webhook_hmac_library_init(void)
{
    if (webhook_hmac_mac != NULL) {
        return WEBHOOK_OK;
    }

    webhook_hmac_mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);

    return webhook_hmac_mac ? WEBHOOK_OK : WEBHOOK_ERROR;
}


size_t
webhook_digest_size(webhook_digest_t digest)
{
    switch (digest) {

    case WEBHOOK_SHA256:
        return 32;

    case WEBHOOK_SHA1:
        return 20;

    case WEBHOOK_SHA512:
        return 64;
    }

    return 0;
}


const char *
webhook_digest_name(webhook_digest_t digest)
{
    switch (digest) {

    case WEBHOOK_SHA256:
        return "sha256";

    case WEBHOOK_SHA1:
        return "sha1";

    case WEBHOOK_SHA512:
        return "sha512";
    }

    return "unknown";
}


webhook_hmac_t *
webhook_hmac_new(webhook_digest_t digest, const unsigned char *key,
    size_t keylen)
{
    const char      *name;
    OSSL_PARAM       params[2];
    webhook_hmac_t  *h;

    name = webhook_openssl_digest_name(digest);

    if (name == NULL || webhook_hmac_library_init() != WEBHOOK_OK) {
        return NULL;
    }

    h = calloc(1, sizeof(webhook_hmac_t));
    if (h == NULL) {
        return NULL;
    }

    h->digest = digest;
    h->size = webhook_digest_size(digest);

    h->ctx = EVP_MAC_CTX_new(webhook_hmac_mac);
    if (h->ctx == NULL) {
        free(h);
        return NULL;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) name, 0);
    params[1] = OSSL_PARAM_construct_end();

    if (key == NULL || keylen == 0) {
        key = webhook_hmac_empty_key;
        keylen = 0;
    }

    if (!EVP_MAC_init(h->ctx, key, keylen, params)
        || EVP_MAC_CTX_get_mac_size(h->ctx) != h->size)
    {
        EVP_MAC_CTX_free(h->ctx);
        free(h);
        return NULL;
    }

    return h;
}


void
webhook_hmac_free(webhook_hmac_t *h)
{
    if (h == NULL) {
        return;
    }

    EVP_MAC_CTX_free(h->ctx);
    free(h);
}


size_t
webhook_hmac_size(const webhook_hmac_t *h)
{
    return h->size;
}


int
webhook_hmac_start(webhook_hmac_t *h)
{
    /* NULL key: keep the key and digest set in webhook_hmac_new() */
    return EVP_MAC_init(h->ctx, NULL, 0, NULL) ? WEBHOOK_OK : WEBHOOK_ERROR;
}


int
webhook_hmac_update(webhook_hmac_t *h, const void *data, size_t len)
{
    if (len == 0) {
        return WEBHOOK_OK;
    }

    return EVP_MAC_update(h->ctx, data, len) ? WEBHOOK_OK : WEBHOOK_ERROR;
}


int
webhook_hmac_finish(webhook_hmac_t *h, unsigned char *mac)
{
    size_t  outl;

    if (!EVP_MAC_final(h->ctx, mac, &outl, h->size) || outl != h->size) {
        return WEBHOOK_ERROR;
    }

    return WEBHOOK_OK;
}


int
webhook_mac_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}


int
webhook_hmac_start_all(webhook_hmac_t **keys, size_t nkeys)
{
    int     rc;
    size_t  i;

    rc = WEBHOOK_OK;

    for (i = 0; i < nkeys; i++) {
        if (webhook_hmac_start(keys[i]) != WEBHOOK_OK) {
            rc = WEBHOOK_ERROR;
        }
    }

    return rc;
}


int
webhook_hmac_update_all(webhook_hmac_t **keys, size_t nkeys,
    const void *data, size_t len)
{
    int     rc;
    size_t  i;

    rc = WEBHOOK_OK;

    for (i = 0; i < nkeys; i++) {
        if (webhook_hmac_update(keys[i], data, len) != WEBHOOK_OK) {
            rc = WEBHOOK_ERROR;
        }
    }

    return rc;
}


int
webhook_hmac_match(webhook_hmac_t **keys, size_t nkeys,
    const unsigned char *cands, size_t ncands)
{
    return webhook_hmac_match_mac(keys, nkeys, cands, ncands, NULL);
}


int
webhook_hmac_match_mac(webhook_hmac_t **keys, size_t nkeys,
    const unsigned char *cands, size_t ncands, unsigned char *matched)
{
    int            found, error, hit;
    size_t         i, j, size;
    unsigned char  mac[WEBHOOK_MAC_MAX];

    if (nkeys == 0) {
        return -1;
    }

    size = keys[0]->size;

    /* candidates are laid out by one size: mixed digests cannot be read */

    for (i = 1; i < nkeys; i++) {
        if (keys[i]->size != size) {
            return WEBHOOK_ERROR;
        }
    }

    found = -1;
    error = 0;

    /*
     * No early exit anywhere: every key is finished and every pair
     * compared, so the time tells nothing about which key or candidate
     * matched.  The only data-dependent step is recording the index.
     */

    for (i = 0; i < nkeys; i++) {

        if (webhook_hmac_finish(keys[i], mac) != WEBHOOK_OK) {
            error = 1;
            continue;
        }

        hit = 0;

        for (j = 0; j < ncands; j++) {
            hit |= CRYPTO_memcmp(mac, cands + j * size, size) == 0;
        }

        if (hit && found < 0) {
            found = (int) i;

            if (matched != NULL) {
                memcpy(matched, mac, size);
            }
        }
    }

    OPENSSL_cleanse(mac, sizeof(mac));

    return error ? WEBHOOK_ERROR : found;
}


int
webhook_token_digest(const unsigned char *s, size_t len,
    unsigned char *digest)
{
    unsigned int  n;

    if (!EVP_Digest(s, len, digest, &n, EVP_sha256(), NULL)
        || n != WEBHOOK_TOKEN_DIGEST_LEN)
    {
        return WEBHOOK_ERROR;
    }

    return WEBHOOK_OK;
}


int
webhook_token_match(const unsigned char *token, size_t len,
    const unsigned char *digests, size_t n)
{
    int            found;
    size_t         i;
    unsigned char  md[WEBHOOK_TOKEN_DIGEST_LEN];

    if (webhook_token_digest(token, len, md) != WEBHOOK_OK) {
        return WEBHOOK_ERROR;
    }

    found = -1;

    for (i = 0; i < n; i++) {
        if (CRYPTO_memcmp(md, digests + i * WEBHOOK_TOKEN_DIGEST_LEN,
                          WEBHOOK_TOKEN_DIGEST_LEN)
            == 0
            && found < 0)
        {
            found = (int) i;
        }
    }

    OPENSSL_cleanse(md, sizeof(md));

    return found;
}


webhook_hash_t *
webhook_hash_new(webhook_digest_t digest)
{
    const EVP_MD    *md;
    webhook_hash_t  *h;

    switch (digest) {

    case WEBHOOK_SHA256:
        md = EVP_sha256();
        break;

    case WEBHOOK_SHA1:
        md = EVP_sha1();
        break;

    case WEBHOOK_SHA512:
        md = EVP_sha512();
        break;

    default:
        return NULL;
    }

    h = calloc(1, sizeof(webhook_hash_t));
    if (h == NULL) {
        return NULL;
    }

    h->digest = digest;

    h->ctx = EVP_MD_CTX_new();

    if (h->ctx == NULL || !EVP_DigestInit_ex(h->ctx, md, NULL)) {
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
    }

    return h;
}


int
webhook_hash_update(webhook_hash_t *h, const void *data, size_t len)
{
    if (len == 0) {
        return WEBHOOK_OK;
    }

    return EVP_DigestUpdate(h->ctx, data, len) ? WEBHOOK_OK : WEBHOOK_ERROR;
}


int
webhook_hash_finish(webhook_hash_t *h, unsigned char *md)
{
    unsigned int  outl;

    if (!EVP_DigestFinal_ex(h->ctx, md, &outl)
        || outl != webhook_digest_size(h->digest))
    {
        return WEBHOOK_ERROR;
    }

    return WEBHOOK_OK;
}


void
webhook_hash_free(webhook_hash_t *h)
{
    if (h == NULL) {
        return;
    }

    EVP_MD_CTX_free(h->ctx);
    free(h);
}


static const char *
webhook_openssl_digest_name(webhook_digest_t digest)
{
    switch (digest) {

    case WEBHOOK_SHA256:
        return "SHA256";

    case WEBHOOK_SHA1:
        return "SHA1";

    case WEBHOOK_SHA512:
        return "SHA512";
    }

    return NULL;
}
