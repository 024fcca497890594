/*
 * proc.h — processes and the scheduler.
 *
 * A process is one address space (pgdir), one kernel stack (a fixed slot, KSTACK_SIZE bytes),
 * a file table and a user-space layout. States:
 *
 *     UNUSED --fork/spawn--> RUNNABLE <--schedule/preempt--> RUNNING --exit--> ZOMBIE --wait--> UNUSED
 *                                ^                              |
 *                                +------- wakeup <-- SLEEPING <-+ sleep (pipe empty/full, wait)
 *
 * Scheduling is round-robin over the process table, preemptive at the return to user mode: the
 * PIT interrupt sets need_resched; trap() calls schedule() before going back to ring 3. The
 * kernel itself is not preemptible, so kernel data is only shared with interrupt handlers through
 * a couple of flags; the scheduler still brackets its work with pv_ops.irq_save/irq_restore, as a
 * real kernel does. Every context switch loads the next process's CR3 and kernel stack through
 * pv_ops. Nothing is ever woken by an interrupt (there are no timed sleeps), so no runnable
 * process at all means deadlock and is a panic.
 */
#ifndef KERNEL_PROC_H
#define KERNEL_PROC_H

#include "types.h"
#include "vmlayout.h"
#include "trap.h"
#include "signal.h"

#define NPROC       64
#define NFD         16
#define KSTACK_SIZE 8192

enum proc_state { P_UNUSED, P_RUNNABLE, P_RUNNING, P_SLEEPING, P_ZOMBIE };

struct file;

struct proc {
    int pid;
    enum proc_state state;
    struct proc *parent;
    uint32_t pgdir;                 /* physical address of the page directory */
    uint32_t ksp;                   /* saved kernel stack pointer while switched out */
    uint8_t *kstack;                /* KSTACK_SIZE bytes */
    struct trapframe *tf;           /* the user trap frame at the top of kstack */
    struct vm_layout vm;
    const void *wchan;              /* what a SLEEPING process waits for */
    int exit_status;
    struct sigstate sig;            /* handlers, pending and blocked signals (signal.h) */
    struct file *fd[NFD];
    char name[16];
};

extern struct proc *current;
extern volatile int need_resched;
extern volatile uint32_t ticks;

void proc_init(void);
void proc_set_name(struct proc *p, const char *name);   /* truncated to fit */
/* Creates pid 1 running program `name` with `argv` and switches to it; does not return. */
void proc_start_init(const char *name, const char *const *argv) __attribute__((noreturn));

int proc_fork(struct trapframe *tf);
void proc_exit(int status) __attribute__((noreturn));
/* Reaps a zombie child (pid, or any with -1): its pid, -ECHILD, or -EINTR when a signal is
 * pending for the caller while it waits. */
int proc_wait(int pid, int *status_out);
/* Kills the current process after a fatal fault: prints one line (why, the address, the EIP),
 * counts it (kstat.sigkills), exits with 128 + signal. */
void proc_kill(int signal, const char *why, uint32_t addr, uint32_t eip) __attribute__((noreturn));
/* The same for a signal's default action: `pid P (NAME) killed by signal S`, without an EIP
 * (where a signal from another process finds its target depends on timing, and the console must
 * not). */
void proc_kill_by_signal(int signal) __attribute__((noreturn));
/* The live (neither free nor zombie) process with this pid, or NULL. */
struct proc *proc_find(int pid);
/* A signal arrived for p: if p sleeps, it becomes runnable, and its sleep loop sees the signal. */
void proc_interrupt(struct proc *p);

void schedule(void);
void yield(void);
void sleep_on(const void *chan);
void wakeup(const void *chan);

/* exec.c */
int proc_exec(struct trapframe *tf, const char *name, const char *const *argv);
/* Builds a fresh address space running `name`; fills pgdir, vm, entry and user stack pointer. */
int exec_load(const char *name, const char *const *argv, int argc, uint32_t *pgdir_out,
              struct vm_layout *vm_out, uint32_t *entry_out, uint32_t *sp_out);

#endif
