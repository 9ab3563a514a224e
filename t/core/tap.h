/*
 * A tiny TAP producer for the core unit tests.  The plan ("1..N") is
 * printed last by tap_done(), so test groups need not count ahead.
 */

#ifndef _WEBHOOK_TAP_H_INCLUDED_
#define _WEBHOOK_TAP_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#if defined(__GNUC__)
#define TAP_PRINTF(f, a)  __attribute__((format(printf, f, a)))
#else
#define TAP_PRINTF(f, a)
#endif


/* each returns cond (or the comparison), so a caller can stop on failure */
int tap_ok(int cond, const char *fmt, ...) TAP_PRINTF(2, 3);
int tap_is_int(int64_t got, int64_t expected, const char *fmt, ...)
    TAP_PRINTF(3, 4);
int tap_is_mem(const void *got, size_t got_len, const void *expected,
    size_t expected_len, const char *fmt, ...) TAP_PRINTF(5, 6);
int tap_is_str(const void *got, size_t got_len, const char *expected,
    const char *fmt, ...) TAP_PRINTF(4, 5);
void tap_skip(const char *reason, const char *fmt, ...) TAP_PRINTF(2, 3);
void tap_diag(const char *fmt, ...) TAP_PRINTF(1, 2);

/*
 * A heap copy of s[0..len) with no terminating NUL, so that AddressSanitizer
 * catches any read past len; freed by tap_free_all().
 */
const unsigned char *tap_dup(const void *s, size_t len);
const unsigned char *tap_dups(const char *s);
void tap_free_all(void);

/* prints the plan; the process exit status: 0 when everything passed */
int tap_done(void);


#endif /* _WEBHOOK_TAP_H_INCLUDED_ */
