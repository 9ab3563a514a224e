/*
 * IP allowlists: CIDR parsing and matching, IPv4 and IPv6.
 *
 * An IPv4-mapped IPv6 client (::ffff:a.b.c.d, as a dual-stack listener
 * reports IPv4 peers) is matched against the IPv4 rules, as nginx's
 * access module does.
 */

#ifndef _WEBHOOK_CIDR_H_INCLUDED_
#define _WEBHOOK_CIDR_H_INCLUDED_


#include "webhook_core.h"


typedef struct {
    int            family;          /* AF_INET or AF_INET6 */
    unsigned char  addr[16];        /* network address, host bits zero */
    unsigned char  mask[16];
    unsigned       prefix;          /* 0..32 or 0..128 */
    unsigned       host_bits_set:1; /* the text had bits below the mask */
} webhook_cidr_t;


/*
 * "10.0.0.0/8", "192.0.2.7" (a /32), "2001:db8::/32", "::1".
 * Surrounding whitespace is not accepted.  WEBHOOK_OK or WEBHOOK_MALFORMED
 * (bad address, prefix out of range, leading zeros in the prefix, empty).
 * Host bits below the mask are cleared and reported in host_bits_set, so
 * the caller can warn as nginx does ("low address bits are meaningless").
 */
int webhook_cidr_parse(const unsigned char *p, size_t len,
    webhook_cidr_t *cidr);

/*
 * Does the address (4 bytes for AF_INET, 16 for AF_INET6, network order)
 * fall in cidr?  IPv4-mapped IPv6 addresses match IPv4 rules.
 */
int webhook_cidr_match(const webhook_cidr_t *cidr, int family,
    const unsigned char *addr);

/*
 * The next rule of an allowlist file in [*pos, last): one rule per line,
 * "#" starts a comment, spaces, tabs and a CR around a rule are ignored,
 * blank lines are skipped.  Returns 1 with the rule in *rule and its line
 * number (counted in *line, start it at 0) or 0 at the end of the text.
 * Never reads past last; the rule is never empty.
 */
int webhook_cidr_next_rule(const unsigned char **pos,
    const unsigned char *last, webhook_str_t *rule, unsigned *line);


#endif /* _WEBHOOK_CIDR_H_INCLUDED_ */
