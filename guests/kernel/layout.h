/*
 * layout.h — where things live, in physical and in linear (virtual) memory.
 *
 *   linear                          what
 *   0x00000000 - 0x08047fff         never mapped (catches NULL and small-pointer bugs)
 *   0x08048000 - heap_start         the program's ELF segments, loaded at exec
 *   heap_start - brk                heap (brk/sbrk), demand-zero
 *   0x40000000 - 0x7fffffff         anonymous mmap regions, demand-zero
 *   0xbf000000 - 0xbfffffff         user stack (16 MiB, demand-zero below the first page)
 *   0xc0000000 - 0xc0000000+RAM     the kernel: a direct map of physical memory, at most 64 MiB;
 *                                   the kernel image sits in it at physical 1 MiB
 *   0xfbc00000 - 0xfbffffff         kernel scratch window (one page table: benchmark pages)
 *   0xfc000000 - 0xffffffff         RESERVED for the monitor (as Xen's top 64 MiB): never mapped,
 *                                   never touched by this kernel
 *
 * Every address space shares the kernel part (page-directory entries 768..1007): the kernel's page
 * tables are all created at boot and never change afterwards, so a new address space copies those
 * directory entries once and they stay valid for ever.
 */
#ifndef KERNEL_LAYOUT_H
#define KERNEL_LAYOUT_H

#define KERNEL_BASE      0xC0000000u
#define KERNEL_PHYS_MAX  0x04000000u   /* RAM used and direct-mapped: at most 64 MiB */
#define KERNEL_LOAD_PHYS 0x00100000u   /* the image starts at 1 MiB */
#define KSCRATCH_BASE    0xFBC00000u   /* 4 MiB window, one page table */
#define MONITOR_HOLE     0xFC000000u   /* first reserved address */

#define USER_TEXT        0x08048000u
#define USER_MMAP_BASE   0x40000000u
#define USER_MMAP_END    0x80000000u
#define USER_STACK_LO    0xBF000000u
#define USER_STACK_TOP   0xC0000000u

#define PAGE_SIZE        4096u
#define PAGE_SHIFT       12

#define KERNEL_PDE_FIRST (KERNEL_BASE >> 22)          /* 768 */
#define KERNEL_PDE_END   (MONITOR_HOLE >> 22)         /* 1008: exclusive */

#define P2V(pa) ((void *)((uintptr_t)(pa) + KERNEL_BASE))
#define V2P(va) ((uint32_t)((uintptr_t)(va) - KERNEL_BASE))

/* Segment selectors of the kernel's GDT (desc.c). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B   /* 0x18 | RPL 3 */
#define SEL_UDATA 0x23   /* 0x20 | RPL 3 */
#define SEL_TSS   0x28

/* Machine ports that are not device registers. */
#define PORT_DEBUG_EXIT 0xf4   /* isa-debug-exit: status (V << 1) | 1 */
#define PORT_PHASE      0xe0   /* vmlab's phase marker */
#define PORT_POST       0x80   /* POST code port, reads 0xff */
#define EXIT_SUCCESS_CODE 0x10 /* status 33 */
#define EXIT_FAILURE_CODE 0x11 /* status 35 */

#endif
