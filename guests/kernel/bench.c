/*
 * bench.c — the kernel-level nanobenchmarks, run N times inside the kernel by SYS_BENCH (as
 * VMware's FrobOS tests did). Each marks its loop as the measured phase and returns the number of
 * operations it performed (or a negative error):
 *
 *   BENCH_IN       N reads of port 0x80                     pv_ops.inb
 *   BENCH_CALLRET  N call/ret pairs to a kernel function    (no privileged work: BT's indirect-
 *                                                           branch cost shows here)
 *   BENCH_PGFAULT  N true page faults: unmap scratch page 1, touch it, the fault handler maps it
 *                  again (bench_page_fault)
 *   BENCH_PTEMOD   N kernel PTE writes + INVLPG + a touch of the page, alternating two frames
 *   BENCH_CR3      N address-space switches, alternating the caller's directory and the kernel's
 *   BENCH_CLI      N interrupt disable/enable pairs
 *   BENCH_HOLES    the sensitive-unprivileged instruction probe (holes.c), N ignored
 *   BENCH_PANIC    a kernel-mode write to an unmapped kernel page: must end in a panic
 *
 * The pages used live in the kernel scratch window (layout.h), so no process is disturbed.
 */
#include "kernel.h"
#include "layout.h"
#include "mm.h"
#include "proc.h"
#include "pvops.h"
#include "syscall_nr.h"
#include "trap.h"

#define SCRATCH_PGFAULT 1
#define SCRATCH_PTEMOD  2
#define SCRATCH_UNMAPPED 1023

int holes_run(void);

static uint32_t bench_frames[2];
static bool pgfault_armed;
static uint32_t pgfault_count;
static volatile uint32_t sink;

static uint32_t scratch_va(uint32_t i) { return KSCRATCH_BASE + i * PAGE_SIZE; }

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

bool bench_page_fault(uint32_t addr)
{
    if (!pgfault_armed || ALIGN_DOWN(addr, PAGE_SIZE) != scratch_va(SCRATCH_PGFAULT))
        return false;
    pv_ops.set_pte(kscratch_pte(SCRATCH_PGFAULT), pte_make(bench_frames[0], PTE_P | PTE_W));
    pgfault_count++;
    return true;
}

static int run_pgfault(int n)
{
    pte_t *pte = kscratch_pte(SCRATCH_PGFAULT);
    volatile uint32_t *p = (volatile uint32_t *)scratch_va(SCRATCH_PGFAULT);
    pgfault_count = 0;
    pgfault_armed = true;
    phase_mark(PHASE_MEASURE);
    for (int i = 0; i < n; i++) {
        pv_ops.set_pte(pte, 0);
        pv_ops.invlpg((uint32_t)(uintptr_t)p);
        sink += *p;
    }
    phase_mark(PHASE_TEARDOWN);
    pgfault_armed = false;
    pv_ops.set_pte(pte, 0);
    pv_ops.invlpg((uint32_t)(uintptr_t)p);
    return (int)pgfault_count;
}

static int run_ptemod(int n)
{
    pte_t *pte = kscratch_pte(SCRATCH_PTEMOD);
    uint32_t va = scratch_va(SCRATCH_PTEMOD);
    phase_mark(PHASE_MEASURE);
    for (int i = 0; i < n; i++) {
        pv_ops.set_pte(pte, pte_make(bench_frames[i & 1], PTE_P | PTE_W));
        pv_ops.invlpg(va);
        sink += *(volatile uint32_t *)va;
    }
    phase_mark(PHASE_TEARDOWN);
    pv_ops.set_pte(pte, 0);
    pv_ops.invlpg(va);
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
    phase_mark(PHASE_TEARDOWN);
    if (kind == BENCH_CR3)
        pv_ops.load_cr3(current->pgdir);
    sink = x;
    return n;
}

int bench_run(int kind, int n)
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
        return bench_frames_ready() < 0 ? -ENOMEM : run_ptemod(n);
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
