/*
 * pv.c — `pv`: paravirtualization, Xen style (the interface: guests/include/pv_abi.h).
 *
 * The guest kernel knows it runs on a hypervisor. It runs in ring 1 on its own page tables (direct
 * paging: no shadow), which it may read but changes only through validated hypercalls
 * (pv_hypercall.c, pv_mm.c); its interrupt flag is a mask in a shared page it writes without
 * entering the hypervisor; its faults go through a trap table it registered.
 *
 * Start of day, like Xen's domain builder: the kernel ELF is loaded at its physical addresses; after
 * it the builder lays out, one frame each, the start-info page, the shared-info page, the
 * hypervisor's GDT, IDT and TSS (segment-descriptor pages: the guest maps them read-only and can
 * never map them writable), a 16 KiB boot stack, then the initial page directory and page tables
 * mapping [virt_base, virt_base + mapped_bytes) onto physical memory from 0, page tables read-only.
 * The directory is pinned (every entry validated once) and made the base pointer; the kernel starts
 * at the PV header's entry in ring 1 with ESI pointing at the start info.
 *
 * Where the hypervisor is entered, and what is counted (the funnel records, emu/funnel.h):
 *   hypercall (int 0x82)     class hypercall, reason = number, qualifier = Xen's name, count2 =
 *                            batch elements (calls inside a multicall are rows of the hypercall
 *                            table, not entries); validations (class validation) per table
 *   fault or int n           class hvtrap, reason = vector: a trap into the hypervisor, which
 *                            forwards it through the trap table on a bounce frame (class bounce)
 *   port I/O                 class hvtrap, reason 13, qualifier "in1 0x80": the guest's IN/OUT
 *                            faults (real IOPL 0) and, within the virtual IOPL the kernel set
 *                            with physdev_op, the hypervisor performs it (class io: the device
 *                            is touched), as Xen's emulate_privileged_op; the console's bytes
 *                            go through console_io to the UART, which the hypervisor drives
 *                            (class io per register access, as the native driver's)
 *   hardware interrupt       class hvtrap, qualifier irqN: the hypervisor's own timer (its EOI and
 *                            PIT programming are device accesses, class io); it becomes an event,
 *                            delivered as an upcall (class upcall)
 *   fast system call         class softint only: the CPU reaches the guest's handler directly
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/deliver.h"
#include "emu/modes/emul_io.h"
#include "emu/modes/emul_write.h"
#include "emu/modes/mode.h"
#include "emu/modes/pv.h"

#define MAX_SCAN 8192
#define BOOT_STACK_PAGES 4

static void on_validate(void *opaque, uint32_t frame, int level, unsigned entries, int outcome)
{
    funnel_validation(opaque, frame, level, entries, outcome);
}

void pv_hv_outb(struct machine *m, uint16_t port, uint8_t v)
{
    uint32_t val = v;
    funnel_port(m, port, 1, false, &val, 0, 0);
}

uint8_t pv_hv_inb(struct machine *m, uint16_t port)
{
    uint32_t val = 0;
    funnel_port(m, port, 1, true, &val, 0, 0);
    return (uint8_t)val;
}

static const struct pv_header *find_header(struct machine *m, uint32_t lo, uint32_t hi)
{
    for (uint32_t a = lo; a + sizeof(struct pv_header) <= hi && a < lo + MAX_SCAN; a += 4) {
        const struct pv_header *h = (const struct pv_header *)(m->ram + a);
        if (h->magic == PV_HEADER_MAGIC && h->version == PV_HEADER_VERSION)
            return h;
    }
    return NULL;
}

static void put_desc(uint8_t *tab, unsigned i, uint32_t base, uint32_t limit, uint8_t access,
                     uint8_t flags)
{
    uint64_t d = (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
                 ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
                 ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
    memcpy(tab + i * 8, &d, 8);
}

int pv_seg(struct machine *m, uint16_t sel, struct uq_seg *out)
{
    struct pv *p = pv_of(m);
    unsigned i = sel >> 3;
    if (i == 0 || i >= PV_GDT_ENTRIES)
        return -1;
    uint64_t d;
    memcpy(&d, m->ram + p->gdt_pa + i * 8, 8);
    out->selector = sel;
    out->base = 0;
    out->limit = ((uint32_t)(d & 0xffff) | (uint32_t)((d >> 32) & 0xf0000)) << 12 | 0xfff;
    out->flags = (uint32_t)(d >> 32);
    return 0;
}

static int builder(struct machine *m, const struct boot_info *bi, char *errbuf, unsigned errlen)
{
    struct pv *p = pv_of(m);
    const struct pv_header *h = find_header(m, bi->load_low, bi->load_high);
    if (!h) {
        snprintf(errbuf, errlen, "the guest has no PV header: it is not a paravirtualized kernel");
        return -2;
    }
    p->virt_base = h->virt_base;
    uint32_t entry = h->entry;
    uint32_t nr = (uint32_t)(m->ram_size >> 12);
    uint32_t alloc = (bi->load_high + 0xfffu) >> 12;   /* first free frame */
    uint32_t si = alloc, sh = alloc + 1, gdt = alloc + 2, idt = alloc + 3, tss = alloc + 4;
    uint32_t stack = alloc + 5, l2 = stack + BOOT_STACK_PAGES, l1 = l2 + 1;
    uint32_t mapped = 4u << 20, nl1;
    for (;;) {
        nl1 = mapped >> 22;
        if (((l1 + nl1) << 12) + (512u << 10) <= mapped)
            break;
        mapped += 4u << 20;
    }
    if (mapped > m->ram_size || (uint64_t)p->virt_base + mapped > HYPERVISOR_VIRT_START ||
        (p->virt_base & 0x3fffff)) {
        snprintf(errbuf, errlen, "cannot build the PV domain: %u MiB of RAM, kernel base 0x%08x",
                 (unsigned)(m->ram_size >> 20), p->virt_base);
        return -2;
    }
    uint32_t first_free = l1 + nl1;
    memset(m->ram + ((uint64_t)si << 12), 0, (size_t)(first_free - si) << 12);
    p->start_info_pa = si << 12;
    p->shared_info_pa = sh << 12;
    p->gdt_pa = gdt << 12;
    p->idt_pa = idt << 12;
    p->tss_pa = tss << 12;
    p->gdt_va = p->virt_base + p->gdt_pa;
    p->idt_va = p->virt_base + p->idt_pa;
    p->tss_va = p->virt_base + p->tss_pa;
    /* Initial mapping: everything read-write but the page tables and descriptor pages. */
    for (uint32_t f = 0; f < (mapped >> 12); f++) {
        bool ro = (f >= l2 && f < first_free) || f == gdt || f == idt || f == tss;
        uint32_t pte = (f << 12) | PTE_P | (ro ? 0 : PTE_W);
        memcpy(m->ram + ((uint64_t)(l1 + (f >> 10)) << 12) + (f & 1023) * 4, &pte, 4);
    }
    for (uint32_t i = 0; i < nl1; i++) {
        uint32_t pde = ((l1 + i) << 12) | PTE_P | PTE_W;
        memcpy(m->ram + ((uint64_t)l2 << 12) + ((p->virt_base >> 22) + i) * 4, &pde, 4);
    }
    /* The hypervisor's GDT: ring-1 and ring-3 flat segments up to the hypervisor's range. */
    uint32_t lim = (HYPERVISOR_VIRT_START >> 12) - 1;
    uint8_t *g = m->ram + p->gdt_pa;
    put_desc(g, 1, 0, lim, 0xbb, 0xc);   /* ring-1 code, accessed */
    put_desc(g, 2, 0, lim, 0xb3, 0xc);   /* ring-1 data */
    put_desc(g, 3, 0, lim, 0xfb, 0xc);   /* ring-3 code */
    put_desc(g, 4, 0, lim, 0xf3, 0xc);   /* ring-3 data */
    /* I/O bitmap: every port denied but vmlab's instrumentation ports. */
    uint16_t iomap = 0x68;
    memcpy(m->ram + p->tss_pa + 0x66, &iomap, 2);
    memset(m->ram + p->tss_pa + 0x68, 0xff, 8192 / 8 + 1);
    m->ram[p->tss_pa + 0x68 + PV_PHASE_PORT / 8] &= (uint8_t)~(0xfu << (PV_PHASE_PORT % 8));
    m->ram[p->tss_pa + 0x68 + PV_DEBUG_EXIT_PORT / 8] &= (uint8_t)~(0xfu << (PV_DEBUG_EXIT_PORT % 8));
    /* Start info and shared info. */
    struct pv_start_info *s = (struct pv_start_info *)(m->ram + p->start_info_pa);
    snprintf(s->magic, sizeof s->magic, "%s", PV_START_MAGIC);
    s->nr_pages = nr;
    s->shared_info = p->virt_base + p->shared_info_pa;
    s->pt_base = p->virt_base + (l2 << 12);
    s->nr_pt_frames = 1 + nl1;
    s->first_free_pfn = first_free;
    s->mapped_bytes = mapped;
    snprintf(s->cmd_line, sizeof s->cmd_line, "%s", m->cfg.cmdline ? m->cfg.cmdline : "");
    struct pv_shared_info *shi = pv_shared(m);
    shi->vcpu_info.evtchn_upcall_mask = 1;
    shi->ips = m->cfg.ips;
    /* Direct paging: descriptor pages typed, the directory pinned (validating every table). */
    if (pvmm_init(&p->mm, m->ram, nr, HYPERVISOR_VIRT_START) < 0) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    p->mm.on_validate = on_validate;
    p->mm.opaque = m;
    if (pvmm_get_type(&p->mm, gdt, PVMM_SEGDESC) || pvmm_get_type(&p->mm, idt, PVMM_SEGDESC) ||
        pvmm_get_type(&p->mm, tss, PVMM_SEGDESC) || pvmm_pin(&p->mm, l2, 2) ||
        pvmm_new_baseptr(&p->mm, l2, &p->base)) {
        snprintf(errbuf, errlen, "the initial page tables do not validate: %s", p->mm.last_error);
        return -1;
    }
    /* The CPU: paging on the guest's tables, ring 1. */
    uint64_t cr4 = 0, cr3 = (uint64_t)l2 << 12, cr0 = CR0_PE | CR0_PG | CR0_WP | (1u << 4);
    tlb_set_cr(m, 4, cr4);
    tlb_set_cr(m, 3, cr3);
    tlb_set_cr(m, 0, cr0);
    uc_x86_mmr gdtr = {.base = p->gdt_va, .limit = PV_GDT_ENTRIES * 8 - 1};
    uc_x86_mmr idtr = {.base = p->idt_va, .limit = 256 * 8 - 1};
    uc_x86_mmr tr = {.selector = PV_SEL_TSS, .base = p->tss_va, .limit = PV_TSS_LIMIT,
                     .flags = 0x8b00};
    uc_reg_write(m->uc, UC_X86_REG_GDTR, &gdtr);
    uc_reg_write(m->uc, UC_X86_REG_IDTR, &idtr);
    uc_reg_write(m->uc, UC_X86_REG_TR, &tr);
    struct uq_seg cs, ds;
    pv_seg(m, PV_SEL_CS1, &cs);
    pv_seg(m, PV_SEL_DS1, &ds);
    const struct uq_seg *segs[UQ_NSEG] = {&ds, &cs, &ds, &ds, &ds, &ds};
    if (uq_load_segs(&m->quirks, m->uc, segs, 1, NULL) < 0) {
        snprintf(errbuf, errlen, "unicorn refused the ring-1 start state");
        return -1;
    }
    uint32_t esp = p->virt_base + ((stack + BOOT_STACK_PAGES) << 12);
    uint32_t esi = p->virt_base + p->start_info_pa;
    uint32_t eflags = 0x202, zero = 0;
    uc_reg_write(m->uc, UC_X86_REG_ESP, &esp);
    uc_reg_write(m->uc, UC_X86_REG_ESI, &esi);
    uc_reg_write(m->uc, UC_X86_REG_EFLAGS, &eflags);
    uc_reg_write(m->uc, UC_X86_REG_EAX, &zero);
    uc_reg_write(m->uc, UC_X86_REG_EIP, &entry);
    pv_build_idt(m);
    return 0;
}

