/*
 * pvops_pv.c — the paravirtual pv-ops: the kernel as a guest of vmlab's `pv` hypervisor, Xen
 * x86_32 style (the contract is guests/include/pv_abi.h), ported the way XenoLinux was: the rest of
 * the kernel is unchanged and calls pv_ops; this file turns each operation into a store to the
 * shared-info page or a hypercall (int $0x82).
 *
 * Start of day. The hypervisor's domain builder finds the PV header (boot.S), maps the image at
 * KERNEL_BASE + physical on page tables of its own (pinned, read-only to us), and enters pv_entry
 * in ring 1 with ESI = the start-info page and events masked. pv_entry zeroes .bss and calls
 * pv_start(), which keeps the start info (pvops_select() recognizes its magic and installs this
 * table) and hands kmain() the Multiboot information it expects: the command line, and one usable
 * range, the domain's frames from start_info.first_free_pfn up.
 *
 *   operation            under pv
 *   irq_save/.../enable  evtchn_upcall_mask in the shared info (a store; on unmasking with an
 *                        event pending, a cheap hypercall (xen_version) lets it be delivered)
 *   set_pte(s)           queued struct pv_mmu_update entries, one mmu_update for the queue; a
 *                        directory entry flushes the queue at once (the kernel walks directories);
 *                        an entry of a table that is not pinned (unpinned by exit_mmap) is a
 *                        plain store: the frame is ordinary memory again (Linux's xen_set_pte
 *                        stores directly into an unpinned mm)
 *   lazy state flushed   before every other MMU or trap-table hypercall (in the same multicall),
 *                        in read_cr2 (a page fault may be the queue's doing), and in iret; it is
 *                        only changed with events masked
 *   load_cr3             mmuext_op NEW_BASEPTR;  flush_tlb / invlpg: mmuext_op
 *   pt_alloc/release     the frame's direct-map alias made read-only / writable again
 *                        (update_va_mapping) and the table pinned / unpinned (mmuext_op); fork
 *                        fills a child's table as ordinary memory first, so its pin is its one
 *                        validation (XenoLinux pinned a new mm's tables before first use)
 *   exit_mmap            xen_exit_mmap: switch to the kernel's directory, unpin the dying tree
 *                        and make its aliases writable, one multicall per table; exit's PTE
 *                        clears are then plain stores, no hypervisor entry each (XenoLinux
 *                        unpinned at exit and let zap_pte_range write ordinary memory), and the
 *                        kernel's own load_cr3 of that directory right after is not repeated
 *   read_cr2             vcpu_info.cr2
 *   load_idt             set_trap_table built from the kernel's own IDT, set_callbacks (the event
 *                        upcall enters the IRQ 0 stub: the timer is the only event source)
 *   load_gdt, load_tss   nothing: the hypervisor's flat ring-1/ring-3 segments are used
 *   set_kernel_stack     stack_switch, deferred to the next hypercall or iret (a context switch
 *                        then costs one multicall: stack switch + NEW_BASEPTR)
 *   timer, intr_*        VIRQ_TIMER bound once, set_timer_op for each next tick, pending bits
 *                        cleared at EOI
 *   halt                 sched_op block;  console: console_io
 *   port I/O             the I/O instructions themselves: the kernel asks for I/O privilege at
 *                        console_init (physdev_op PHYSDEVOP_set_iopl 1, as Linux's Xen start of
 *                        day does); the real IOPL stays 0, so each access faults and the
 *                        hypervisor performs it (the instrumentation ports, phase marker and
 *                        isa-debug-exit, are open in the TSS I/O bitmap and run directly)
 *   iret                 the event mask restored from the frame's IF, then iret (HYPERVISOR_iret
 *                        when an event is pending on the way back to user mode)
 *
 * Page tables at boot. mm_init fills its kernel tables with a writable direct map of RAM, then
 * announces them (pt_alloc level 1), then the directory (level 2). While the kernel is still on
 * the builder's tables, announced L1s are only recorded; when the directory comes, the whole tree
 * is made consistent first — no entry may map a page-table or descriptor frame writable, so those
 * entries (frames read-only in the builder's mapping, and the new tables themselves) lose their
 * write bit, as Linux's xen mask_rw_pte does — then the tables' aliases are made read-only and
 * every table pinned. After that each new table is zeroed, made read-only and pinned at once.
 */
