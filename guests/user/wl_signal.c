/*
 * wl_signal.c — lmbench's lat_sig rows (the Xen paper's "sig inst", "sig hndl" and "prot fault"),
 * run by the calibrated loop (wl_common.c):
 *
 *   siginst    one sigaction() installing a handler for SIGUSR1 (lat_sig install)
 *   sighndl    one signal delivered to a handler and returned from: kill(own pid, SIGUSR1), the
 *              kernel builds the signal frame as the call returns, the handler counts it and
 *              returns through the trampoline's sigreturn (lat_sig catch)
 *   protfault  one write to a read-only page, caught: the page is a read-only shared mapping of
 *              a one-page file, mapped (read once) before the loop; the write is a protection
 *              fault, the kernel delivers SIGSEGV, the handler moves the saved EIP past the
 *              store, sigreturn resumes there (lat_sig prot)
 *
 * sighndl and protfault print the kernel's own count of the loop's deliveries and sigreturns
 * (kstat.h) beside the handler's: exactly one of each per operation.
 */
#include "workloads.h"
#include "fault_probe.h"

#define PROT_FILE "/tmp/protfault"

FAULT_PROBE(protfault, volatile uint32_t *page,
            "    movl 4(%esp), %ecx\n"
            "    movl $1, (%ecx)\n");

static volatile int caught;

static void on_signal(int sig, struct sigcontext *ctx)
{
    caught++;
}

static void on_sigsegv(int sig, struct sigcontext *ctx)
{
    caught++;
    ctx->eip = (uint32_t)(uintptr_t)protfault_fixup;
}

static int siginst_op(int i, void *ctx)
{
    return sigaction(SIGUSR1, on_signal) < 0 ? -1 : 0;
}

static int sighndl_op(int i, void *ctx)
{
    return kill(*(const int *)ctx, SIGUSR1);
}

static int protfault_op(int i, void *ctx)
{
    return protfault_probe(ctx) == 1 ? 0 : -1;
}

/* The calibrated loop of op with the handler counts around it: ops, caught, and the kernel's
 * deliveries and sigreturns over the loop. */
static int signal_loop(int n, wl_op op, void *ctx, struct wl_result *r)
{
    struct kstat a, b;
    caught = 0;
    kstat(&a);
    int good = wl_calibrated(n, op, NULL, ctx);
    kstat(&b);
    fmt(r->extra, sizeof(r->extra), "ops=%d caught=%d signals=%u sigreturns=%u", good, caught,
        b.signals - a.signals, b.sigreturns - a.sigreturns);
    return good;
}

static int wl_siginst(int n, struct wl_result *r)
{
    int good = signal_loop(n, siginst_op, NULL, r);
    sigaction(SIGUSR1, (sighandler_t)SIG_DFL);
    return good == n ? 1 : fail(r, "sigaction");
}

static int wl_sighndl(int n, struct wl_result *r)
{
    int pid = getpid();
    if (sigaction(SIGUSR1, on_signal) < 0)
        return fail(r, "sigaction");
    int good = signal_loop(n, sighndl_op, &pid, r);
    sigaction(SIGUSR1, (sighandler_t)SIG_DFL);
    return good == n && caught == n ? 1 : fail(r, "not-caught");
}

static int wl_protfault(int n, struct wl_result *r)
{
    int fd;
    volatile uint32_t *page;
    if (wl_make_file(PROT_FILE, 4096) < 0 || (fd = open(PROT_FILE, O_RDONLY)) < 0)
        return fail(r, "make-file");
    page = mmap_file(4096, PROT_READ, fd, 0);
    close(fd);
    if (!page || sigaction(SIGSEGV, on_sigsegv) < 0)
        return fail(r, "mmap");
    (void)page[0];                      /* mapped before the loop: each write is a protection fault */
    int good = signal_loop(n, protfault_op, (void *)page, r);
    sigaction(SIGSEGV, (sighandler_t)SIG_DFL);
    munmap((void *)page, 4096);
    unlink(PROT_FILE);
    return good == n && caught == n ? 1 : fail(r, "not-caught");
}

const struct workload signal_workloads[] = {
    { "siginst", wl_siginst, 2000,
      "one sigaction() installing a handler (lmbench sig inst)" },
    { "sighndl", wl_sighndl, 2000,
      "one signal sent to itself, delivered to a handler and returned from (lmbench sig hndl)" },
    { "protfault", wl_protfault, 2000,
      "one write to a read-only mapped page, caught by a SIGSEGV handler (lmbench prot fault)" },
    { NULL, NULL, 0, NULL },
};