/* The hypervisor owns the PIC, the PIT and the console UART: IRQ 0 only, edge, vector 0x20; the
 * UART programmed as the native kernel programs it (115200 8N1, FIFO, no interrupts), since the
 * console's bytes reach it through the hypervisor (console_io). */
static void hw_init(struct machine *m)
{
    static const uint16_t seq[][2] = {{0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01},
                                      {0xa0, 0x11}, {0xa1, 0x28}, {0xa1, 0x02}, {0xa1, 0x01},
                                      {0x21, 0xfe}, {0xa1, 0xff}, {0x43, 0x30},
                                      {0x3f9, 0x00}, {0x3fb, 0x80}, {0x3f8, 0x01}, {0x3f9, 0x00},
                                      {0x3fb, 0x03}, {0x3fa, 0xc7}, {0x3fc, 0x03}};
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        pv_hv_outb(m, seq[i][0], (uint8_t)seq[i][1]);
}

static int pv_setup(struct machine *m, const struct boot_info *bi, char *errbuf, unsigned errlen)
{
    struct pv *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    m->mode_state = p;
    hw_init(m);
    return builder(m, bi, errbuf, errlen);
}

static void pv_teardown(struct machine *m)
{
    struct pv *p = pv_of(m);
    if (!p)
        return;
    pvmm_free(&p->mm);
    free(p);
    m->mode_state = NULL;
}