#include "kernel.h"
#include "desc.h"
#include "layout.h"
#include "mm.h"
#include "multiboot.h"
#include "pv_abi.h"
#include "pvops.h"
#include "syscall_nr.h"

#define DOMID_SELF 0x7FF0u
#define MMU_QUEUE 256                  /* entries per mmu_update batch */
#define BOOT_TABLES 32                 /* L1s announced before the first directory */
#define MAX_FRAMES (KERNEL_PHYS_MAX >> PAGE_SHIFT)
#define STR_(x) #x
#define STR(x) STR_(x)

void kmain(uint32_t magic, uint32_t mbi_pa);

const struct pv_start_info *pv_start_info;   /* NULL unless entered through pv_entry */
volatile struct pv_vcpu_info *pv_vcpu;      /* in the shared-info page (pv_iret reads it) */
static volatile struct pv_shared_info *shared;

static struct multiboot_info pv_mbi;
static struct multiboot_mmap_entry pv_mmap;

/* ---- hypercalls ---------------------------------------------------------------------------- */

static int32_t hypercall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4)
{
    int32_t r;
    __asm__ volatile("int $0x82"
                     : "=a"(r)
                     : "0"(nr), "b"(a1), "c"(a2), "d"(a3), "S"(a4)
                     : "memory");
    return r;
}

static void hyp_check(int32_t rc, const char *what)
{
    if (rc < 0)
        panic("pv: hypercall %s refused: error %d", what, rc);
}

/* ---- lazy state: queued page-table writes, a pending kernel-stack switch ----------------- */

/* The lazy state is shared with the event upcall (whose iret flushes it): it is only changed with
 * events masked, as Linux's multicall batches are built with interrupts off. */
static uint32_t pv_irq_save(void);
static void pv_irq_restore(uint32_t flags);

static struct pv_mmu_update mmu_queue[MMU_QUEUE];
static uint32_t mmu_queued;
static uint32_t esp0_pending;          /* 0: none */
static uint32_t l2_frames[MAX_FRAMES / 32];   /* frames pinned as directories */
static uint32_t pinned_frames[MAX_FRAMES / 32]; /* frames pinned as tables of either level */
static uint32_t exit_left_for;         /* exit_mmap switched to this directory (0: none) */

/*
 * Issue `calls` (n <= 2), preceded in one multicall by what is lazily pending: the queued
 * mmu_update batch and the kernel-stack switch. One hypervisor entry in all cases.
 */
struct hcall {
    uint32_t op;
    uint32_t a[4];
};

static void hyp_batch(const struct hcall *calls, uint32_t n, const char *what)
{
    struct pv_multicall_entry mc[4];
    uint32_t k = 0, flags = pv_irq_save();
    if (mmu_queued) {
        mc[k++] = (struct pv_multicall_entry){ __HYPERVISOR_mmu_update, 0,
                                               { (uint32_t)(uintptr_t)mmu_queue, mmu_queued, 0,
                                                 DOMID_SELF } };
        mmu_queued = 0;
    }
    if (esp0_pending) {
        mc[k++] = (struct pv_multicall_entry){ __HYPERVISOR_stack_switch, 0,
                                               { FLAT_RING1_DS, esp0_pending } };
        esp0_pending = 0;
    }
    for (uint32_t i = 0; i < n; i++)
        mc[k++] = (struct pv_multicall_entry){ calls[i].op, 0,
                                               { calls[i].a[0], calls[i].a[1], calls[i].a[2],
                                                 calls[i].a[3] } };
    if (k == 1) {
        hyp_check(hypercall(mc[0].op, mc[0].args[0], mc[0].args[1], mc[0].args[2],
                            mc[0].args[3]), what);
    } else if (k > 1) {
        hyp_check(hypercall(__HYPERVISOR_multicall, (uint32_t)(uintptr_t)mc, k, 0, 0), what);
        for (uint32_t i = 0; i < k; i++)
            if ((int32_t)mc[i].result < 0)
                panic("pv: %s: multicall entry %u (hypercall %u) refused: error %d", what, i,
                      mc[i].op, (int32_t)mc[i].result);
    }
    pv_irq_restore(flags);
}

