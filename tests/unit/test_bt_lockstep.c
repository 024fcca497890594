/*
 * test_bt_lockstep.c — native and bt in lockstep at every system call.
 *
 * The same guest kernel and workload run natively and under binary translation. At every system
 * call (int 0x80 from user space) the guest-visible registers — EAX..EDI, EBP, ESP, EIP, the
 * arithmetic flags — are logged through a wrapper around the mode's exception handler, before
 * the kernel runs. The kernel's translated code must leave user space exactly as native code does,
 * so the two logs must be identical, call by call.
 *
 * The timer is slowed until it never fires during a run: simulated time follows retired
 * instructions, and translated code retires a different number of them than the original, so a
 * tick lands at a different point and the scheduler legitimately interleaves forked processes in
 * another order (measured: forkwait diverges at call 44 with a tick every 1e5 instructions). What
 * is compared is the computation, not the timing.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "emu/loader.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"

#define KERNEL VMLAB_BUILD_DIR "/guests/kernel.elf"
#define MAX_CALLS 20000

struct regs {
    uint32_t r[10];
};

struct log {
    struct regs *v;
    unsigned n;
    const struct mode_ops *inner;
};

static struct log *cur;   /* the run being logged (tests run one machine at a time) */

static struct action logging_exception(struct machine *m, const struct xevent *ev)
{
    if (ev->kind == XK_SOFTINT && ev->vector == 0x80 && machine_cpl(m) == 3 && cur->n < MAX_CALLS) {
        static const int ids[10] = {UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX,
                                    UC_X86_REG_EDX, UC_X86_REG_ESI, UC_X86_REG_EDI,
                                    UC_X86_REG_EBP, UC_X86_REG_ESP, UC_X86_REG_EIP,
                                    UC_X86_REG_EFLAGS};
        struct regs *r = &cur->v[cur->n++];
        for (int i = 0; i < 10; i++) {
            r->r[i] = 0;
            uc_reg_read(m->uc, ids[i], &r->r[i]);
        }
        r->r[9] &= 0x8d5;   /* CF PF AF ZF SF OF: what user code can see and set */
    }
    return cur->inner->exception(m, ev);
}

static void quiet(void *opaque, uint8_t b) { (void)opaque; (void)b; }

static void run(const struct mode_ops *mode, const char *cmdline, struct log *log)
{
    static struct mode_ops wrapped;
    wrapped = *mode;
    wrapped.exception = logging_exception;
    log->v = calloc(MAX_CALLS, sizeof *log->v);
    log->n = 0;
    log->inner = mode;
    cur = log;
    struct machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.ram_bytes = 64u << 20;
    cfg.ips = 1000000000000ull;   /* timer ticks far apart: no preemption point differs */
    cfg.max_insns = 2000000000ull;
    cfg.cmdline = cmdline;
    cfg.console = quiet;
    char err[256] = "";
    struct machine *m = machine_create(&cfg, err, sizeof err);
    cr_assert_not_null(m, "%s", err);
    struct boot_info bi;
    cr_assert_eq(loader_load_multiboot(m, KERNEL, cmdline, &bi, err, sizeof err), 0, "%s", err);
    m->mode = &wrapped;
    cr_assert_eq(wrapped.setup(m, &bi, err, sizeof err), 0, "%s", err);
    machine_run(m);
    cr_assert_eq(m->end, END_GUEST_EXIT, "%s under %s: %s", cmdline, mode->name, m->message);
    cr_assert_eq(m->guest_exit, 0x10, "%s under %s", cmdline, mode->name);
    wrapped.teardown(m);
    machine_destroy(m);
}

static void lockstep(const char *cmdline)
{
    struct log a, b;
    run(&mode_native, cmdline, &a);
    run(&mode_bt, cmdline, &b);
    cr_assert_gt(a.n, 5, "%s: only %u system calls", cmdline, a.n);
    cr_assert_eq(a.n, b.n, "%s: %u system calls natively, %u under bt", cmdline, a.n, b.n);
    for (unsigned i = 0; i < a.n; i++)
        for (int k = 0; k < 10; k++)
            cr_assert_eq(a.v[i].r[k], b.v[i].r[k],
                         "%s: system call %u, register %d: native 0x%x, bt 0x%x", cmdline, i, k,
                         a.v[i].r[k], b.v[i].r[k]);
    free(a.v);
    free(b.v);
}

Test(bt_lockstep, syscall_workload_sees_identical_registers_at_every_system_call)
{
    lockstep("workload=syscall n=200");
}

Test(bt_lockstep, forkwait_workload_sees_identical_registers_at_every_system_call)
{
    lockstep("workload=forkwait n=50");
}

Test(bt_lockstep, pagefault_workload_sees_identical_registers_at_every_system_call)
{
    lockstep("workload=pagefault n=100");
}
