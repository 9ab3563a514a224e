
/*
 * Public keys for asymmetric signatures with a pinned key (SendGrid's
 * ECDSA P-256, PayPal's and Amazon SNS's RSA certificates), through
 * OpenSSL 3's EVP_DigestVerify.  Keys are parsed once, at configuration
 * time; a request streams the signed bytes into one verification per key
 * (ECDSA and RSA hash the message once, so nothing is copied).
 */

#ifndef _WEBHOOK_PKEY_H_INCLUDED_
#define _WEBHOOK_PKEY_H_INCLUDED_


#include "webhook_core.h"
#include "webhook_hmac.h"


/* an RSA signature of the largest key taken (8192 bits); DER ECDSA P-256
   signatures are at most 72 bytes */
#define WEBHOOK_PKEY_SIG_MAX  1024

/* RSA keys shorter than this are refused */
#define WEBHOOK_PKEY_RSA_MIN_BITS  2048


typedef enum {
    WEBHOOK_PKEY_OTHER = 0,
    WEBHOOK_PKEY_RSA,
    WEBHOOK_PKEY_P256,                  /* ECDSA over NIST P-256 */
    WEBHOOK_PKEY_ED25519
} webhook_pkey_kind_e;


typedef struct webhook_pkey_s         webhook_pkey_t;
typedef struct webhook_pkey_verify_s  webhook_pkey_verify_t;


/*
 * A public key from its text form, detected in this order (surrounding
 * whitespace ignored):
 *   "-----BEGIN CERTIFICATE-----": an X.509 certificate in PEM (the
 *       first one of the text), whose subject public key is taken;
 *   "-----BEGIN PUBLIC KEY-----": a SubjectPublicKeyInfo in PEM;
 *   otherwise base64 of a DER SubjectPublicKeyInfo (SendGrid's console).
 * RSA keys under WEBHOOK_PKEY_RSA_MIN_BITS are refused.  Returns NULL,
 * with *err set to a static description, when it is none of these.
 */
webhook_pkey_t *webhook_pkey_parse(const unsigned char *p, size_t len,
    const char **err);

/* NULL is a no-op */
void webhook_pkey_free(webhook_pkey_t *key);

webhook_pkey_kind_e webhook_pkey_kind(const webhook_pkey_t *key);

/* "RSA", "ECDSA P-256", "Ed25519" or "unsupported" */
const char *webhook_pkey_kind_name(webhook_pkey_kind_e kind);

/*
 * A verification of a signature by key with digest (WEBHOOK_SHA1 or
 * WEBHOOK_SHA256; PKCS #1 v1.5 for RSA, DER-encoded (r, s) for ECDSA):
 * start, feed the signed bytes in pieces, finish.  finish returns 1 when
 * the signature is valid, 0 when it is not, WEBHOOK_ERROR on a library
 * failure; it frees v, as does webhook_pkey_verify_free (NULL is a no-op).
 */
webhook_pkey_verify_t *webhook_pkey_verify_start(const webhook_pkey_t *key,
    webhook_digest_t digest);
int webhook_pkey_verify_update(webhook_pkey_verify_t *v, const void *data,
    size_t len);
int webhook_pkey_verify_finish(webhook_pkey_verify_t *v,
    const unsigned char *sig, size_t siglen);
void webhook_pkey_verify_free(webhook_pkey_verify_t *v);


#endif /* _WEBHOOK_PKEY_H_INCLUDED_ */
