/*
 * trap.c — where every interrupt, exception and system call arrives (from entry.S).
 *
 *   vector 0x20-0x2f  PIC interrupts: IRQ 0 (PIT) counts a tick and asks for a reschedule
 *   vector 0x80       system call (syscall.c)
 *   vector 14         page fault: the benchmark's own kernel faults, else fault_classify():
 *                     demand-zero and copy-on-write are fixed, fatal ones kill the process (user
 *                     address) or panic (kernel address touched by the kernel)
 *   vector 0          divide error: continues at the process's registered handler, or kills it
 *   vector 0x81       the holes workload's `int n` probe (and its far return's #GP, when the
 *                     kernel really runs in ring 1: holes_fixup)
 *   other exceptions  kill the process (from user mode) or panic (from kernel mode)
 *
 * Exceptions arrive through interrupt gates (IF clear); once CR2 is read, the handler re-enables
 * interrupts if the interrupted context had them on, as Linux does. Before returning to user mode
 * trap() honours need_resched: that is the only preemption point.
 */
#include "kernel.h"
#include "desc.h"
#include "layout.h"
#include "mm.h"
#include "proc.h"
#include "pvops.h"
#include "trap.h"

#define SIGILL  4
#define SIGFPE  8
#define SIGKILL 9
#define SIGSEGV 11

static const char *const exception_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range", "invalid opcode",
    "device not available", "double fault", "coprocessor overrun", "invalid TSS",
    "segment not present", "stack fault", "general protection", "page fault", "reserved",
    "x87 error", "alignment check", "machine check", "SIMD error",
};

static const char *exception_name(uint32_t v)
{
    return v < 32 && exception_names[v] ? exception_names[v] : "unknown";
}

static void irq(struct trapframe *tf)
{
    int line = (int)(tf->vector - T_IRQ0);
    if (line == 0) {
        ticks++;
        need_resched = 1;
    }
    pv_ops.intr_eoi(line);
}

static void page_fault(struct trapframe *tf)
{
    uint32_t addr = pv_ops.read_cr2();
    if (tf->eflags & EFLAGS_IF)
        pv_ops.irq_enable();
    bool user = tf_from_user(tf);
    if (!user && bench_page_fault(addr))
        return;
    if (addr >= KERNEL_BASE && !user)
        panic("page fault in kernel mode: addr=%x eip=%x err=%x", addr, tf->eip, tf->err);
    if (!current)
        panic("page fault before the first process: addr=%x eip=%x", addr, tf->eip);
    pte_t *pte = addr < KERNEL_BASE ? vm_pte(current->pgdir, addr, false) : NULL;
    int r = 0;
    switch (fault_classify(&current->vm, addr, tf->err, pte ? *pte : 0)) {
    case FAULT_DEMAND_ZERO:
        r = vm_fix_demand_zero(current->pgdir, addr);
        break;
    case FAULT_COW:
        r = vm_fix_cow(current->pgdir, addr);
        break;
    case FAULT_FATAL:
        proc_kill(SIGSEGV, user ? "segmentation fault" : "bad address in a system call", addr,
                  tf->eip);
    }
    if (r < 0)
        proc_kill(SIGKILL, "out of memory", addr, tf->eip);
}

static void exception(struct trapframe *tf)
{
    if (!tf_from_user(tf) && holes_fixup(tf))
        return;
    if (!tf_from_user(tf))
        panic("%s (exception %u) in kernel mode: eip=%x err=%x", exception_name(tf->vector),
              tf->vector, tf->eip, tf->err);
    if (tf->eflags & EFLAGS_IF)
        pv_ops.irq_enable();
    if (tf->vector == T_DIVIDE && current->fpe_handler) {
        tf->eip = current->fpe_handler;
        return;
    }
    int sig = tf->vector == T_DIVIDE ? SIGFPE : tf->vector == 6 ? SIGILL : SIGSEGV;
    proc_kill(sig, exception_name(tf->vector), 0, tf->eip);
}

void trap(struct trapframe *tf)
{
    uint32_t v = tf->vector;
    if (v >= T_IRQ0 && v < T_IRQ0 + 16)
        irq(tf);
    else if (v == T_SYSCALL)
        syscall_dispatch(tf);
    else if (v == T_PGFLT)
        page_fault(tf);
    else if (v == T_HOLES)
        holes_int_handler(tf);
    else
        exception(tf);
    if (tf_from_user(tf) && need_resched)
        schedule();
}
