/*
 * classic_core.h — the ring-compression monitor that `trap-classic` and `bt` share.
 *
 * Both run the guest kernel in ring 1 on the monitor's own GDT (kept in the monitor's window),
 * keep the guest's descriptor-table registers, control registers and interrupt flag in a virtual
 * CPU, and emulate the guest's privileged instructions on it. They differ in how a privileged
 * instruction reaches the monitor — a #GP in ring 1 (trap-classic) or a callout from the
 * translation cache (bt) — and in where the virtual IF lives: a word of the monitor
 * (trap-classic) or the EFLAGS word of bt's in-cache state block, which the translated code
 * changes itself (`vifp` points at whichever it is; only its IF bit is the core's).
 *
 * The monitor's GDT mirrors the guest's: taken whole at each guest lgdt, and entry by entry
 * again whenever the guest writes the frames its GDT lies in (traced by the shadow MMU, as a
 * CPU reads the GDT at each segment load; Linux rewrites its TLS entries at every context
 * switch).
 *
 * With guest_sels set (bt, and trap-classic since Linux checks the CS in its exception frames) the
 * guest sees its own selectors wherever the monitor writes one for it (the CS a far call or a
 * delivery pushes); without it it would see the ring-1 copies. What the hardware itself shows
 * (push cs, mov from cs in ring 1) stays the copies: those are holes.
 */
#ifndef VMLAB_CLASSIC_CORE_H
#define VMLAB_CLASSIC_CORE_H

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stdint.h>

#include "emu/deliver.h"
#include "emu/funnel.h"
#include "emu/loader.h"
#include "emu/modes/mode.h"
#include "emu/modes/shadow.h"

/* The monitor's window (4 MiB; first at m->cfg.monitor_window, default the top 4 MiB, then
 * wherever the shadow MMU moves it when the guest maps its region: MON_WINDOW, per run): page 0
 * its GDT, page 1 its TSS and LDT, page 2 where its IDTR points (never mapped: the CPU never
 * vectors itself); pages from CLASSIC_FREE_PAGE on are the mode's own. After a move the monitor
 * reloads its GDTR, IDTR, TR and LDTR at the new place (classic_core.c) and calls the mode's
 * window_moved. Only for a mode whose state is a struct classic. */
#define MON_WINDOW(m) shadow_window_base(((const struct shadow_monitor *)(m)->mode_state)->sh)
#define MON_GDT_VA(m) (MON_WINDOW(m))
#define MON_TSS_VA(m) (MON_WINDOW(m) + 0x1000)
#define MON_IDT_VA(m) (MON_WINDOW(m) + 0x2000)
#define CLASSIC_FREE_PAGE 3
#define MON_GDT_MAX 254                      /* guest entries the monitor shadows */
#define COPY_BASE 256                        /* ring-1 copy of guest entry i is entry COPY_BASE+i */
#define MON_TSS_IDX 510
#define MON_LDT_IDX 511
#define EFLAGS_IF (1u << 9)
#define EFLAGS_NT (1u << 14)
#define CR0_TS (1u << 3)
#define CR0_MP (1u << 1)
#define CR0_NE (1u << 5)

struct classic {
    struct shadow_monitor mon;               /* first: the shared monitor operations use it */
    uint32_t vif;                            /* trap-classic's virtual IF word */
    uint32_t *vifp;                          /* where the virtual IF lives (its EFLAGS_IF bit) */
    bool guest_sels;                         /* show the guest its own selectors */
    cs_insn *dec;                            /* the instruction that trapped, decoded once for
                                                classify and handler (classic_core.c) */
    uint32_t dec_eip;
    bool dec_ok;                             /* dec holds the instruction at dec_eip */
    uint32_t gdt_base, gdt_limit, idt_base, idt_limit;
    uint16_t ldt_sel, tr_sel;
    uint32_t ldt_base, ldt_limit, tr_base, tr_limit;
    uint8_t *mgdt;                           /* the monitor's GDT page (host) */
    uint8_t *mtss;                           /* the monitor's TSS page (host) */
    uint32_t mgdt_n;                         /* guest descriptors copied */
    void (*gdt_rebuilt)(struct machine *m);  /* if set: called after a guest lgdt is mirrored */
    void (*gdt_entry_changed)(struct machine *m, uint32_t i);
                                             /* if set: called when the guest's write to its GDT
                                                changed the mirror of entry i */
    uint32_t gdt_frames[17];                 /* the guest frames its GDT lies in, traced so that
                                                its writes refresh the mirror */
    unsigned ngdt_frames;
    void (*window_moved)(struct machine *m, uint32_t from, uint32_t to);
                                             /* if set: called after the window moved and the
                                                monitor's tables were reloaded there */
    uint32_t dr[8];                          /* the guest's debug registers (mov to/from DRn is
                                                emulated on them; the real ones are not loaded:
                                                guest breakpoints do not fire) */
    uint32_t lost_eip;                       /* last place the virtual IF was lost, 0 if none */
    char lost_by[8];
};

static inline uint32_t classic_vif(const struct classic *t) { return *t->vifp & EFLAGS_IF; }
static inline void classic_set_vif(struct classic *t, uint32_t f)
{
    *t->vifp = (*t->vifp & ~EFLAGS_IF) | (f & EFLAGS_IF);
}

/* Build the monitor (shadow MMU, its GDT and TSS in the window), enter the kernel at `bi` and move
 * it to ring 1. t is m->mode_state, zeroed, with vifp set. 0 or -1 with errbuf set. */
int classic_init(struct machine *m, struct classic *t, const struct boot_info *bi, char *errbuf,
                 unsigned errlen);

