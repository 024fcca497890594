/*
 * shadow.h — the shadow MMU shared by the trap-and-emulate monitors.
 *
 * The guest keeps its own two-level page tables in its own memory and believes the CPU walks
 * them. It does not: the real CR3 points at shadow tables that the monitor builds, in monitor
 * memory above guest RAM that no guest mapping can reach. Shadows are filled lazily:
 *
 *   guest touches a page --> real #PF --> walk the guest's tables:
 *       guest says "fault"        -> true fault: reflected into the guest (its CR2, its error code)
 *       guest says "ok"           -> hidden fault: copy the entry into the shadow, resume
 *       guest says "ok", but the target is one of the guest's page tables and the access a write
 *                                 -> traced write: emulate the write, drop the shadow entries it
 *                                    changes (they refill from the new guest entry), resume
 *
 * Every guest frame the monitor shadows as a page table (an L2 named by a CR3, an L1 named by a
 * PDE) is "traced": every shadow mapping of it is read-only, so each guest PTE write exits. A
 * frame that stops being a page table (written while no shadow refers to it) is unshadowed.
 * Shadow page directories are cached per guest CR3 (8 of them), so a context switch back to a
 * recent address space reuses its shadow; shadow page tables are shared, keyed by guest frame.
 *
 * The pre-VT monitors (trap-classic, bt) keep a 4 MiB window in the linear address space for
 * themselves (initially m->cfg.monitor_window, default the top 4 MiB). A guest that maps that
 * region is served: the window moves to a region the guest does not map (shadow.c, "the
 * monitor's window", says what free means), and the mode relocates what it keeps there by
 * linear address (shadow_on_window_move); only when no region is free does the run end. Under
 * VT-x (trap) the CPU needs nothing of the monitor's in the guest's linear space, so there is no
 * window (window_base 0) and the guest has all 4 GiB. A guest PTE naming a frame beyond guest RAM
 * is refused: the guest sees a page fault, counted.
 *
 * Counted (class `shadow`): traced writes, writes to translated code, hidden faults, true faults,
 * shadow builds and reuses, unshadows, flushes, INVLPGs, window moves, writes to the guest's
 * mirrored GDT; (class `refusal`)
 * refusals.
 */
#ifndef VMLAB_SHADOW_H
#define VMLAB_SHADOW_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/modes/vcpu.h"

struct machine;
struct paging_regs;
struct shadow;
struct task_sys;
struct xevent;

/* The part every shadow-paging monitor's state starts with (m->mode_state points at it). */
struct shadow_monitor {
    struct vcpu v;
    struct shadow *sh;
};

/* Mode operations the shadow-paging monitors share: the guest's paging registers for the
 * machine's walks, and freeing the state (which must begin with struct shadow_monitor). */
void shadow_monitor_paging_regs(struct machine *m, struct paging_regs *r);
void shadow_monitor_teardown(struct machine *m);
/* The loader has put the CPU in the guest's entry state: take the guest's control registers from
 * it into the monitor's vcpu (before the first shadow_activate makes the real ones the monitor's). */
void shadow_monitor_enter(struct machine *m);
/* The control-register part of a task switch (mode op task_sys) for a shadow-paging monitor: the
 * guest's virtual CR0.TS set and, with paging on, its virtual CR3 loaded (the shadow MMU follows).
 * The mode puts TR and LDTR where it keeps them. 0, or -1 when the run ended. */
int shadow_monitor_task_cr(struct machine *m, const struct task_sys *s);

enum shadow_ev {
#define SHADOW_EV(id, n, name) SHEV_##id = n,
#include "emu/modes/shadow_events.def"
#undef SHADOW_EV
};

enum refusal_kind {
#define REFUSAL(id, n, name) REFUSE_##id = n,
#include "emu/modes/shadow_events.def"
#undef REFUSAL
};

extern const char *const shadow_ev_name[];
extern const char *const refusal_name[];

enum shadow_result {
    SHADOW_FIXED,        /* hidden fault filled or traced write emulated: resume the guest */
    SHADOW_REFLECT,      /* true fault: deliver #PF to the guest with *gerr */
    SHADOW_FAILED,       /* the run ended (m->end set) */
};

/* Create the shadow MMU of machine m with a pool of `pool_bytes` of monitor memory and the
 * monitor's linear window starting at `window_base` (e.g. 0xffc00000; 0: no window, the guest
 * may map every linear address). NULL with errbuf set. */
struct shadow *shadow_create(struct machine *m, uint32_t pool_bytes, uint32_t window_base,
                             char *errbuf, unsigned errlen);
void shadow_destroy(struct shadow *s);

/* The guest's paging registers changed (CR0.PG, CR3 or CR4 load): point the real CR3 at the
 * shadow of the guest's current address space (or at an identity map of guest RAM while guest
 * paging is off). 0, or -1 when the run ended. */
int shadow_activate(struct shadow *s, const struct vcpu *v);

