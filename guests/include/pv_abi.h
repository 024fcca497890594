/*
 * pv_abi.h — vmlab's paravirtual interface, Xen x86_32 style: what a PV guest kernel and the `pv`
 * hypervisor (emu/modes/pv*.c) agree on. Shared by both sides (freestanding: stdint only).
 *
 * The names and numbers are Xen's (its public xen.h: [XEN], models/REFERENCES.md) wherever Xen has
 * one, so a reader of the Xen paper or of xenalyze recognizes them; what vmlab simplifies is said
 * below.
 *
 *   Hypercall   int $0x82, number in EAX, arguments in EBX, ECX, EDX, ESI, EDI, result in EAX
 *               (0 or a negative errno).
 *   Start       the hypervisor loads the kernel ELF like Xen's domain builder: it finds the PV
 *               header (struct pv_header, in the first 8 KiB of the file, next to the Multiboot
 *               one), maps the kernel at virt_base + physical, builds and pins the initial page
 *               tables, fills a start-info and a shared-info page, and enters `entry` in ring 1
 *               with paging on: CS = FLAT_RING1_CS, DS/ES/FS/GS/SS = FLAT_RING1_DS, ESI = the
 *               start info (virtual), ESP = the top of a 16 KiB boot stack, events masked.
 *   Memory      one domain owns frames [0, nr_pages); machine frame numbers are pseudo-physical
 *               ones (no p2m table). Page tables are mapped read-only by the guest and changed
 *               through mmu_update / update_va_mapping / mmuext_op, validated entry by entry.
 *               The top 64 MiB of the address space (HYPERVISOR_VIRT_START and up) are the
 *               hypervisor's: the guest may not map them.
 *   Events      a pending bitmap and an upcall mask in the shared-info page; the PV `cli` is a
 *               store of 1 to evtchn_upcall_mask, `sti` a store of 0 (no hypervisor entry). An
 *               unmasked pending event makes the hypervisor call the registered event callback
 *               like an interrupt handler (with the mask set).
 *   Faults      delivered through the trap table the guest registered (set_trap_table); a page
 *               fault's address is in vcpu_info.cr2 (ring 1 cannot read CR2). A trap-table entry
 *               with PV_TRAP_FAST (the system-call vector) is reached by the CPU directly.
 */
#ifndef VMLAB_PV_ABI_H
#define VMLAB_PV_ABI_H

/* Constants are usable from assembler; the structures from C. A freestanding guest includes its
 * own fixed-width types before this file. */
#if !defined(__ASSEMBLER__) && __STDC_HOSTED__
#include <stdint.h>
#endif

#define PV_HEADER_MAGIC 0x564d4c50u          /* "PLMV" */
#define PV_HEADER_VERSION 1u
#define PV_START_MAGIC "vmlab-pv-1 x86_32"
#define HYPERCALL_VECTOR 0x82
#define HYPERVISOR_VIRT_START 0xfc000000u

/* Flat segments the hypervisor provides, below HYPERVISOR_VIRT_START. Xen's names; the values are
 * vmlab's (Xen's are 0xe019.., indices into a 15-page reserved GDT; vmlab's hypervisor GDT is one
 * five-entry page the guest maps read-only). */
#define FLAT_RING1_CS 0x09
#define FLAT_RING1_DS 0x11
#define FLAT_RING3_CS 0x1b
#define FLAT_RING3_DS 0x23

/* Port I/O. The domain has I/O privilege the way Xen gives it: a virtual IOPL the kernel sets
 * with physdev_op(PHYSDEVOP_set_iopl) — the real EFLAGS.IOPL stays 0, as it would also hand the
 * ring-1 kernel the real interrupt flag — so its IN/OUT raise #GP and the hypervisor performs
 * the access when the faulting ring is within the virtual IOPL (Xen: emulate_privileged_op,
 * guest_io_okay; [XEN] in models/REFERENCES.md), else bounces the #GP. The hypervisor keeps its
 * own devices whatever the IOPL (the PIC pair, the PIT, COM1: the console is console_io), and
 * performs IN/OUT only (string I/O, INS/OUTS, gets the #GP). The only ports the TSS I/O bitmap
 * opens directly are vmlab's instrumentation: the phase marker (0xe0-0xe3) and isa-debug-exit
 * (0xf4-0xf7). */
#define PV_PHASE_PORT 0xe0
#define PV_DEBUG_EXIT_PORT 0xf4

/* Hypercall numbers (Xen's; emu/xen_hypercalls.def is the hypervisor's list). */
#define __HYPERVISOR_set_trap_table 0
#define __HYPERVISOR_mmu_update 1
#define __HYPERVISOR_stack_switch 3
#define __HYPERVISOR_set_callbacks 4
#define __HYPERVISOR_multicall 13
#define __HYPERVISOR_update_va_mapping 14
#define __HYPERVISOR_set_timer_op 15
#define __HYPERVISOR_xen_version 17
#define __HYPERVISOR_console_io 18
#define __HYPERVISOR_iret 23
#define __HYPERVISOR_mmuext_op 26
#define __HYPERVISOR_sched_op 29
#define __HYPERVISOR_event_channel_op 32
#define __HYPERVISOR_physdev_op 33

