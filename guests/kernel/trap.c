/*
 * trap.c — where every interrupt, exception and system call arrives (from entry.S).
 *
 *   vector 0x20-0x2f  PIC interrupts: IRQ 0 (PIT) counts a tick and asks for a reschedule
 *   vector 0x80       system call (syscall.c)
 *   vector 14         page fault: the benchmark's own kernel faults, else fault_classify():
 *                     demand-zero, file pages (mmap.c) and copy-on-write are fixed; a fatal one
 *                     from user mode is SIGSEGV (a file page past the end of its file: SIGBUS),
 *                     from the kernel on a user address kills the process, on a kernel address
 *                     panics
 *   vector 0          divide error: SIGFPE
 *   vector 0x81       the holes workload's `int n` probe (and its far return's #GP, when the
 *                     kernel really runs in ring 1: holes_fixup)
 *   other exceptions  from user mode SIGILL (invalid opcode) or SIGSEGV; from kernel mode panic
 *
 * A fault's signal goes to the process's handler if it has one that it does not block, else the
 * process is killed with one line (signal.h). Exceptions arrive through interrupt gates (IF
 * clear); once CR2 is read, the handler re-enables interrupts if the interrupted context had them
 * on, as Linux does. Before returning to user mode trap() honours need_resched (the only
 * preemption point), then delivers the process's pending signals.
 */
#include "kernel.h"
#include "desc.h"
#include "layout.h"
#include "mm.h"
#include "mmap.h"
#include "proc.h"
#include "pvops.h"
#include "signal.h"
#include "syscall_nr.h"
#include "trap.h"

#define T_INVALID_OPCODE 6

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

/* A fatal page fault on a user address: the process's signal when it came from user mode; the
 * process killed when the kernel touched the address for it (a system call's buffer). */
static void bad_page(struct trapframe *tf, int sig, const char *why, uint32_t addr)
{
    if (!tf_from_user(tf))
        proc_kill(sig, "bad address in a system call", addr, tf->eip);
    signal_fault(tf, sig, why, addr);
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
    case FAULT_FILE:
        r = mmap_file_fault(addr);
        break;
    case FAULT_COW:
        r = vm_fix_cow(current->pgdir, addr);
        break;
    case FAULT_FATAL:
        bad_page(tf, SIGSEGV, "segmentation fault", addr);
        return;
    }
    if (r == -EFAULT)
        bad_page(tf, SIGBUS, "bus error", addr);
    else if (r < 0)
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
    int sig = tf->vector == T_DIVIDE ? SIGFPE : tf->vector == T_INVALID_OPCODE ? SIGILL : SIGSEGV;
    signal_fault(tf, sig, exception_name(tf->vector), 0);
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
    if (tf_from_user(tf)) {
        if (need_resched)
            schedule();
        if (current->sig.pending)
            signal_deliver(tf);
    }
}
