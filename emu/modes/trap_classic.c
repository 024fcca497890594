/*
 * trap_classic.c — `trap-classic`: trap-and-emulate on x86 before VT, by ring compression.
 *
 * The guest kernel runs in ring 1. The monitor keeps, in its window at the top of the linear
 * address space (mapped read-only in every shadow address space), its own GDT: the guest's
 * descriptors as the guest wrote them at the same indices (so ring 1 cannot use the ring-0 ones),
 * then ring-1 copies of the guest's ring-0 code/data descriptors (DPL 1, flat limits truncated below
 * the window, as VMware's monitor did) that the guest kernel really runs on, then the monitor's TSS
 * and LDT. A guest load of one of its ring-0 selectors (mov/pop to a segment register, far
 * jmp/call/ret, iret) faults in ring 1 and is emulated by loading the ring-1 copy; what the guest
 * then reads back (push cs, mov from ds) is the copy's selector. The real GDTR, IDTR, TR and
 * LDTR are the monitor's; the guest's live in a virtual CPU, with its CR0/CR2/CR3/CR4 and its
 * interrupt flag. The real interrupt flag stays set, so every interrupt reaches the monitor, which
 * injects it only when the virtual IF allows (in ring 3, where the guest cannot change IF, the real
 * flag is the guest's).
 *
 * Privileged instructions fault (#GP) in ring 1 and are emulated on the virtual CPU, each counted
 * as a monitor trap (class `montrap`, reason 13, qualifier the cause: "cli", "cr3/write",
 * "in1 0x80" ...): cli/sti, hlt, mov to/from CRn, invlpg, lgdt/lidt/ltr/lldt, in/out, clts/lmsw,
 * wbinvd/invd, and what ring compression itself makes fault (loading SS with an RPL-0 selector,
 * iret/far ret to an RPL-0 selector). The monitor owns the real IDT, so every other exception,
 * int n and external interrupt is a monitor trap too (reason = vector), which the monitor
 * reflects into the guest's IDT in software (class `reflect`). Page faults go to the shadow MMU
 * shared with `trap` (class `shadow`); ports are answered by the monitor's device models
 * (`ioemul`).
 *
 * The 17 sensitive-but-unprivileged instructions do not fault: they behave as the hardware does
 * in ring 1 (popf and iret silently keep the real IF, pushf shows it, sgdt/sidt/sldt/str/smsw
 * show the monitor's registers, push cs/ss and mov from cs/ss show RPL 1, lar/lsl show the
 * monitor's descriptors, far transfers land at RPL 1). Each execution in guest kernel code is
 * found by a code hook placed when its block is decoded and recorded (class `hole`) with what the
 * guest observed and what it would have observed at ring 0 (in full traces). When the guest's
 * virtual IF is lost this way and the guest then waits with interrupts virtually off, the run ends
 * with that diagnosis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/modes/classic_core.h"
#include "emu/modes/mode.h"

/* trap-classic's state: the monitor core's, then the hole diagnosis (tc_exception). */
struct tc {
    struct classic c;                        /* first: the core and the shadow monitor use it */
    uint32_t seen_eip;                       /* the last hole whose result differed from ring
                                                0's (0 if none), how many did, and what the guest
                                                saw and needed there */
    uint64_t seen_count;
    const char *seen_what;
};

static struct classic *st(struct machine *m) { return m->mode_state; }
static struct tc *tc_of(struct machine *m) { return m->mode_state; }

static uint32_t reg(struct machine *m, int r)
{
    uint32_t v = 0;
    uc_reg_read(m->uc, r, &v);
    return v;
}

static int guest_read(struct machine *m, uint32_t lin, void *buf, uint32_t len)
{
    uint32_t fl, pf;
    return machine_read_lin(m, lin, buf, len, false, &fl, &pf) == 0 ? 0 : -1;
}

static int classic_setup(struct machine *m, const struct boot_info *bi, char *errbuf,
                         unsigned errlen)
{
    struct tc *tc = calloc(1, sizeof *tc);
    if (!tc) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    m->mode_state = tc;
    struct classic *t = &tc->c;
    t->vifp = &t->vif;
    /* Exception and interrupt frames the monitor builds show the guest its own CS (0x60, not the
     * ring-1 copy): a guest may check it (Linux's early exception handler panics unless the saved
     * CS is __KERNEL_CS). The guest's iret to that RPL-0 selector then faults in ring 1 and is
     * emulated, one more monitor trap per return to the kernel: the price of ring compression. */
    t->guest_sels = true;
    return classic_init(m, t, bi, errbuf, errlen);
}

static bool classic_irq_open(struct machine *m)
{
    return machine_cpl(m) == 3 ? machine_if_set(m) : classic_vif(st(m)) != 0;
}

/* ---- holes: sensitive instructions that do not trap ------------------------------------- */

static bool classic_site_wanted(struct machine *m, const struct site *s)
{
    return insn_class_kind[s->cls] == IK_SENS;
}

/* A hole showed the guest kernel something other than ring 0 would have: remember it, for the
 * diagnosis if the guest then gives up (tc_exception). `what` is a string constant. */
static void saw_wrong(struct tc *tc, uint32_t eip, const char *what)
{
    tc->seen_eip = eip;
    tc->seen_count++;
    tc->seen_what = what;
}

static void lost_if(struct classic *t, uint32_t eip, const char *by)
{
    t->lost_eip = eip;
    snprintf(t->lost_by, sizeof t->lost_by, "%s", by);
}

