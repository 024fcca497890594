/*
 * vmlayout.h — a process's user address-space layout, and what a page fault in it means.
 *
 * The layout is a handful of ranges (layout.h has the map): the ELF image (mapped eagerly at
 * exec), the heap [heap_start, brk), up to MAX_MMAPS anonymous regions in the mmap area, and the
 * stack area. Heap, mmap regions and stack are demand-zero: their pages get a frame on first touch.
 *
 * fault_classify() turns (layout, faulting address, error code, current PTE) into one of three
 * outcomes — the decision every page-fault handler makes first:
 *
 *   FAULT_DEMAND_ZERO  not present, inside a demand-zero range      -> map a zeroed frame
 *   FAULT_COW          write to a present, read-only, COW-marked page -> copy (or just unshare)
 *   FAULT_FATAL        anything else (outside every range, write to a read-only text page,
 *                      user access to a kernel address)            -> kill the process / panic
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
};

struct vm_layout {
    uint32_t heap_start;            /* page aligned: just after the ELF image */
    uint32_t brk;                   /* current end of the heap, byte granular */
    struct region mmap[MAX_MMAPS];  /* sorted by address, non-overlapping */
    int nmmap;
};

enum fault_kind { FAULT_DEMAND_ZERO, FAULT_COW, FAULT_FATAL };

/* pte: the entry currently mapping addr (0 if there is no page table or no entry). */
enum fault_kind fault_classify(const struct vm_layout *l, uint32_t addr, uint32_t err, pte_t pte);

/* Is addr inside a demand-zero range (heap, an mmap region, the stack area)? */
bool vm_layout_demand_zero(const struct vm_layout *l, uint32_t addr);

/*
 * Reserves `len` bytes (rounded up to pages) at the lowest free address of the mmap area;
 * returns the address, or 0 if there is no room or no free region slot.
 */
uint32_t vm_layout_mmap(struct vm_layout *l, uint32_t len);
/* Forgets the region that starts at addr and is len bytes (rounded up) long; -1 if none. */
int vm_layout_munmap(struct vm_layout *l, uint32_t addr, uint32_t len);

#endif