/* Flushes the lazy state; called from pv_iret with the interrupted registers saved. */
void pv_lazy_flush(void)
{
    if (mmu_queued || esp0_pending)
        hyp_batch(NULL, 0, "flush");
}

/* The mmuext_op call that runs the `n` operations at `ops`. */
static struct hcall mmuext_call(const struct pv_mmuext_op *ops, uint32_t n)
{
    return (struct hcall){ __HYPERVISOR_mmuext_op, { (uint32_t)(uintptr_t)ops, n, 0, DOMID_SELF } };
}

static void mmuext(uint32_t cmd, uint32_t arg1, const char *what)
{
    struct pv_mmuext_op op = { cmd, arg1, 0 };
    struct hcall c = mmuext_call(&op, 1);
    hyp_batch(&c, 1, what);
}

static bool is_l2(uint32_t pa)
{
    uint32_t f = pa >> PAGE_SHIFT;
    return f < MAX_FRAMES && (l2_frames[f / 32] & (1u << (f % 32)));
}

static void mark_bit(uint32_t *map, uint32_t pa, bool on)
{
    uint32_t f = pa >> PAGE_SHIFT;
    if (f >= MAX_FRAMES)
        return;
    if (on)
        map[f / 32] |= 1u << (f % 32);
    else
        map[f / 32] &= ~(1u << (f % 32));
}

static void mark_l2(uint32_t pa, bool on) { mark_bit(l2_frames, pa, on); }
static void mark_pinned(uint32_t pa, bool on) { mark_bit(pinned_frames, pa, on); }

static bool is_pinned(uint32_t pa)
{
    uint32_t f = pa >> PAGE_SHIFT;
    return f < MAX_FRAMES && (pinned_frames[f / 32] & (1u << (f % 32)));
}

static void queue_pte(pte_t *ptep, pte_t val)
{
    if (mmu_queued == MMU_QUEUE)
        pv_lazy_flush();
    mmu_queue[mmu_queued].ptr = V2P(ptep) | MMU_NORMAL_PT_UPDATE;
    mmu_queue[mmu_queued].val = val;
    mmu_queued++;
}

static void pv_set_ptes(const struct pte_update *u, uint32_t n)
{
    bool dir = false;
    uint32_t flags = pv_irq_save();
    for (uint32_t i = 0; i < n; i++) {
        if (!is_pinned(V2P(u[i].ptep) & ~(PAGE_SIZE - 1))) {
            *(volatile pte_t *)u[i].ptep = u[i].val;
            continue;
        }
        queue_pte(u[i].ptep, u[i].val);
        dir |= is_l2(V2P(u[i].ptep));
    }
    if (dir)
        pv_lazy_flush();
    pv_irq_restore(flags);
}

static void pv_set_pte(pte_t *ptep, pte_t val)
{
    struct pte_update u = { ptep, val };
    pv_set_ptes(&u, 1);
}

/* ---- interrupt flag: the event mask ------------------------------------------------------ */

