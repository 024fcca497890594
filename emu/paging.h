/*
 * paging.h — the i386 two-level page walk as pure functions (no CPU, no engine).
 *
 * The machine needs to read and write guest memory by *linear* address outside the CPU: to fetch
 * IDT gates, GDT descriptors and the TSS, and to push exception frames. Those accesses must see
 * exactly what the CPU would: 4 KiB pages through a page directory and page table, 4 MiB pages when
 * CR4.PSE and PDE.PS are set, U/S and R/W checks with CR0.WP, and the page-fault error code the CPU
 * would report. Physical memory is a plain byte array (the guest's RAM), so these functions are
 * unit-tested on hand-built tables.
 *
 * Accessed/dirty bits are set as the CPU sets them when `set_ad` is true.
 */
#ifndef VMLAB_PAGING_H
#define VMLAB_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CR0_PE (1u << 0)
#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PSE (1u << 4)
#define CR4_PAE (1u << 5)

#define PTE_P (1u << 0)
#define PTE_W (1u << 1)
#define PTE_U (1u << 2)
#define PTE_A (1u << 5)
#define PTE_D (1u << 6)
#define PTE_PS (1u << 7)
#define PTE_G (1u << 8)
#define CR4_PGE (1u << 7)

/* Page-fault error code bits. */
#define PFE_P (1u << 0)   /* 1: protection violation, 0: not present */
#define PFE_W (1u << 1)   /* write access */
#define PFE_U (1u << 2)   /* access from CPL 3 */

struct paging_regs {
    uint32_t cr0, cr3, cr4;
};

/* The translations made during one operation whose accesses nothing else interleaves with (an
 * exception delivery: the gate, the descriptors, the TSS, the frame's probe and write), so that a
 * later access to a page it already translated does not walk again. An entry answers only an
 * access its walk would answer the same way without side effects: allowed by the effective
 * permissions, and, when the access sets accessed/dirty bits, after a walk that set them (a write
 * needs a walk that set D). Start one empty ({0}) with the operation. Kept past it, it is a TLB:
 * valid only until the next change of the paging registers or flush of the translations (a
 * page-table write the CPU's TLB would not see is not seen either; machine_kept_walks keeps one,
 * for deliveries and the site hooks' reads of their bytes, in the modes whose every such flush
 * reaches the TLB model, mode op keep_walks). */
#define PAGING_MEMO_PAGES 8
struct paging_memo {
    unsigned next;                  /* the entry the next new page replaces */
    struct {
        uint32_t page;              /* linear page | 1 (0: empty) */
        uint32_t frame;             /* its physical 4 KiB frame */
        uint32_t perm;              /* effective PTE_U / PTE_W */
        bool accessed, dirty;       /* a walk of this operation set A, and D */
    } e[PAGING_MEMO_PAGES];
};

/* What kind of access is being translated. */
struct paging_access {
    bool write;
    bool user;       /* CPL 3 access (implicit supervisor accesses, e.g. IDT reads, pass false) */
    bool set_ad;     /* update accessed / dirty bits like the CPU */
    struct paging_memo *memo;   /* NULL, or the operation's translations (above) */
};

/* Physical memory seen by the walker: RAM from physical 0, and optionally a second region
 * (the monitor's memory above RAM, where shadow page tables live) at hi_base. Page-table entries
 * are read from either; the final frame checks of paging_read/paging_write cover RAM only.
 * With `xlate` set, every page-table entry's address is a guest-physical one that xlate turns
 * into a host pointer (or NULL: the walk fails as if the entry were not present), for a write
 * when the walker sets accessed/dirty bits: the nested walk of trap-ept (emu/ept.h). */
struct phys_mem {
    uint8_t *ram;
    uint64_t size;
    uint8_t *hi;          /* NULL: no second region */
    uint64_t hi_base, hi_size;
    uint8_t *(*xlate)(struct phys_mem *pm, uint32_t pa, bool write);
    void *opaque;         /* xlate's */
};

/* What one successful walk found (paging_walk). */
struct paging_walk {
    uint32_t phys;        /* the translated address */
    uint32_t entry;       /* the final entry (PTE, or the PDE of a 4 MiB page), A/D as updated */
    uint32_t perm;        /* effective U/S and R/W: PTE_U / PTE_W of both levels ANDed */
    bool large;           /* a 4 MiB page (CR4.PSE and PDE.PS) */
    bool global;          /* the final entry's G bit with CR4.PGE set */
    unsigned refs;        /* page-table entries read: 2 for a 4 KiB page, 1 for a 4 MiB one
                           * (0 with paging off) */
};

/* Translate `lin`. Returns 0 and the physical address in *phys, or -1 with the page-fault error
 * code in *pf_err (CR2 would be `lin`). With paging off the linear address is the physical one.
 * A page-table outside RAM reads as not present (the bus floats) -> -1; the final frame is not
 * checked here (paging_read/paging_write return -2 for it). With acc->memo, answered from it
 * when it can (see struct paging_memo), and a successful walk is noted in it. */
int paging_translate(const struct paging_regs *r, struct phys_mem *pm, uint32_t lin,
                     const struct paging_access *acc, uint32_t *phys, uint32_t *pf_err);

/* The same walk, reporting what it found in *w (on success) for a TLB fill: the final entry, the
 * effective permissions, the page size, the global bit and the entries read. 0, or -1 with the
 * page-fault error code in *pf_err and only w->refs set (the entries read before the fault). */
int paging_walk(const struct paging_regs *r, struct phys_mem *pm, uint32_t lin,
                const struct paging_access *acc, struct paging_walk *w, uint32_t *pf_err);

/* Copy `len` bytes between guest linear memory and `buf`, page by page. Returns 0; -1 with
 * *fault_lin / *pf_err describing the first page that faulted (nothing after it is copied; for
 * writes, pages before it were written — callers check all pages first when that matters); or -2
 * with *fault_lin when a translated address lies outside RAM. */
int paging_read(const struct paging_regs *r, struct phys_mem *pm, uint32_t lin, void *buf,
                uint32_t len, const struct paging_access *acc, uint32_t *fault_lin,
                uint32_t *pf_err);
int paging_write(const struct paging_regs *r, struct phys_mem *pm, uint32_t lin, const void *buf,
                 uint32_t len, const struct paging_access *acc, uint32_t *fault_lin,
                 uint32_t *pf_err);

#endif
