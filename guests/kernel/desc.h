/*
 * desc.h — the descriptor tables: GDT (flat kernel and user segments plus the TSS), IDT (CPU
 * exceptions, the 16 PIC lines, the system call, the holes test vector) and the TSS.
 *
 * Built once at boot by desc_init() and loaded through pv_ops; holes.c reads them back to know
 * what SGDT/SIDT/LAR/LSL/STR would show at true ring 0.
 */
#ifndef KERNEL_DESC_H
#define KERNEL_DESC_H

#include "types.h"

struct tss {
    uint32_t link;
    uint32_t esp0, ss0;
    uint32_t esp1, ss1;
    uint32_t esp2, ss2;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint32_t es, cs, ss, ds, fs, gs, ldt;
    uint16_t trap, iomap_base;
} __attribute__((packed));

#define GDT_ENTRIES 6
#define IDT_ENTRIES 256

#define T_DIVIDE   0
#define T_GPFLT    13
#define T_PGFLT    14
#define T_IRQ0     0x20
#define T_SYSCALL  0x80
#define T_HOLES    0x81   /* `int n` target of the holes workload (DPL 0) */

extern uint64_t gdt[GDT_ENTRIES];
extern uint64_t idt[IDT_ENTRIES];
extern struct tss kernel_tss;

void desc_init(void);

#endif
