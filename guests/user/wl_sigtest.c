/*
 * wl_sigtest.c — `sigtest`: checks of signal delivery and return (guests/kernel/signal.c), each
 * in a child process (wl_run_checks); not a timing, not in the suite. n is ignored.
 *
 *   self-kill      kill(own pid) with a handler: the handler runs once, before kill() returns,
 *                  with the signal number and a context saying int 0x80; kill() returns 0
 *   context        sigreturn restores the context the handler left: a handler that sets the
 *                  saved EAX makes the interrupted kill() return that value
 *   blocked        a signal sent from its own handler waits (blocked) until sigreturn, then is
 *                  delivered: two runs of the handler, never nested
 *   ignored        SIG_IGN drops the signal; SIGKILL cannot be caught (-EINVAL)
 *   segv           a write to a read-only page: SIGSEGV with vector 14, the write bit of the
 *                  error code and the address; the handler moves EIP on and the program goes on
 *   fpe            a divide by zero: SIGFPE with vector 0, resumed the same way
 *   counts         the kernel counts one delivery and one sigreturn per handled signal (kstat)
 *   kill-default   kill(SIGTERM) of a child blocked in read(): it wakes and dies, 128 + 15
 *   kill-caught    kill(SIGUSR1) of a child blocked in read() with a handler: its read ends with
 *                  -EINTR after the handler ran
 *   kill-sigkill   SIGKILL ends a child that ignores and handles everything else, 128 + 9
 */
#include "workloads.h"
#include "fault_probe.h"

/* The probes of the divzero and protfault workloads (wl_nano.c, wl_signal.c). */
FAULT_PROBE_DECL(divzero, void);
FAULT_PROBE_DECL(protfault, volatile uint32_t *page);

static volatile int runs, depth, max_depth, last_sig;
static volatile struct sigcontext seen;

static void on_signal(int sig, struct sigcontext *ctx)
{
    runs++;
    last_sig = sig;
    seen = *ctx;
}

static int check_self_kill(void)
{
    if (sigaction(SIGUSR1, on_signal) != (int)SIG_DFL || kill(getpid(), SIGUSR1) != 0)
        return 1;
    return runs == 1 && last_sig == SIGUSR1 && seen.trapno == SYSCALL_VECTOR ? 0 : 2;
}

static void set_eax(int sig, struct sigcontext *ctx)
{
    ctx->eax = 42;
}

static int check_context(void)
{
    sigaction(SIGUSR1, set_eax);
    return kill(getpid(), SIGUSR1) == 42 ? 0 : 1;
}

static void resend(int sig, struct sigcontext *ctx)
{
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    if (++runs == 1)
        kill(getpid(), sig);
    depth--;
}

static int check_blocked(void)
{
    sigaction(SIGUSR2, resend);
    kill(getpid(), SIGUSR2);
    return runs == 2 && max_depth == 1 ? 0 : 1;
}

static int check_ignored(void)
{
    sigaction(SIGUSR1, (sighandler_t)SIG_IGN);
    if (kill(getpid(), SIGUSR1) != 0 || sigaction(SIGKILL, on_signal) != -EINVAL)
        return 1;
    return kill(getpid(), 0) == 0 && kill(99999, SIGUSR1) == -ESRCH ? 0 : 2;
}

static void skip_write(int sig, struct sigcontext *ctx)
{
    on_signal(sig, ctx);
    ctx->eip = (uint32_t)(uintptr_t)protfault_fixup;
}

static void skip_div(int sig, struct sigcontext *ctx)
{
    on_signal(sig, ctx);
    ctx->eip = (uint32_t)(uintptr_t)divzero_fixup;
}

static int check_segv(void)
{
    volatile uint32_t *text = (volatile uint32_t *)(uintptr_t)check_segv;
    sigaction(SIGSEGV, skip_write);
    if (protfault_probe(text) != 1 || runs != 1 || last_sig != SIGSEGV)
        return 1;
    return seen.trapno == 14 && (seen.err & 2) && seen.addr == (uint32_t)(uintptr_t)text ? 0 : 2;
}

static int check_fpe(void)
{
    sigaction(SIGFPE, skip_div);
    return divzero_probe() == 1 && runs == 1 && last_sig == SIGFPE && seen.trapno == 0 ? 0 : 1;
}

static int check_counts(void)
{
    struct kstat a, b;
    sigaction(SIGUSR1, on_signal);
    kstat(&a);
    for (int i = 0; i < 5; i++)
        kill(getpid(), SIGUSR1);
    kstat(&b);
    return b.signals - a.signals == 5 && b.sigreturns - a.sigreturns == 5 && runs == 5 ? 0 : 1;
}

/* A child blocked in read() on a pipe nobody writes, killed by the parent with sig. */
static int kill_blocked_child(int (*child)(int fd), int sig)
{
    int p[2], status = -1;
    if (pipe(p) < 0)
        return -1;
    int pid = fork();
    if (pid == 0)
        exit(child(p[0]));
    yield();                            /* let it block (a signal to a runnable child works too) */
    kill(pid, sig);
    close(p[1]);
    return pid > 0 && waitpid(pid, &status) == pid ? status : -1;
}

static int read_forever(int fd)
{
    char c;
    return read(fd, &c, 1) == -EINTR && runs == 1 ? 7 : 1;
}

static int ignore_all_and_read(int fd)
{
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL)
            sigaction(sig, sig & 1 ? (sighandler_t)SIG_IGN : on_signal);
    char c;
    read(fd, &c, 1);
    return 1;
}

static int check_kill_default(void) { return kill_blocked_child(read_forever, SIGTERM); }

static int check_kill_caught(void)
{
    sigaction(SIGUSR1, on_signal);      /* fork passes the handler on */
    return kill_blocked_child(read_forever, SIGUSR1);
}

static int check_kill_sigkill(void) { return kill_blocked_child(ignore_all_and_read, SIGKILL); }

static const struct wl_check checks[] = {
    { "self-kill", check_self_kill, 0 },
    { "context", check_context, 0 },
    { "blocked", check_blocked, 0 },
    { "ignored", check_ignored, 0 },
    { "segv", check_segv, 0 },
    { "fpe", check_fpe, 0 },
    { "counts", check_counts, 0 },
    { "kill-default", check_kill_default, 128 + SIGTERM },
    { "kill-caught", check_kill_caught, 7 },
    { "kill-sigkill", check_kill_sigkill, 128 + SIGKILL },
};

CHECK_WORKLOAD(sigtest, checks, "signal delivery and return");
