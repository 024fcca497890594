/*
 * proc.c — the process table, the scheduler, fork, exit and wait (proc.h has the state diagram).
 *
 * A new process's kernel stack is laid out as if it had been switched out inside trap():
 * a copy of the parent's user trap frame at the top, and below it the registers switch_stacks()
 * pops, with trap_return as the return address. Switching to it therefore "returns" to user mode
 * through the ordinary trap exit. Exit clears every PTE of the address space and frees it at once
 * (vm_exit_mmap, then the kernel-only directory, then vm_destroy); the zombie keeps only its table slot and kernel stack until its parent
 * reaps it. Orphans are given to pid 1. When pid 1 exits, the machine exits with its status.
 */
#include "kernel.h"
#include "layout.h"
#include "mm.h"
#include "proc.h"
#include "file.h"
#include "mmap.h"
#include "pvops.h"
#include "syscall_nr.h"

struct proc *current;
volatile int need_resched;
volatile uint32_t ticks;

static struct proc procs[NPROC];
static uint8_t kstacks[NPROC][KSTACK_SIZE] __attribute__((aligned(4096)));
static struct proc *initproc;
static int next_pid = 1;

extern void trap_return(void);
extern void switch_stacks(uint32_t *save_esp, uint32_t new_esp);

void proc_init(void)
{
    for (int i = 0; i < NPROC; i++) {
        procs[i].state = P_UNUSED;
        procs[i].kstack = kstacks[i];
    }
}

/* A free slot with a fresh pid, still UNUSED until the caller marks it RUNNABLE. */
static struct proc *proc_alloc(void)
{
    for (int i = 0; i < NPROC; i++) {
        struct proc *p = &procs[i];
        if (p->state != P_UNUSED)
            continue;
        uint8_t *kstack = p->kstack;
        memset(p, 0, sizeof(*p));
        p->kstack = kstack;
        p->state = P_UNUSED;
        p->pid = next_pid++;
        return p;
    }
    return NULL;
}

static uint32_t kstack_top(const struct proc *p)
{
    return (uint32_t)(uintptr_t)(p->kstack + KSTACK_SIZE);
}

static void kstack_prepare(struct proc *p, const struct trapframe *tf)
{
    p->tf = (struct trapframe *)(p->kstack + KSTACK_SIZE - sizeof(struct trapframe));
    *p->tf = *tf;
    uint32_t *sp = (uint32_t *)p->tf;
    *--sp = (uint32_t)(uintptr_t)trap_return;
    *--sp = 0;                       /* ebp */
    *--sp = 0;                       /* ebx */
    *--sp = 0;                       /* esi */
    *--sp = 0;                       /* edi */
    p->ksp = (uint32_t)(uintptr_t)sp;
}

void proc_set_name(struct proc *p, const char *name)
{
    fmt(p->name, sizeof(p->name), "%s", name);
}

void schedule(void)
{
    uint32_t flags = pv_ops.irq_save();
    struct proc *prev = current, *next = NULL;
    need_resched = 0;
    if (prev->state == P_RUNNING)
        prev->state = P_RUNNABLE;
    int start = (int)(prev - procs);
    for (int i = 1; i <= NPROC; i++) {
        struct proc *p = &procs[(start + i) % NPROC];
        if (p->state == P_RUNNABLE) {
            next = p;
            break;
        }
    }
    if (!next)
        panic("no runnable process: deadlock (pid %d waiting)", prev->pid);
    next->state = P_RUNNING;
    if (next != prev) {
        current = next;
        pv_ops.set_kernel_stack(kstack_top(next));
        pv_ops.load_cr3(next->pgdir);
        switch_stacks(&prev->ksp, next->ksp);
    }
    pv_ops.irq_restore(flags);
}

void yield(void)
{
    schedule();
}

void sleep_on(const void *chan)
{
    uint32_t flags = pv_ops.irq_save();
    current->wchan = chan;
    current->state = P_SLEEPING;
    schedule();
    current->wchan = NULL;
    pv_ops.irq_restore(flags);
}

void wakeup(const void *chan)
{
    uint32_t flags = pv_ops.irq_save();
    for (int i = 0; i < NPROC; i++)
        if (procs[i].state == P_SLEEPING && procs[i].wchan == chan)
            procs[i].state = P_RUNNABLE;
    pv_ops.irq_restore(flags);
}

