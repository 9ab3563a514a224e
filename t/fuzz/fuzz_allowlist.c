/*
 * libFuzzer target: webhook_allow_ip_file's text, line by line, each rule
 * through the CIDR parser, as nginx -t reads an operator's file:
 *  - every rule lies inside the text, is not empty, holds no newline or
 *    "#", and has nothing to trim at either end;
 *  - the walk ends, with no more rules than lines;
 *  - an accepted rule has no bit below its mask and matches itself.
 *
 *     ./build.sh fuzz [SECONDS]      (t/fuzz/run.sh SECONDS fuzz_allowlist)
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "webhook_cidr.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                i, n, rules, lines;
    unsigned              line, last_line;
    unsigned char        *text;
    webhook_str_t         rule;
    webhook_cidr_t        c;
    const unsigned char  *pos, *end;

    /* an exact copy: ASan catches a read past the end */
    text = malloc(size ? size : 1);
    CHECK(text != NULL);
    memcpy(text, data, size);

    lines = 1;
    for (i = 0; i < size; i++) {
        lines += (text[i] == '\n');
    }

    pos = text;
    end = text + size;
    line = 0;
    last_line = 0;
    rules = 0;

    while (webhook_cidr_next_rule(&pos, end, &rule, &line)) {
        rules++;

        CHECK(rule.len > 0);
        CHECK(rule.data >= text && rule.data + rule.len <= end);
        CHECK(pos >= rule.data + rule.len && pos <= end);
        CHECK(line > last_line && line <= lines);
        last_line = line;

        CHECK(memchr(rule.data, '\n', rule.len) == NULL);
        CHECK(memchr(rule.data, '#', rule.len) == NULL);
        CHECK(rule.data[0] != ' ' && rule.data[0] != '\t');
        CHECK(rule.data[rule.len - 1] != ' '
              && rule.data[rule.len - 1] != '\t'
              && rule.data[rule.len - 1] != '\r');

        if (webhook_cidr_parse(rule.data, rule.len, &c) != WEBHOOK_OK) {
            continue;
        }

        n = (c.family == AF_INET) ? 4 : 16;
        CHECK(c.family == AF_INET || c.family == AF_INET6);
        CHECK(c.prefix <= n * 8);

        for (i = 0; i < n; i++) {
            CHECK((c.addr[i] & ~c.mask[i]) == 0);
        }

        CHECK(webhook_cidr_match(&c, c.family, c.addr));
    }

    CHECK(pos == end);
    CHECK(rules <= lines);

    free(text);

    return 0;
}
