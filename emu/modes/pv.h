/*
 * pv.h — private state of the `pv` mode, shared by its files:
 *
 *   pv.c            the mode: start of day (domain builder), faults, interrupts, event upcalls
 *   pv_hypercall.c  the hypercall table and one handler per hypercall
 *   pv_mm.c         direct paging: page types, validation (pure functions)
 *
 * The guest interface is guests/include/pv_abi.h.
 */
#ifndef VMLAB_PV_H
#define VMLAB_PV_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/machine.h"
#include "emu/modes/pv_mm.h"
#include "guests/include/pv_abi.h"

#define PV_UPCALL_VECTOR 0xf0        /* IDT slot of the event callback in the hypervisor's IDT */
#define PV_TIMER_PORT 1              /* the event channel VIRQ_TIMER is bound to */
#define PV_EVTCHN_PORTS 1024         /* ports 0 .. 1023 (port 0 is never bound) */
#define PV_SEL_CS1 FLAT_RING1_CS     /* the hypervisor's GDT: ring-1 code, ring-1 data, ... */
#define PV_SEL_DS1 FLAT_RING1_DS
#define PV_SEL_CS3 FLAT_RING3_CS
#define PV_SEL_DS3 FLAT_RING3_DS
#define PV_GDT_ENTRIES 5             /* null + the four flat segments above */
#define PV_SEL_TSS 0x28              /* TR (loaded directly: no GDT entry) */
#define PV_TSS_LIMIT (0x68 + 8192 / 8)   /* the TSS and its full I/O bitmap */

struct pv {
    struct pvmm mm;
    uint32_t virt_base;              /* kernel virtual base (virtual = virt_base + physical) */
    uint32_t base;                   /* current page directory frame (CR3 >> 12) */
    /* Frames the builder gave the domain's hypervisor-owned pages (typed segment-descriptor
     * pages, mapped read-only in the guest): */
    uint32_t start_info_pa, shared_info_pa, gdt_pa, idt_pa, tss_pa;
    uint32_t gdt_va, idt_va, tss_va;
    struct pv_trap_info traps[256];  /* the guest's trap table, by vector (address 0: none) */
    uint32_t event_eip;              /* set_callbacks (its CS is always FLAT_RING1_CS) */
    bool timer_bound;                /* VIRQ_TIMER bound to port 1 */
    uint64_t timer_deadline;         /* set_timer_op, guest time; 0 = none */
    bool blocked;                    /* SCHEDOP_block: waiting for an event */
    bool iret_gp;                    /* HYPERVISOR_iret refused its frame: #GP to the guest */
    uint32_t iopl;                   /* virtual IOPL (PHYSDEVOP_set_iopl): rings <= it may do
                                      * port I/O, performed by the hypervisor on the #GP */
};

static inline struct pv *pv_of(struct machine *m) { return m->mode_state; }

static inline struct pv_shared_info *pv_shared(struct machine *m)
{
    return (struct pv_shared_info *)(m->ram + pv_of(m)->shared_info_pa);
}

/* The real segment of the hypervisor's GDT for selector `sel` (one of PV_SEL_*): flat, its limit
 * and attributes from the descriptor. 0, or -1 for a selector the GDT does not have. */
int pv_seg(struct machine *m, uint16_t sel, struct uq_seg *out);

/* Handle the hypercall in EAX/EBX.. of the stopped CPU (int 0x82 from ring 1). Sets EAX.
 * 0 to continue, -1 when the run ended. */
int pv_hypercall(struct machine *m, uint32_t eip_after);

/* Whether hypercall `nr` (for a multicall: with its list of `count` entries at linear `list`, the
 * guest's EBX and ECX) does only what the interrupt hook allows (mode.h, exception_in_hook):
 * registers, guest memory, page tables and TLB flushes, each call of a multicall too. */
bool pv_hypercall_in_hook(struct machine *m, uint32_t nr, uint32_t list, uint32_t count);

/* The hypervisor writes byte `v` to device port `port` itself (the PIC, the PIT and the UART
 * are Xen's): a device access, recorded as the guest's would be (class io). */
void pv_hv_outb(struct machine *m, uint16_t port, uint8_t v);

/* The hypervisor reads device port `port` itself. */
uint8_t pv_hv_inb(struct machine *m, uint16_t port);

/* Xen's name of hypercall `nr` ("mmu_update"), or "unknown" for one vmlab does not implement. */
const char *pv_hypercall_name(uint32_t nr);

/* Rebuild the hypervisor's IDT from the trap table and the event callback. */
void pv_build_idt(struct machine *m);

/* Mark event-channel `port` pending in the shared info (Xen's evtchn_set_pending): its pending
 * bit, and, unless the guest masked the port (evtchn_mask), its word in evtchn_pending_sel and
 * evtchn_upcall_pending, so the next way back to the guest delivers an upcall. */
void pv_evtchn_set_pending(struct machine *m, uint32_t port);

/* Deliver pending, unmasked events to the guest's event callback (called on every way back to
 * the guest, as Xen does). 0 or -1. */
int pv_deliver_events(struct machine *m);

/* Program the PIT (owned by the hypervisor) for the guest's timer deadline. */
void pv_arm_timer(struct machine *m);

#endif
