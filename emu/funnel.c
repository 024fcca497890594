/*
 * funnel.c — the one path from "the guest stopped" to counted events (see funnel.h).
 *
 * For each exit the machine hands over, the mode's classify op names the mechanism that took the
 * guest into the monitor; it is recorded here, then the mode's handler runs. Deliveries into the
 * guest, port accesses and the monitor's inner work are recorded here too, so the class of every
 * event is checked against the set its mode declared: a mode that produced a class it did not
 * declare (a VM exit from a monitor without VT-x, say) ends the run with an internal error
 * naming both, instead of a count under the wrong name.
 */
#include "emu/funnel.h"

#include <stdio.h>

#include "emu/deliver.h"
#include "emu/events_record.h"
#include "emu/machine.h"
#include "emu/tlb.h"
#include "emu/modes/mode.h"

/* Whether mode m may produce class cls; if not, the run ends (once) with an internal error. */
static bool declared(struct machine *m, unsigned cls)
{
    if (m->mode->classes & (1ull << cls))
        return true;
    machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                "mode %s produced an event of class %s, which it does not declare", m->mode->name,
                cls < EV_CLASS_COUNT ? ev_class_name[cls] : "?");
    return false;
}

static void record_entry(struct machine *m, const struct vexit *x)
{
    if (!m->mode->classify)
        return;
    struct exit_decl d = {.cls = EV_NO_ENTRY, .eip = x->eip};
    m->mode->classify(m, x, &d);
    if (d.cls == EV_NO_ENTRY || !declared(m, d.cls))
        return;
    ev_record(&m->ev, machine_now(m), (enum ev_class)d.cls, d.reason, d.qual, 0, d.eip,
              machine_cpl(m));
    if (d.cls == EV_EXIT)
        tlb_vmexit(m);      /* without VPID the exit and the entry flush the TLB (emu/tlb.h) */
}

struct action funnel_exception(struct machine *m, const struct xevent *ev)
{
    struct vexit x = {.kind = VX_EXCEPTION, .ev = ev,
                      .eip = ev->kind == XK_SOFTINT ? ev->insn_eip : ev->eip};
    record_entry(m, &x);
    return m->end ? act(ACT_END) : m->mode->exception(m, ev);
}

struct action funnel_interrupt(struct machine *m, const struct xevent *ev)
{
    struct vexit x = {.kind = VX_INTERRUPT, .ev = ev, .eip = ev->eip};
    record_entry(m, &x);
    return m->end ? act(ACT_END) : m->mode->interrupt(m, ev);
}

struct action funnel_site(struct machine *m, const struct block *b, const struct site *s,
                          uint32_t eip)
{
    struct vexit x = {.kind = VX_SITE, .b = b, .s = s, .eip = eip};
    record_entry(m, &x);
    return m->end ? act(ACT_END) : m->mode->site(m, b, s, eip);
}

struct action funnel_ept(struct machine *m, uint32_t gpa, bool misconfig, uint32_t eip)
{
    struct vexit x = {.kind = VX_EPT, .gpa = gpa, .ept_misconfig = misconfig, .eip = eip};
    record_entry(m, &x);
    if (m->end)
        return act(ACT_END);
    if (!m->mode->ept_fault) {
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                    "mode %s has an EPT but no handler for its exits", m->mode->name);
        return act(ACT_END);
    }
    return m->mode->ept_fault(m, gpa, misconfig);
}

int funnel_task_switch(struct machine *m, const struct xevent *ev, uint16_t tss_sel)
{
    struct vexit x = {.kind = VX_TASK_SWITCH, .ev = ev, .tss_sel = tss_sel,
                      .eip = ev->kind == XK_SOFTINT ? ev->insn_eip : ev->eip};
    record_entry(m, &x);
    return m->end ? -1 : 0;
}

/* The qualifier of a delivery: the vector's mnemonic (with the page-fault kind for #PF), the IRQ
 * line of an external interrupt (formatted in buf), nothing for int n. A constant string where it
 * can be: snprintf at every delivery showed in the profile of fault-heavy workloads. */
