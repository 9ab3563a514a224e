/*
 * ngx_http_webhook_module: sliding-window arithmetic.
 */


#include "webhook_window.h"


static int64_t webhook_window_wait(uint64_t previous, uint64_t current,
    int64_t elapsed_ms, int64_t period_ms, uint64_t limit);


void
webhook_window_advance(webhook_window_t *w, int64_t now_ms, int64_t period_ms)
{
    int64_t  window;

    window = now_ms / period_ms;

    if (window <= w->window) {
        return;
    }

    w->previous = (window == w->window + 1) ? w->current : 0;
    w->current = 0;
    w->window = window;
}


int64_t
webhook_window_elapsed(const webhook_window_t *w, int64_t now_ms,
    int64_t period_ms)
{
    int64_t  elapsed;

    elapsed = now_ms - w->window * period_ms;

    if (elapsed < 0) {
        return 0;
    }

    return (elapsed >= period_ms) ? period_ms - 1 : elapsed;
}


void
webhook_window_check(uint64_t previous, uint64_t current, int64_t elapsed_ms,
    int64_t period_ms, uint64_t limit, webhook_window_verdict_t *v)
{
    uint64_t  p, weighted, capacity, after;

    p = (uint64_t) period_ms;

    /* in units of 1/P request: no division until the very end */
    weighted = previous * (p - (uint64_t) elapsed_ms) + current * p;
    capacity = limit * p;

    if (weighted + p <= capacity) {
        v->admit = 1;
        after = weighted + p;
        v->remaining = (capacity - after) / p;
        current++;

    } else {
        v->admit = 0;
        v->remaining = 0;
    }

    v->reset_ms = (v->remaining > 0)
                  ? 0
                  : webhook_window_wait(previous, current, elapsed_ms,
                                        period_ms, limit);
}


/*
 * The smallest wait after which one more request fits.  Within the
 * current window the previous count keeps fading:
 *     previous * (P - e - t) + (current + 1) * P <= limit * P;
 * past it, current becomes the previous count of a fresh window:
 *     current * (P - e') + P <= limit * P.
 */

static int64_t
webhook_window_wait(uint64_t previous, uint64_t current, int64_t elapsed_ms,
    int64_t period_ms, uint64_t limit)
{
    uint64_t  p, left, fits;

    p = (uint64_t) period_ms;
    left = p - (uint64_t) elapsed_ms;

    if (current + 1 <= limit) {

        if (previous == 0) {
            return 0;
        }

        fits = (limit - current - 1) * p / previous;

        if (fits >= left) {
            return 0;
        }

        if (left - fits < left) {
            return (int64_t) (left - fits);
        }
    }

    /* into the next window: e' >= P - (limit - 1) * P / current */

    if (current == 0) {
        return (int64_t) left;
    }

    fits = (limit - 1) * p / current;

    return (int64_t) (left + (fits >= p ? 0 : p - fits));
}
