/*
 * HMAC through OpenSSL 3 EVP_MAC.
 *
 * Fetching "HMAC" is the expensive part of OpenSSL 3, so
 * it is fetched once per process, each secret gets one pre-keyed context
 * at configuration time, and a request only re-initialises it
 * (EVP_MAC_init(ctx, NULL, 0, NULL) keeps the key).  A context is used by
 * one request at a time: nginx workers are single-threaded and a
 * verification runs start-to-finish without yielding.
 */

#ifndef _WEBHOOK_HMAC_H_INCLUDED_
#define _WEBHOOK_HMAC_H_INCLUDED_


#include "webhook_core.h"


#define WEBHOOK_MAC_MAX  64     /* SHA-512 */


typedef enum {
    WEBHOOK_SHA256 = 0,
    WEBHOOK_SHA1,
    WEBHOOK_SHA512
} webhook_digest_t;


typedef struct webhook_hmac_s  webhook_hmac_t;


/* Fetch the HMAC implementation; idempotent.  WEBHOOK_OK or WEBHOOK_ERROR. */
int webhook_hmac_library_init(void);

/* Output size of a digest in bytes (20, 32 or 64). */
size_t webhook_digest_size(webhook_digest_t digest);

/* Name of a digest as written in configuration ("sha256", ...). */
const char *webhook_digest_name(webhook_digest_t digest);

/*
 * A context keyed with key[0..keylen).  The key bytes are copied into
 * OpenSSL's context only; the caller keeps (and wipes) its own copy.
 * Returns NULL on failure.
 */
webhook_hmac_t *webhook_hmac_new(webhook_digest_t digest,
    const unsigned char *key, size_t keylen);

/* Frees the context; OpenSSL cleanses the key material.  NULL is a no-op. */
void webhook_hmac_free(webhook_hmac_t *h);

size_t webhook_hmac_size(const webhook_hmac_t *h);

/* Start, feed, finish one MAC.  Each returns WEBHOOK_OK or WEBHOOK_ERROR. */
int webhook_hmac_start(webhook_hmac_t *h);
int webhook_hmac_update(webhook_hmac_t *h, const void *data, size_t len);
int webhook_hmac_finish(webhook_hmac_t *h, unsigned char *mac);

/* Constant-time equality of two n-byte MACs (CRYPTO_memcmp): 1 if equal. */
int webhook_mac_equal(const unsigned char *a, const unsigned char *b,
    size_t n);

/*
 * Several keys (rotation) over the same bytes: start all, feed all once,
 * then webhook_hmac_match() finishes every key and compares its MAC with
 * every candidate (ncands decoded MACs of webhook_hmac_size() bytes each,
 * laid out back to back).  Every pair is compared, so the time does not
 * depend on which one matched.  Returns the 0-based index of the first key
 * that matched some candidate, -1 if none did, WEBHOOK_ERROR (-3) on a
 * library failure.  All keys must use the same digest (WEBHOOK_ERROR
 * otherwise).
 */
int webhook_hmac_start_all(webhook_hmac_t **keys, size_t nkeys);
int webhook_hmac_update_all(webhook_hmac_t **keys, size_t nkeys,
    const void *data, size_t len);
int webhook_hmac_match(webhook_hmac_t **keys, size_t nkeys,
    const unsigned char *cands, size_t ncands);

/*
 * webhook_hmac_match() that also copies the matching MAC (the verified
 * signature, webhook_hmac_size() bytes) to matched, when one matched and
 * matched is not NULL: a replay cache keys deliveries without an id on it.
 */
int webhook_hmac_match_mac(webhook_hmac_t **keys, size_t nkeys,
    const unsigned char *cands, size_t ncands, unsigned char *matched);

/*
 * A plain digest streamed in (Twilio's bodySHA256 query parameter is the
 * hex SHA-256 of the body).  webhook_hash_new() returns a started
 * context or NULL; webhook_hash_finish() writes webhook_digest_size()
 * bytes.  Each returns WEBHOOK_OK or WEBHOOK_ERROR.
 */
typedef struct webhook_hash_s  webhook_hash_t;

webhook_hash_t *webhook_hash_new(webhook_digest_t digest);
int webhook_hash_update(webhook_hash_t *h, const void *data, size_t len);
int webhook_hash_finish(webhook_hash_t *h, unsigned char *md);
void webhook_hash_free(webhook_hash_t *h);

/*
 * GitLab's plaintext token.  A secret is kept as the SHA-256 of its bytes
 * (webhook_token_digest(), at configuration time, WEBHOOK_OK or
 * WEBHOOK_ERROR).  webhook_token_match() digests the token once and
 * compares it with each of the n digests (32 bytes each, back to back)
 * with CRYPTO_memcmp, every one, no early exit: the time depends on the
 * token's length, which the client chose, and on n, never on a secret's
 * length or bytes.  Returns the 0-based index of the first secret the
 * token equals, -1 if none, WEBHOOK_ERROR (-3) on a library failure.
 */
#define WEBHOOK_TOKEN_DIGEST_LEN  32

int webhook_token_digest(const unsigned char *s, size_t len,
    unsigned char *digest);
int webhook_token_match(const unsigned char *token, size_t len,
    const unsigned char *digests, size_t n);


#endif /* _WEBHOOK_HMAC_H_INCLUDED_ */
