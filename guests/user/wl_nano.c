/*
 * wl_nano.c — the nanobenchmarks. Each does ONE operation per iteration of its measured loop
 * (PHASE_MEASURE), then the same loop, n iterations, with an empty body (PHASE_CALIBRATE: an asm
 * volatile barrier per iteration) whose cost the analysis takes off per operation. syscall and
 * divzero loop here in user mode; the others run inside the kernel through SYS_BENCH
 * (guests/kernel/bench.c), which marks the phases itself.
 *
 *   syscall  one null system call round trip: int 0x80 with SYS_NULL, the kernel's entry,
 *            dispatch and return (iret) to user mode
 *   divzero  one divide fault delivered to the program and resumed: a `div` by zero in user mode,
 *            #DE to the kernel, which delivers SIGFPE to the program's handler (a signal frame
 *            on the user stack); the handler moves the saved EIP past the divide and returns
 *            through the trampoline's sigreturn, as on Linux (guests/linux/init.c)
 *   in, callret, pgfault, cr3, cli   kernel loops, one operation each (bench.c)
 *   ptemod   one kernel PTE store, `variant=unchanged|p2np|np2p` on the command line (default
 *            unchanged); ptemod_p2np and ptemod_np2p name the variants as workloads of their own,
 *            so a suite (keyed by workload name) can hold all three (bench.c)
 *   holes    the sensitive-instruction probe; its lines come from the kernel, `differ` counts
 *            the probes that did not see what true ring 0 would (0 natively)
 *   panic    deliberate kernel panic: never reports success
 */
#include "workloads.h"

#include "divzero_probe.h"    /* divzero_probe, divzero_fixup: shared with the Linux init */

static int wl_syscall(int n, struct wl_result *r)
{
    int bad = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        bad |= sys_null();
    phase(PHASE_CALIBRATE);
    for (int i = 0; i < n; i++)
        EMPTY_BODY();
    phase(PHASE_TEARDOWN);
    fmt(r->extra, sizeof(r->extra), "ops=%d", n);
    return bad ? fail(r, "nonzero-return") : 1;
}

/* SIGFPE: the divide is skipped, the probe returns 1 from its fixup. */
static void on_sigfpe(int sig, struct sigcontext *ctx)
{
    ctx->eip = (uint32_t)(uintptr_t)divzero_fixup;
}

static int wl_divzero(int n, struct wl_result *r)
{
    int handled = 0;
    if (sigaction(SIGFPE, on_sigfpe) < 0)
        return fail(r, "sigaction");
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        handled += divzero_probe();
    phase(PHASE_CALIBRATE);
    for (int i = 0; i < n; i++)
        EMPTY_BODY();
    phase(PHASE_TEARDOWN);
    sigaction(SIGFPE, (sighandler_t)SIG_DFL);
    fmt(r->extra, sizeof(r->extra), "ops=%d", handled);
    return handled == n ? 1 : fail(r, "fault-not-handled");
}

static int kernel_bench_variant(int kind, int n, int variant, struct wl_result *r)
{
    int done = bench_variant(kind, n, variant);
    fmt(r->extra, sizeof(r->extra), "ops=%d", done);
    return done == n ? 1 : fail(r, "bench-count");
}

static int kernel_bench(int kind, int n, struct wl_result *r)
{
    return kernel_bench_variant(kind, n, 0, r);
}

static const char *const ptemod_variants[] = {
    [PTEMOD_UNCHANGED] = "unchanged", [PTEMOD_P2NP] = "p2np", [PTEMOD_NP2P] = "np2p",
};

static int ptemod(int n, int variant, struct wl_result *r)
{
    int ok = kernel_bench_variant(BENCH_PTEMOD, n, variant, r);
    size_t len = strlen(r->extra);
    fmt(r->extra + len, sizeof(r->extra) - len, " variant=%s", ptemod_variants[variant]);
    return ok;
}

static int wl_in(int n, struct wl_result *r) { return kernel_bench(BENCH_IN, n, r); }
static int wl_callret(int n, struct wl_result *r) { return kernel_bench(BENCH_CALLRET, n, r); }
static int wl_pgfault(int n, struct wl_result *r) { return kernel_bench(BENCH_PGFAULT, n, r); }
static int wl_ptemod(int n, struct wl_result *r)
{
    char v[16];
    if (!wl_arg("variant", v, sizeof(v)))
        return ptemod(n, PTEMOD_UNCHANGED, r);
    for (int i = 0; i < (int)ARRAY_SIZE(ptemod_variants); i++)
        if (strcmp(v, ptemod_variants[i]) == 0)
            return ptemod(n, i, r);
    return fail(r, "unknown-variant");
}
static int wl_ptemod_p2np(int n, struct wl_result *r) { return ptemod(n, PTEMOD_P2NP, r); }
static int wl_ptemod_np2p(int n, struct wl_result *r) { return ptemod(n, PTEMOD_NP2P, r); }
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
    { "syscall", wl_syscall, 2000,
      "one null system call round trip (int 0x80, dispatch, iret)" },
    { "in", wl_in, 2000,
      "one in from port 0x80 in the kernel" },
    { "callret", wl_callret, 2000,
      "one call/ret pair in kernel code" },
    { "pgfault", wl_pgfault, 2000,
      "one kernel page fault on an unmapped page, mapped by the handler" },
    { "divzero", wl_divzero, 2000,
      "one user divide-by-zero fault delivered as SIGFPE and resumed" },
    { "ptemod", wl_ptemod, 2000,
      "one kernel PTE store (variant=unchanged|p2np|np2p, default unchanged)" },
    { "ptemod_p2np", wl_ptemod_p2np, 2000,
      "one kernel PTE store, present to not-present" },
    { "ptemod_np2p", wl_ptemod_np2p, 2000,
      "one kernel PTE store, not-present to present" },
    { "cr3", wl_cr3, 2000,
      "one address-space switch (load CR3) in the kernel" },
    { "cli", wl_cli, 2000,
      "one interrupt disable/enable pair (cli; sti) in the kernel" },
    { "holes", wl_holes, 1,
      "the sensitive-instruction probe (n ignored; not a timing)" },
    { "panic", wl_panic, 1,
      "a deliberate kernel panic (never succeeds)" },
    { NULL, NULL, 0, NULL },
};
