/*
 * Latency histograms with fixed bucket bounds, in milliseconds.
 *
 * A histogram of n bounds b[0] < ... < b[n-1] has n + 1 counts: count[i]
 * holds the values v with b[i-1] < v <= b[i] (b[-1] = -inf), count[n] the
 * values above b[n-1] (Prometheus's +Inf bucket).
 *
 * Quantiles are estimated the way Prometheus's histogram_quantile() does:
 * the bucket holding the q-th value is found from the counts, and the
 * value is interpolated linearly inside it (from 0 in the first bucket).
 * The true quantile lies in the same bucket, so the error is at most the
 * bucket's width; a quantile in the +Inf bucket is reported as the last
 * bound, a lower bound of the truth.
 */

#ifndef _WEBHOOK_HISTOGRAM_H_INCLUDED_
#define _WEBHOOK_HISTOGRAM_H_INCLUDED_


#include "webhook_core.h"


#define WEBHOOK_HISTOGRAM_MAX  16      /* bounds; counts are one more */


/* the index of the count that v belongs to: 0 .. n */
size_t webhook_histogram_index(const uint64_t *bounds, size_t n, uint64_t v);

/*
 * The q-quantile (0 < q < 1) of counts[0 .. n], in milliseconds; -1 when
 * every count is 0.
 */
double webhook_histogram_quantile(const uint64_t *bounds, size_t n,
    const uint64_t *counts, double q);


#endif /* _WEBHOOK_HISTOGRAM_H_INCLUDED_ */
