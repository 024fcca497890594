/*
 * mm.h — kernel memory: the frame pool, the kernel's own page tables, and user address spaces.
 *
 *   mm.c   boot-time set-up (Multiboot memory map -> frame pool; the kernel page directory with
 *          its direct map of RAM and the scratch window), frame allocation for the rest of the
 *          kernel.
 *   vm.c   user address spaces: create, map, unmap, clone for fork (copy-on-write), clear at
 *          exit, destroy, and the page-fault fix-ups (demand-zero, copy-on-write); the counters
 *          of that work (vmstat.h: struct vm_counters vm_counters).
 *
 * All page-table writes go through pv_ops.set_pte/set_ptes; all frames that become page tables
 * are announced with pv_ops.pt_alloc (pvops.h has the contract).
 */
#ifndef KERNEL_MM_H
#define KERNEL_MM_H

#include "types.h"
#include "pgtable.h"
#include "frames.h"
#include "vmlayout.h"
#include "vmstat.h"

struct multiboot_info;

extern struct frame_pool frame_pool;
extern uint32_t kernel_pgdir;      /* physical address of the kernel-only page directory */
extern struct vm_counters vm_counters;   /* vm.c: fork/exit/fault page-table work so far */

/* Builds the frame pool and the kernel page tables, and switches to them. */
void mm_init(const struct multiboot_info *mbi);

/* A zeroed frame (physical address), or 0 when memory is exhausted. */
uint32_t frame_alloc_zeroed(void);
void frame_free(uint32_t pa);

/* The PTE of kernel scratch page `i` (0..1023) at KSCRATCH_BASE + i * 4 KiB. */
pte_t *kscratch_pte(uint32_t i);

/* vm.c */
uint32_t vm_create(void);                              /* new directory, kernel half shared */
void vm_destroy(uint32_t pgdir);                       /* must not be the live one */
pte_t *vm_pte(uint32_t pgdir, uint32_t va, bool create); /* NULL: no table (or no memory) */
int vm_map(uint32_t pgdir, uint32_t va, uint32_t pa, uint32_t flags);
void vm_unmap(uint32_t pgdir, uint32_t start, uint32_t end, bool live);
/* Fork's page-table work: parent must be the live one. Every present user PTE of the parent is
 * stored into child's new tables (read-only + COW where it was writable), every writable one of
 * the parent write-protected; 0, or -ENOMEM (child then holds what was built: vm_destroy it). */
int vm_clone_cow(uint32_t parent, uint32_t child);
/* Exit's page-table work on the live address space pgdir: pv_ops.exit_mmap, then every present
 * user PTE cleared (one store each) and its frame unreferenced. The tables stay allocated: the
 * caller then loads another directory and calls vm_destroy(pgdir). */
void vm_exit_mmap(uint32_t pgdir);
int vm_fix_demand_zero(uint32_t pgdir, uint32_t va);
int vm_fix_cow(uint32_t pgdir, uint32_t va);

#endif
