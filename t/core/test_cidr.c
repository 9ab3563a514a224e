/*
 * Unit tests: CIDR parsing and matching.
 */


#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "webhook_cidr.h"
#include "test_core.h"


static int
parse(const char *text, webhook_cidr_t *c)
{
    return webhook_cidr_parse(tap_dups(text), strlen(text), c);
}


static int
match(const char *rule, const char *addr)
{
    unsigned char   a[16];
    webhook_cidr_t  c;

    if (parse(rule, &c) != WEBHOOK_OK) {
        return -1;
    }

    if (inet_pton(AF_INET, addr, a) == 1) {
        return webhook_cidr_match(&c, AF_INET, a);
    }

    if (inet_pton(AF_INET6, addr, a) == 1) {
        return webhook_cidr_match(&c, AF_INET6, a);
    }

    return -2;
}


static void is_rules(const char *text, const char *expected,
    const char *name);


/* the lines of a webhook_allow_ip_file, joined with "|" */

static const char *
rules(const char *text)
{
    static char           out[256];
    size_t                n;
    unsigned              line;
    webhook_str_t         rule;
    const unsigned char  *p, *last;

    p = tap_dups(text);
    last = p + strlen(text);
    line = 0;
    n = 0;
    out[0] = '\0';

    while (webhook_cidr_next_rule(&p, last, &rule, &line)) {
        n += snprintf(out + n, sizeof(out) - n, "%s%u:%.*s", n ? "|" : "",
                      line, (int) rule.len, (const char *) rule.data);
    }

    return out;
}


static void
is_rules(const char *text, const char *expected, const char *name)
{
    const char  *got;

    got = rules(text);
    tap_is_str(got, strlen(got), expected, "%s", name);
}


void
test_cidr(void)
{
    size_t          i;
    webhook_cidr_t  c;

    static const char  *bad[] = {
        "", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/08", "10.0.0.0/-1",
        "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0 /8", " 10.0.0.0",
        "10.0.0", "10.0.0.256", "nonsense", "::1/129", "::1/1000",
        "2001:db8:::/32", "10.0.0.0/8x", "all",
        "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255:1",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tap_is_int(parse(bad[i], &c), WEBHOOK_MALFORMED,
                   "cidr \"%s\" is malformed", bad[i]);
    }

    tap_is_int(parse("10.1.2.3/8", &c), WEBHOOK_OK, "host bits parse");
    tap_ok(c.host_bits_set, "host bits below the mask are reported");
    tap_is_int(c.addr[1], 0, "host bits are cleared");
    tap_is_int(parse("10.0.0.0/8", &c), WEBHOOK_OK, "network parses");
    tap_ok(!c.host_bits_set, "no host bits in 10.0.0.0/8");
    tap_is_int(c.prefix, 8, "prefix 8");
    tap_is_int(parse("192.0.2.7", &c), WEBHOOK_OK, "bare address");
    tap_is_int(c.prefix, 32, "bare IPv4 is a /32");
    tap_is_int(parse("::1", &c), WEBHOOK_OK, "bare IPv6");
    tap_is_int(c.prefix, 128, "bare IPv6 is a /128");

    tap_is_int(match("10.0.0.0/8", "10.255.1.2"), 1, "10/8 has 10.255.1.2");
    tap_is_int(match("10.0.0.0/8", "11.0.0.1"), 0, "10/8 lacks 11.0.0.1");
    tap_is_int(match("0.0.0.0/0", "198.51.100.1"), 1, "/0 has everything");
    tap_is_int(match("203.0.113.0/25", "203.0.113.127"), 1, "/25 upper");
    tap_is_int(match("203.0.113.0/25", "203.0.113.128"), 0, "/25 beyond");
    tap_is_int(match("192.0.2.7", "192.0.2.7"), 1, "/32 exact");
    tap_is_int(match("192.0.2.7", "192.0.2.6"), 0, "/32 neighbour");
    tap_is_int(match("2001:db8::/32", "2001:db8:ffff::1"), 1, "v6 /32");
    tap_is_int(match("2001:db8::/32", "2001:db9::1"), 0, "v6 /32 beyond");
    tap_is_int(match("::1", "::1"), 1, "::1");
    tap_is_int(match("::1", "::2"), 0, "::1 vs ::2");
    tap_is_int(match("10.0.0.0/8", "::ffff:10.1.2.3"), 1,
               "IPv4-mapped IPv6 matches an IPv4 rule");
    tap_is_int(match("10.0.0.0/8", "::ffff:11.1.2.3"), 0,
               "IPv4-mapped IPv6 outside the IPv4 rule");
    tap_is_int(match("10.0.0.0/8", "::a01:203"), 0,
               "IPv4-compatible (not mapped) IPv6 does not match");
    tap_is_int(match("::/0", "10.1.2.3"), 0, "IPv6 rule, IPv4 client");
    tap_is_int(match("10.0.0.0/8", "2001:db8::1"), 0, "IPv4 rule, IPv6");
    tap_is_int(match("2001:db8::7/127", "2001:db8::6"), 1, "/127 pair");


    /* allowlist file lines */

    is_rules("", "", "empty file: no rule");
    is_rules("10.0.0.0/8", "1:10.0.0.0/8",
               "one rule without a newline");
    is_rules("# a\n\n  10.0.0.0/8  # office\r\n\t::1\t\n", "3:10.0.0.0/8|4:::1", "comments, blanks, CR and tabs");
    is_rules("#\n#x\n \t \r\n", "", "only comments and blanks");
    is_rules("1.2.3.4\r", "1:1.2.3.4", "a CR at the very end");
    is_rules("a b\n\n", "1:a b",
               "inner spaces stay (the CIDR parser refuses them)");
}
