/*
 * vmstat.h — the kernel's own count of the page-table work fork, exit and the page-fault handler
 * do (guests/kernel/vm.c keeps it; SYS_VMSTAT copies it out). The counts are the guest's view:
 * entries the kernel wrote, whatever a monitor or hypervisor made of each store. A workload reads
 * them before and after its measured region and prints the difference in its result line, so a
 * test can set the modes' event counts (traced writes, mmu_update elements, validations) against
 * the guest's own numbers. Every field only grows; the guest never resets it.
 */
#ifndef GUEST_VMSTAT_H
#define GUEST_VMSTAT_H

#include "types.h"

struct vm_counters {
    uint32_t forks;            /* address spaces cloned for fork */
    uint32_t fork_child_ptes;  /* PTEs written into a child's new page tables, one per entry */
    uint32_t fork_wrprotects;  /* parent PTEs write-protected for copy-on-write */
    uint32_t fork_tables;      /* page tables built for children (each announced once filled) */
    uint32_t exits;            /* address spaces torn down at exit */
    uint32_t exit_clears;      /* PTEs cleared at exit, one per mapped page */
    uint32_t fault_ptes;       /* PTEs written by the page-fault handler (COW, demand-zero) */
};

#endif
