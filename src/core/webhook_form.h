/*
 * application/x-www-form-urlencoded bodies (Twilio signs the decoded
 * parameters, sorted) and the request URL pieces Twilio's scheme needs.
 *
 * Input is hostile: parsing is in place and bounded (the number of
 * parameters is capped), nothing is read past the given length.
 */

#ifndef _WEBHOOK_FORM_H_INCLUDED_
#define _WEBHOOK_FORM_H_INCLUDED_


#include "webhook_core.h"


/* more parameters than this is not a webhook, it is a CPU lever */
#define WEBHOOK_FORM_MAX_PARAMS  1024


typedef struct {
    const unsigned char  *key;
    size_t                key_len;
    const unsigned char  *value;
    size_t                value_len;
} webhook_form_param_t;


/*
 * Split buf[0..len) on '&', each pair on its first '=' (a pair without
 * '=' is a key with an empty value), and decode keys and values in place
 * as a form decoder does: '+' is a space, "%XX" (either case) is that
 * byte, a '%' not followed by two hex digits stays as it is.  Empty pairs
 * ("a=1&&b=2", a trailing '&') are skipped.  params has room for max.
 * Returns the number of parameters, or WEBHOOK_MALFORMED when there are
 * more than max (nothing useful is left in buf then).
 */
ssize_t webhook_form_parse(unsigned char *buf, size_t len,
    webhook_form_param_t *params, size_t max);

/*
 * Twilio's order: by key, then by value, bytewise ("Unix-style
 * case-sensitive", as its documentation puts it), with exact duplicates
 * (same key and value) dropped, as its SDK does.  Returns the new count.
 */
size_t webhook_form_sort(webhook_form_param_t *params, size_t n);

/*
 * The raw (not decoded) value of the first query parameter called name in
 * url[0..len): the query runs from the first '?' to a '#' or the end.
 * WEBHOOK_OK with *value set, or WEBHOOK_MISSING.
 */
int webhook_url_query_param(const unsigned char *url, size_t len,
    const char *name, webhook_str_t *value);

/*
 * url[0..len) with the scheme's default port toggled: "https://h:443/p"
 * becomes "https://h/p" and "https://h/p" becomes "https://h:443/p" (80
 * for http), as Twilio's SDK tries both.  Written to out (size bytes;
 * len + 4 is always enough).  Returns the length written, or 0 when there
 * is no such variant: not an http(s) URL, a port that is not the
 * default, no host, or no room.
 */
size_t webhook_url_toggle_port(const unsigned char *url, size_t len,
    unsigned char *out, size_t size);


#endif /* _WEBHOOK_FORM_H_INCLUDED_ */
