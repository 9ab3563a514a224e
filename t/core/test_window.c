/*
 * Unit tests: sliding-window arithmetic.
 */


#include "webhook_window.h"
#include "test_core.h"


/* admit requests one by one at now_ms the way the glue does */
static uint64_t
burst(webhook_window_t *w, int64_t now_ms, int64_t period, uint64_t limit,
    int n)
{
    int                       i;
    uint64_t                  admitted;
    webhook_window_verdict_t  v;

    admitted = 0;

    for (i = 0; i < n; i++) {
        webhook_window_advance(w, now_ms, period);
        webhook_window_check(w->previous, w->current,
                             webhook_window_elapsed(w, now_ms, period),
                             period, limit, &v);
        if (v.admit) {
            w->current++;
            admitted++;
        }
    }

    return admitted;
}


void
test_window(void)
{
    webhook_window_t          w = { 0, 0, 0 };
    webhook_window_verdict_t  v;

    /* 10 r/s: a burst at the start of a window */

    tap_is_int(burst(&w, 1000000, 1000, 10, 30), 10, "10r/s: 10 of 30 pass");

    webhook_window_check(w.previous, w.current, 0, 1000, 10, &v);
    tap_ok(!v.admit, "11th refused");
    tap_is_int(v.remaining, 0, "refused: remaining 0");
    /* next window: 10 * (P - e') + P <= 10 P  once e' >= P / 10 */
    tap_is_int(v.reset_ms, 1100, "refused at e=0: the window and a tenth");

    /* the next window: the previous 10 fade linearly */

    tap_is_int(burst(&w, 1001000, 1000, 10, 5), 0,
               "start of next window: still full");
    tap_is_int(burst(&w, 1001500, 1000, 10, 10), 5,
               "half-way: half the previous count has faded");
    tap_is_int(burst(&w, 1003000, 1000, 10, 30), 10,
               "two windows later: a full limit again");

    /* remaining and reset after an admitted request */

    webhook_window_check(0, 0, 0, 1000, 10, &v);
    tap_ok(v.admit && v.remaining == 9 && v.reset_ms == 0,
           "empty: admit, 9 remain, reset 0");

    webhook_window_check(0, 9, 0, 1000, 10, &v);
    tap_ok(v.admit && v.remaining == 0, "10th: admitted, 0 remain");
    tap_is_int(v.reset_ms, 1100, "10th at e=0: next fits in 1100 ms");

    webhook_window_check(0, 9, 400, 1000, 10, &v);
    tap_is_int(v.reset_ms, 700, "10th at e=400: next fits in 700 ms");

    /* limit 1 per second, one in the previous window: the whole window */

    webhook_window_check(1, 0, 0, 1000, 1, &v);
    tap_ok(!v.admit, "1r/s after one: refused");
    tap_is_int(v.reset_ms, 1000, "1r/s: wait out the window");

    /* previous fading lets one in mid-window */

    webhook_window_check(10, 0, 0, 1000, 10, &v);
    tap_ok(!v.admit, "prev 10 at e=0: refused");
    tap_is_int(v.reset_ms, 100, "prev 10: one fits after 100 ms");

    webhook_window_check(10, 0, 100, 1000, 10, &v);
    tap_ok(v.admit, "prev 10 at e=100: admitted");

    /* 50 per minute */

    w.window = w.current = w.previous = 0;
    tap_is_int(burst(&w, 120000, 60000, 50, 200), 50, "50r/m: 50 of 200");

    /* advance */

    w.window = 5; w.current = 7; w.previous = 3;
    webhook_window_advance(&w, 6 * 1000 + 10, 1000);
    tap_ok(w.window == 6 && w.previous == 7 && w.current == 0,
           "advance by one: current becomes previous");
    webhook_window_advance(&w, 9 * 1000, 1000);
    tap_ok(w.window == 9 && w.previous == 0 && w.current == 0,
           "advance by more: both cleared");
    w.current = 4;
    webhook_window_advance(&w, 8 * 1000, 1000);
    tap_ok(w.window == 9 && w.current == 4, "clock backwards: unchanged");
    tap_is_int(webhook_window_elapsed(&w, 8 * 1000, 1000), 0,
               "clock backwards: elapsed 0");
    tap_is_int(webhook_window_elapsed(&w, 9 * 1000 + 999, 1000), 999,
               "elapsed 999");

    /* the largest values do not overflow */

    webhook_window_check(WEBHOOK_WINDOW_LIMIT_MAX, WEBHOOK_WINDOW_LIMIT_MAX,
                         0, WEBHOOK_WINDOW_PERIOD_MAX,
                         WEBHOOK_WINDOW_LIMIT_MAX, &v);
    tap_ok(!v.admit, "maximum counts: refused, no overflow");
}