void proc_start_init(const char *name, const char *const *argv)
{
    struct proc *p = proc_alloc();
    struct trapframe tf;
    int argc = 0;
    while (argv[argc])
        argc++;
    memset(&tf, 0, sizeof(tf));
    int r = exec_load(name, argv, argc, &p->pgdir, &p->vm, &tf.eip, &tf.esp);
    if (r < 0)
        panic("cannot start %s: error %d", name, r);
    for (int fd = 0; fd < 3; fd++)
        p->fd[fd] = file_dup(&console_file);
    tf.cs = pv_ops.user_cs;
    tf.ss = tf.ds = tf.es = tf.fs = tf.gs = pv_ops.user_ds;
    tf.eflags = EFLAGS_IF | 0x2;
    kstack_prepare(p, &tf);
    proc_set_name(p, name);
    p->state = P_RUNNING;
    initproc = current = p;
    pv_ops.set_kernel_stack(kstack_top(p));
    pv_ops.load_cr3(p->pgdir);
    uint32_t boot_esp;
    switch_stacks(&boot_esp, p->ksp);
    panic("returned to the boot stack");
}

int proc_fork(struct trapframe *tf)
{
    struct proc *c = proc_alloc();
    if (!c)
        return -EAGAIN;
    c->pgdir = vm_create();
    if (!c->pgdir)
        return -ENOMEM;
    if (vm_clone_cow(current->pgdir, c->pgdir) < 0) {
        vm_destroy(c->pgdir);
        return -ENOMEM;
    }
    c->vm = current->vm;
    mmap_fork(&c->vm);
    signal_fork(&c->sig, &current->sig);
    c->parent = current;
    memcpy(c->name, current->name, sizeof(c->name));
    for (int fd = 0; fd < NFD; fd++)
        c->fd[fd] = file_dup(current->fd[fd]);
    kstack_prepare(c, tf);
    c->tf->eax = 0;
    c->state = P_RUNNABLE;
    return c->pid;
}

void proc_exit(int status)
{
    struct proc *p = current;
    for (int fd = 0; fd < NFD; fd++) {
        if (p->fd[fd])
            file_close(p->fd[fd]);
        p->fd[fd] = NULL;
    }
    /* Clear every PTE of the address space (vm_exit_mmap: on its live tables, as Linux's
     * exit_mmap does; under pv after leaving and unpinning them), then leave it before freeing
     * its tables: from here on nothing (the scheduler included) can load the freed directory,
     * whose frame may be reused at once. The kernel is not preemptible, so this is defensive
     * ordering rather than a race fix. */
    uint32_t old = p->pgdir;
    mmap_release(&p->vm);
    vm_exit_mmap(old);
    p->pgdir = kernel_pgdir;
    pv_ops.load_cr3(kernel_pgdir);
    vm_destroy(old);
    if (p == initproc)
        machine_exit(status == 0 ? EXIT_SUCCESS_CODE : EXIT_FAILURE_CODE);
    for (int i = 0; i < NPROC; i++) {
        if (procs[i].state != P_UNUSED && procs[i].parent == p) {
            procs[i].parent = initproc;
            if (procs[i].state == P_ZOMBIE)
                wakeup(initproc);
        }
    }
    p->exit_status = status;
    p->state = P_ZOMBIE;
    wakeup(p->parent);
    schedule();
    panic("zombie %d was scheduled", p->pid);
}

int proc_wait(int pid, int *status_out)
{
    for (;;) {
        bool have_child = false;
        for (int i = 0; i < NPROC; i++) {
            struct proc *p = &procs[i];
            if (p->state == P_UNUSED || p->parent != current || (pid != -1 && p->pid != pid))
                continue;
            have_child = true;
            if (p->state == P_ZOMBIE) {
                *status_out = p->exit_status;
                p->state = P_UNUSED;
                p->parent = NULL;
                return p->pid;
            }
        }
        if (!have_child)
            return -ECHILD;
        if (signal_pending(current))
            return -EINTR;
        sleep_on(current);
    }
}

void proc_kill(int signal, const char *why, uint32_t addr, uint32_t eip)
{
    kstat.sigkills++;
    kprintf("pid %d (%s) killed: %s addr=%x eip=%x\n", current->pid, current->name, why, addr, eip);
    proc_exit(128 + signal);
}

void proc_kill_by_signal(int signal)
{
    kstat.sigkills++;
    kprintf("pid %d (%s) killed by signal %d\n", current->pid, current->name, signal);
    proc_exit(128 + signal);
}

struct proc *proc_find(int pid)
{
    for (int i = 0; i < NPROC; i++)
        if (procs[i].pid == pid && procs[i].state != P_UNUSED && procs[i].state != P_ZOMBIE)
            return &procs[i];
    return NULL;
}

void proc_interrupt(struct proc *p)
{
    uint32_t flags = pv_ops.irq_save();
    if (p->state == P_SLEEPING)
        p->state = P_RUNNABLE;
    pv_ops.irq_restore(flags);
}
