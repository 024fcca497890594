/*
 * signal.h — signals (user interface and frame layout: guests/include/signal_abi.h).
 *
 * Each process has a handler per signal (SIG_DFL, SIG_IGN or a user address with the address of
 * its return trampoline), a pending set and a blocked set. A signal becomes pending by kill() or
 * by a fault in user mode (signal_fault); pending signals are delivered on the way back to user
 * mode, at the end of trap(), one at a time, lowest number first:
 *
 *     pending --deliver--> handler installed: frame on the user stack, eip = handler, its own
 *        |                 signal blocked until sigreturn restores the context and the blocked set
 *        +--------------> SIG_DFL: the process ends with status 128 + sig
 *        +--------------> SIG_IGN: dropped
 *
 * A fault is a signal only when a handler is installed and the signal is not blocked; otherwise
 * the process ends at once, with the kernel's one-line report (proc_kill), as before signals
 * existed. SIGKILL is never caught, ignored or blocked. A process sleeping in the kernel (a pipe,
 * waitpid) is woken by a signal; the sleep ends with -EINTR (file.c, proc.c check
 * signal_pending), and the signal is delivered as the system call returns.
 *
 * fork copies the handlers and the blocked set, not the pending set; exec resets every handler
 * but SIG_IGN to SIG_DFL (the handlers' code is gone).
 */
#ifndef KERNEL_SIGNAL_H
#define KERNEL_SIGNAL_H

#include "types.h"
#include "signal_abi.h"
#include "kstat.h"

struct proc;
struct trapframe;

struct sigstate {
    uint32_t handler[NSIG];         /* SIG_DFL, SIG_IGN or a user address */
    uint32_t restorer[NSIG];        /* the trampoline the handler returns to */
    uint32_t pending, blocked;      /* bit s: signal s */
};

extern struct kstat kstat;          /* signal.c: signals delivered and returned from */

/* Is a signal pending for p that it does not block? */
bool signal_pending(const struct proc *p);
/* Makes sig pending for p and wakes p if it sleeps; 0 or -EINVAL (sig 0 checks nothing more). */
int signal_send(struct proc *p, int sig);
/* A fault in user mode that means signal sig: pending if p has a handler for it that it does not
 * block, else the process is killed with why/addr in its one-line report. Returns only in the
 * first case. */
void signal_fault(struct trapframe *tf, int sig, const char *why, uint32_t addr);
/* At the return to user mode: delivers the pending signals of the current process (frames,
 * default actions). tf is its user trap frame. */
void signal_deliver(struct trapframe *tf);
/* fork: the child's signal state from the parent's; exec: handlers reset. */
void signal_fork(struct sigstate *child, const struct sigstate *parent);
void signal_exec(struct sigstate *s);

/* The system calls: sigaction(sig, handler, restorer), kill(pid, sig), sigreturn(). */
int sys_sigaction(struct trapframe *tf);
int sys_kill(struct trapframe *tf);
int sys_sigreturn(struct trapframe *tf);

#endif
