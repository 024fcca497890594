/*
 * native.c — native mode: the guest kernel runs in ring 0 on the bare machine, no monitor.
 *
 * Nothing exits. What native mode records is the baseline the other modes are compared against:
 * instructions retired per privilege level, privileged and sensitive instructions executed by
 * class (counted per translated block, emu/blocks.c), exceptions delivered by vector (`fault`,
 * `softint`), external interrupts by vector and IRQ line (`interrupt`) and port I/O by port
 * (`io`, recorded by the machine's I/O path). Every exception and interrupt is delivered through
 * the guest's own IDT by the machine's one delivery routine (emu/deliver.c).
 */
#include <stdio.h>

#include "emu/deliver.h"
#include "emu/modes/mode.h"

static int native_setup(struct machine *m, const struct boot_info *bi, char *errbuf,
                        unsigned errlen)
{
    return loader_enter(m, bi, errbuf, errlen);
}

static const char *pf_kind(uint32_t err)
{
    static const char *const k[8] = {
        "read/sup/np", "read/sup/prot", "write/sup/np", "write/sup/prot",
        "read/user/np", "read/user/prot", "write/user/np", "write/user/prot",
    };
    return k[((err & PFE_U) ? 4 : 0) | ((err & PFE_W) ? 2 : 0) | ((err & PFE_P) ? 1 : 0)];
}

static int native_exception(struct machine *m, const struct xevent *ev)
{
    const char *q = "";
    char buf[32];
    if (ev->kind == XK_SOFTINT) {
        ev_record(&m->ev, m->time, EV_SOFTINT, ev->vector, "", 0, ev->insn_eip, machine_cpl(m));
    } else {
        if (ev->vector == 14) {
            q = pf_kind(ev->error);
        } else if (ev->has_error) {
            snprintf(buf, sizeof buf, "err=0x%x", ev->error);
            q = buf;
        }
        ev_record(&m->ev, m->time, EV_FAULT, ev->vector, q, 0, ev->eip, machine_cpl(m));
    }
    return deliver_event(m, ev);
}

static int native_interrupt(struct machine *m, const struct xevent *ev)
{
    char q[16];
    snprintf(q, sizeof q, "irq%d", ev->irq);
    ev_record(&m->ev, m->time, EV_INTERRUPT, ev->vector, q, 0, ev->eip, machine_cpl(m));
    return deliver_event(m, ev);
}


static void native_teardown(struct machine *m) { (void)m; }

const struct mode_ops mode_native = {
    .name = "native",
    .summary = "guest kernel in ring 0 on the bare machine, no monitor (the baseline)",
    .setup = native_setup,
    .exception = native_exception,
    .interrupt = native_interrupt,
    .irq_open = machine_if_set,
    .teardown = native_teardown,
};
