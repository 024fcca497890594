/*
 * desc.c — GDT, IDT and TSS (see desc.h).
 *
 * Segments are flat (base 0, limit 4 GiB): paging does all the protection. Descriptors are built
 * with their Accessed bit already set so the CPU never writes to the GDT on a segment load. Every
 * gate is an interrupt gate (IF cleared on entry) except the system call, a DPL-3 trap gate: system
 * calls run with interrupts enabled, as in Linux, and the kernel is not preemptible (a timer
 * interrupt in kernel mode only sets need_resched, acted on at the return to user mode).
 */
#include "desc.h"
#include "layout.h"
#include "pvops.h"

/* A page of its own (kernel.ld pads section .data.gdt_page), as Linux's gdt_page: a monitor that
 * traces the GDT's frame (trap-classic and bt mirror the guest's GDT, emu/modes/classic_core.h)
 * then sees only GDT writes there, not kernel data that would otherwise share the page. */
uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(4096), section(".data.gdt_page")));
uint64_t idt[IDT_ENTRIES] __attribute__((aligned(8)));
struct tss kernel_tss __attribute__((aligned(128)));

extern const uint32_t trap_vectors[48];  /* entry.S: stubs for vectors 0..47 */
extern void vector_syscall(void);
extern void vector_holes(void);

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (uint64_t)(limit & 0xFFFF) | ((uint64_t)(base & 0xFFFFFF) << 16) |
           ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xF) << 48) |
           ((uint64_t)(flags & 0xF) << 52) | ((uint64_t)(base >> 24) << 56);
}

static uint64_t gate(uint32_t handler, uint8_t type_attr)
{
    return (uint64_t)(handler & 0xFFFF) | ((uint64_t)SEL_KCODE << 16) |
           ((uint64_t)type_attr << 40) | ((uint64_t)(handler >> 16) << 48);
}

#define GATE_INTR_K 0x8E   /* present, DPL 0, 32-bit interrupt gate */
#define GATE_TRAP_U 0xEF   /* present, DPL 3, 32-bit trap gate */

void desc_init(void)
{
    gdt[0] = 0;
    gdt[1] = seg_desc(0, 0xFFFFF, 0x9B, 0xC);   /* kernel code: present, DPL0, exec/read, A */
    gdt[2] = seg_desc(0, 0xFFFFF, 0x93, 0xC);   /* kernel data: present, DPL0, read/write, A */
    gdt[3] = seg_desc(0, 0xFFFFF, 0xFB, 0xC);   /* user code, DPL3 */
    gdt[4] = seg_desc(0, 0xFFFFF, 0xF3, 0xC);   /* user data, DPL3 */
    kernel_tss.ss0 = SEL_KDATA;
    kernel_tss.iomap_base = sizeof(struct tss);  /* no I/O bitmap: ring 3 has no port access */
    gdt[5] = seg_desc((uint32_t)(uintptr_t)&kernel_tss, sizeof(struct tss) - 1, 0x89, 0x0);

    for (int v = 0; v < 48; v++)
        idt[v] = gate(trap_vectors[v], GATE_INTR_K);
    idt[T_SYSCALL] = gate((uint32_t)(uintptr_t)vector_syscall, GATE_TRAP_U);
    idt[T_HOLES] = gate((uint32_t)(uintptr_t)vector_holes, GATE_INTR_K);

    pv_ops.load_gdt(gdt, sizeof(gdt) - 1);
    pv_ops.load_idt(idt, sizeof(idt) - 1);
    pv_ops.load_tss(SEL_TSS, &kernel_tss);
}