static void force_evtchn_callback(void)
{
    hypercall(__HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
}

static void pv_irq_disable(void)
{
    pv_vcpu->evtchn_upcall_mask = 1;
    __asm__ volatile("" : : : "memory");
}

static void pv_irq_enable(void)
{
    pv_vcpu->evtchn_upcall_mask = 0;
    __asm__ volatile("" : : : "memory");
    if (pv_vcpu->evtchn_upcall_pending)
        force_evtchn_callback();
}

static uint32_t pv_irq_save(void)
{
    uint32_t flags = pv_vcpu->evtchn_upcall_mask ? 0 : EFLAGS_IF;
    pv_irq_disable();
    return flags;
}

static void pv_irq_restore(uint32_t flags)
{
    if (flags & EFLAGS_IF)
        pv_irq_enable();
    else
        pv_irq_disable();
}

/*
 * iret: flush the lazy state, set the event mask from the frame's IF, return. Returning to user
 * mode with an event pending goes through HYPERVISOR_iret, which delivers it in the user context
 * (the frame, with the saved EAX on top, is exactly struct pv_iret_context); to kernel mode the
 * event is taken here, nested, before the iret.
 */
void pv_iret(void);
__asm__(".text\n"
        ".globl pv_iret\n"
        "pv_iret:\n"
        "    pushl %eax\n"
        "    pushl %ecx\n"
        "    pushl %edx\n"
        "    call pv_lazy_flush\n"
        "    popl %edx\n"
        "    popl %ecx\n"
        "    movl pv_vcpu, %eax\n"
        "    testl $0x200, 12(%esp)\n"          /* eax eip cs eflags */
        "    jz 2f\n"
        "    movb $0, 1(%eax)\n"                /* evtchn_upcall_mask = 0 */
        "1:  cmpb $0, 0(%eax)\n"                /* evtchn_upcall_pending */
        "    jne 3f\n"
        "    popl %eax\n"
        "    iret\n"
        "2:  movb $1, 1(%eax)\n"
        "    popl %eax\n"
        "    iret\n"
        "3:  testl $3, 8(%esp)\n"               /* back to user mode? */
        "    jz 4f\n"
        "    movl $" STR(__HYPERVISOR_iret) ", %eax\n"
        "    int $0x82\n"
        "4:  pushl %ebx\n"
        "    movl $" STR(__HYPERVISOR_xen_version) ", %eax\n"   /* take the event here */
        "    xorl %ebx, %ebx\n"
        "    int $0x82\n"
        "    popl %ebx\n"
        "    movl pv_vcpu, %eax\n"
        "    jmp 1b\n");

/* ---- MMU ----------------------------------------------------------------------------------- */

static bool builder_tables_released;

/* NEW_BASEPTR. The first switch to a directory of ours also unpins the builder's directory (as
 * Linux does): its tables map every frame of the initial mapping writable, and would keep any of
 * them from becoming a page table later. */
static void pv_load_cr3(uint32_t pa)
{
    if (exit_left_for) {
        bool done = pa == exit_left_for;
        exit_left_for = 0;
        if (done)
            return;            /* exit_mmap switched here already, nothing mapped since */
    }
    struct pv_mmuext_op ops[2] = {
        { MMUEXT_NEW_BASEPTR, pa >> PAGE_SHIFT, 0 },
        { MMUEXT_UNPIN_TABLE, V2P(pv_start_info->pt_base) >> PAGE_SHIFT, 0 },
    };
    uint32_t n = builder_tables_released ? 1 : 2;
    struct hcall c = mmuext_call(ops, n);
    hyp_batch(&c, 1, "new_baseptr");
    builder_tables_released = true;
}
static void pv_flush_tlb(void) { mmuext(MMUEXT_TLB_FLUSH_LOCAL, 0, "tlb_flush"); }
static void pv_invlpg(uint32_t va) { mmuext(MMUEXT_INVLPG_LOCAL, va, "invlpg"); }

/* A not-present fault may be the queue's doing: flush it, so the handler sees the real entries. */
static uint32_t pv_read_cr2(void)
{
    uint32_t cr2 = pv_vcpu->cr2;
    pv_lazy_flush();
    return cr2;
}

/* The update_va_mapping call that makes frame pa's direct-map alias read-only or writable. */
static struct hcall alias_call(uint32_t pa, bool writable)
{
    return (struct hcall){ __HYPERVISOR_update_va_mapping,
                           { (uint32_t)(uintptr_t)P2V(pa), pte_make(pa, PTE_P | (writable ? PTE_W : 0)),
                             0, UVMF_INVLPG } };
}

static uint32_t boot_l1[BOOT_TABLES];
static uint32_t boot_nl1;
static bool tables_live;               /* a directory of ours has been pinned */

/* The entry of the builder's mapping for the alias of frame pa (0: not mapped). */
static pte_t builder_pte(uint32_t pa)
{
    uint32_t va = (uint32_t)(uintptr_t)P2V(pa);
    const pte_t *pd = (const pte_t *)(uintptr_t)pv_start_info->pt_base;
    pte_t pde = pd[pde_index(va)];
    if (!pte_present(pde))
        return 0;
    return ((const pte_t *)P2V(pte_frame(pde)))[pte_index(va)];
}

static bool boot_table(uint32_t pa, uint32_t l2)
{
    if (pa == l2)
        return true;
    for (uint32_t i = 0; i < boot_nl1; i++)
        if (boot_l1[i] == pa)
            return true;
    return false;
}

/* Clears the write bit of every entry of table pa that maps a page-table or descriptor frame. */
static void boot_mask_rw(uint32_t pa, uint32_t l2)
{
    pte_t *e = P2V(pa);
    for (uint32_t i = 0; i < PTES_PER_TABLE; i++) {
        if (!pte_present(e[i]) || !(e[i] & PTE_W))
            continue;
        uint32_t f = pte_frame(e[i]);
        pte_t b = builder_pte(f);
        if (boot_table(f, l2) || (pte_present(b) && !(b & PTE_W)))
            e[i] &= ~PTE_W;
    }
}

/* The first directory: make the recorded L1s and it consistent, read-only, pinned. */
static void boot_pin_tree(uint32_t l2)
{
    struct pv_mmuext_op pins[BOOT_TABLES + 1];
    for (uint32_t i = 0; i < boot_nl1; i++)
        boot_mask_rw(boot_l1[i], l2);
    for (uint32_t i = 0; i < boot_nl1; i++) {
        struct hcall c = alias_call(boot_l1[i], false);
        hyp_batch(&c, 1, "alias read-only");
        pins[i] = (struct pv_mmuext_op){ MMUEXT_PIN_L1_TABLE, boot_l1[i] >> PAGE_SHIFT, 0 };
        mark_pinned(boot_l1[i], true);
    }
    struct hcall c = alias_call(l2, false);
    hyp_batch(&c, 1, "alias read-only");
    pins[boot_nl1] = (struct pv_mmuext_op){ MMUEXT_PIN_L2_TABLE, l2 >> PAGE_SHIFT, 0 };
    mark_pinned(l2, true);
    c = mmuext_call(pins, boot_nl1 + 1);
    hyp_batch(&c, 1, "pin the kernel page tables");
    tables_live = true;
}

static void pv_pt_alloc(uint32_t pa, int level)
{
    if (level == 2)
        mark_l2(pa, true);
    if (!tables_live) {
        if (level == 2) {
            boot_pin_tree(pa);
        } else {
            if (boot_nl1 == BOOT_TABLES)
                panic("pv: more than %d kernel page tables", BOOT_TABLES);
            boot_l1[boot_nl1++] = pa;
        }
        return;
    }
    struct pv_mmuext_op pin = { level == 1 ? MMUEXT_PIN_L1_TABLE : MMUEXT_PIN_L2_TABLE,
                                pa >> PAGE_SHIFT, 0 };
    struct hcall c[2] = { alias_call(pa, false), mmuext_call(&pin, 1) };
    hyp_batch(c, 2, "pt_alloc");
    mark_pinned(pa, true);
}

/* Unpins table pa and makes its alias writable; nothing when exit_mmap already did. */
static void pv_pt_release(uint32_t pa, int level)
{
    if (level == 2)
        mark_l2(pa, false);
    if (!is_pinned(pa))
        return;
    struct pv_mmuext_op unpin = { MMUEXT_UNPIN_TABLE, pa >> PAGE_SHIFT, 0 };
    struct hcall c[2] = { mmuext_call(&unpin, 1), alias_call(pa, true) };
    hyp_batch(c, 2, "pt_release");
    mark_pinned(pa, false);
}

/*
 * xen_exit_mmap: leave the dying address space for the kernel's directory (Xen keeps a table
 * that is some CPU's base typed), then unpin its directory and each of its tables, directory
 * first (its references to the tables go with it). From here its entries are ordinary memory:
 * the clears the kernel makes next are plain stores (pv_set_ptes), none a hypervisor entry.
 */
static void pv_exit_mmap(uint32_t pgdir)
{
    pv_load_cr3(kernel_pgdir);
    exit_left_for = kernel_pgdir;
    pv_pt_release(pgdir, 2);
    const pte_t *pd = P2V(pgdir);
    for (uint32_t di = 0; di < KERNEL_PDE_FIRST; di++)
        if (pte_present(pd[di]))
            pv_pt_release(pte_frame(pd[di]), 1);
}

/* ---- descriptor tables, kernel stack -------------------------------------------------------- */

static void pv_load_gdt(const void *base, uint16_t limit) { (void)base; (void)limit; }
static void pv_load_tss(uint16_t sel, struct tss *tss) { (void)sel; (void)tss; }

static uint32_t gate_handler(uint64_t g) { return (uint32_t)(g & 0xFFFF) | (uint32_t)(g >> 48) << 16; }

/*
 * The trap table from the kernel's IDT: every present gate but the PIC's (no hardware interrupt
 * reaches a PV guest: events do). A DPL-0 gate becomes DPL 1, the kernel's ring; interrupt gates
 * mask events on entry; the system call is the fast trap. The IRQ 0 gate's handler is the event
 * callback.
 */
static void pv_load_idt(const void *base, uint16_t limit)
{
    static struct pv_trap_info traps[IDT_ENTRIES + 1];
    const uint64_t *gates = base;
    uint32_t n = 0;
    for (uint32_t v = 0; v < IDT_ENTRIES && v * 8 < (uint32_t)limit + 1; v++) {
        uint64_t g = gates[v];
        if (!(g & (1ull << 47)) || (v >= T_IRQ0 && v < T_IRQ0 + 16))
            continue;
        uint32_t dpl = (uint32_t)(g >> 45) & 3, type = (uint32_t)(g >> 40) & 0xF;
        uint8_t flags = (uint8_t)(dpl ? dpl : 1);
        if (type == 0xE)
            flags |= PV_TRAP_MASK_EVENTS;
        if (v == T_SYSCALL)
            flags |= PV_TRAP_FAST;
        traps[n++] = (struct pv_trap_info){ (uint8_t)v, flags, FLAT_RING1_CS, gate_handler(g) };
    }
    traps[n] = (struct pv_trap_info){ 0, 0, 0, 0 };
    struct hcall c[2] = {
        { __HYPERVISOR_set_trap_table, { (uint32_t)(uintptr_t)traps } },
        { __HYPERVISOR_set_callbacks, { FLAT_RING1_CS, gate_handler(gates[T_IRQ0]), 0, 0 } },
    };
    hyp_batch(c, 2, "trap table");
}

static void pv_set_kernel_stack(uint32_t esp0)
{
    uint32_t flags = pv_irq_save();
    esp0_pending = esp0;
    pv_irq_restore(flags);
}

/* ---- port I/O: the instructions, under the virtual IOPL the hypervisor keeps ---------------- */

static uint8_t pv_inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"(port));
    return v;
}

