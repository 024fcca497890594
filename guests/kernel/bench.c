/*
 * bench.c — the kernel-level nanobenchmarks, run inside the kernel by SYS_BENCH (as VMware's
 * FrobOS tests did). Each does ONE operation per iteration of its measured loop (PHASE_MEASURE),
 * then runs the same loop, n iterations, with an empty body (PHASE_CALIBRATE: an asm volatile
 * barrier per iteration, so the compiler keeps it), and returns the number of operations done (or
 * a negative error). The analysis takes phase 3 off phase 1 per operation.
 *
 *   BENCH_IN       one `in` from port 0x80 (pv_ops.inb(PORT_POST))
 *   BENCH_CALLRET  one call/ret pair to a kernel function (no privileged work: BT's return
 *                  lookup shows here)
 *   BENCH_CR3      one address-space switch (load_cr3), alternating the kernel's directory and
 *                  the caller's
 *   BENCH_CLI      one interrupt disable/enable pair (irq_disable + irq_enable: natively cli;
 *                  sti). A pair, not a lone cli: the loop must not run n iterations with
 *                  interrupts off, which would hold the timer off and change what is measured.
 *   BENCH_PGFAULT  one true page fault: a kernel read of an unmapped scratch page; the fault
 *                  handler (bench_page_fault) maps it and the read is retried.
 *   BENCH_PTEMOD   one store to a kernel PTE (variant below).
 *   BENCH_HOLES    the sensitive-unprivileged instruction probe (holes.c), n ignored
 *   BENCH_PANIC    a kernel-mode write to an unmapped kernel page: must end in a panic
 *   BENCH_TLB      one TLB event followed by reads of K distinct pages (variant TLBB_*, K in
 *                  the bits above it): the measured check of vmlab's TLB model (emu/tlb.h).
 *                  cr3: load_cr3 of the current directory, which drops every non-global
 *                  translation, so the K reads miss; invlpg: invlpg of the first page, one
 *                  miss; global: as cr3 with the K pages mapped global and CR4.PGE set, so
 *                  they survive the load where the CPU honours PGE. The K pages are scratch
 *                  pages 768.. mapped in the set-up phase; every op touches the same K. The
 *                  loop's own code, stack and data pages miss too after a CR3 load, the same
 *                  number for every K: a run with K = 0 measures them.
 *
 * The loops of pgfault and ptemod need their pages re-armed between operations. They run in
 * blocks of BLOCK pages of the kernel scratch window (layout.h: one page table, 1024 pages):
 *
 *   repeat until n operations are done, k = min(BLOCK, what is left):
 *     PHASE_BETWEEN   re-arm the block's k PTEs in one set_ptes batch, then one flush_tlb
 *     PHASE_MEASURE   k operations, one per iteration (ptemod: then the block's one flush_tlb)
 *   then the same blocks again, each PHASE_BETWEEN (nothing done) + PHASE_CALIBRATE (k empty
 *   iterations), so phase 3 carries the same phase-marker writes per block as phase 1.
 *
 * pgfault: re-arming makes the block's pages not-present; each measured iteration reads one, takes
 * one #PF, the handler maps it (one PTE store, not-present -> present: no TLB flush needed) and the
 * read retries and succeeds.
 *
 * ptemod variants (SYS_BENCH's third argument, PTEMOD_*; the user program takes `variant=` from
 * the command line): each measured iteration is one store to the next PTE of the block.
 *   unchanged (the default)  a present PTE stored with its own value; nothing to re-arm
 *   p2np                     a present PTE made not-present; re-armed present (set_ptes) between
 *   np2p                     a not-present PTE made present; re-armed not-present between
 * What makes the stores observable: the block ends, still in PHASE_MEASURE, with one flush_tlb —
 * the TLB maintenance a present -> not-present store needs before the page is relied on, and
 * what publishes the stores where the pv-ops implementation queues them (pvops.h: queued entry
 * writes are applied before the next flush; under pv the block's k stores go to the hypervisor in
 * that one call as k mmu_update elements). unchanged and np2p would not need the flush natively;
 * it is kept so every variant has one shape: 1/BLOCK of a TLB flush per operation.
 *
 * Before the loop a scratch page is read once (SCRATCH_TRACER) so that a shadow-paging monitor has
 * shadowed, and traces, the scratch page table from the first measured store on.
 */
#include "kernel.h"
#include "layout.h"
#include "mm.h"
#include "proc.h"
#include "pvops.h"
#include "syscall_nr.h"
#include "trap.h"