static const char *delivery_qual(const struct xevent *ev, char *buf, size_t len)
{
    static const char *const pf[8] = {
        "#PF read/sup/np", "#PF read/sup/prot", "#PF write/sup/np", "#PF write/sup/prot",
        "#PF read/user/np", "#PF read/user/prot", "#PF write/user/np", "#PF write/user/prot",
    };
    if (ev->kind == XK_EXTINT) {
        snprintf(buf, len, "irq%d", ev->irq);
        return buf;
    }
    if (ev->kind == XK_SOFTINT)
        return "";
    if (ev->vector == 14)
        return pf[((ev->error & PFE_U) ? 4 : 0) | ((ev->error & PFE_W) ? 2 : 0) |
                  ((ev->error & PFE_P) ? 1 : 0)];
    const char *n = vector_name(ev->vector);
    return n ? n : "";
}

static unsigned cpu_class(const struct xevent *ev)
{
    return ev->kind == XK_EXTINT ? EV_INTERRUPT : ev->kind == XK_SOFTINT ? EV_SOFTINT : EV_FAULT;
}

int funnel_deliver(struct machine *m, const struct xevent *ev, enum delivery how)
{
    unsigned cls;
    switch (how) {
    case DLV_CPU: cls = cpu_class(ev); break;
    case DLV_UPCALL: cls = EV_UPCALL; break;
    case DLV_MODE: default:
        cls = m->mode->deliver_class == EV_FAULT ? cpu_class(ev) : m->mode->deliver_class;
        break;
    }
    if (!declared(m, cls))
        return -1;
    char buf[32];
    const char *q = delivery_qual(ev, buf, sizeof buf);
    ev_record(&m->ev, m->time, (enum ev_class)cls, cls == EV_UPCALL ? 0 : ev->vector, q, 0,
              ev->kind == XK_SOFTINT ? ev->insn_eip : ev->eip, machine_cpl(m));
    return deliver_event(m, ev);
}

void funnel_port(struct machine *m, uint16_t port, int size, bool in, uint32_t *val,
                 uint32_t eip, int cpl)
{
    static const char *const q[2][5] = {{"", "out1", "out2", "", "out4"},
                                        {"", "in1", "in2", "", "in4"}};
    const char *qual = (size == 1 || size == 2 || size == 4) ? q[in][size] : (in ? "in" : "out");
    unsigned cls = m->mode->io_emulated ? EV_IOEMUL : EV_IO;
    if (!declared(m, cls))
        return;
    if (in) {
        *val = pio_read(&m->bus, port, size);
        ev_record(&m->ev, machine_now(m), (enum ev_class)cls, port, qual, 0, eip, cpl);
    } else {
        ev_record(&m->ev, machine_now(m), (enum ev_class)cls, port, qual, 0, eip, cpl);
        pio_write(&m->bus, port, size, *val);
    }
}

void funnel_work(struct machine *m, enum work_class wk, int64_t reason, const char *qual,
                 uint64_t count2, uint32_t eip, int cpl, const char *detail)
{
    if (!declared(m, (unsigned)wk))
        return;
    ev_record_detail(&m->ev, machine_now(m), (enum ev_class)wk, reason, qual, count2, eip, cpl,
                     detail);
}

void funnel_counted_row(struct machine *m, enum ev_class cls, int64_t reason, const char *qual,
                        uint32_t eip, int cpl)
{
    if (declared(m, cls))
        ev_trace_row(&m->ev, machine_now(m), cls, reason, qual, eip, cpl);
}

void funnel_validation(struct machine *m, uint32_t frame, int level, unsigned entries,
                       int outcome)
{
    if (declared(m, EV_VALIDATION))
        ev_validation(&m->ev, m->time, frame, level, entries, outcome);
}

void funnel_translation(struct machine *m, const struct ev_unit *u)
{
    if (declared(m, EV_TRANSLATE))
        ev_translation(&m->ev, machine_now(m), u);
}

void funnel_hypercall_done(struct machine *m, int nr, const char *name, unsigned batch,
                           int result, bool inner)
{
    if (!declared(m, EV_HYPERCALL))
        return;
    if (!inner)
        ev_add(&m->ev, EV_HYPERCALL, nr, name, 0, batch);
    ev_hypercall_row(&m->ev, machine_now(m), nr, batch, result);
}