static void pv_outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %b0, %w1" : : "a"(v), "Nd"(port));
}

static uint32_t pv_inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static void pv_outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"(port));
}

/* ---- events: the timer -------------------------------------------------------------------- */

static uint32_t timer_port;            /* event channel of VIRQ_TIMER, 0 = not bound */
static uint64_t timer_period;          /* guest instructions per tick */
static uint64_t timer_deadline;

static void pv_intr_init(void) {}

static void set_timer(void)
{
    hyp_check(hypercall(__HYPERVISOR_set_timer_op, (uint32_t)timer_deadline,
                        (uint32_t)(timer_deadline >> 32), 0, 0), "set_timer_op");
}

static void pv_timer_start(uint32_t hz)
{
    struct pv_evtchn_bind_virq bind = { VIRQ_TIMER, 0, 0 };
    if (!timer_port) {
        hyp_check(hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq,
                            (uint32_t)(uintptr_t)&bind, 0, 0), "bind VIRQ_TIMER");
        timer_port = bind.port;
    }
    timer_period = shared->ips / hz;
    timer_deadline = shared->system_time + timer_period;
    set_timer();
}

static void pv_intr_unmask(int irq)
{
    if (irq == 0)
        shared->evtchn_mask[timer_port / 32] &= ~(1u << (timer_port % 32));
}

