/*
 * native.c — native mode: the guest kernel runs in ring 0 on the bare machine, no monitor.
 *
 * Nothing exits. What native mode records is the baseline the other modes are compared against:
 * instructions retired per privilege level, privileged and sensitive instructions executed by
 * class (counted per translated block, emu/blocks.c), exceptions the CPU delivers by vector
 * (`fault`, qualifier the mnemonic and for #PF its kind; `softint`), external interrupts by
 * vector and IRQ line (`interrupt`) and port accesses by port (`io`: a device is touched). It
 * declares no classify op: nothing enters a monitor. Every exception and interrupt is delivered
 * through the guest's own IDT by the machine's one delivery routine (emu/deliver.c).
 */
#include "emu/deliver.h"
#include "emu/modes/mode.h"

static int native_setup(struct machine *m, const struct boot_info *bi, char *errbuf,
                        unsigned errlen)
{
    return loader_enter(m, bi, errbuf, errlen);
}

/* Nothing enters a monitor: every exception and interrupt goes through the guest's IDT. */
static struct action native_exception(struct machine *m, const struct xevent *ev)
{
    return act_rc(funnel_deliver(m, ev, DLV_MODE));
}

/* Every exception is only delivered. */
static bool native_exception_in_hook(struct machine *m, const struct xevent *ev)
{
    (void)m;
    (void)ev;
    return true;
}

static struct action native_interrupt(struct machine *m, const struct xevent *ev)
{
    return act_rc(funnel_deliver(m, ev, DLV_MODE));
}

static void native_teardown(struct machine *m) { (void)m; }

const struct mode_ops mode_native = {
    .name = "native",
    .summary = "guest kernel in ring 0 on the bare machine, no monitor (the baseline)",
    .classes = EV_BIT(INSN) | EV_BIT(PRIV) | EV_BIT(FAULT) | EV_BIT(INTERRUPT) | EV_BIT(SOFTINT) |
               EV_BIT(IO) | EV_BIT(HALT),
    .deliver_class = EV_FAULT,
    .keep_walks = true,
    .setup = native_setup,
    .exception = native_exception,
    .exception_in_hook = native_exception_in_hook,
    .interrupt = native_interrupt,
    .irq_open = machine_if_set,
    .teardown = native_teardown,
};
