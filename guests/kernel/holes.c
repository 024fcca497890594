/*
 * holes.c — the holes workload: from kernel context, execute each sensitive-but-unprivileged
 * x86 instruction (Robin & Irvine's list; Popek–Goldberg violations) and print what it showed
 * next to what it shows at true ring 0.
 *
 * This file (with holes_asm.S) is the one deliberate exception to "no sensitive instructions
 * outside pvops_native.c": executing them unmediated is the point. None of them is privileged, so
 * on a ring-compressed kernel they run without trapping and may see the monitor's state instead
 * of the guest's. The expected values come from what the kernel itself set up: its GDT/IDT
 * (address and limit, descriptor contents), no LDT, the TSS selector, CR0 as the boot stub read
 * it (boot_cr0), interrupts as the kernel believes them to be (disabled with pv_ops.irq_disable
 * for PUSHF, enabled for POPF), and its own selectors (RPL 0). One line per probe:
 *
 *     hole <name> observed=<hex> expected=<hex> equal=<0|1>
 *
 * holes_run() returns how many differ (0 at true ring 0). Far CALL/JMP/RET and INT n each get a
 * line, as do PUSH CS and PUSH SS: 19 probes for the 17 instructions.
 */
#include "kernel.h"
#include "desc.h"
#include "layout.h"
#include "pvops.h"
#include "syscall_nr.h"
#include "trap.h"

extern uint32_t boot_cr0;
uint32_t hole_call_far(void);
uint32_t hole_jmp_far(void);
uint32_t hole_ret_far(void);
extern const char hole_ret_far_lret[], hole_ret_far_faulted[];
void hole_int_n(void);

static volatile uint32_t int_n_cs;

void holes_int_handler(struct trapframe *tf)
{
    int_n_cs = tf->cs & 0xFFFF;
}

bool holes_fixup(struct trapframe *tf)
{
    if (tf->vector != T_GPFLT || tf->eip != (uint32_t)(uintptr_t)hole_ret_far_lret)
        return false;
    tf->eip = (uint32_t)(uintptr_t)hole_ret_far_faulted;
    return true;
}

struct dtr_image {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

static int report(const char *name, uint32_t observed, uint32_t expected)
{
    int equal = observed == expected;
    kprintf("hole %-8s observed=%08x expected=%08x equal=%d\n", name, observed, expected, equal);
    return !equal;
}

static int report_dtr(const char *name, const struct dtr_image *d, const void *base, uint32_t size)
{
    int equal = d->base == (uint32_t)(uintptr_t)base && d->limit == size - 1;
    kprintf("hole %-8s observed=%08x/%04x expected=%08x/%04x equal=%d\n", name, d->base, d->limit,
            (uint32_t)(uintptr_t)base, size - 1, equal);
    return !equal;
}

static uint32_t gdt_access_rights(uint16_t sel)
{
    return (uint32_t)(gdt[sel >> 3] >> 32) & 0x00F0FF00u;
}

static uint32_t gdt_limit(uint16_t sel)
{
    uint64_t d = gdt[sel >> 3];
    uint32_t limit = (uint32_t)(d & 0xFFFF) | (uint32_t)((d >> 32) & 0xF0000);
    return (d & (1ull << 55)) ? (limit << 12) | 0xFFF : limit;
}

static int probe_tables(void)
{
    struct dtr_image g, i;
    uint16_t ldt, msw, tr;
    int bad = 0;
    __asm__ volatile("sgdt %0" : "=m"(g));
    bad += report_dtr("sgdt", &g, gdt, sizeof(gdt));
    __asm__ volatile("sidt %0" : "=m"(i));
    bad += report_dtr("sidt", &i, idt, sizeof(idt));
    __asm__ volatile("sldt %0" : "=r"(ldt));
    bad += report("sldt", ldt, 0);
    __asm__ volatile("smsw %0" : "=r"(msw));
    bad += report("smsw", msw, boot_cr0 & 0xFFFF);
    __asm__ volatile("str %0" : "=r"(tr));
    bad += report("str", tr, SEL_TSS);
    return bad;
}

static int probe_flags(void)
{
    uint32_t f, after;
    int bad = 0;
    pv_ops.irq_disable();
    __asm__ volatile("pushfl; popl %0" : "=r"(f));
    pv_ops.irq_enable();
    bad += report("pushf", f & (EFLAGS_IF | EFLAGS_IOPL), 0);
    __asm__ volatile("pushfl; popl %0" : "=r"(f));
    __asm__ volatile("pushl %1; popfl; pushfl; popl %0" : "=r"(after) : "r"(f & ~EFLAGS_IF)
                     : "cc", "memory");
    pv_ops.irq_enable();
    bad += report("popf", after & EFLAGS_IF, 0);
    return bad;
}

static int probe_descriptors(void)
{
    uint32_t v;
    uint8_t ok;
    int bad = 0;
    __asm__ volatile("lar %2, %0; setz %1" : "=r"(v), "=q"(ok) : "r"((uint32_t)SEL_KCODE), "0"(0)
                     : "cc");
    bad += report("lar", ok ? v : 0xFFFFFFFFu, gdt_access_rights(SEL_KCODE));
    __asm__ volatile("lsl %2, %0; setz %1" : "=r"(v), "=q"(ok) : "r"((uint32_t)SEL_KDATA), "0"(0)
                     : "cc");
    bad += report("lsl", ok ? v : 0, gdt_limit(SEL_KDATA));   /* 0: lsl refused the selector */
    __asm__ volatile("verr %w1; setz %0" : "=q"(ok) : "r"((uint32_t)SEL_KCODE) : "cc");
    bad += report("verr", ok, 1);
    __asm__ volatile("verw %w1; setz %0" : "=q"(ok) : "r"((uint32_t)SEL_KDATA) : "cc");
    bad += report("verw", ok, 1);
    return bad;
}

static int probe_segments(void)
{
    uint32_t v;
    int bad = 0;
    __asm__ volatile("pushl %1; popl %%es; movw %%es, %w0; movzwl %w0, %0"
                     : "=r"(v) : "i"(SEL_KDATA) : "memory");
    bad += report("pop_seg", v, SEL_KDATA);
    __asm__ volatile("pushl %%cs; popl %0" : "=r"(v));
    bad += report("push_cs", v & 0xFFFF, SEL_KCODE);
    __asm__ volatile("pushl %%ss; popl %0" : "=r"(v));
    bad += report("push_ss", v & 0xFFFF, SEL_KDATA);
    __asm__ volatile("movw %%ds, %w0; movw %w0, %%fs; movw %%fs, %w0; movzwl %w0, %0" : "=r"(v));
    bad += report("mov_seg", v, SEL_KDATA);
    return bad;
}

static int probe_far_transfers(void)
{
    int bad = 0;
    bad += report("call_far", hole_call_far(), SEL_KCODE);
    bad += report("jmp_far", hole_jmp_far(), SEL_KCODE);
    bad += report("ret_far", hole_ret_far(), SEL_KCODE);
    int_n_cs = 0xFFFFFFFFu;
    hole_int_n();
    bad += report("int_n", int_n_cs, SEL_KCODE);
    return bad;
}

int holes_run(void)
{
    phase_mark(PHASE_MEASURE);
    int bad = probe_tables() + probe_flags() + probe_descriptors() + probe_segments() +
              probe_far_transfers();
    phase_mark(PHASE_TEARDOWN);
    return bad;
}