#define BLOCK 256                 /* pages per block: <= the pv port's mmu_update queue (256) */
#define SCRATCH_TRACER 2          /* mapped, read once before a blocked loop */
#define SCRATCH_PGFAULT 256       /* pgfault's block: pages 256 .. 256 + BLOCK - 1 */
#define SCRATCH_PTEMOD 512        /* ptemod's block: pages 512 .. 512 + BLOCK - 1 */
#define SCRATCH_TLB 768          /* tlb's pages: 768 .. 768 + TLBB_MAX_PAGES - 1 */
#define SCRATCH_UNMAPPED 1023

int holes_run(void);

static uint32_t bench_frames[2];
static bool pgfault_armed;
static uint32_t pgfault_count;
static volatile uint32_t sink;

static uint32_t scratch_va(uint32_t i) { return KSCRATCH_BASE + i * PAGE_SIZE; }

/* One iteration of a calibration loop: nothing, but the compiler must keep the iteration. */
#define EMPTY_BODY() __asm__ volatile("" : : : "memory")

static int bench_frames_ready(void)
{
    for (int i = 0; i < 2; i++)
        if (!bench_frames[i] && !(bench_frames[i] = frame_alloc_zeroed()))
            return -ENOMEM;
    return 0;
}

__attribute__((noinline, noclone)) static uint32_t callee(uint32_t x)
{
    __asm__ volatile("" : "+r"(x));
    return x + 1;
}

static pte_t scratch_present(void) { return pte_make(bench_frames[0], PTE_P | PTE_W); }

/* Writes `k` PTEs of the scratch window from page `first` to `val` in one batch, then one TLB
 * flush (which also publishes a queued batch): the re-arming of a block. */
static void scratch_set_block(uint32_t first, uint32_t k, pte_t val)
{
    static struct pte_update u[BLOCK];   /* 2 KiB: not on the kernel stack */
    for (uint32_t i = 0; i < k; i++)
        u[i] = (struct pte_update){ kscratch_pte(first + i), val };
    pv_ops.set_ptes(u, k);
    pv_ops.flush_tlb();
}

/* Maps the tracer page and reads it: a shadow MMU now shadows (and write-protects) the scratch
 * page table, so every later store to it is a traced write. */
static void scratch_trace(void)
{
    pv_ops.set_pte(kscratch_pte(SCRATCH_TRACER), pte_make(bench_frames[1], PTE_P | PTE_W));
    pv_ops.flush_tlb();
    sink += *(volatile uint32_t *)scratch_va(SCRATCH_TRACER);
}

/* The calibration of a blocked benchmark: the same blocks of empty iterations, each entered
 * through PHASE_BETWEEN (nothing done there) as the measured blocks are. */
static void calibrate_blocks(int n)
{
    for (int done = 0; done < n;) {
        int k = n - done < BLOCK ? n - done : BLOCK;
        phase_mark(PHASE_BETWEEN);
        phase_mark(PHASE_CALIBRATE);
        for (int i = 0; i < k; i++)
            EMPTY_BODY();
        done += k;
    }
}

bool bench_page_fault(uint32_t addr)
{
    uint32_t first = scratch_va(SCRATCH_PGFAULT);
    if (!pgfault_armed || addr < first || addr >= first + BLOCK * PAGE_SIZE)
        return false;
    pv_ops.set_pte(kscratch_pte(SCRATCH_PGFAULT + (addr - first) / PAGE_SIZE), scratch_present());
    pgfault_count++;
    return true;
}

static int run_pgfault(int n)
{
    scratch_trace();
    pgfault_count = 0;
    pgfault_armed = true;
    for (int done = 0; done < n;) {
        int k = n - done < BLOCK ? n - done : BLOCK;
        phase_mark(PHASE_BETWEEN);
        scratch_set_block(SCRATCH_PGFAULT, (uint32_t)k, 0);
        phase_mark(PHASE_MEASURE);
        for (int i = 0; i < k; i++)
            sink += *(volatile uint32_t *)scratch_va(SCRATCH_PGFAULT + (uint32_t)i);
        done += k;
    }
    calibrate_blocks(n);
    phase_mark(PHASE_TEARDOWN);
    pgfault_armed = false;
    scratch_set_block(SCRATCH_PGFAULT, BLOCK, 0);
    return (int)pgfault_count;
}

static int run_ptemod(int n, int variant)
{
    pte_t present = scratch_present(), before, after;
    switch (variant) {
    case PTEMOD_UNCHANGED: before = present; after = present; break;
    case PTEMOD_P2NP:      before = present; after = 0; break;
    case PTEMOD_NP2P:      before = 0; after = present; break;
    default: return -EINVAL;
    }
    scratch_trace();
    if (variant == PTEMOD_UNCHANGED)
        scratch_set_block(SCRATCH_PTEMOD, BLOCK, before);
    for (int done = 0; done < n;) {
        int k = n - done < BLOCK ? n - done : BLOCK;
        phase_mark(PHASE_BETWEEN);
        if (variant != PTEMOD_UNCHANGED)
            scratch_set_block(SCRATCH_PTEMOD, (uint32_t)k, before);
        phase_mark(PHASE_MEASURE);
        for (int i = 0; i < k; i++)
            pv_ops.set_pte(kscratch_pte(SCRATCH_PTEMOD + (uint32_t)i), after);
        pv_ops.flush_tlb();
        done += k;
    }
    calibrate_blocks(n);
    phase_mark(PHASE_TEARDOWN);
    scratch_set_block(SCRATCH_PTEMOD, BLOCK, 0);
    return n;
}

