/*
 * bench_util.h — the clock the benchmarks here time with, and the median they report.
 *
 * Every benchmark times with bench_now() (seconds on the monotonic clock: wall time, immune to
 * clock adjustments). One that compares variants runs each several times, interleaved with the
 * others so that a change in the machine's load spreads over all of them, and reports each
 * variant's median (bench_median), which one slow or fast outlier does not move. Benchmarks that
 * time whole processes start them with bench_spawn.
 */
#ifndef VMLAB_BENCH_UTIL_H
#define VMLAB_BENCH_UTIL_H

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* Run argv (argv[0] a path) with stdin, stdout and stderr on /dev/null and wait for it: its exit
 * status (128 + the signal if one killed it, -1 if it could not be started); *secs gets the wall
 * time from fork to exit. */
static inline int bench_spawn(char *const argv[], double *secs)
{
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    *secs = bench_now() - t0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#endif
