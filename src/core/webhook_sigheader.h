/*
 * Signature header parsers.  Each one only splits the header into the
 * candidates of the version the scheme accepts (still encoded) and, where
 * the header carries it, the signed timestamp.  Unknown versions are
 * skipped, never used: a header with only Stripe "v0=" items yields no
 * candidate (WEBHOOK_MISSING), never a downgrade.
 *
 * Input is hostile: no NUL termination is assumed, nothing is copied,
 * every length is checked.
 */

#ifndef _WEBHOOK_SIGHEADER_H_INCLUDED_
#define _WEBHOOK_SIGHEADER_H_INCLUDED_


#include "webhook_core.h"
#include "webhook_codec.h"


/* more candidates than this in one header is malformed, not a DoS lever */
#define WEBHOOK_MAX_CANDIDATES  16


typedef struct {
    webhook_str_t  candidates[WEBHOOK_MAX_CANDIDATES];
    size_t         ncandidates;
    webhook_str_t  timestamp;       /* len 0 when the header has none */
} webhook_sig_list_t;


/*
 * "t=1700000000,v1=<sig>,v1=<sig>,v0=<sig>"  (Stripe, Calendly: sep ',',
 * ts_key "t", sig_key "v1")  or  "ts=1700000000;h1=<sig>"  (Paddle: sep
 * ';', ts_key "ts", sig_key "h1").
 * Items are split on sep, optional spaces and tabs around an item are
 * ignored, each item is split on its first '='.  Keys compare exactly.
 * WEBHOOK_MALFORMED: an empty item, an item without '=' or with an empty
 * key, an empty sig_key value, a repeated ts_key, more than
 * WEBHOOK_MAX_CANDIDATES candidates.
 * WEBHOOK_MISSING: empty header, or no sig_key item.
 * ts_key may be NULL (no timestamp in this scheme).
 */
int webhook_parse_kv_list(const unsigned char *p, size_t len, char sep,
    const char *ts_key, const char *sig_key, webhook_sig_list_t *out);

/*
 * "sha256=<sig>" (GitHub, Meta, Bitbucket), "v0=<sig>" (Slack, Zoom), or
 * the bare value when prefix is "" (Shopify, Razorpay, Xero).
 * WEBHOOK_MISSING: empty header.
 * WEBHOOK_MALFORMED: the prefix (exact, case-sensitive) is not there, or
 * nothing follows it.
 * One candidate on success; the timestamp is left empty.
 */
int webhook_parse_prefixed(const unsigned char *p, size_t len,
    const char *prefix, webhook_sig_list_t *out);

/*
 * "v1,<sig> v1,<sig> v1a,<sig>" (Standard Webhooks / Svix): entries
 * separated by one or more spaces, each "<version>,<sig>"; entries of
 * another version are skipped.
 * WEBHOOK_MALFORMED: an entry without ',' or with an empty version or
 * signature; more than WEBHOOK_MAX_CANDIDATES candidates.
 * WEBHOOK_MISSING: empty header, or no entry of that version.
 */
int webhook_parse_versioned_list(const unsigned char *p, size_t len,
    const char *version, webhook_sig_list_t *out);

/*
 * "1542234146045,<sig>,<sig>" (Recurly): the first item is the timestamp,
 * every further item a candidate; spaces and tabs around an item are
 * ignored.
 * WEBHOOK_MISSING: empty header.
 * WEBHOOK_MALFORMED: an empty item, no candidate after the timestamp,
 * more than WEBHOOK_MAX_CANDIDATES candidates.
 */
int webhook_parse_ts_list(const unsigned char *p, size_t len, char sep,
    webhook_sig_list_t *out);

/*
 * One more candidate from another header (Box's secondary signature,
 * DocuSign's X-DocuSign-Signature-2..N).  WEBHOOK_MALFORMED: an empty
 * value, or more than WEBHOOK_MAX_CANDIDATES candidates in all.
 */
int webhook_sig_list_push(webhook_sig_list_t *list, const unsigned char *p,
    size_t len);

/*
 * Decode every candidate of list into out (ncandidates * expect bytes,
 * back to back).  WEBHOOK_MALFORMED if any candidate does not decode in
 * enc or does not decode to exactly expect bytes.
 */
int webhook_decode_candidates(const webhook_sig_list_t *list,
    webhook_encoding_t enc, size_t expect, unsigned char *out);


#endif /* _WEBHOOK_SIGHEADER_H_INCLUDED_ */