/* The real IDT, built by the hypervisor from the domain's trap table: one 32-bit trap gate per
 * registered vector, nothing else. Xen's HYPERVISOR_set_trap_table takes (vector, flags, cs,
 * address) entries and has no task gates, so a PV kernel cannot ask for a hardware task switch
 * (Linux's Xen PV code drops task gates when it turns its IDT into a trap table):
 * the task-switch code (emu/taskswitch.c) is unreachable from a pv domain, and pv_classify ends
 * the run should delivery ever find one. */
void pv_build_idt(struct machine *m)
{
    struct pv *p = pv_of(m);
    uint8_t *idt = m->ram + p->idt_pa;
    memset(idt, 0, 4096);
    for (int v = 0; v < 256; v++) {
        const struct pv_trap_info *t = &p->traps[v];
        uint32_t addr = t->address, sel = PV_SEL_CS1, dpl = PV_TRAP_DPL(t->flags);
        if (v == PV_UPCALL_VECTOR && p->event_eip) {
            addr = p->event_eip;
            dpl = 1;
        }
        if (!addr)
            continue;
        /* Trap gates: the real IF stays set; the guest's own flag is the event mask. */
        uint32_t lo = (sel << 16) | (addr & 0xffff);
        uint32_t hi = (addr & 0xffff0000u) | (1u << 15) | (dpl << 13) | (0xfu << 8);
        memcpy(idt + v * 8, &lo, 4);
        memcpy(idt + v * 8 + 4, &hi, 4);
    }
}

