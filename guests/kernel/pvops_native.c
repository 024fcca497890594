/*
 * pvops_native.c — the native paravirt-ops: the kernel running directly on the (virtual) CPU at
 * ring 0. This file and the early-boot stub (boot.S) are the only places in the kernel that
 * contain privileged instructions; everything else calls through pv_ops (pvops.h). A paravirtual
 * port replaces this file's table with hypercalls and leaves the rest of the kernel alone.
 *
 * Also here: the native drivers for the 8259A PIC pair and the 8254 PIT, since "mask an IRQ",
 * "acknowledge an IRQ" and "program the timer" are pv operations (under Xen they become event
 * channels and set_timer_op), and the TSS, which only native hardware needs.
 */
#include "pvops.h"
#include "desc.h"
#include "layout.h"

void native_iret(void);
__asm__(".text\n"
        ".globl native_iret\n"
        "native_iret:\n"
        "    iret\n");

static uint32_t native_irq_save(void)
{
    uint32_t flags;
    __asm__ volatile("pushfl; popl %0; cli" : "=r"(flags) : : "memory");
    return flags;
}

static void native_irq_restore(uint32_t flags)
{
    __asm__ volatile("pushl %0; popfl" : : "g"(flags) : "memory", "cc");
}

static void native_irq_disable(void) { __asm__ volatile("cli" : : : "memory"); }
static void native_irq_enable(void) { __asm__ volatile("sti" : : : "memory"); }

static void native_load_cr3(uint32_t pa)
{
    __asm__ volatile("movl %0, %%cr3" : : "r"(pa) : "memory");
}

static uint32_t native_read_cr2(void)
{
    uint32_t v;
    __asm__ volatile("movl %%cr2, %0" : "=r"(v));
    return v;
}

static void native_set_pte(pte_t *ptep, pte_t val)
{
    *(volatile pte_t *)ptep = val;
}

static void native_set_ptes(const struct pte_update *u, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        *(volatile pte_t *)u[i].ptep = u[i].val;
}

static void native_flush_tlb(void)
{
    uint32_t cr3;
    __asm__ volatile("movl %%cr3, %0; movl %0, %%cr3" : "=r"(cr3) : : "memory");
}

static void native_invlpg(uint32_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

#define CR4_PGE (1u << 7)

static int native_set_global_pages(bool on)
{
    uint32_t cr4;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    cr4 = on ? cr4 | CR4_PGE : cr4 & ~CR4_PGE;
    __asm__ volatile("mov %0, %%cr4" : : "r"(cr4) : "memory");
    return 0;
}

static void native_pt_alloc(uint32_t pa, int level) { (void)pa; (void)level; }
static void native_pt_release(uint32_t pa, int level) { (void)pa; (void)level; }
static void native_exit_mmap(uint32_t pgdir) { (void)pgdir; }

struct dtr {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

static void native_load_gdt(const void *base, uint16_t limit)
{
    struct dtr d = { limit, (uint32_t)(uintptr_t)base };
    __asm__ volatile("lgdt %0\n"
                     "ljmp %1, $1f\n"
                     "1: movw %w2, %%ax\n"
                     "movw %%ax, %%ds\n movw %%ax, %%es\n movw %%ax, %%ss\n"
                     "xorl %%eax, %%eax\n movw %%ax, %%fs\n movw %%ax, %%gs\n"
                     : : "m"(d), "i"(SEL_KCODE), "i"(SEL_KDATA) : "eax", "memory");
}

static void native_load_idt(const void *base, uint16_t limit)
{
    struct dtr d = { limit, (uint32_t)(uintptr_t)base };
    __asm__ volatile("lidt %0" : : "m"(d) : "memory");
}

static struct tss *native_tss;

static void native_load_tss(uint16_t sel, struct tss *tss)
{
    native_tss = tss;
    __asm__ volatile("ltr %w0" : : "r"(sel) : "memory");
}

static void native_set_kernel_stack(uint32_t esp0)
{
    native_tss->ss0 = SEL_KDATA;
    native_tss->esp0 = esp0;
}

static uint8_t native_inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"(port));
    return v;
}

static void native_outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %b0, %w1" : : "a"(v), "Nd"(port));
}

static uint32_t native_inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void native_outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"(port));
}

/* 8259A pair: master at 0x20/0x21, slave at 0xa0/0xa1 cascaded on IRQ 2. */
#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI   0x20

static void native_intr_init(void)
{
    native_outb(PIC1_CMD, 0x11);        /* ICW1: edge, cascade, ICW4 follows */
    native_outb(PIC2_CMD, 0x11);
    native_outb(PIC1_DATA, 0x20);       /* ICW2: vector bases */
    native_outb(PIC2_DATA, 0x28);
    native_outb(PIC1_DATA, 0x04);       /* ICW3: slave on IRQ 2 */
    native_outb(PIC2_DATA, 0x02);
    native_outb(PIC1_DATA, 0x01);       /* ICW4: 8086 mode */
    native_outb(PIC2_DATA, 0x01);
    native_outb(PIC1_DATA, 0xFB);       /* everything masked but the cascade */
    native_outb(PIC2_DATA, 0xFF);
}

static void native_intr_unmask(int irq)
{
    uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
    native_outb(port, native_inb(port) & (uint8_t)~(1u << (irq & 7)));
}

static void native_intr_eoi(int irq)
{
    if (irq >= 8)
        native_outb(PIC2_CMD, PIC_EOI);
    native_outb(PIC1_CMD, PIC_EOI);
}

/* 8254 channel 0, mode 2 (rate generator), lobyte/hibyte, 1 193 182 Hz input. */
static void native_timer_start(uint32_t hz)
{
    uint32_t divisor = 1193182u / hz;
    native_outb(0x43, 0x34);
    native_outb(0x40, (uint8_t)divisor);
    native_outb(0x40, (uint8_t)(divisor >> 8));
}

static void native_halt(void) { __asm__ volatile("hlt" : : : "memory"); }

const struct pv_ops pvops_native = {
    .iret = native_iret,
    .name = "native",
    .user_cs = SEL_UCODE,
    .user_ds = SEL_UDATA,
    .irq_save = native_irq_save,
    .irq_restore = native_irq_restore,
    .irq_disable = native_irq_disable,
    .irq_enable = native_irq_enable,
    .load_cr3 = native_load_cr3,
    .read_cr2 = native_read_cr2,
    .set_pte = native_set_pte,
    .set_ptes = native_set_ptes,
    .flush_tlb = native_flush_tlb,
    .invlpg = native_invlpg,
    .set_global_pages = native_set_global_pages,
    .pt_alloc = native_pt_alloc,
    .pt_release = native_pt_release,
    .exit_mmap = native_exit_mmap,
    .load_gdt = native_load_gdt,
    .load_idt = native_load_idt,
    .load_tss = native_load_tss,
    .set_kernel_stack = native_set_kernel_stack,
    .inb = native_inb,
    .outb = native_outb,
    .inl = native_inl,
    .outl = native_outl,
    .intr_init = native_intr_init,
    .intr_unmask = native_intr_unmask,
    .intr_eoi = native_intr_eoi,
    .timer_start = native_timer_start,
    .halt = native_halt,
    .console_init = uart_init,
    .console_write = uart_write,
};
