/*
 * mode.h — the interface between the machine and a virtualization mode.
 *
 * A mode decides what happens to the guest's sensitive events. The machine's exit loop
 * (emu/run.c) calls a mode only through this table; common code never asks which mode it runs.
 * Each mode lives in its own file(s) under emu/modes/ with private state in m->mode_state.
 *
 * What a mode records is declared here, not done by it (emu/funnel.h): the classes it can
 * produce (`classes`), how it enters the guest's handlers (`deliver_class`), whether the ports
 * the guest touches are emulated by its monitor (`io_emulated`), and, per exit, the mechanism
 * that took the guest into the monitor (`classify`). The funnel records; the handlers handle.
 *
 *   classes       every event class the mode can produce (EV_BIT(x) | ...); a class outside the
 *                 set ends the run with an internal error
 *   deliver_class how a guest event reaches the guest's handler when the mode delivers it:
 *                 EV_FAULT for the CPU (fault, interrupt or softint by kind: native, VT-x),
 *                 EV_REFLECT (a ring-compression monitor's software delivery), EV_BOUNCE (a
 *                 hypervisor's bounce frame)
 *   io_emulated   the guest's port accesses are answered by the monitor's device models
 *                 (ioemul) rather than reaching devices (io)
 *   keep_walks    deliveries may keep their page walks from one event to the next until the TLB
 *                 model's next flush (tlb_model.flushes), as the CPU's TLB keeps translations:
 *                 every change of the guest's translations the CPU would see reaches the model
 *                 as a flush (native and trap-ept: the guest's own INVLPG, CR3 loads, CR0/CR4
 *                 writes; trap: those exit, as do its writes to its page tables, and every VM
 *                 exit flushes; trap-classic and bt: those trap to the monitor, which emulates
 *                 them through the shadow MMU and the model, and the shadow MMU flushes or syncs
 *                 at every traced page-table write). PV's deliveries walk afresh per event.
 *   classify()    name the mechanism of one exit (funnel.h: struct vexit -> struct exit_decl),
 *                 before its handler runs; NULL: nothing enters a monitor (native)
 *
 *   setup()      after the kernel image is loaded: native puts the CPU in the Multiboot entry
 *                state; a monitor builds its own structures first.
 *   exception()  a CPU exception stopped the guest (the funnel has recorded what the mode's
 *                classify said it was): handle it (native: deliver through the guest's IDT).
 *   exception_in_hook()  optional: true if exception() handles `ev` with work that is only
 *                registers (through the API or emu/uc_quirks.h), guest memory, the shadow MMU,
 *                the TLBs (the model's and Unicorn's) and deliveries (funnel_deliver) — a
 *                delivery through the guest's IDT, a shadow #PF, trap-classic's emulation of
 *                cli or a move to CR3, pv's bounce or HYPERVISOR_iret; no device, no halt, no
 *                timer — and returns ACT_RESUME or ACT_END, and neither opens the guest's IF nor
 *                raises an interrupt while one may be taken: the machine may then run it inside
 *                Unicorn's interrupt hook and let the CPU go on at the EIP it wrote (emu/run.c,
 *                exception_here; should the handling return another action or leave an
 *                interrupt to take after all, the CPU stops there and the exit loop does the
 *                rest). NULL: never.
 *   interrupt()  an external interrupt from the PIC is to be taken at the current instruction.
 *
 * Handlers return an action (struct action) that the exit loop carries out — resume, skip the
 * emulated instruction, raise a fault, halt, end — and never call back into the loop.
 *   irq_open()   whether the guest accepts an external interrupt right now (native: EFLAGS.IF).
 *   teardown()   free the mode's state.
 *
 * Optional (NULL: the machine's default, which is native behaviour):
 *   paging_regs() the paging registers as the guest sees them (a monitor running the guest on
 *                shadow tables returns the guest's virtual CR0/CR3/CR4, so the machine's walks —
 *                IDT and stack accesses during delivery, code reads for decoding — use the
 *                guest's own tables).
 *   site_wanted() whether the mode intercepts this privileged or sensitive instruction (a code
 *                hook is then placed on every execution of it).
 *   cpu_view()   the CPU as the guest sees it, for exception delivery (deliver.h): its IDTR,
 *                GDTR, LDTR, TR, privilege level, EFLAGS, and the real ring running its ring 0.
 *   real_seg()   the real segment (selector and descriptor) that runs guest selector `sel` (a
 *                ring-compressing monitor keeps its own ring-1 descriptors); 0 or -1.
 *   delivered()  delivery entered the guest's handler at guest privilege `cpl` with guest EFLAGS
 *                `eflags` (IF already cleared for an interrupt gate).
 *   task_sys()   a task switch through a task gate (emu/taskswitch.c) loads the guest's TR,
 *                LDTR, CR3 (with paging on) and sets CR0.TS (struct task_sys, deliver.h): the mode
 *                puts them where it keeps the guest's view (a shadow-paging monitor's virtual
 *                CR0/CR3, a ring-compression monitor's virtual TR and LDTR). NULL: the real
 *                registers (task_sys_real). 0, or -1 when the run ended.
 *   ept_fault()  trap-ept: the EPT refused guest-physical `gpa` (a violation, or a malformed
 *                entry when misconfig): the monitor's handling of the exit (populate, repair, or
 *                end the run). The instruction then runs again.
 *   redirect()   the CPU is about to run a block at `addr` the fast path does not know: return
 *                the address to run instead (bt: the block's translation in its cache), or `addr`
 *                to run it; with m->end set the run stops.
 *   read_code()  fill buf with the len code bytes at linear `lin` if they are the mode's own (bt:
 *                its translation cache, which the guest's page tables do not map); 0, or -1 for
 *                the guest's memory.
 *   counted()    whether executing the mode's own code at `addr` counts an event (bt: an in-cache
 *                emulation done, a lookup hit): 1 with its class, reason and qualifier (a string
 *                that lives as long as the run), else 0. Asked once per decoded block; the
 *                machine then counts it with the block, like a privileged instruction: an event
 *                count, no per-event row.
 *   io_allowed() an IN/OUT of the mode's own code at `addr` (read_code's) is about to access
 *                `port`: true if the mode lets it perform the access there whatever the CPU's
 *                I/O permission says (bt: its in-cache IN/OUT of a register port, run in ring 1
 *                with IOPL 0 and no I/O bitmap for a guest kernel that has I/O privilege), with
 *                *eip the guest EIP to record the access at; false to apply the CPU's check (#GP
 *                where it refuses). Asked at every execution of an IN/OUT, before that check.
 *   site()       an intercepted instruction is about to execute at `eip`: handle it. ACT_RESUME
 *                lets the CPU execute it, ACT_SKIP after emulating it (the machine moves EIP
 *                past it and counts it), ACT_RAISE makes it fault, ACT_END.
 *   still_halted() after a halt woke for an interrupt: whether the guest still waits (pv: a
 *                blocked domain waits for an event, not any interrupt). NULL: it does not.
 *
 * setup() returns 0, -1 for a host failure, or -2 when the guest cannot run in this mode (e.g. no
 * PV header): bad input.
 */
