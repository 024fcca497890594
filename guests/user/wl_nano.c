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
 *   tlb      one TLB event, then reads of K distinct kernel pages (bench.c): `variant=cr3`
 *            (default: a CR3 load, after which the K reads miss), `invlpg` (one page
 *            invalidated: one miss), `global` (as cr3, the pages global: they survive where the
 *            CPU honours CR4.PGE; refused under pv); `pages=K`, 0..64, default 16. The check of
 *            vmlab's TLB model (emu/tlb.h); tlb_invlpg and tlb_global name the variants as
 *            workloads of their own
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
/* The index of the command line's variant= among `names` (count of them): `absent` without one,
 * -1 for a name not among them. */
static int variant_arg(const char *const *names, int count, int absent)
{
    char v[16];
    if (!wl_arg("variant", v, sizeof(v)))
        return absent;
    for (int i = 0; i < count; i++)
        if (names[i] && strcmp(v, names[i]) == 0)
            return i;
    return -1;
}

static int wl_ptemod(int n, struct wl_result *r)
{
    int i = variant_arg(ptemod_variants, (int)ARRAY_SIZE(ptemod_variants), PTEMOD_UNCHANGED);
    return i < 0 ? fail(r, "unknown-variant") : ptemod(n, i, r);
}
static int wl_ptemod_p2np(int n, struct wl_result *r) { return ptemod(n, PTEMOD_P2NP, r); }
static int wl_ptemod_np2p(int n, struct wl_result *r) { return ptemod(n, PTEMOD_NP2P, r); }
static int wl_cr3(int n, struct wl_result *r) { return kernel_bench(BENCH_CR3, n, r); }
static int wl_cli(int n, struct wl_result *r) { return kernel_bench(BENCH_CLI, n, r); }

static const char *const tlb_variants[] = {
    [TLBB_CR3] = "cr3", [TLBB_INVLPG] = "invlpg", [TLBB_GLOBAL] = "global",
};

static int tlb(int n, int variant, struct wl_result *r)
{
    char v[16];
    int pages = 16;
    if (wl_arg("pages", v, sizeof(v)) && ((pages = parse_uint(v)) < 0 || pages > TLBB_MAX_PAGES))
        return fail(r, "bad-pages");
    int ok = kernel_bench_variant(BENCH_TLB, n, variant | (pages << 8), r);
    size_t len = strlen(r->extra);
    fmt(r->extra + len, sizeof(r->extra) - len, " variant=%s pages=%d", tlb_variants[variant],
        pages);
    return ok;
}

static int wl_tlb(int n, struct wl_result *r)
{
    int i = variant_arg(tlb_variants, (int)ARRAY_SIZE(tlb_variants), TLBB_CR3);
    return i < 0 ? fail(r, "unknown-variant") : tlb(n, i, r);
}

static int wl_tlb_invlpg(int n, struct wl_result *r) { return tlb(n, TLBB_INVLPG, r); }
static int wl_tlb_global(int n, struct wl_result *r) { return tlb(n, TLBB_GLOBAL, r); }

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
    { "tlb", wl_tlb, 2000,
      "one TLB event then reads of K kernel pages (variant=cr3|invlpg|global, pages=K 0..64)" },
    { "tlb_invlpg", wl_tlb_invlpg, 2000,
      "one invlpg of a page then reads of K kernel pages (pages=K, default 16)" },
    { "tlb_global", wl_tlb_global, 2000,
      "one CR3 load then reads of K global kernel pages (pages=K; refused under pv)" },
    { "holes", wl_holes, 1,
      "the sensitive-instruction probe (n ignored; not a timing)" },
    { "panic", wl_panic, 1,
      "a deliberate kernel panic (never succeeds)" },
    { NULL, NULL, 0, NULL },
};
