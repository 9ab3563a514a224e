/*
 * The custom scheme's configuration-time and header parsing, without
 * nginx or PCRE: the "{body}" split of webhook_signed_payload, and the
 * walk over webhook_signature_pattern's matches (the regex engine is the
 * caller's, behind a callback).
 */

#ifndef _WEBHOOK_CUSTOM_H_INCLUDED_
#define _WEBHOOK_CUSTOM_H_INCLUDED_


#include "webhook_core.h"
#include "webhook_sigheader.h"


#define WEBHOOK_BODY_TOKEN      "{body}"
#define WEBHOOK_BODY_TOKEN_LEN  (sizeof(WEBHOOK_BODY_TOKEN) - 1)


/*
 * Where "{body}" is in a webhook_signed_payload template: WEBHOOK_OK with
 * its offset in *body when it occurs exactly once, WEBHOOK_MALFORMED
 * otherwise; *count gets the number of occurrences either way.
 */
int webhook_template_body(const unsigned char *p, size_t len, size_t *body,
    size_t *count);


/*
 * One regex match of value[0..len) starting at offset: fills ov with the
 * whole match (ov[0], ov[1]) and the first group (ov[2], ov[3]; both
 * WEBHOOK_UNSET when the group took no part).  Returns 1 on a match, 0 on
 * none, -1 on an engine error (e.g. its match limit).
 */
#define WEBHOOK_UNSET  ((size_t) -1)

typedef int (*webhook_match_pt)(void *data, const unsigned char *value,
    size_t len, size_t offset, size_t ov[4]);

/*
 * Every match's first group, left to right, into list.  WEBHOOK_OK,
 * WEBHOOK_MISSING (no match with a group), WEBHOOK_MALFORMED (an empty
 * group, more than WEBHOOK_MAX_CANDIDATES, an engine error or a match
 * outside the value).  An empty match moves on by one byte, so the walk
 * ends after at most len + 1 matches.
 */
int webhook_pattern_candidates(const unsigned char *value, size_t len,
    webhook_match_pt match, void *data, webhook_sig_list_t *list);


#endif /* _WEBHOOK_CUSTOM_H_INCLUDED_ */