static int run_tlb(int n, int arg)
{
    int variant = arg & 0xff;
    uint32_t k = (uint32_t)arg >> 8;
    if (variant > TLBB_GLOBAL || k > TLBB_MAX_PAGES)
        return -EINVAL;
    if (variant == TLBB_GLOBAL && pv_ops.set_global_pages(true) < 0)
        return -EINVAL;   /* pv: Xen owns CR4 */
    pte_t val = scratch_present() | (variant == TLBB_GLOBAL ? PTE_G : 0);
    scratch_set_block(SCRATCH_TLB, k, val);
    for (uint32_t j = 0; j < k; j++)           /* warm: invlpg's pages are then all held */
        sink += *(volatile uint32_t *)scratch_va(SCRATCH_TLB + j);
    uint32_t first = scratch_va(SCRATCH_TLB);
    phase_mark(PHASE_MEASURE);
    for (int i = 0; i < n; i++) {
        if (variant == TLBB_INVLPG)
            pv_ops.invlpg(first);
        else
            pv_ops.load_cr3(current->pgdir);
        for (uint32_t j = 0; j < k; j++)
            sink += *(volatile uint32_t *)scratch_va(SCRATCH_TLB + j);
    }
    phase_mark(PHASE_CALIBRATE);
    for (int i = 0; i < n; i++)
        EMPTY_BODY();
    phase_mark(PHASE_TEARDOWN);
    scratch_set_block(SCRATCH_TLB, k, 0);
    if (variant == TLBB_GLOBAL)
        pv_ops.set_global_pages(false);
    return n;
}

static int run_simple(int kind, int n)
{
    uint32_t x = 0;
    phase_mark(PHASE_MEASURE);
    switch (kind) {
    case BENCH_IN:
        for (int i = 0; i < n; i++)
            x += pv_ops.inb(PORT_POST);
        break;
    case BENCH_CALLRET:
        for (int i = 0; i < n; i++)
            x = callee(x);
        break;
    case BENCH_CR3:
        for (int i = 0; i < n; i++)
            pv_ops.load_cr3((i & 1) ? current->pgdir : kernel_pgdir);
        break;
    case BENCH_CLI:
        for (int i = 0; i < n; i++) {
            pv_ops.irq_disable();
            pv_ops.irq_enable();
        }
        break;
    }
    phase_mark(PHASE_CALIBRATE);
    for (int i = 0; i < n; i++)
        EMPTY_BODY();
    phase_mark(PHASE_TEARDOWN);
    if (kind == BENCH_CR3)
        pv_ops.load_cr3(current->pgdir);
    sink = x;
    return n;
}

/*
 * bench_run — SYS_BENCH: runs nanobenchmark `kind` (BENCH_*) for `n` operations; `variant` is
 * BENCH_PTEMOD's PTEMOD_*, BENCH_TLB's TLBB_* | pages << 8, ignored by the others. Marks the phases itself (measured loop,
 * calibration loop, and for pgfault/ptemod the re-arming between blocks) and ends in
 * PHASE_TEARDOWN. Returns the operations done (pgfault: the faults the handler fixed; holes: the
 * probes that differ from ring 0), -EINVAL for a bad kind, n or variant, -ENOMEM without frames.
 */
int bench_run(int kind, int n, int variant)
{
    if (n < 0)
        return -EINVAL;
    switch (kind) {
    case BENCH_IN:
    case BENCH_CALLRET:
    case BENCH_CR3:
    case BENCH_CLI:
        return run_simple(kind, n);
    case BENCH_PGFAULT:
        return bench_frames_ready() < 0 ? -ENOMEM : run_pgfault(n);
    case BENCH_PTEMOD:
        return bench_frames_ready() < 0 ? -ENOMEM : run_ptemod(n, variant);
    case BENCH_TLB:
        return bench_frames_ready() < 0 ? -ENOMEM : run_tlb(n, variant);
    case BENCH_HOLES:
        return holes_run();
    case BENCH_PANIC:
        kprintf("panic workload: the kernel writes to an unmapped kernel page\n");
        *(volatile uint32_t *)scratch_va(SCRATCH_UNMAPPED) = 1;
        return -EINVAL;
    default:
        return -EINVAL;
    }
}
