/*
 * libFuzzer target: the sliding-window arithmetic of webhook_limit, over
 * arbitrary counts, clocks (backwards, far future, negative) and periods:
 *  - a verdict never admits past the limit and never reports more
 *    remaining than the limit, nor a reset beyond two periods;
 *  - advancing never moves a window backwards, never invents requests,
 *    and the elapsed time stays in [0, period);
 *  - UBSan: no signed overflow anywhere on the way.
 *
 *     ./build.sh fuzz [SECONDS]      (t/fuzz/run.sh SECONDS fuzz_window)
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_window.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


static uint64_t
take(const uint8_t **p, size_t *left, size_t n)
{
    uint64_t  v;

    v = 0;

    if (n > *left) {
        n = *left;
    }

    memcpy(&v, *p, n);
    *p += n;
    *left -= n;

    return v;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t                   period, elapsed, now;
    uint64_t                  limit, prev, cur, before;
    webhook_window_t          w;
    webhook_window_verdict_t  v;

    limit = take(&data, &size, 4) % WEBHOOK_WINDOW_LIMIT_MAX + 1;
    period = (int64_t) (take(&data, &size, 4) % WEBHOOK_WINDOW_PERIOD_MAX)
             + 1;

    /* a state some earlier clock reading left */
    w.window = (int64_t) (take(&data, &size, 8) >> 1) / period;
    w.current = take(&data, &size, 4);
    w.previous = take(&data, &size, 4);

    /* any number of clock readings, each advancing the same window */

    while (size) {
        now = (int64_t) take(&data, &size, 8);

        if (now < 0) {
            /* the caller's clock, wall-clock ms, is never negative */
            now = -(now + 1);
        }

        before = w.current + w.previous;

        webhook_window_advance(&w, now, period);

        CHECK(w.current + w.previous <= before
              || w.current + w.previous == 0);

        elapsed = webhook_window_elapsed(&w, now, period);
        CHECK(elapsed >= 0 && elapsed < period);

        prev = w.previous % (limit * 4 + 1);
        cur = w.current % (limit * 4 + 1);

        webhook_window_check(prev, cur, elapsed, period, limit, &v);

        CHECK(v.remaining < limit);
        CHECK(v.reset_ms >= 0 && v.reset_ms <= 2 * period);

        if (v.admit) {
            CHECK(cur + 1 <= limit);
            w.current++;
        }
    }

    return 0;
}
