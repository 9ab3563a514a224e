/*
 * ngx_http_webhook_module: CIDR parsing and matching.
 */


#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "webhook_cidr.h"


/* longest text an address can take: an IPv6 with an embedded IPv4 */
#define WEBHOOK_CIDR_ADDR_MAX  (sizeof("ffff:ffff:ffff:ffff:ffff:ffff:"   \
                                       "255.255.255.255") - 1)


static const unsigned char  webhook_v4_mapped[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};


int
webhook_cidr_parse(const unsigned char *p, size_t len, webhook_cidr_t *cidr)
{
    char            text[WEBHOOK_CIDR_ADDR_MAX + 1];
    size_t          alen, i, n;
    unsigned        prefix, max;
    const void     *slash;
    unsigned char   masked;

    memset(cidr, 0, sizeof(webhook_cidr_t));

    if (len == 0) {
        return WEBHOOK_MALFORMED;
    }

    slash = memchr(p, '/', len);
    alen = slash ? (size_t) ((const unsigned char *) slash - p) : len;

    if (alen == 0 || alen > WEBHOOK_CIDR_ADDR_MAX) {
        return WEBHOOK_MALFORMED;
    }

    /* inet_pton() wants a C string; the copy is bounded above */
    memcpy(text, p, alen);
    text[alen] = '\0';

    if (inet_pton(AF_INET, text, cidr->addr) == 1) {
        cidr->family = AF_INET;
        n = 4;

    } else if (inet_pton(AF_INET6, text, cidr->addr) == 1) {
        cidr->family = AF_INET6;
        n = 16;

    } else {
        return WEBHOOK_MALFORMED;
    }

    max = (unsigned) n * 8;
    prefix = max;

    if (slash) {
        p += alen + 1;
        len -= alen + 1;

        /* 1 to 3 digits, no sign, no leading zero ("/08" is a typo) */

        if (len == 0 || len > 3 || (len > 1 && p[0] == '0')) {
            return WEBHOOK_MALFORMED;
        }

        prefix = 0;

        for (i = 0; i < len; i++) {
            if (p[i] < '0' || p[i] > '9') {
                return WEBHOOK_MALFORMED;
            }

            prefix = prefix * 10 + (unsigned) (p[i] - '0');
        }

        if (prefix > max) {
            return WEBHOOK_MALFORMED;
        }
    }

    cidr->prefix = prefix;

    for (i = 0; i < n; i++) {
        if (prefix >= 8) {
            cidr->mask[i] = 0xff;
            prefix -= 8;

        } else {
            cidr->mask[i] = (unsigned char) (0xff00 >> prefix);
            prefix = 0;
        }

        masked = cidr->addr[i] & cidr->mask[i];

        if (masked != cidr->addr[i]) {
            cidr->host_bits_set = 1;
            cidr->addr[i] = masked;
        }
    }

    return WEBHOOK_OK;
}


int
webhook_cidr_match(const webhook_cidr_t *cidr, int family,
    const unsigned char *addr)
{
    size_t  i, n;

    if (family == AF_INET6 && cidr->family == AF_INET
        && memcmp(addr, webhook_v4_mapped, sizeof(webhook_v4_mapped)) == 0)
    {
        addr += sizeof(webhook_v4_mapped);
        family = AF_INET;
    }

    if (family != cidr->family) {
        return 0;
    }

    n = (family == AF_INET) ? 4 : 16;

    for (i = 0; i < n; i++) {
        if ((addr[i] & cidr->mask[i]) != cidr->addr[i]) {
            return 0;
        }
    }

    return 1;
}


int
webhook_cidr_next_rule(const unsigned char **pos, const unsigned char *last,
    webhook_str_t *rule, unsigned *line)
{
    const unsigned char  *p, *eol, *start, *end;

    for (p = *pos; p < last; p = eol + 1) {

        (*line)++;

        eol = memchr(p, '\n', last - p);
        if (eol == NULL) {
            eol = last;
        }

        end = memchr(p, '#', eol - p);
        if (end == NULL) {
            end = eol;
        }

        start = p;

        while (start < end && (*start == ' ' || *start == '\t')) {
            start++;
        }

        while (end > start
               && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        {
            end--;
        }

        if (start < end) {
            rule->data = start;
            rule->len = end - start;
            *pos = (eol < last) ? eol + 1 : last;
            return 1;
        }
    }

    *pos = last;

    return 0;
}
