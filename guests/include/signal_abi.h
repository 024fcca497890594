/*
 * signal_abi.h — signals between the kernel and user programs (guests/kernel/signal.c has the
 * kernel side; SYS_SIGACTION, SYS_KILL and SYS_SIGRETURN are in syscall_nr.h).
 *
 * A program installs a handler with sigaction(sig, handler, restorer): `handler(sig, ctx)` runs
 * in user mode when the signal is delivered and returns to `restorer`, a trampoline in the
 * program that makes the SYS_SIGRETURN call (the user library passes its own, as glibc passes
 * sa_restorer). Delivery happens on the way back to user mode (after a fault, a system call or
 * an interrupt) and builds this frame on the user stack, lowest address first:
 *
 *     esp -> restorer            the handler's return address
 *            sig                 the handler's first argument
 *            ctx                 its second: the address of the sigcontext below
 *            struct sigcontext   the interrupted user context
 *
 * The handler may change the sigcontext (a fault handler moves eip past the faulting
 * instruction); sigreturn, made with esp just above `restorer` (the handler's `ret` popped it),
 * restores it: every register of the context, the arithmetic flags of eflags, and the blocked
 * set. While a handler runs its own signal is blocked.
 */
#ifndef GUEST_SIGNAL_ABI_H
#define GUEST_SIGNAL_ABI_H

#include "types.h"

/* Linux's numbers for the signals this kernel knows (1 .. NSIG - 1). */
#define SIGHUP   1
#define SIGINT   2
#define SIGQUIT  3
#define SIGILL   4
#define SIGTRAP  5
#define SIGABRT  6
#define SIGBUS   7
#define SIGFPE   8
#define SIGKILL  9    /* cannot be caught, ignored or blocked */
#define SIGUSR1  10
#define SIGSEGV  11
#define SIGUSR2  12
#define SIGPIPE  13
#define SIGALRM  14
#define SIGTERM  15
#define NSIG     16

/* Handler values that are not addresses. */
#define SIG_DFL 0u    /* the default action: end the process with status 128 + sig */
#define SIG_IGN 1u    /* drop the signal (a fault's signal still ends the process) */

struct sigcontext {
    uint32_t edi, esi, ebp, ebx, edx, ecx, eax;
    uint32_t eip, eflags, esp;
    uint32_t trapno;        /* the exception vector of a fault, 0x80 for kill() */
    uint32_t err;           /* the fault's error code */
    uint32_t addr;          /* a page fault's address (CR2), else 0 */
    uint32_t blocked;       /* the blocked set to restore: bit s for signal s */
};

struct sigframe {
    uint32_t restorer;
    uint32_t sig;
    uint32_t ctx;
    struct sigcontext sc;
};

#endif
