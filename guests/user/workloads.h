/*
 * workloads.h — the workload table init runs from. A workload gets its iteration count and
 * returns 1 on success (0 with r->reason set on failure); it may add fields to r->extra, which
 * init appends to the result line:
 *
 *     result workload=<name> n=<N> ok=1 <extra>
 *     result workload=<name> n=<N> ok=0 reason=<word> <extra>
 *
 * Every workload brackets its measured region with phase(PHASE_MEASURE) / phase(PHASE_TEARDOWN)
 * (the kernel nanobenchmarks do it inside the kernel) and prints nothing else, except `io`
 * (whose output is the workload) and `holes` (whose kernel lines are its report).
 */
#ifndef USER_WORKLOADS_H
#define USER_WORKLOADS_H

#include "ulib.h"

struct wl_result {
    char extra[128];
    const char *reason;
};

struct workload {
    const char *name;
    int (*run)(int n, struct wl_result *r);
    int default_n;
};

/* Sets r->reason and returns 0: `return fail(r, "why");` */
static inline int fail(struct wl_result *r, const char *reason)
{
    r->reason = reason;
    return 0;
}

/* wl_arg: the value of word `key=VALUE` on the kernel command line (the last one if repeated)
 * into out (size bytes, truncated), "" if absent; returns whether it was there. Defined in init.c,
 * for workloads that take arguments (ptemod's variant=). */
bool wl_arg(const char *key, char *out, size_t size);

extern const struct workload nano_workloads[];
extern const struct workload lmbench_workloads[];
extern const struct workload misc_workloads[];
extern const struct workload selftest_workloads[];

#endif
