/*
 * Unit tests: latency histogram buckets and quantile estimates.
 */


#include <string.h>

#include "webhook_histogram.h"
#include "test_core.h"


void
test_histogram(void)
{
    /* the default buckets, in ms */
    static const uint64_t  b[] = { 5, 10, 25, 50, 100, 250, 500, 1000,
                                   2000, 5000, 10000, 30000 };
    size_t                 n = sizeof(b) / sizeof(b[0]);
    uint64_t               c[sizeof(b) / sizeof(b[0]) + 1];
    double                 v;

    /* a value on a bound belongs to that bucket (le: less or equal) */

    tap_ok(webhook_histogram_index(b, n, 0) == 0, "0 ms: first bucket");
    tap_ok(webhook_histogram_index(b, n, 5) == 0, "5 ms: le=0.005");
    tap_ok(webhook_histogram_index(b, n, 6) == 1, "6 ms: le=0.01");
    tap_ok(webhook_histogram_index(b, n, 1000) == 7, "1 s: le=1");
    tap_ok(webhook_histogram_index(b, n, 1001) == 8, "1.001 s: le=2");
    tap_ok(webhook_histogram_index(b, n, 30000) == 11, "30 s: le=30");
    tap_ok(webhook_histogram_index(b, n, 30001) == 12, "above 30 s: +Inf");
    tap_ok(webhook_histogram_index(b, n, UINT64_MAX) == 12, "huge: +Inf");
    tap_ok(webhook_histogram_index(b, 1, 7) == 1, "one bound");

    /* empty: no estimate */

    memset(c, 0, sizeof(c));
    tap_ok(webhook_histogram_quantile(b, n, c, 0.5) < 0, "empty: none");

    /* 100 values in (100, 250]: every quantile interpolates in there */

    c[5] = 100;
    v = webhook_histogram_quantile(b, n, c, 0.5);
    tap_ok(v > 174.9 && v < 175.1, "p50 of one bucket: its middle (%f)", v);
    v = webhook_histogram_quantile(b, n, c, 0.99);
    tap_ok(v > 248 && v <= 250, "p99 near its top (%f)", v);

    /* 90 fast, 10 slow: p50 in the fast bucket, p95 in the slow one */

    memset(c, 0, sizeof(c));
    c[0] = 90;
    c[8] = 10;
    v = webhook_histogram_quantile(b, n, c, 0.5);
    tap_ok(v >= 0 && v <= 5, "p50 in le=0.005 (%f)", v);
    v = webhook_histogram_quantile(b, n, c, 0.95);
    tap_ok(v > 1000 && v <= 2000, "p95 in le=2 (%f)", v);
    tap_ok(webhook_histogram_quantile(b, n, c, 0.90) <= 5,
       "p90 is the last fast one");

    /* above the last bound: reported as that bound */

    memset(c, 0, sizeof(c));
    c[12] = 3;
    tap_ok(webhook_histogram_quantile(b, n, c, 0.5) == 30000,
       "+Inf: the last bound");
}
