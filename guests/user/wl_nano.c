/*
 * wl_nano.c — the nanobenchmarks: syscall and divzero loop in user mode; the others run inside
 * the kernel through SYS_BENCH (guests/kernel/bench.c), which marks the phases itself.
 *
 *   syscall  N null system calls (SYS_NULL)
 *   divzero  N divide-by-zero faults, each delivered to the kernel, which resumes the program at
 *            its registered handler (SYS_SIGFPE): the fault's full round trip
 *   in callret pgfault ptemod cr3 cli   kernel loops, see bench.c
 *   holes    the sensitive-instruction probe; its lines come from the kernel, `differ` counts
 *            the probes that did not see what true ring 0 would (0 natively)
 *   panic    deliberate kernel panic: never reports success
 */
#include "workloads.h"

int divzero_probe(void);
void divzero_fixup(void);
__asm__(".text\n"
        ".globl divzero_probe, divzero_fixup\n"
        "divzero_probe:\n"          /* returns 0 if the divide did not fault */
        "    xorl %edx, %edx\n"
        "    movl $1, %eax\n"
        "    xorl %ecx, %ecx\n"
        "    divl %ecx\n"
        "    xorl %eax, %eax\n"
        "    ret\n"
        "divzero_fixup:\n"          /* the kernel continues here, stack as at the fault */
        "    movl $1, %eax\n"
        "    ret\n");

static int wl_syscall(int n, struct wl_result *r)
{
    int bad = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        bad |= sys_null();
    phase(PHASE_TEARDOWN);
    fmt(r->extra, sizeof(r->extra), "ops=%d", n);
    return bad ? fail(r, "nonzero-return") : 1;
}

static int wl_divzero(int n, struct wl_result *r)
{
    int handled = 0;
    if (sigfpe(divzero_fixup) < 0)
        return fail(r, "sigfpe");
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        handled += divzero_probe();
    phase(PHASE_TEARDOWN);
    sigfpe(NULL);
    fmt(r->extra, sizeof(r->extra), "ops=%d", handled);
    return handled == n ? 1 : fail(r, "fault-not-handled");
}

static int kernel_bench(int kind, int n, struct wl_result *r)
{
    int done = bench(kind, n);
    fmt(r->extra, sizeof(r->extra), "ops=%d", done);
    return done == n ? 1 : fail(r, "bench-count");
}

static int wl_in(int n, struct wl_result *r) { return kernel_bench(BENCH_IN, n, r); }
static int wl_callret(int n, struct wl_result *r) { return kernel_bench(BENCH_CALLRET, n, r); }
static int wl_pgfault(int n, struct wl_result *r) { return kernel_bench(BENCH_PGFAULT, n, r); }
static int wl_ptemod(int n, struct wl_result *r) { return kernel_bench(BENCH_PTEMOD, n, r); }
static int wl_cr3(int n, struct wl_result *r) { return kernel_bench(BENCH_CR3, n, r); }
static int wl_cli(int n, struct wl_result *r) { return kernel_bench(BENCH_CLI, n, r); }

#define HOLE_PROBES 19

static int wl_holes(int n, struct wl_result *r)
{
    int differ = bench(BENCH_HOLES, n);
    fmt(r->extra, sizeof(r->extra), "tested=%d differ=%d", HOLE_PROBES, differ);
    return differ >= 0 ? 1 : fail(r, "bench-error");
}

static int wl_panic(int n, struct wl_result *r)
{
    bench(BENCH_PANIC, n);
    return fail(r, "kernel-did-not-panic");
}

const struct workload nano_workloads[] = {
    { "syscall", wl_syscall, 2000 },
    { "in", wl_in, 2000 },
    { "callret", wl_callret, 2000 },
    { "pgfault", wl_pgfault, 2000 },
    { "divzero", wl_divzero, 2000 },
    { "ptemod", wl_ptemod, 2000 },
    { "cr3", wl_cr3, 2000 },
    { "cli", wl_cli, 2000 },
    { "holes", wl_holes, 1 },
    { "panic", wl_panic, 1 },
    { NULL, NULL, 0 },
};