void pv_arm_timer(struct machine *m)
{
    struct pv *p = pv_of(m);
    if (!p->timer_deadline)
        return;
    uint64_t now = machine_now(m);
    uint64_t d = p->timer_deadline > now ? p->timer_deadline - now : 1;
    uint64_t ticks = (d * PIT_HZ + m->cfg.ips - 1) / m->cfg.ips;
    if (ticks < 1)
        ticks = 1;
    if (ticks > 0xffff)
        ticks = 0xffff;   /* longer waits re-arm on the way */
    pv_hv_outb(m, 0x43, 0x30);                      /* channel 0, lobyte/hibyte, mode 0 */
    pv_hv_outb(m, 0x40, ticks & 0xff);
    pv_hv_outb(m, 0x40, (ticks >> 8) & 0xff);
}

void pv_evtchn_set_pending(struct machine *m, uint32_t port)
{
    struct pv_shared_info *s = pv_shared(m);
    uint32_t bit = 1u << (port % 32);
    s->evtchn_pending[port / 32] |= bit;
    if (s->evtchn_mask[port / 32] & bit)
        return;
    s->vcpu_info.evtchn_pending_sel |= 1u << (port / 32);
    s->vcpu_info.evtchn_upcall_pending = 1;
}

int pv_deliver_events(struct machine *m)
{
    struct pv *p = pv_of(m);
    struct pv_shared_info *s = pv_shared(m);
    /* Guest time as of this return to the guest (RDTSC gives it exactly at any moment). */
    s->system_time = machine_now(m);
    if (!s->vcpu_info.evtchn_upcall_pending || s->vcpu_info.evtchn_upcall_mask || !p->event_eip)
        return 0;
    s->vcpu_info.evtchn_upcall_mask = 1;
    uint32_t eip = 0;
    uc_reg_read(m->uc, UC_X86_REG_EIP, &eip);
    struct xevent x = {.kind = XK_EXTINT, .vector = PV_UPCALL_VECTOR, .eip = eip, .insn_eip = eip,
                       .irq = -1};
    return funnel_deliver(m, &x, DLV_UPCALL);
}

