/*
 * funnel.h — the one path by which what a mode does becomes counted events.
 *
 * Every time the guest stops for the monitor the machine builds a normalized exit record (struct
 * vexit: an exception, an external interrupt to be taken, or an intercepted instruction about to
 * execute) and hands it to the funnel:
 *
 *     CPU stops -> struct vexit -> mode->classify()   what the mode says happened: the entry
 *                                      |               mechanism (exit, montrap, hvtrap, callout,
 *                                      v               hypercall) or nothing (native, a fast trap)
 *                               funnel records it      under a class the mode declared (.classes),
 *                                      |               before anything is handled
 *                                      v
 *                               mode handler runs  --> funnel_deliver()   the guest's handler is
 *                                                      entered: by the CPU (fault, interrupt,
 *                                                      softint), by the mode's software delivery
 *                                                      (reflect, bounce) or an upcall
 *
 * Modes never record a mechanism event themselves: the recording calls of the event store are
 * private (emu/events_record.h is included by the funnel and the machine only, and a test fails
 * if anything under emu/modes/ includes it). What a mode may add is the work it did once inside
 * (funnel_work: shadow-MMU events, translations, lookups, holes, refusals) and the rows of the
 * per-event tables (validations, translations, hypercall batches). A class a mode did not declare
 * ends the run with an internal error instead of being counted under a wrong name.
 *
 * Port I/O is recorded by the machine's port path (funnel_port): `io` where a device is touched,
 * `ioemul` where the mode's monitor emulates the port (mode op io_emulated).
 */
#ifndef VMLAB_FUNNEL_H
#define VMLAB_FUNNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/events.h"

struct machine;
struct xevent;
struct block;
struct site;

/* A class set: bit (1 << EV_x) for each class a mode may produce. */
#define EV_BIT(c) (1ull << (EV_##c))

/* What stopped the guest. */
enum vexit_kind {
    VX_EXCEPTION,        /* a CPU exception or int n (ev) */
    VX_INTERRUPT,        /* an external interrupt from the PIC is to be taken (ev) */
    VX_SITE,             /* an intercepted instruction (b, s) is about to execute at eip */
    VX_EPT,              /* trap-ept: the EPT refused a translation (gpa, ept_misconfig): an
                          * EPT violation or misconfiguration exit */
    VX_TASK_SWITCH,      /* delivering ev found a task gate naming TSS tss_sel: a hardware task
                          * switch is about to happen (VT-x: always a VM exit, TASK_SWITCH) */
};

/* The normalized exit record. */
struct vexit {
    enum vexit_kind kind;
    const struct xevent *ev;       /* VX_EXCEPTION, VX_INTERRUPT, VX_TASK_SWITCH */
    const struct block *b;         /* VX_SITE */
    const struct site *s;
    uint32_t eip;                  /* guest EIP of the event (the instruction, or the return
                                    * address of an interrupt) */
    uint16_t tss_sel;              /* VX_TASK_SWITCH: the TSS selector of the task gate */
    uint32_t gpa;                  /* VX_EPT: the guest-physical address refused */
    bool ept_misconfig;            /* VX_EPT: a malformed entry (else a violation) */
};

/* What a mode says an exit is: class EV_NO_ENTRY records nothing (no monitor entry). */
#define EV_NO_ENTRY EV_CLASS_COUNT
struct exit_decl {
    unsigned cls;                  /* enum ev_class, or EV_NO_ENTRY */
    int64_t reason;
    char qual[48];
    uint32_t eip;                  /* guest EIP to record: the exit's, unless the mode knows
                                    * better (a translation's guest instruction) */
};

/* How a guest event reaches the guest's handler. */
enum delivery {
    DLV_MODE,            /* the mode's own way: the CPU under native and VT-x (fault, interrupt,
                          * softint), a reflection under a ring-compression monitor, a bounce
                          * frame under the hypervisor (mode_ops.deliver_class) */
    DLV_CPU,             /* the CPU enters the guest's handler itself (a PV fast trap) */
    DLV_UPCALL,          /* the hypervisor enters the guest's event callback */
};

/* Work a monitor did once inside, recorded by the mode (never a way in or out of the guest). */
enum work_class {
    WK_SHADOW = EV_SHADOW,
    WK_REFUSAL = EV_REFUSAL,
    WK_TRANSLATE = EV_TRANSLATE,
    WK_IBLOOKUP = EV_IBLOOKUP,
    WK_HOLE = EV_HOLE,
};

/* The machine's entry points: classify and record the exit, then run the mode's handler, and
 * return the action it asks of the loop (struct action, emu/modes/mode.h). */
struct action funnel_exception(struct machine *m, const struct xevent *ev);
struct action funnel_interrupt(struct machine *m, const struct xevent *ev);
struct action funnel_site(struct machine *m, const struct block *b, const struct site *s,
                          uint32_t eip);

/* trap-ept: the EPT refused guest-physical `gpa` for the instruction at `eip` (emu/tlb.h): the
 * mode classifies the exit (EPT_VIOLATION or EPT_MISCONFIG), the funnel records it, the mode's
 * ept_fault handles it. */
struct action funnel_ept(struct machine *m, uint32_t gpa, bool misconfig, uint32_t eip);

/* Called by delivery (emu/deliver.c) when delivering ev found a task gate naming TSS `tss_sel`,
 * before the task switch is performed: the mode classifies it (VX_TASK_SWITCH; a VT-x monitor's
 * TASK_SWITCH exit, nothing where the switch is part of the delivery already recorded) and the
 * funnel records what it says. 0, or -1 when the run ended (m->end set). */
int funnel_task_switch(struct machine *m, const struct xevent *ev, uint16_t tss_sel);

/* Deliver ev to the guest (emu/deliver.c) and record the delivery by `how`. 0, or -1 when the
 * run ended (triple fault). */
int funnel_deliver(struct machine *m, const struct xevent *ev, enum delivery how);

/* A port access of `size` bytes by the guest or by a monitor on its behalf: performed on the bus
 * (*val read into, or written from) and recorded as io or ioemul by the mode's declaration. */
void funnel_port(struct machine *m, uint16_t port, int size, bool in, uint32_t *val,
                 uint32_t eip, int cpl);

/* Work a monitor did: class `wk`, reason, qualifier (copied), count2; detail only in full traces
 * (may be NULL). */
void funnel_work(struct machine *m, enum work_class wk, int64_t reason, const char *qual,
                 uint64_t count2, uint32_t eip, int cpl, const char *detail);

/* Full traces only: the row of one execution of an event the machine counts with its block (a
 * mode's in-cache emulation, mode op counted). */
void funnel_counted_row(struct machine *m, enum ev_class cls, int64_t reason, const char *qual,
                        uint32_t eip, int cpl);

/* The per-event table rows: a page-table validation (class validation, reason level, count2
 * entries), a translation (class translate), and a hypercall's batch and result (count2 of the
 * hypercall recorded at entry; `inner`: a call made inside a multicall, a row of the hypercall
 * table only — it is not a hypervisor entry). */
void funnel_validation(struct machine *m, uint32_t frame, int level, unsigned entries,
                       int outcome);
void funnel_translation(struct machine *m, const struct ev_unit *u);
void funnel_hypercall_done(struct machine *m, int nr, const char *name, unsigned batch,
                           int result, bool inner);

#endif
