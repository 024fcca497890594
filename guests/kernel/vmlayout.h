/*
 * vmlayout.h — a process's user address-space layout, and what a page fault in it means.
 *
 * The layout is a handful of ranges (layout.h has the map): the ELF image (mapped eagerly at
 * exec), the heap [heap_start, brk), up to MAX_MMAPS regions in the mmap area, and the stack
 * area. An mmap region is anonymous (always read-write) or a shared mapping of a file, read-only
 * or read-write. Heap, anonymous regions and stack are demand-zero: their pages get a frame on
 * first touch; a file region's pages are the file's own frames, mapped on first touch.
 *
 * fault_classify() turns (layout, faulting address, error code, current PTE) into one of four
 * outcomes — the decision every page-fault handler makes first:
 *
 *   FAULT_DEMAND_ZERO  not present, inside a demand-zero range      -> map a zeroed frame
 *   FAULT_FILE         not present, inside a file region (a write:  -> map the file's page
 *                      a read-write one)
 *   FAULT_COW          write to a present, read-only, COW-marked page -> copy (or just unshare)
 *   FAULT_FATAL        anything else (outside every range, write to a read-only text page or a
 *                      read-only file region, user access to a kernel address)
 *                                                                   -> signal / kill / panic
 *
 * Pure code, tested on the host.
 */
#ifndef KERNEL_VMLAYOUT_H
#define KERNEL_VMLAYOUT_H

#include "types.h"
#include "pgtable.h"

#define MAX_MMAPS 16

struct region {
    uint32_t start;     /* page aligned */
    uint32_t end;       /* page aligned, exclusive */
    void *file;         /* the file (struct inode) of a file region; NULL: anonymous */
    uint32_t pgoff;     /* file region: the file's page index at start */
    bool writable;      /* writes allowed (anonymous regions: always) */
};

struct vm_layout {
    uint32_t heap_start;            /* page aligned: just after the ELF image */
    uint32_t brk;                   /* current end of the heap, byte granular */
    struct region mmap[MAX_MMAPS];  /* sorted by address, non-overlapping */
    int nmmap;
};

enum fault_kind { FAULT_DEMAND_ZERO, FAULT_FILE, FAULT_COW, FAULT_FATAL };

/* pte: the entry currently mapping addr (0 if there is no page table or no entry). */
enum fault_kind fault_classify(const struct vm_layout *l, uint32_t addr, uint32_t err, pte_t pte);

/* Is addr inside a demand-zero range (heap, an anonymous mmap region, the stack area)? */
bool vm_layout_demand_zero(const struct vm_layout *l, uint32_t addr);
/* The mmap region holding addr, or NULL. */
const struct region *vm_layout_region(const struct vm_layout *l, uint32_t addr);

/*
 * Reserves `len` bytes (rounded up to pages) at the lowest free address of the mmap area for an
 * anonymous region (file NULL) or a region of `file` from its page pgoff; returns the address,
 * or 0 if there is no room or no free region slot.
 */
uint32_t vm_layout_mmap(struct vm_layout *l, uint32_t len, void *file, uint32_t pgoff,
                        bool writable);
/* Forgets the region that starts at addr and is len bytes (rounded up) long, copying it to
 * *gone (whose file the caller releases); -1 if there is none. */
int vm_layout_munmap(struct vm_layout *l, uint32_t addr, uint32_t len, struct region *gone);

#endif