/* The guest loaded control register `cr` with `val`: CR0 (PE stays set: the monitor runs the
 * guest in protected mode), CR3 or CR4 kept in v; every shadow dropped if CR0.WP or CR4.PSE changed
 * how the guest's tables read; then shadow_activate. 0, -1 when the run ended, 1 (nothing done)
 * for another register. */
int shadow_load_cr(struct shadow *s, struct vcpu *v, int cr, uint32_t val);

/* Extra bits the monitor keeps set in the real CR0 (e.g. MP/NE), beyond PE, PG, WP, ET. */
void shadow_set_cr0_extra(struct shadow *s, uint32_t bits);

/* Where the monitor's window starts now (4 MiB aligned; 0: no window). It moves when the guest
 * maps its region. */
uint32_t shadow_window_base(const struct shadow *s);

/* Is linear `lin` in the monitor's window as it is now? */
bool shadow_in_window(const struct shadow *s, uint32_t lin);

/* Call moved(m, from, to) after each move of the window (old and new base): the window's pages
 * are the same monitor memory at the new place, mapped in every shadow address space; what refers
 * to them by linear address (descriptor-table registers, code in them) is the caller's. */
void shadow_on_window_move(struct shadow *s,
                           void (*moved)(struct machine *m, uint32_t from, uint32_t to));

/* A real page fault at linear `cr2`, hardware error code `err`, instruction at `eip`. */
enum shadow_result shadow_page_fault(struct shadow *s, const struct vcpu *v, uint32_t cr2,
                                     uint32_t err, uint32_t eip, uint32_t *gerr);

/* Give the monitor page `index` of its window: a fresh zeroed page of monitor memory mapped at
 * the window's base + index * 4096 in every shadow address space (wherever the window moves),
 * supervisor and read-only (the CPU's
 * own accesses, e.g. to a GDT kept there, work; guest writes fault and are refused). Returns the
 * host pointer, or NULL if the pool is exhausted or index is outside the window. */
uint8_t *shadow_window_page(struct shadow *s, unsigned index);
/* The same, supervisor read-write if `writable` (state the monitor shares with code it runs at
 * ring 1, e.g. bt's virtual CPU block). */
uint8_t *shadow_window_page_rw(struct shadow *s, unsigned index, bool writable);

/* Trace guest frame `frame` as translated code: every shadow mapping of it read-only; the first
 * guest write to it that changes its bytes calls written(m, frame), drops the trace and is
 * emulated (EIP moved past it as by emul_write) or, if it cannot be, left to re-execute. A write
 * that leaves the frame's bytes as they were is emulated and counted `code_same`; the frame
 * stays traced and nothing is reported. */
void shadow_trace_code(struct shadow *s, uint32_t frame,
                       void (*written)(struct machine *m, uint32_t frame));

/* Trace guest frame `frame` as part of the guest's descriptor table that the monitor mirrors
 * (on), or stop (off). While traced, every shadow mapping of it is read-only (only with guest
 * paging on: the paging-off identity map is not split); a guest write to it is emulated, counted
 * `desc_write`, applied to anything else traced in the range, then reported: written(m). */
void shadow_trace_desc(struct shadow *s, uint32_t frame, bool on, void (*written)(struct machine *m));

/* A write to a traced descriptor-table frame that could not be emulated left the frame
 * untraced and re-executed: report it now (written(m), whose caller traces the frames again).
 * Called at the monitor's entries other than page faults (the write's own refault must find
 * the frame writable); nothing to do otherwise. */
void shadow_desc_sync(struct shadow *s);

/* Whether shadow_desc_sync has a mirror to refresh (the guest wrote a descriptor table it
 * keeps). */
bool shadow_desc_pending(const struct shadow *s);

/* Does guest linear `lin` (through the guest's own tables) name a frame the shadow MMU traces as
 * a page table? (A write there would be a traced write.) */
bool shadow_traces_table(struct shadow *s, const struct vcpu *v, uint32_t lin);

/* The monitor has itself done a guest write to [lin, lin + len) through the guest's tables,
 * without a fault (bt's adaptive callouts): apply it as a traced write would be applied — shadow
 * entries of written page tables dropped (they refill), a frame that is no longer a page table
 * unshadowed, a frame of translated code reported to its translator. Counts only `unshadow` and
 * `code_write`. Returns the number of page-table frames written. */
unsigned shadow_wrote(struct shadow *s, const struct vcpu *v, uint32_t lin, uint32_t len,
                      uint32_t eip);

/* Drop every shadow (the guest changed how its tables are read: CR0.WP, CR4.PSE). */
void shadow_flush(struct shadow *s);

/* The handling of a #PF that entered a shadow-paging monitor (the funnel recorded the entry: a
 * VT-x exit or a monitor trap): let the shadow MMU classify the fault, then resume the guest
 * (hidden fault, traced write: the guest's CR2 is put back) or deliver the fault to the guest the
 * mode's way with its own error code (v->cr2 updated). 0 to continue, -1 when the run ended. */
int shadow_exception(struct shadow *s, struct vcpu *v, const struct xevent *ev);

/* The guest executed INVLPG `va`: drop the shadow entry for it. */
void shadow_invlpg(struct shadow *s, uint32_t va);

#endif