/* The upcall was the timer (IRQ 0 for the kernel): clear its pending bits, arm the next tick. */
static void pv_intr_eoi(int irq)
{
    if (irq != 0)
        return;
    pv_vcpu->evtchn_upcall_pending = 0;
    pv_vcpu->evtchn_pending_sel &= ~(1u << (timer_port / 32));
    shared->evtchn_pending[timer_port / 32] &= ~(1u << (timer_port % 32));
    timer_deadline += timer_period;
    if (timer_deadline <= shared->system_time)
        timer_deadline = shared->system_time + timer_period;
    set_timer();
}

/* Xen's block: sleeps until an event is pending, with events unmasked. */
static void pv_halt(void)
{
    hyp_check(hypercall(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, 0), "block");
}

/* ---- console ------------------------------------------------------------------------------ */

/* The console is the hypervisor's (console_io); what the kernel needs here is I/O privilege for
 * its own port accesses. */
static void pv_console_init(void)
{
    struct pv_physdev_set_iopl iopl = {1};
    hyp_check(hypercall(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, (uint32_t)(uintptr_t)&iopl,
                        0, 0), "set_iopl");
}

static void pv_console_write(const char *s, size_t n)
{
    hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, n, (uint32_t)(uintptr_t)s, 0);
}

/* ---- start of day ------------------------------------------------------------------------- */

