/*
 * Latency histograms: bucket lookup and quantile estimates.
 */


#include "webhook_histogram.h"


size_t
webhook_histogram_index(const uint64_t *bounds, size_t n, uint64_t v)
{
    size_t  lo, hi, mid;

    /* the first bound >= v; n when there is none */

    lo = 0;
    hi = n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (bounds[mid] < v) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return lo;
}


double
webhook_histogram_quantile(const uint64_t *bounds, size_t n,
    const uint64_t *counts, double q)
{
    size_t    i;
    double    rank, below, lower, upper;
    uint64_t  total;

    total = 0;

    for (i = 0; i <= n; i++) {
        total += counts[i];
    }

    if (total == 0 || n == 0) {
        return -1;
    }

    rank = q * (double) total;
    below = 0;

    for (i = 0; i < n; i++) {

        if (counts[i] && below + (double) counts[i] >= rank) {
            lower = i ? (double) bounds[i - 1] : 0;
            upper = (double) bounds[i];

            return lower + (upper - lower) * (rank - below)
                           / (double) counts[i];
        }

        below += (double) counts[i];
    }

    /* in the +Inf bucket: all that is known is that it is above */

    return (double) bounds[n - 1];
}
