/*
 * A tiny TAP producer for the core unit tests.
 */


#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"


#define TAP_MAX_HELD  4096


static void tap_result(int ok, const char *fmt, va_list args);
static void tap_name(const char *fmt, va_list args);
static void tap_dump(const char *what, const void *p, size_t len);


static unsigned   tap_count;
static unsigned   tap_failed;
static void      *tap_held[TAP_MAX_HELD];
static size_t     tap_nheld;


int
tap_ok(int cond, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    tap_result(cond, fmt, args);
    va_end(args);

    return cond;
}


int
tap_is_int(int64_t got, int64_t expected, const char *fmt, ...)
{
    int      ok;
    va_list  args;

    ok = (got == expected);

    va_start(args, fmt);
    tap_result(ok, fmt, args);
    va_end(args);

    if (!ok) {
        tap_diag("     got: %" PRId64, got);
        tap_diag("expected: %" PRId64, expected);
    }

    return ok;
}


int
tap_is_mem(const void *got, size_t got_len, const void *expected,
    size_t expected_len, const char *fmt, ...)
{
    int      ok;
    va_list  args;

    ok = (got_len == expected_len
          && (got_len == 0 || memcmp(got, expected, got_len) == 0));

    va_start(args, fmt);
    tap_result(ok, fmt, args);
    va_end(args);

    if (!ok) {
        tap_dump("     got", got, got_len);
        tap_dump("expected", expected, expected_len);
    }

    return ok;
}


int
tap_is_str(const void *got, size_t got_len, const char *expected,
    const char *fmt, ...)
{
    int      ok;
    size_t   len;
    va_list  args;

    len = strlen(expected);
    ok = (got_len == len && (len == 0 || memcmp(got, expected, len) == 0));

    va_start(args, fmt);
    tap_result(ok, fmt, args);
    va_end(args);

    if (!ok) {
        tap_dump("     got", got, got_len);
        tap_dump("expected", expected, len);
    }

    return ok;
}


void
tap_skip(const char *reason, const char *fmt, ...)
{
    va_list  args;

    printf("ok %u - ", ++tap_count);

    va_start(args, fmt);
    tap_name(fmt, args);
    va_end(args);

    printf(" # skip %s\n", reason);
    fflush(stdout);
}


void
tap_diag(const char *fmt, ...)
{
    va_list  args;

    printf("# ");

    va_start(args, fmt);
    vprintf(fmt, args);
    va_end(args);

    printf("\n");
    fflush(stdout);
}


const unsigned char *
tap_dup(const void *s, size_t len)
{
    void  *p;

    if (tap_nheld == TAP_MAX_HELD) {
        tap_free_all();
    }

    /* malloc(0) is fine: ASan flags any read from it */
    p = malloc(len);
    if (p == NULL && len) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }

    if (len) {
        memcpy(p, s, len);
    }

    tap_held[tap_nheld++] = p;

    return p;
}


const unsigned char *
tap_dups(const char *s)
{
    return tap_dup(s, strlen(s));
}


void
tap_free_all(void)
{
    while (tap_nheld) {
        free(tap_held[--tap_nheld]);
    }
}


int
tap_done(void)
{
    tap_free_all();

    printf("1..%u\n", tap_count);

    if (tap_failed) {
        tap_diag("failed %u of %u", tap_failed, tap_count);
    }

    fflush(stdout);

    return tap_failed ? 1 : 0;
}


static void
tap_result(int ok, const char *fmt, va_list args)
{
    tap_count++;

    if (!ok) {
        tap_failed++;
    }

    printf("%sok %u - ", ok ? "" : "not ", tap_count);
    tap_name(fmt, args);
    printf("\n");
    fflush(stdout);
}


static void
tap_name(const char *fmt, va_list args)
{
    char                  name[512];
    const unsigned char  *p;

    vsnprintf(name, sizeof(name), fmt, args);

    /* a newline would end the TAP line, a "#" could start a directive */

    for (p = (const unsigned char *) name; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f) {
            printf("\\x%02x", *p);

        } else if (*p == '#') {
            printf("\\#");

        } else {
            putchar(*p);
        }
    }
}


static void
tap_dump(const char *what, const void *p, size_t len)
{
    size_t                i;
    const unsigned char  *s;

    s = p;

    printf("# %s: (%zu) \"", what, len);

    for (i = 0; i < len && i < 200; i++) {
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') {
            putchar(s[i]);

        } else {
            printf("\\x%02x", s[i]);
        }
    }

    printf("%s\"\n", i < len ? "..." : "");
}
