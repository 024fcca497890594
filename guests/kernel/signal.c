/*
 * signal.c — signals: sending, delivery on the way back to user mode, the signal frame and
 * sigreturn (signal.h has the model; signal_abi.h the frame).
 *
 * Delivery writes one struct sigframe below the interrupted user stack pointer (aligned so that
 * the handler starts as if called: esp + 4 on a 16-byte boundary) and points the trap frame at
 * the handler; the iret that ends trap() then enters it. The handler's `ret` goes to the
 * trampoline it registered, whose `int 0x80` with SYS_SIGRETURN comes back here: the context is
 * read from the frame again (the handler may have changed it) and put into the trap frame, so the
 * return from that system call resumes the interrupted code. Of eflags only the arithmetic flags
 * and DF come back from the frame: a handler cannot give itself IOPL, clear IF or set TF.
 *
 * A fault's signal is delivered at once, from signal_fault(), with the fault's vector, error
 * code and address in the context; kill()'s at the end of the system call or interrupt that
 * returns to the target next.
 */
#include "kernel.h"
#include "layout.h"
#include "proc.h"
#include "signal.h"
#include "syscall_nr.h"
#include "trap.h"
#include "uaccess.h"

#define EFLAGS_TF 0x100u
#define EFLAGS_DF 0x400u
/* The flags sigreturn takes from the frame: CF PF AF ZF SF DF OF. */
#define EFLAGS_FROM_USER 0xCD5u
#define ALL_SIGNALS (((1u << NSIG) - 1) & ~1u)

struct kstat kstat;

static uint32_t bit(int sig) { return 1u << sig; }

bool signal_pending(const struct proc *p)
{
    return (p->sig.pending & ~p->sig.blocked) != 0;
}

int signal_send(struct proc *p, int sig)
{
    if (sig < 0 || sig >= NSIG)
        return -EINVAL;
    if (sig == 0 || (p->sig.handler[sig] == SIG_IGN && sig != SIGKILL))
        return 0;
    p->sig.pending |= bit(sig);
    proc_interrupt(p);
    return 0;
}

/* Builds the frame of signal sig for the current process and enters its handler on return;
 * -EFAULT when the user stack cannot hold the frame. */
static int setup_frame(struct trapframe *tf, int sig, uint32_t addr)
{
    struct sigstate *s = &current->sig;
    struct sigframe f = {
        .restorer = s->restorer[sig],
        .sig = (uint32_t)sig,
        .sc = { tf->edi, tf->esi, tf->ebp, tf->ebx, tf->edx, tf->ecx, tf->eax,
                tf->eip, tf->eflags, tf->esp, tf->vector, tf->err, addr, s->blocked },
    };
    uint32_t sp = ALIGN_DOWN(tf->esp - sizeof(f) + 4, 16) - 4;
    f.ctx = sp + __builtin_offsetof(struct sigframe, sc);
    if (tf->esp < sizeof(f) + 16 || copy_to_user(sp, &f, sizeof(f)) < 0)
        return -EFAULT;
    s->blocked |= bit(sig);
    tf->esp = sp;
    tf->eip = s->handler[sig];
    tf->eflags &= ~(EFLAGS_TF | EFLAGS_DF);
    kstat.signals++;
    return 0;
}

void signal_fault(struct trapframe *tf, int sig, const char *why, uint32_t addr)
{
    const struct sigstate *s = &current->sig;
    if (s->handler[sig] > SIG_IGN && !(s->blocked & bit(sig)) && setup_frame(tf, sig, addr) == 0)
        return;
    proc_kill(sig, why, addr, tf->eip);
}

void signal_deliver(struct trapframe *tf)
{
    struct sigstate *s = &current->sig;
    for (uint32_t ready; (ready = s->pending & ~s->blocked) != 0;) {
        int sig = __builtin_ctz(ready);
        s->pending &= ~bit(sig);
        if (sig == SIGKILL || s->handler[sig] == SIG_DFL)
            proc_kill_by_signal(sig);
        if (s->handler[sig] != SIG_IGN && setup_frame(tf, sig, 0) < 0)
            proc_kill(SIGSEGV, "no room for a signal frame", tf->esp, tf->eip);
    }
}

void signal_fork(struct sigstate *child, const struct sigstate *parent)
{
    *child = *parent;
    child->pending = 0;
}

void signal_exec(struct sigstate *s)
{
    for (int sig = 1; sig < NSIG; sig++) {
        if (s->handler[sig] != SIG_IGN)
            s->handler[sig] = SIG_DFL;
        s->restorer[sig] = 0;
    }
}

int sys_sigaction(struct trapframe *tf)
{
    int sig = (int)tf->ebx;
    uint32_t handler = tf->ecx, restorer = tf->edx;
    if (sig <= 0 || sig >= NSIG || sig == SIGKILL)
        return -EINVAL;
    if (handler > SIG_IGN && (!user_range_ok(handler, 1) || !user_range_ok(restorer, 1)))
        return -EFAULT;
    struct sigstate *s = &current->sig;
    uint32_t old = s->handler[sig];
    s->handler[sig] = handler;
    s->restorer[sig] = handler > SIG_IGN ? restorer : 0;
    if (handler == SIG_IGN)
        s->pending &= ~bit(sig);
    return (int)old;
}

int sys_kill(struct trapframe *tf)
{
    struct proc *p = proc_find((int)tf->ebx);
    return p ? signal_send(p, (int)tf->ecx) : -ESRCH;
}

int sys_sigreturn(struct trapframe *tf)
{
    struct sigcontext sc;
    uint32_t at = tf->esp + __builtin_offsetof(struct sigframe, sc) -
                  __builtin_offsetof(struct sigframe, sig);
    if (copy_from_user(&sc, at, sizeof(sc)) < 0)
        proc_kill(SIGSEGV, "bad signal frame", at, tf->eip);
    tf->edi = sc.edi;
    tf->esi = sc.esi;
    tf->ebp = sc.ebp;
    tf->ebx = sc.ebx;
    tf->edx = sc.edx;
    tf->ecx = sc.ecx;
    tf->eip = sc.eip;
    tf->esp = sc.esp;
    tf->eflags = (tf->eflags & ~EFLAGS_FROM_USER) | (sc.eflags & EFLAGS_FROM_USER);
    current->sig.blocked = sc.blocked & ALL_SIGNALS & ~bit(SIGKILL);
    kstat.sigreturns++;
    return (int)sc.eax;              /* syscall_dispatch puts it back into EAX */
}