static struct action classic_site(struct machine *m, const struct block *b, const struct site *s,
                                     uint32_t eip)
{
    struct classic *t = st(m);
    if (machine_cpl(m) != 1)
        return act(ACT_RESUME);      /* holes matter in the guest kernel, not in its user code */
    char detail[96] = "";
    uint32_t esp = reg(m, UC_X86_REG_ESP), word = 0;
    switch (s->cls) {
    case IC_PUSHF:
        snprintf(detail, sizeof detail, "IF observed=1 native=%u", classic_vif(t) ? 1u : 0u);
        if (!classic_vif(t))
            saw_wrong(tc_of(m), eip, "pushf: the guest saw IF=1 (ring 1 shows the real IF, "
                      "which the monitor keeps set); it needed IF=0, its virtual IF");
        break;
    case IC_POPF:
        if (guest_read(m, esp, &word, 4) == 0) {
            snprintf(detail, sizeof detail, "IF popped=%u kept=%u", (word >> 9) & 1,
                     classic_vif(t) ? 1u : 0u);
            if ((word & EFLAGS_IF) && !classic_vif(t))
                lost_if(t, eip, "popf");
        }
        break;
    case IC_IRET:
        if (guest_read(m, esp + 4, &word, 4) == 0 && (word & 3) != 3 &&
            guest_read(m, esp + 8, &word, 4) == 0 && (word & EFLAGS_IF) && !classic_vif(t))
            lost_if(t, eip, "iret");
        snprintf(detail, sizeof detail, "IF restored by the CPU: no (ring 1)");
        break;
    case IC_SGDT:
        snprintf(detail, sizeof detail, "base observed=%08x native=%08x", MON_GDT_VA(m), t->gdt_base);
        break;
    case IC_SIDT:
        snprintf(detail, sizeof detail, "base observed=%08x native=%08x", MON_IDT_VA(m), t->idt_base);
        break;
    case IC_STR:
        snprintf(detail, sizeof detail, "observed=%04x native=%04x", MON_TSS_IDX * 8, t->tr_sel);
        break;
    case IC_SLDT:
        snprintf(detail, sizeof detail, "observed=%04x native=%04x", MON_LDT_IDX * 8, t->ldt_sel);
        break;
    case IC_SMSW: {
        struct paging_regs real;
        machine_cpu_paging_regs(m, &real);
        snprintf(detail, sizeof detail, "observed=%04x native=%04x", real.cr0 & 0xffff,
                 t->mon.v.cr0 & 0xffff);
        break;
    }
    case IC_PUSH_SEG: case IC_MOV_FROM_SEG:
        snprintf(detail, sizeof detail, "kernel selectors: the monitor's ring-1 copies");
        break;
    default:
        break;
    }
    funnel_work(m, WK_HOLE, s->cls, insn_class_name[s->cls], 0, eip, 0,
                detail[0] ? detail : NULL);
    return act(ACT_RESUME);
}

/* The guest kernel executes ud2 (Linux's BUG(): a check of its own failed) after holes showed it
 * values ring 0 would not have: the run ends naming the last of them, instead of the guest's oops
 * and a reboot loop until the run's limit. (The chain Linux meets: pushf in an interrupts-off
 * region shows IF=1; local_irq_restore() of those flags then executes sti, which the monitor
 * honours, and a later BUG_ON(!irqs_disabled()) fires.) Any other exception as classic_core. */
static struct action tc_exception(struct machine *m, const struct xevent *ev)
{
    struct tc *t = tc_of(m);
    if (ev->kind == XK_FAULT && ev->vector == 6 && machine_cpl(m) == 1 && t->seen_eip) {
        const cs_insn *in = classic_decoded(m, ev->eip);
        if (in && in->id == X86_INS_UD2) {
            machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                        "Popek-Goldberg hole: the guest kernel's own check failed (ud2 at EIP "
                        "0x%08x) after %llu hole(s) showed it what ring 0 would not have; the "
                        "last, at EIP 0x%08x: %s", ev->eip, (unsigned long long)t->seen_count,
                        t->seen_eip, t->seen_what);
            return act(ACT_END);
        }
    }
    return classic_exception(m, ev);
}

const struct mode_ops mode_trap_classic = {
    .name = "trap-classic",
    .summary = "pre-VT trap-and-emulate by ring compression (guest kernel in ring 1), shadow paging",
    .classes = EV_BIT(INSN) | EV_BIT(PRIV) | EV_BIT(MONTRAP) | EV_BIT(REFLECT) | EV_BIT(IOEMUL) |
               EV_BIT(HALT) | EV_BIT(SHADOW) | EV_BIT(REFUSAL) | EV_BIT(HOLE),
    .deliver_class = EV_REFLECT,
    .io_emulated = true,
    .keep_walks = true,
    .classify = classic_classify,
    .setup = classic_setup,
    .exception = tc_exception,
    .exception_in_hook = classic_exception_in_hook,
    .interrupt = classic_interrupt,
    .irq_open = classic_irq_open,
    .teardown = classic_teardown,
    .paging_regs = shadow_monitor_paging_regs,
    .cpu_view = classic_cpu_view,
    .delivered = classic_delivered,
    .task_sys = classic_task_sys,
    .real_seg = classic_real_seg,
    .site_wanted = classic_site_wanted,
    .site = classic_site,
    .io_allowed = classic_io_allowed,
};
