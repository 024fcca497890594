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
 * (whose output is the workload) and `holes` (whose kernel lines are its report). What it prints
 * must not depend on timing: QEMU and every vmlab mode print the same console.
 *
 * The workload files, one table each (init.c searches them in this order):
 *
 *   wl_nano.c      the nanobenchmarks (one kernel or CPU operation each)
 *   wl_lmbench.c   lmbench's lat_syscall rows: null call, null I/O, stat, open/close
 *   wl_signal.c    lmbench's lat_sig rows: handler install, delivery, protection fault
 *   wl_proc.c      lmbench's lat_proc rows: fork, fork + exec, fork + exec of the shell
 *   wl_ctx.c       lmbench's lat_ctx: a ring of processes and pipes
 *   wl_fs.c        lmbench's file and VM rows: file create and delete, page fault, mmap
 *   wl_kerncomp.c  the kernel-compile macro benchmark
 *   wl_misc.c      forkwait, compute, io
 *   wl_selftest.c, wl_fstest.c, wl_sigtest.c, wl_shtest.c   checks of the kernel's semantics
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

/* One iteration of a calibration loop: nothing, but the compiler must keep the iteration. */
#define EMPTY_BODY() __asm__ volatile("" : : : "memory")

/* wl_arg: the value of word `key=VALUE` on the kernel command line (the last one if repeated)
 * into out (size bytes, truncated), "" if absent; returns whether it was there. Defined in init.c,
 * for workloads that take arguments (ptemod's variant=). */
bool wl_arg(const char *key, char *out, size_t size);

/*
 * wl_arg_count: the number in word `key=N` (N decimal, or with a K suffix for KiB when `kib` is
 * set: "10K" is 10240), dflt when the word is absent. A value that is not a number in [lo, hi]
 * is refused as init refuses a bad n= (one `vmlab-usage:` line, which `vmlab run` makes its own
 * one-line error and exit status 2) and gives -1 with r->reason "bad-KEY" (wl_common.c).
 */
int wl_arg_count(const char *key, int dflt, int lo, int hi, bool kib, struct wl_result *r);

/*
 * wl_calibrated: n operations op(i, ctx) in the measured phase, then n of `empty` (NULL: an
 * operation that does nothing) in the calibration phase, both through the same loop and the same
 * indirect call, so that the calibration takes off exactly the loop's and the call's cost; then
 * PHASE_TEARDOWN. `empty` does whatever op does around its system calls (formatting a file name,
 * say) so that the net is the calls alone. Returns how many operations returned 0 (wl_common.c).
 */
typedef int (*wl_op)(int i, void *ctx);
int wl_calibrated(int n, wl_op op, wl_op empty, void *ctx);

/*
 * wl_run_checks: the semantic checks of selftest, fstest, sigtest and shtest. Each check's
 * function runs in a child process (so a check may die of a signal, or change its process's
 * state, without touching the others) and passes when the child's exit status equals `expect`.
 * Fills r->extra with `checks=C passed=P` and r->reason with the first failing check's name;
 * returns 1 if every check passed (wl_common.c).
 */
struct wl_check {
    const char *name;
    int (*fn)(void);
    int expect;
};
int wl_run_checks(const struct wl_check *checks, int count, struct wl_result *r);
/* Defines NAME_workloads[], the table of the one workload NAME that runs wl_run_checks over the
 * array CHECKS (n ignored); WHAT says what it checks, for --list-workloads. */
#define CHECK_WORKLOAD(NAME, CHECKS, WHAT)                                                   \
    static int wl_##NAME(int n, struct wl_result *r)                                          \
    {                                                                                         \
        return wl_run_checks(CHECKS, (int)ARRAY_SIZE(CHECKS), r);                             \
    }                                                                                         \
    const struct workload NAME##_workloads[] = {                                              \
        { #NAME, wl_##NAME, 1, "checks of " WHAT " (n ignored; not a timing)" },             \
        { NULL, NULL, 0, NULL },                                                              \
    }
/* wl_make_file: creates (or empties) the regular file `path`, directories on the way included,
 * with `size` bytes of a deterministic pattern; 0 or -errno (wl_common.c). */
int wl_make_file(const char *path, uint32_t size);

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
extern const struct workload signal_workloads[];
extern const struct workload proc_workloads[];
extern const struct workload ctx_workloads[];
extern const struct workload fs_workloads[];
extern const struct workload kerncomp_workloads[];
extern const struct workload misc_workloads[];
extern const struct workload selftest_workloads[];
extern const struct workload fstest_workloads[];
extern const struct workload sigtest_workloads[];
extern const struct workload shtest_workloads[];

#endif
