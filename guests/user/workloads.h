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

/* One workload: its name (workload=NAME), its loop, the n it runs without n=, and what one
 * operation of its measured loop is, in a few words. `workload=list` prints name, default n and
 * op of every table entry (init.c): `vmlab run --list-workloads` shows that listing, so the table
 * here is the one list of workloads. */
struct workload {
    const char *name;
    int (*run)(int n, struct wl_result *r);
    int default_n;
    const char *op;
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

/*
 * The address space of a fork workload's parent (wl_lmbench.c): `pages` present user pages in
 * all — the program's text (read-only) and data pages as exec mapped them, the top
 * IMAGE_STACK_PAGES pages of the stack and the rest heap, all touched — spanning at least two
 * page tables (text, data and heap in the 4 MiB from 0x08000000, the stack under 0xc0000000).
 */
struct proc_image {
    int pages;                  /* present user pages */
    int text;                   /* of which read-only (text and read-only data) */
    int writable;               /* of which writable: data, stack, heap */
    int heap;                   /* heap pages */
};

#define IMAGE_STACK_PAGES 16

/* Grows the calling process to exactly `pages` present pages and fills *img; 0, or -1 when pages
 * is below what the program has without a heap (or the heap cannot grow). */
int image_grow(int pages, struct proc_image *img);
/* Writes one byte of every writable page of the process (img) with its own value: each becomes
 * writable again if a fork write-protected it (one copy-on-write fault each). */
void image_dirty(const struct proc_image *img);
/* The unsigned value of `key=N` on the command line (wl_arg), or dflt when absent or not one. */
int wl_arg_uint(const char *key, int dflt);

/* n x (fork; the child exits at once; the parent waits) from a parent grown to `pages` pages
 * (image_grow); with `dirty`, the parent writes all its writable pages before each fork. Puts
 * the kernel's own counts of the loop's fork/exit page-table work in r->extra (wl_lmbench.c). */
int fork_image_loop(int n, int pages, bool dirty, struct wl_result *r);

/* The kernel's page-table work counters (vmstat.h), through SYS_VMSTAT. */
#include "vmstat.h"
static inline int vmstat(struct vm_counters *c)
{
    return syscall3(SYS_VMSTAT, (uint32_t)(uintptr_t)c, 0, 0);
}

extern const struct workload nano_workloads[];
extern const struct workload lmbench_workloads[];
extern const struct workload misc_workloads[];
extern const struct workload selftest_workloads[];

#endif