/* A fault or int n the hypervisor forwards through the trap table (a bounce frame), or a fast
 * system-call trap the CPU delivers itself. */
static int bounce(struct machine *m, const struct xevent *ev)
{
    struct pv *p = pv_of(m);
    const struct pv_trap_info *t = &p->traps[ev->vector];
    bool fast = ev->kind == XK_SOFTINT && (t->flags & PV_TRAP_FAST);
    if (ev->kind == XK_FAULT && ev->vector == 14)
        pv_shared(m)->vcpu_info.cr2 = ev->cr2;
    if (funnel_deliver(m, ev, fast ? DLV_CPU : DLV_MODE) < 0)
        return -1;
    if (t->flags & PV_TRAP_MASK_EVENTS)
        pv_shared(m)->vcpu_info.evtchn_upcall_mask = 1;
    return pv_deliver_events(m);
}

/* Ports the hypervisor keeps for itself, whatever the domain's I/O privilege (as Xen denies its
 * PIC, PIT and console UART to dom0): the PIC pair, the PIT and COM1. */
static bool hypervisor_port(uint16_t port, unsigned size)
{
    static const uint16_t own[][2] = {{0x20, 0x21}, {0xa0, 0xa1}, {0x40, 0x43}, {0x3f8, 0x3ff}};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (port + size - 1u >= own[i][0] && port <= own[i][1])
            return true;
    return false;
}

/* The IN/OUT at ev->eip that faulted (#GP, the real IOPL being 0), decoded into `in`, if the
 * hypervisor performs it for the domain: the faulting ring is within the virtual IOPL and the
 * port is not one the hypervisor keeps. */
static bool domain_io(struct machine *m, const struct xevent *ev, cs_insn *in, uint16_t *port,
                      unsigned *size, bool *is_in)
{
    return in && emul_decode(m, ev->eip, in) == 0 &&
           emul_io_decode(m, in, port, size, is_in) == 0 && !hypervisor_port(*port, *size);
}

/* Whether ev can be a port access the hypervisor performs: a #GP within the virtual IOPL (the
 * cheap test, before anything is decoded). */
static bool may_be_domain_io(struct machine *m, const struct xevent *ev)
{
    return ev->kind == XK_FAULT && ev->vector == 13 &&
           (uint32_t)machine_cpl(m) <= pv_of(m)->iopl;
}

/* The qualifier of a #GP on a port instruction the hypervisor will perform ("in1 0x80"). */
static bool io_cause(struct machine *m, const struct xevent *ev, char *q, unsigned len)
{
    if (!may_be_domain_io(m, ev))
        return false;
    cs_insn *in = cs_malloc(m->cs);
    uint16_t port;
    unsigned size;
    bool is_in, ok = domain_io(m, ev, in, &port, &size, &is_in);
    if (ok)
        emul_io_cause(port, size, is_in, q, len);
    if (in)
        cs_free(in, 1);
    return ok;
}

static bool is_hypercall(struct machine *m, const struct xevent *ev)
{
    return ev->kind == XK_SOFTINT && ev->vector == HYPERCALL_VECTOR && machine_cpl(m) == 1;
}