bool pvops_pv_detect(void)
{
    return pv_start_info &&
           memcmp(pv_start_info->magic, PV_START_MAGIC, sizeof(PV_START_MAGIC)) == 0;
}

/* Entered from pv_entry with .bss zeroed; gives kmain the Multiboot view of the start info. */
void pv_start(const struct pv_start_info *si)
{
    pv_start_info = si;
    if (!pvops_pv_detect()) {
        struct pv_sched_shutdown sd = { SHUTDOWN_crash, EXIT_FAILURE_CODE };
        hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (uint32_t)(uintptr_t)&sd, 0, 0);
    }
    shared = (volatile struct pv_shared_info *)(uintptr_t)si->shared_info;
    pv_vcpu = &shared->vcpu_info;
    pv_mmap = (struct multiboot_mmap_entry){ sizeof(pv_mmap) - 4,
                                            (uint64_t)si->first_free_pfn << PAGE_SHIFT,
                                            (uint64_t)(si->nr_pages - si->first_free_pfn)
                                                << PAGE_SHIFT,
                                            1 };
    pv_mbi.flags = MBI_FLAG_MMAP | MBI_FLAG_CMDLINE;
    pv_mbi.cmdline = V2P(si->cmd_line);
    pv_mbi.mmap_addr = V2P(&pv_mmap);
    pv_mbi.mmap_length = sizeof(pv_mmap);
    kmain(MULTIBOOT_BOOTLOADER_MAGIC, V2P(&pv_mbi));
}

/* The PV entry point named by the PV header (boot.S): ring 1, paging on, ESI = start info. */
__asm__(".text\n"
        ".globl pv_entry\n"
        "pv_entry:\n"
        "    cld\n"
        "    movl $__bss_start, %edi\n"
        "    movl $__bss_end, %ecx\n"
        "    subl %edi, %ecx\n"
        "    shrl $2, %ecx\n"
        "    xorl %eax, %eax\n"
        "    rep stosl\n"
        "    xorl %ebp, %ebp\n"
        "    pushl %esi\n"
        "    call pv_start\n"
        "1:  jmp 1b\n");

/* Xen owns CR4: the interface has no control of global pages. */
static int pv_set_global_pages(bool on)
{
    (void)on;
    return -EINVAL;
}

const struct pv_ops pvops_pv = {
    .iret = pv_iret,
    .name = "pv",
    .user_cs = FLAT_RING3_CS,
    .user_ds = FLAT_RING3_DS,
    .irq_save = pv_irq_save,
    .irq_restore = pv_irq_restore,
    .irq_disable = pv_irq_disable,
    .irq_enable = pv_irq_enable,
    .load_cr3 = pv_load_cr3,
    .read_cr2 = pv_read_cr2,
    .set_pte = pv_set_pte,
    .set_ptes = pv_set_ptes,
    .flush_tlb = pv_flush_tlb,
    .invlpg = pv_invlpg,
    .set_global_pages = pv_set_global_pages,
    .pt_alloc = pv_pt_alloc,
    .pt_release = pv_pt_release,
    .exit_mmap = pv_exit_mmap,
    .load_gdt = pv_load_gdt,
    .load_idt = pv_load_idt,
    .load_tss = pv_load_tss,
    .set_kernel_stack = pv_set_kernel_stack,
    .inb = pv_inb,
    .outb = pv_outb,
    .inl = pv_inl,
    .outl = pv_outl,
    .intr_init = pv_intr_init,
    .intr_unmask = pv_intr_unmask,
    .intr_eoi = pv_intr_eoi,
    .timer_start = pv_timer_start,
    .halt = pv_halt,
    .console_init = pv_console_init,
    .console_write = pv_console_write,
};
