/*
 * bench_util.h — the clock the benchmarks here time with, and the median they report.
 *
 * Every benchmark times with bench_now() (seconds on the monotonic clock: wall time, immune to
 * clock adjustments). One that compares variants runs each several times, interleaved with the
 * others so that a change in the machine's load spreads over all of them, and reports each
 * variant's median (bench_median), which one slow or fast outlier does not move.
 */
#ifndef VMLAB_BENCH_UTIL_H
#define VMLAB_BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

/* Seconds on the monotonic clock, from an arbitrary start: subtract two readings. */
static inline double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of the n (> 0) values t[0..n-1], which it sorts in place; for an even n, the upper
 * of the two middle values. */
static inline double bench_median(double *t, size_t n)
{
    qsort(t, n, sizeof t[0], bench_cmp_double);
    return t[n / 2];
}

#endif