/* A hypercall (by number and Xen's name), a trap into the hypervisor (by vector: faults, int n
 * without a fast trap gate, the hypervisor's own interrupts), or nothing (a fast trap: the CPU
 * enters the guest's handler itself). */
static void pv_classify(struct machine *m, const struct vexit *x, struct exit_decl *d)
{
    const struct xevent *ev = x->ev;
    if (x->kind == VX_SITE)
        return;
    if (x->kind == VX_TASK_SWITCH) {
        /* Unreachable: the IDT the domain runs on is the hypervisor's (pv_build_idt), with trap
         * gates only. Should delivery ever find a task gate there, the run ends before any task
         * switch is made. */
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                    "pv: delivery of vector %u found a task gate in the hypervisor's IDT",
                    ev->vector);
        return;
    }
    if (x->kind == VX_EXCEPTION && is_hypercall(m, ev)) {
        uint32_t nr = 0;
        uc_reg_read(m->uc, UC_X86_REG_EAX, &nr);
        d->cls = EV_HYPERCALL;
        d->reason = nr;
        emul_put_str(d->qual, sizeof d->qual, pv_hypercall_name(nr));
        return;
    }
    if (x->kind == VX_EXCEPTION && ev->kind == XK_SOFTINT &&
        (pv_of(m)->traps[ev->vector].flags & PV_TRAP_FAST))
        return;
    const char *n = vector_name(ev->vector);
    d->cls = EV_HVTRAP;
    d->reason = ev->vector;
    if (x->kind == VX_INTERRUPT)
        snprintf(d->qual, sizeof d->qual, "irq%d", ev->irq);
    else if (!io_cause(m, ev, d->qual, sizeof d->qual))
        emul_put_str(d->qual, sizeof d->qual, ev->kind == XK_SOFTINT ? "int" : n ? n : "");
}

/* The guest's IN/OUT at ev->eip, which faulted (#GP) because the real IOPL is 0: if the
 * hypervisor performs it for the domain (domain_io), the access is made on the device (class io)
 * and EIP moved past it, and 1 is returned; 0 if the #GP is the guest's own. */
static int guest_io(struct machine *m, const struct xevent *ev)
{
    if (!may_be_domain_io(m, ev))
        return 0;
    cs_insn *in = cs_malloc(m->cs);
    uint16_t port;
    unsigned size;
    bool is_in;
    int r = domain_io(m, ev, in, &port, &size, &is_in) &&
            emul_io(m, in, ev->eip, machine_cpl(m)) == 0;
    if (r) {
        uint32_t next = ev->eip + in->size;
        machine_set_eip(m, next);
        machine_retire_emulated(m, in->id == X86_INS_IN ? IC_IN : IC_OUT);
    }
    if (in)
        cs_free(in, 1);
    return r;
}

static bool pv_still_halted(struct machine *m);

/* A hypercall that blocked the domain (SCHEDOP_block with no event pending) leaves it waiting
 * until an event is: the loop halts, and still_halted keeps it halted across interrupts that
 * bring none. */
static struct action pv_exception(struct machine *m, const struct xevent *ev)
{
    if (guest_io(m, ev)) {
        if (m->end || uq_exception_done(&m->quirks, m->uc, NULL) < 0)
            return act(ACT_END);
        return act_rc(pv_deliver_events(m));
    }
    if (is_hypercall(m, ev)) {
        if (uq_exception_done(&m->quirks, m->uc, NULL) < 0 || pv_hypercall(m, ev->eip) < 0 ||
            m->end)
            return act(ACT_END);
        if (pv_of(m)->iret_gp) {
            /* HYPERVISOR_iret refused its frame: the guest kernel gets the #GP, at its call. */
            struct xevent gp = {.kind = XK_FAULT, .vector = 13, .has_error = true,
                                .eip = ev->insn_eip, .insn_eip = ev->insn_eip};
            uint32_t nr = __HYPERVISOR_iret;   /* EAX as at the call: nothing changed */
            pv_of(m)->iret_gp = false;
            uc_reg_write(m->uc, UC_X86_REG_EAX, &nr);
            machine_set_eip(m, gp.eip);
            return act_rc(bounce(m, &gp));
        }
        /* (an event may have come during the call: a multicall's send) */
        return pv_still_halted(m) ? act(ACT_HALT) : act_rc(pv_deliver_events(m));
    }
    return act_rc(bounce(m, ev));
}

