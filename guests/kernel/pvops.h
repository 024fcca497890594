/*
 * pvops.h — the paravirt-ops table: every privileged operation the kernel performs after early
 * boot goes through this one table (in the spirit of Linux's pv_ops).
 *
 * At boot, pvops_select() fills `pv_ops` with the implementation that fits the machine: the
 * native one (pvops_native.c: plain privileged instructions, the only file of the kernel besides
 * the early-boot stub that contains any), or the Xen-style paravirtual one (pvops_pv.c: entries
 * are hypercalls — mmu_update for set_pte/set_ptes, mmuext_op for CR3, TLB flushes and table
 * pinning, set_trap_table for the IDT, stack_switch for the kernel stack, an event mask in a shared
 * page for the interrupt flag, console_io for the console). The same kernel binary carries both.
 *
 * Contracts that make such a port possible:
 *  - A frame becomes a page table only through pt_alloc(); before that call the kernel fills it
 *    with ordinary stores (zeroing, copying the kernel's directory entries). After it, every write
 *    to an entry goes through set_pte()/set_ptes(), until pt_release() hands the frame back.
 *    Level 1 = page table, level 2 = page directory. A table is announced before any directory
 *    entry points to it, a directory before it is loaded; at teardown the directory is released
 *    first, then its tables. A table may also be filled with ordinary stores before pt_alloc()
 *    when it is built whole (fork builds a child's tables that way, then announces each).
 *  - Entry writes to a level-1 table (set_pte/set_ptes) may be queued by an implementation and
 *    applied later, but always before the next flush_tlb, invlpg, load_cr3, pt_alloc, pt_release,
 *    read_cr2 (a page fault) and iret; writes to a directory are complete on return. The kernel
 *    therefore never reads back a page-table entry it wrote without one of those in between.
 *    TLB maintenance is explicit: after making an entry less
 *    permissive (or changing its frame) in a live address space the caller calls invlpg() or
 *    flush_tlb(); a not-present -> present change needs none.
 *  - The kernel-stack switch (set_kernel_stack) is how the CPU finds the kernel stack on a trap
 *    from user mode; the native version writes the TSS's esp0.
 *  - The kernel never names its own segment selectors outside desc.c and this layer: the trap
 *    entry copies SS (which the CPU loads from the kernel-stack switch) into DS/ES, so the same
 *    entry path works whatever privilege level the kernel really runs at. Ring-3 selectors for
 *    new processes come from user_cs/user_ds.
 *  - iret is reached by a jump (from the trap-return path in entry.S) with the trap frame's
 *    EIP/CS/EFLAGS[/ESP/SS] on the stack; it must be the first member (entry.S jumps to *pv_ops).
 */
#ifndef KERNEL_PVOPS_H
#define KERNEL_PVOPS_H

#include "types.h"
#include "pgtable.h"

struct tss;

struct pte_update {
    pte_t *ptep;    /* the entry, by its kernel (direct-map) address */
    pte_t val;
};

struct pv_ops {
    void (*iret)(void);                        /* MUST stay first: entry.S jumps to it */
    const char *name;
    uint16_t user_cs, user_ds;                 /* selectors of ring-3 code and data */

    /* Interrupt flag (EFLAGS.IF), written with pushf/popf as real kernels do. */
    uint32_t (*irq_save)(void);                /* returns EFLAGS, then disables */
    void (*irq_restore)(uint32_t flags);       /* restores IF from a saved EFLAGS */
    void (*irq_disable)(void);
    void (*irq_enable)(void);

    /* MMU. */
    void (*load_cr3)(uint32_t pgdir_pa);       /* switch address space (flushes the TLB) */
    uint32_t (*read_cr2)(void);                /* faulting address of the current #PF */
    void (*set_pte)(pte_t *ptep, pte_t val);   /* one entry of a table or directory */
    void (*set_ptes)(const struct pte_update *u, uint32_t n); /* a batch of entries */
    void (*flush_tlb)(void);
    void (*invlpg)(uint32_t va);
    /* CR4.PGE on or off (global pages kept across address-space switches): 0, or -EINVAL where
     * the interface has no such control (pv: Xen owns CR4). */
    int (*set_global_pages)(bool on);
    void (*pt_alloc)(uint32_t pa, int level);  /* frame pa is now a page table (1) / directory (2) */
    void (*pt_release)(uint32_t pa, int level);/* frame pa stops being one */
    /* The live address space whose directory is pgdir is being torn down (Linux's
     * arch_exit_mmap): every user PTE is cleared next, through set_pte(s), then the caller loads
     * another directory, then pt_release()s the tables. Native: nothing (the clears are stores to
     * the live tables). PV (xen_exit_mmap): switch to the kernel's directory and unpin the tree,
     * making its frames ordinary memory; set_pte(s) on an unpinned table is a plain store, the
     * caller's next load_cr3 of that directory costs nothing, pt_release() of it nothing. */
    void (*exit_mmap)(uint32_t pgdir);

    /* Descriptor tables and the kernel stack. */
    void (*load_gdt)(const void *base, uint16_t limit);   /* also reloads the segment registers */
    void (*load_idt)(const void *base, uint16_t limit);
    void (*load_tss)(uint16_t sel, struct tss *tss);
    void (*set_kernel_stack)(uint32_t esp0);

    /* Port I/O. */
    uint8_t (*inb)(uint16_t port);
    void (*outb)(uint16_t port, uint8_t v);
    uint32_t (*inl)(uint16_t port);
    void (*outl)(uint16_t port, uint32_t v);

    /* Interrupt controller, timer, halt. */
    void (*intr_init)(void);                   /* vectors 0x20-0x2f, every line masked */
    void (*intr_unmask)(int irq);
    void (*intr_eoi)(int irq);
    void (*timer_start)(uint32_t hz);          /* periodic IRQ 0 at hz */
    void (*halt)(void);                        /* wait for an interrupt (hlt) */

    /* Console: native drives the UART (console.c) through inb/outb; a hypervisor has its own. */
    void (*console_init)(void);
    void (*console_write)(const char *s, size_t n);
};

extern struct pv_ops pv_ops;
extern const struct pv_ops pvops_native;
extern const struct pv_ops pvops_pv;       /* pvops_pv.c: the `pv` hypervisor (pv_abi.h) */

/* Chooses the implementation and installs it in pv_ops: pvops_pv when the kernel was entered
 * through its PV entry point with a valid start-info page, pvops_native otherwise. */
void pvops_select(void);
bool pvops_pv_detect(void);

/* console.c: the polled 16550 driver that native's console_init/console_write are. */
void uart_init(void);
void uart_write(const char *s, size_t n);

#define EFLAGS_IF   0x200u
#define EFLAGS_IOPL 0x3000u

#endif