/* mmu_update commands (low 2 bits of ptr). */
#define MMU_NORMAL_PT_UPDATE 0

/* mmuext_op commands. */
#define MMUEXT_PIN_L1_TABLE 0
#define MMUEXT_PIN_L2_TABLE 1
#define MMUEXT_UNPIN_TABLE 4
#define MMUEXT_NEW_BASEPTR 5
#define MMUEXT_TLB_FLUSH_LOCAL 6
#define MMUEXT_INVLPG_LOCAL 7

/* update_va_mapping flags. */
#define UVMF_NONE 0
#define UVMF_TLB_FLUSH 1
#define UVMF_INVLPG 2

/* sched_op commands and shutdown reasons. */
#define SCHEDOP_yield 0
#define SCHEDOP_block 1
#define SCHEDOP_shutdown 2
#define SHUTDOWN_poweroff 0
#define SHUTDOWN_crash 3

/* physdev_op commands (Xen's public physdev.h); argument struct pv_physdev_set_iopl. */
#define PHYSDEVOP_set_iopl 6

/* console_io commands. */
#define CONSOLEIO_write 0

/* event_channel_op commands, and the one virtual IRQ vmlab has. */
#define EVTCHNOP_bind_virq 1
#define EVTCHNOP_send 4
#define VIRQ_TIMER 0

#define XENVER_version 0

/* Trap-table flags: DPL in bits 0-1; bit 2 set = interrupt gate (events masked on entry), as Xen's
 * TI_SET_IF inverse; vmlab's PV_TRAP_FAST marks the vector the CPU reaches without the
 * hypervisor (the system call). */
#define PV_TRAP_DPL(f) ((f) & 3)
#define PV_TRAP_MASK_EVENTS 4
#define PV_TRAP_FAST 8

#ifndef __ASSEMBLER__

struct pv_header {
    uint32_t magic;              /* PV_HEADER_MAGIC */
    uint32_t version;            /* PV_HEADER_VERSION */
    uint32_t entry;              /* virtual address of the PV entry point */
    uint32_t virt_base;          /* the kernel's virtual base: virtual = virt_base + physical */
};

struct pv_start_info {
    char magic[32];              /* PV_START_MAGIC */
    uint32_t nr_pages;           /* frames the domain owns: [0, nr_pages) */
    uint32_t shared_info;        /* virtual address of the shared-info page */
    uint32_t flags;
    uint32_t pt_base;            /* virtual address of the initial (pinned) page directory */
    uint32_t nr_pt_frames;       /* initial page-table frames: the directory and its tables */
    uint32_t first_free_pfn;     /* first frame not used by the kernel image and the builder */
    uint32_t mapped_bytes;       /* the initial mapping covers [virt_base, virt_base + this) */
    char cmd_line[1024];
};

struct pv_vcpu_info {
    uint8_t evtchn_upcall_pending;   /* an unmasked event is pending */
    uint8_t evtchn_upcall_mask;      /* 1: events masked (the PV interrupt flag, inverted) */
    uint16_t pad0;
    uint32_t evtchn_pending_sel;     /* which words of evtchn_pending have bits */
    uint32_t cr2;                    /* address of the last page fault delivered */
    uint32_t pad1;
};

struct pv_shared_info {
    struct pv_vcpu_info vcpu_info;
    uint32_t evtchn_pending[32];     /* one bit per event-channel port */
    uint32_t evtchn_mask[32];        /* 1: port masked (pending, but no upcall) */
    uint64_t system_time;            /* guest time, in instructions, at the last return from the
                                      * hypervisor (RDTSC reads it exactly at any time) */
    uint64_t ips;                    /* instructions per simulated second */
};

struct pv_trap_info {
    uint8_t vector;
    uint8_t flags;                   /* PV_TRAP_* */
    uint16_t cs;
    uint32_t address;                /* 0 ends the table */
};

struct pv_physdev_set_iopl {
    uint32_t iopl;           /* 0..3: the rings at or below it may do port I/O */
};

struct pv_mmu_update {
    uint64_t ptr;                    /* machine address of the entry | command */
    uint64_t val;
};

struct pv_mmuext_op {
    uint32_t cmd;
    uint32_t arg1;                   /* mfn, or linear address for INVLPG */
    uint32_t arg2;
};

struct pv_multicall_entry {
    uint32_t op;
    uint32_t result;
    uint32_t args[6];
};

struct pv_sched_shutdown {
    uint32_t reason;                 /* SHUTDOWN_* */
    uint32_t exit_code;              /* vmlab: the isa-debug-exit value to end with (0x10 ok) */
};

struct pv_evtchn_bind_virq {
    uint32_t virq;
    uint32_t vcpu;
    uint32_t port;                   /* out */
};

/* What the guest finds on its stack for __HYPERVISOR_iret (Xen's struct iret_context). */
struct pv_iret_context {
    uint32_t eax, eip, cs, eflags, esp, ss;
};

#endif /* !__ASSEMBLER__ */
#endif
