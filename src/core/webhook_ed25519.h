/*
 * Ed25519 verification through OpenSSL 3 (Discord, Standard Webhooks
 * "v1a").  Keys are parsed once, at configuration time; a request does
 * one EVP_DigestVerify per candidate and key.
 *
 * OpenSSL's Ed25519 is one-shot (RFC 8032 "pure" Ed25519 hashes the
 * message twice, so it cannot stream): the caller passes the signed
 * message in one piece.
 */

#ifndef _WEBHOOK_ED25519_H_INCLUDED_
#define _WEBHOOK_ED25519_H_INCLUDED_


#include "webhook_core.h"


#define WEBHOOK_ED25519_KEY_LEN  32
#define WEBHOOK_ED25519_SIG_LEN  64


typedef struct webhook_ed25519_key_s  webhook_ed25519_key_t;


/*
 * A public key from its text form, detected in this order:
 *   "-----BEGIN PUBLIC KEY-----" PEM (SubjectPublicKeyInfo), which must
 *       hold an Ed25519 key;
 *   "whpk_" followed by base64 of the 32 raw bytes (Standard Webhooks);
 *   64 hex digits (Discord's dashboard);
 *   base64 or base64url of the 32 raw bytes.
 * Surrounding whitespace is ignored.  Returns NULL when it is none of
 * these, with *err set to a static description.
 */
webhook_ed25519_key_t *webhook_ed25519_key_parse(const unsigned char *p,
    size_t len, const char **err);

/* NULL is a no-op */
void webhook_ed25519_key_free(webhook_ed25519_key_t *key);

/* The 32 raw bytes of the key into raw: WEBHOOK_OK or WEBHOOK_ERROR. */
int webhook_ed25519_key_raw(const webhook_ed25519_key_t *key,
    unsigned char *raw);

/*
 * Verify a 64-byte signature over msg[0..len).  Returns 1 when it is
 * valid, 0 when it is not, WEBHOOK_ERROR on a library failure.
 */
int webhook_ed25519_verify(const webhook_ed25519_key_t *key,
    const unsigned char *sig, const unsigned char *msg, size_t len);


#endif /* _WEBHOOK_ED25519_H_INCLUDED_ */