#ifndef VMLAB_MODE_H
#define VMLAB_MODE_H

#include <stdbool.h>

#include "emu/deliver.h"
#include "emu/funnel.h"
#include "emu/loader.h"
#include "emu/machine.h"

/* What the loop does once a handler returns (handlers never call back into the loop). */
enum action_kind {
    ACT_RESUME,          /* run the guest on from the CPU's state (a site: let the CPU execute
                          * the intercepted instruction) */
    ACT_SKIP,            /* a site: the instruction was emulated; count it retired, resume after
                          * it */
    ACT_RAISE,           /* the instruction at the exit faults: deliver `vector` (`error`) as
                          * the CPU would, through the funnel */
    ACT_HALT,            /* the guest waits (EIP past its hlt or blocking call) until an
                          * interrupt is taken and, if the mode has still_halted, it says so */
    ACT_END,             /* the run ended (m->end is set) */
};

struct action {
    enum action_kind kind;
    uint8_t vector;      /* ACT_RAISE */
    uint32_t error;      /* ACT_RAISE, where the vector has an error code */
};

static inline struct action act(enum action_kind k) { return (struct action){.kind = k}; }

/* ACT_END when rc < 0 (a helper's "the run ended"), else ACT_RESUME. */
static inline struct action act_rc(int rc) { return act(rc < 0 ? ACT_END : ACT_RESUME); }

static inline struct action act_raise(uint8_t vector, uint32_t error)
{
    return (struct action){.kind = ACT_RAISE, .vector = vector, .error = error};
}

struct mode_ops {
    const char *name;
    const char *summary;
    uint64_t classes;
    unsigned deliver_class;
    bool io_emulated;
    bool keep_walks;
    void (*classify)(struct machine *m, const struct vexit *x, struct exit_decl *d);
    int (*setup)(struct machine *m, const struct boot_info *bi, char *errbuf, unsigned errlen);
    struct action (*exception)(struct machine *m, const struct xevent *ev);
    bool (*exception_in_hook)(struct machine *m, const struct xevent *ev);
    struct action (*interrupt)(struct machine *m, const struct xevent *ev);
    bool (*irq_open)(struct machine *m);
    void (*teardown)(struct machine *m);
    void (*paging_regs)(struct machine *m, struct paging_regs *r);
    void (*cpu_view)(struct machine *m, struct cpu_view *v);
    void (*delivered)(struct machine *m, int cpl, uint32_t eflags);
    int (*task_sys)(struct machine *m, const struct task_sys *s);
    struct action (*ept_fault)(struct machine *m, uint32_t gpa, bool misconfig);
    int (*real_seg)(struct machine *m, uint16_t sel, struct uq_seg *out);
    bool (*site_wanted)(struct machine *m, const struct site *s);
    uint32_t (*redirect)(struct machine *m, uint32_t addr);
    int (*read_code)(struct machine *m, uint32_t lin, void *buf, uint32_t len);
    int (*counted)(struct machine *m, uint32_t addr, enum ev_class *cls, int64_t *reason,
                   const char **qual);
    bool (*io_allowed)(struct machine *m, uint32_t addr, uint16_t port, uint32_t *eip);
    struct action (*site)(struct machine *m, const struct block *b, const struct site *s,
                          uint32_t eip);
    bool (*still_halted)(struct machine *m);
};

/* All modes vmlab has, NULL-terminated (emu/modes/registry.c). */
extern const struct mode_ops *const vmlab_modes[];

/* The mode called `name`, or NULL. */
const struct mode_ops *mode_find(const char *name);

/* Native mode: no monitor (emu/modes/native.c). */
extern const struct mode_ops mode_native;
/* VT-x-style trap-and-emulate with shadow paging (emu/modes/trap.c). */
extern const struct mode_ops mode_trap;
/* emu/modes/trap.c: the same monitor with EPT, no shadow MMU */
extern const struct mode_ops mode_trap_ept;
/* Pre-VT trap-and-emulate by ring compression (emu/modes/trap_classic.c). */
extern const struct mode_ops mode_trap_classic;
/* Paravirtualization, Xen style (emu/modes/pv.c). */
extern const struct mode_ops mode_pv;
/* Binary translation, VMware style, on the ring-compression monitor (emu/modes/bt.c). */
extern const struct mode_ops mode_bt;

#endif