/* Handled in the interrupt hook (mode.h, exception_in_hook): a bounce (delivery to the guest's
 * handler) and the hypercalls whose work is registers, guest memory, page tables and TLB flushes
 * (pv_hypercall_in_hook: iret, the MMU's, batches of those), then events delivered the same way.
 * Not a #GP that may be a port access the hypervisor performs (a device: it may raise an
 * interrupt), nor any other hypercall (blocking, timers, event channels, the console). */
static bool pv_exception_in_hook(struct machine *m, const struct xevent *ev)
{
    if (is_hypercall(m, ev)) {
        uint32_t nr = 0, list = 0, count = 0;
        uc_reg_read(m->uc, UC_X86_REG_EAX, &nr);
        uc_reg_read(m->uc, UC_X86_REG_EBX, &list);
        uc_reg_read(m->uc, UC_X86_REG_ECX, &count);
        return pv_hypercall_in_hook(m, nr, list, count);
    }
    return !may_be_domain_io(m, ev);
}

static bool pv_still_halted(struct machine *m)
{
    struct pv *p = pv_of(m);
    if (p->blocked && !pv_shared(m)->vcpu_info.evtchn_upcall_pending)
        return true;
    p->blocked = false;
    return false;
}

static struct action pv_interrupt(struct machine *m, const struct xevent *ev)
{
    struct pv *p = pv_of(m);
    pv_hv_outb(m, 0x20, 0x20);                      /* the hypervisor's EOI */
    if (ev->irq == 0 && p->timer_deadline) {
        if (machine_now(m) >= p->timer_deadline) {
            p->timer_deadline = 0;
            if (p->timer_bound)
                pv_evtchn_set_pending(m, PV_TIMER_PORT);
        } else {
            pv_arm_timer(m);
        }
    }
    return act_rc(pv_deliver_events(m));
}

static bool pv_irq_open(struct machine *m) { return true; }

static void pv_cpu_view(struct machine *m, struct cpu_view *v)
{
    struct pv *p = pv_of(m);
    deliver_real_view(m, v);
    /* The frame's IF is the interrupted context's event mask, inverted (as Xen writes it): the
     * guest's iret restores the mask from it. Its IOPL is the domain's virtual IOPL (Xen's
     * architectural IOPL), which HYPERVISOR_iret takes back from the frame. */
    if (pv_shared(m)->vcpu_info.evtchn_upcall_mask)
        v->eflags &= ~(1u << 9);
    else
        v->eflags |= 1u << 9;
    v->eflags = (v->eflags & ~(3u << 12)) | (p->iopl & 3) << 12;
    v->idt_base = p->idt_va;
    v->idt_limit = 256 * 8 - 1;
    v->gdt_base = p->gdt_va;
    v->gdt_limit = PV_GDT_ENTRIES * 8 - 1;
    v->tr_sel = PV_SEL_TSS;
    v->tr_base = p->tss_va;
    v->tr_limit = PV_TSS_LIMIT;
    v->kernel_ring = 1;
}

const struct mode_ops mode_pv = {
    .name = "pv",
    .summary = "paravirtualization, Xen style: hypercalls, validated direct paging, event upcalls",
    .classes = EV_BIT(INSN) | EV_BIT(PRIV) | EV_BIT(SOFTINT) | EV_BIT(IO) | EV_BIT(HALT) |
               EV_BIT(HYPERCALL) | EV_BIT(HVTRAP) | EV_BIT(BOUNCE) | EV_BIT(UPCALL) |
               EV_BIT(VALIDATION) | EV_BIT(REFUSAL),
    .deliver_class = EV_BOUNCE,
    .classify = pv_classify,
    .setup = pv_setup,
    .exception = pv_exception,
    .exception_in_hook = pv_exception_in_hook,
    .interrupt = pv_interrupt,
    .irq_open = pv_irq_open,
    .still_halted = pv_still_halted,
    .teardown = pv_teardown,
    .cpu_view = pv_cpu_view,
};