/* The guest's selector for real selector `sel` (a ring-1 copy maps back to the guest's RPL-0
 * selector); with guest_sels clear, `sel` itself. */
uint16_t classic_guest_sel(const struct classic *t, uint16_t sel);

/* A load of guest selector `sel` into DS, ES, FS or GS by the guest kernel (CPL 0): 0 with the
 * selector the monitor's GDT runs it on in *real, if the load succeeds natively (a null
 * selector, or a present data or readable non-conforming code descriptor of the guest's GDT with
 * DPL >= RPL); -1 if it faults or is not one the monitor knows (LDT selectors). */
int classic_data_sel(const struct classic *t, uint16_t sel, uint16_t *real);

/* The guest's descriptor `sel` from its own GDT. 0 or -1. */
struct desc;
int classic_guest_desc(struct machine *m, uint16_t sel, struct desc *d, bool set_busy);

/* The Unicorn register id of Capstone register `r` if it is one of the eight 32-bit general
 * registers (EAX..EDI) or their 16-bit halves (AX..DI), else -1. Both monitors decode the
 * guest's register operands with it (reads and writes of a 16-bit one touch only those bits). */
int classic_gpr(x86_reg r);

/* Emulate the privileged instruction at guest `eip` (the CPU's EIP may be elsewhere, e.g. in a
 * translation cache): 0 emulated and EIP set (past it, or its target); 1 not one the monitor
 * emulates (nothing changed); 2 a hlt emulated: the guest now waits (the caller's action is
 * ACT_HALT); -1 the run ended. */
int classic_emulate_at(struct machine *m, uint32_t eip);

/* The guest instruction at `eip`, decoded into the monitor's one buffer: the classify op decodes
 * what trapped, the handler that follows finds it there (the cache is emptied at every classify
 * and after an emulation, so it never outlives one exit). NULL if undecodable. The buffer
 * belongs to the monitor: never freed by the caller. */
const cs_insn *classic_decoded(struct machine *m, uint32_t eip);

/* The cause of a #GP the guest kernel took at `eip` in ring 1, as a qualifier: the mnemonic,
 * "crN/write" or "crN/read", "in1 0x80", "mov seg", or "#GP" if undecodable. */
void classic_cause(struct machine *m, uint32_t eip, char *q, size_t len);

/* Mode op io_allowed for guest user code: an IN/OUT at CPL 3 whose ports the guest's own TSS
 * (the virtual TR) permits in its I/O bitmap (Linux's ioperm and iopl, which 6.1 emulates with
 * the bitmap) runs, as the hardware lets it with the guest's TSS loaded; the monitor's real TSS
 * has no bitmap (a monitor that copied the guest's bitmap into its own TSS would not trap either).
 * Anything else gets the CPU's check (#GP for ring 3 with IOPL below 3). The guest kernel's
 * IN/OUT are the monitor's business (#GP in ring 1, or bt's in-cache copies). */
bool classic_io_allowed(struct machine *m, uint32_t addr, uint16_t port, uint32_t *eip);

/* Classify an exception or interrupt that entered the monitor: a monitor trap (montrap), by
 * vector, with the cause. */
void classic_classify(struct machine *m, const struct vexit *x, struct exit_decl *d);

/* Mode operations both monitors use as they are. */
void classic_cpu_view(struct machine *m, struct cpu_view *v);
/* Mode op task_sys: a task switch through a task gate of the guest's (virtual) IDT, which the
 * monitor performs as part of its reflection (emu/taskswitch.c): the guest's TR and LDTR are
 * the virtual CPU's (the real ones stay the monitor's), CR0.TS and CR3 the virtual ones (the
 * shadow MMU follows the new CR3). The new task's ring-0 selectors run on the monitor's ring-1
 * copies (real_seg), as after any reflection. 0, or -1 when the run ended. */
int classic_task_sys(struct machine *m, const struct task_sys *s);
void classic_delivered(struct machine *m, int cpl, uint32_t eflags);
int classic_real_seg(struct machine *m, uint16_t sel, struct uq_seg *out);
struct action classic_interrupt(struct machine *m, const struct xevent *ev);
struct action classic_exception(struct machine *m, const struct xevent *ev);

/* mode op exception_in_hook for trap-classic: true for an event classic_exception handles with
 * register writes and the exception state only: a delivery through the guest's IDT (not a #PF,
 * which the shadow MMU takes, nor SYSENTER), or the guest kernel's cli or sti (#GP in ring 1);
 * false while a descriptor-table mirror waits for its refresh. */
/* Whether the guest instruction of class `cls` (enum insn_class; IC_NONE: an ordinary one) is
 * emulated, or delivered, with the work exception_in_hook allows (mode.h): registers, the virtual
 * IF, guest memory, the shadow MMU and the TLBs; those that may open the virtual IF (sti, popf,
 * iret, far return) not while an interrupt is pending (the exit loop takes it). Not port I/O (a
 * device), hlt, descriptor-table loads, far jumps and calls (task switches), MSRs, cache
 * flushes, lmsw, sysenter and sysexit. trap-classic asks it of a #GP in ring 1, bt of every
 * exception in its translation cache. */
bool classic_insn_in_hook(struct machine *m, uint8_t cls);

bool classic_exception_in_hook(struct machine *m, const struct xevent *ev);

/* classic_exception's work for a caller that goes on afterwards (bt): 0 handled, 2 the guest
 * halts, -1 the run ended. */
int classic_handle(struct machine *m, const struct xevent *ev);
void classic_teardown(struct machine *m);

#endif
