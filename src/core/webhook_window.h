/*
 * Sliding-window rate limiting: two fixed windows, the previous one
 * weighted by how much of it still overlaps the sliding window (the
 * estimate Cloudflare and Kong use):
 *
 *     estimate = previous * (P - elapsed) / P + current
 *
 * All arithmetic is in integers, in milliseconds, exact: a request is
 * admitted iff estimate + 1 <= limit.
 */

#ifndef _WEBHOOK_WINDOW_H_INCLUDED_
#define _WEBHOOK_WINDOW_H_INCLUDED_


#include "webhook_core.h"


/* largest limit and period accepted, so that no product overflows */
#define WEBHOOK_WINDOW_LIMIT_MAX   1000000000ULL     /* 10^9 requests */
#define WEBHOOK_WINDOW_PERIOD_MAX  3600000LL         /* one hour, in ms */


typedef struct {
    int64_t    window;          /* index: wall-clock ms / period */
    uint64_t   current;         /* requests counted in that window */
    uint64_t   previous;        /* in the window before it */
} webhook_window_t;


typedef struct {
    int        admit;           /* one more request fits */
    uint64_t   remaining;       /* what still fits after it (0 if refused) */
    int64_t    reset_ms;        /* until one more would fit; 0 if any does */
} webhook_window_verdict_t;


/*
 * Move w to the window of now_ms: the current count becomes the previous
 * one when one window passed, both are cleared when more did.  A clock
 * that went backwards leaves w as it is.
 */
void webhook_window_advance(webhook_window_t *w, int64_t now_ms,
    int64_t period_ms);

/* ms since the start of w's window at now_ms, clamped to [0, period) */
int64_t webhook_window_elapsed(const webhook_window_t *w, int64_t now_ms,
    int64_t period_ms);

/*
 * Would one more request be admitted, given the previous and current
 * counts, elapsed ms into the current window, the period and the limit?
 * Fills v; counts nothing: the caller adds 1 to its current count when
 * v->admit and it decides to admit (after every other limit agreed).
 * remaining and reset_ms describe the state after that request when it
 * is admitted, the current state when it is not.
 */
void webhook_window_check(uint64_t previous, uint64_t current,
    int64_t elapsed_ms, int64_t period_ms, uint64_t limit,
    webhook_window_verdict_t *v);


#endif /* _WEBHOOK_WINDOW_H_INCLUDED_ */
