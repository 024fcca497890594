/*
 * pgtable.h — i386 two-level page-table entries, as pure inline helpers (host-testable).
 *
 * A linear address splits into directory index (bits 31..22), table index (21..12) and offset.
 * Both levels use the same entry format; this kernel uses 4 KiB pages only (no PSE after early
 * boot), which is also what a Xen-style paravirtual port wants. Bit 9, one of the three bits the
 * hardware leaves to software, marks a copy-on-write page: present, read-only, and to be copied
 * (or simply made writable when its frame is no longer shared) on the first write. Bit 10 marks
 * a page of a shared file mapping: fork shares it as it is, never copy-on-write.
 */
#ifndef KERNEL_PGTABLE_H
#define KERNEL_PGTABLE_H

#include "types.h"

typedef uint32_t pte_t;

#define PTE_P   0x001u   /* present */
#define PTE_W   0x002u   /* writable */
#define PTE_U   0x004u   /* user accessible */
#define PTE_A   0x020u   /* accessed (set by the MMU) */
#define PTE_D   0x040u   /* dirty (set by the MMU) */
#define PTE_G   0x100u   /* global: kept across CR3 loads when CR4.PGE is set */
#define PTE_COW 0x200u   /* software: copy on write */
#define PTE_SHARED 0x400u /* software: a shared file page, never copy on write */
#define PTE_FLAGS_MASK 0xFFFu
#define PTES_PER_TABLE 1024u

/* Page-fault error code bits. */
#define PF_P 0x1u   /* 1: protection violation, 0: not present */
#define PF_W 0x2u   /* 1: write access */
#define PF_U 0x4u   /* 1: access from ring 3 */

static inline uint32_t pde_index(uint32_t va) { return va >> 22; }
static inline uint32_t pte_index(uint32_t va) { return (va >> 12) & 0x3FFu; }
static inline uint32_t pte_frame(pte_t e) { return e & ~PTE_FLAGS_MASK; }
static inline uint32_t pte_flags(pte_t e) { return e & PTE_FLAGS_MASK; }
static inline bool pte_present(pte_t e) { return (e & PTE_P) != 0; }
static inline pte_t pte_make(uint32_t pa, uint32_t flags)
{
    return (pa & ~PTE_FLAGS_MASK) | (flags & PTE_FLAGS_MASK);
}

/* The entry both parent and child hold after fork: writable pages become read-only + COW,
 * shared file pages stay as they are. */
static inline pte_t pte_share_cow(pte_t e)
{
    if (e & PTE_SHARED)
        return e;
    if (e & (PTE_W | PTE_COW))
        return (e & ~PTE_W) | PTE_COW;
    return e;
}

/* The entry after a copy-on-write fault is resolved with frame `pa`. */
static inline pte_t pte_break_cow(pte_t e, uint32_t pa)
{
    return pte_make(pa, (pte_flags(e) & ~(PTE_COW | PTE_A | PTE_D)) | PTE_W);
}

#endif
