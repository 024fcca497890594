/*
 * trap.c — `trap`: hardware-assisted trap-and-emulate, with VT-x semantics and shadow paging.
 *
 * The guest runs as a VT-x guest without EPT would: at the privilege it expects (its kernel in
 * ring 0), with its own GDTR/IDTR/LDTR/TR and its own interrupt flag (cli/sti/pushf/popf never
 * exit), and every sensitive instruction gives it the result it would get on bare hardware. What
 * VT-x (without EPT) intercepts leaves the guest and is recorded as an exit with its basic exit
 * reason and a qualifier:
 *
 *   CR_ACCESS (28)         mov to CR0/CR3/CR4 ("cr3/write"), mov from CR3 ("cr3/read"); reads of
 *                          CR0/CR4 are served from read shadows without an exit, as VT-x does
 *   INVLPG (14)            the shadow entry is dropped, the real TLB entry flushed
 *   HLT (12)               the monitor waits for the next event
 *   IO_INSTRUCTION (30)    "in1 0x80", "out4 0xf4" ...
 *   CPUID (10), MSR_READ (31), MSR_WRITE (32)
 *   EXCEPTION_NMI (0)      #PF only (the exception bitmap of a shadow-paging VMM); the shadow MMU
 *                          (shadow.c) classifies it: hidden fault, traced write, true fault
 *   EXTERNAL_INTERRUPT (1), INTERRUPT_WINDOW (7)  interrupts reach the guest through the monitor
 *   TASK_SWITCH (9)        delivery through a task gate (Linux's #DF): task switches always exit
 *                          (Intel SDM vol. 3C, "VMX Non-Root Operation", "Treatment of Task
 *                          Switches"); the monitor performs the switch with the machine's one
 *                          implementation (emu/taskswitch.c) on the guest's state: the real TR,
 *                          LDTR and segments are the guest's, its CR0.TS and CR3 the virtual ones
 *                          (the shadow MMU follows the new CR3). Qualifier: the vector delivered,
 *                          or "iret" for an iret with EFLAGS.NT set (a task return; every iret
 *                          carries a site hook for it, and only one with NT set exits)
 *
 * `trap-ept` is the same monitor on a CPU with EPT (Nehalem on), as KVM, Xen's HAP and ESX ran it
 * there: the guest's page tables are walked by the CPU with the EPT (emu/ept.h) under them, so
 * CR3 loads, INVLPG and the guest's page faults do not exit (the real CR0/CR3/CR4 are the
 * guest's; mov to CR0/CR4 still exits, CR_ACCESS, and the monitor writes the register), and two
 * exits replace the shadow MMU's: EPT_VIOLATION (48) on a guest-physical frame's first touch
 * (ept_populate maps it) and EPT_MISCONFIG (49) on a malformed entry (ept_repair). Everything
 * else exits as under trap. The TLB model walks both dimensions on every fill (emu/tlb.h).
 *
 * How it is done on Unicorn: under trap the guest's CR0/CR3/CR4 are virtual (vcpu.h); the real
 * ones belong to the shadow MMU. The intercepted instructions carry code hooks placed when their block is
 * first decoded (the machine's site mechanism), so nothing else pays for them. Exceptions other
 * than #PF, and software interrupts, are delivered straight into the guest's IDT without an exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/deliver.h"
#include "emu/modes/emul_io.h"
#include "emu/modes/emul_write.h"
#include "emu/modes/mode.h"
#include "emu/modes/shadow.h"
#include "emu/ept.h"
#include "emu/taskswitch.h"
#include "emu/vmx.h"

#define SHADOW_POOL_BYTES (32u << 20)

struct trap_state {
    struct shadow_monitor mon;               /* first: the shared monitor operations use it */
    struct ept *ept;                         /* trap-ept: the EPT (then no shadow MMU) */
};

static struct trap_state *st(struct machine *m) { return m->mode_state; }

/* The general-purpose register in the r/m field of a mov to/from CRn (0f 20 /r, 0f 22 /r). */
static int cr_gpr(struct machine *m, uint32_t eip)
{
    static const int gpr[8] = {UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                               UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI};
    uint8_t code[3];
    uint32_t fl, pf;
    if (machine_read_lin(m, eip, code, 3, false, &fl, &pf) != 0 || code[0] != 0x0f)
        return -1;
    return gpr[code[2] & 7];
}

/* The mode's state, zeroed and in m->mode_state; NULL with errbuf set when out of memory. */
static struct trap_state *state_new(struct machine *m, char *errbuf, unsigned errlen)
{
    struct trap_state *t = calloc(1, sizeof *t);
    if (!t)
        snprintf(errbuf, errlen, "out of memory");
    m->mode_state = t;
    return t;
}

static int trap_setup(struct machine *m, const struct boot_info *bi, char *errbuf,
                      unsigned errlen)
{
    struct trap_state *t = state_new(m, errbuf, errlen);
    if (!t)
        return -1;
    /* No monitor window: under VT-x the CPU uses the guest's own GDT, IDT and TSS, and delivery
     * is the monitor's code, so the guest has the whole 4 GiB linear space. */
    t->mon.sh = shadow_create(m, SHADOW_POOL_BYTES, 0, errbuf, errlen);
    if (!t->mon.sh)
        return -1;
    if (loader_enter(m, bi, errbuf, errlen) < 0)
        return -1;
    shadow_monitor_enter(m);
    if (shadow_activate(t->mon.sh, &t->mon.v) < 0) {
        snprintf(errbuf, errlen, "%s", m->message);
        return -1;
    }
    return 0;
}

static bool trap_site_wanted(struct machine *m, const struct site *s)
{
    switch (s->cls) {
    case IC_MOV_TO_CR: case IC_MOV_FROM_CR: case IC_INVLPG: case IC_HLT: case IC_IN:
    case IC_OUT: case IC_INS: case IC_OUTS: case IC_CPUID: case IC_RDMSR: case IC_WRMSR:
    case IC_IRET:    /* an iret with EFLAGS.NT set is a task return: a TASK_SWITCH exit */
        return true;
    default:
        return false;
    }
}

static struct action mov_to_cr(struct machine *m, const struct site *s, uint32_t eip)
{
    struct trap_state *t = st(m);
    int reg = cr_gpr(m, eip);
    if (reg < 0 || s->cr == 2)
        return act(ACT_RESUME);    /* CR2 writes do not exit; the real CR2 is the guest's */
    uint32_t val = 0;
    uc_reg_read(m->uc, reg, &val);
    if (t->ept) {                /* the real register is the guest's */
        tlb_set_cr(m, s->cr, val);
        return act(ACT_SKIP);
    }
    int r = shadow_load_cr(t->mon.sh, &t->mon.v, s->cr, val);
    return r > 0 ? act_raise(13, 0) : r == 0 ? act(ACT_SKIP) : act(ACT_END);
}

static struct action mov_from_cr(struct machine *m, const struct site *s, uint32_t eip)
{
    struct trap_state *t = st(m);
    int reg = cr_gpr(m, eip);
    uint32_t val;
    switch (s->cr) {
    case 0: val = t->mon.v.cr0; break;
    case 3: val = t->mon.v.cr3; break;
    case 4: val = t->mon.v.cr4; break;
    default: return act(ACT_RESUME);
    }
    if (reg < 0)
        return act(ACT_RESUME);
    uc_reg_write(m->uc, reg, &val);
    return act(ACT_SKIP);
}

/* The VT-x exit an intercepted instruction makes, if any (trap_site then emulates it). */
static void site_exit(struct machine *m, const struct site *s, uint32_t eip, struct exit_decl *d)
{
    /* A privileged instruction at CPL > 0 raises #GP before VT-x would look at it. */
    if (insn_class_kind[s->cls] == IK_PRIV && machine_cpl(m) > 0)
        return;
    switch (s->cls) {
    case IC_MOV_TO_CR:
        if (cr_gpr(m, eip) < 0 || s->cr == 2)
            return;    /* CR2 writes do not exit; the real CR2 is the guest's */
        d->reason = VMX_CR_ACCESS;
        snprintf(d->qual, sizeof d->qual, "cr%d/write", s->cr);
        break;
    case IC_MOV_FROM_CR:
        if (s->cr != 3)
            return;    /* CR0/CR4 reads are served from read shadows */
        d->reason = VMX_CR_ACCESS;
        emul_put_str(d->qual, sizeof d->qual, "cr3/read");
        break;
    case IC_INVLPG: d->reason = VMX_INVLPG; break;
    case IC_HLT: d->reason = VMX_HLT; break;
    case IC_IN: case IC_OUT: case IC_INS: case IC_OUTS: {
        uint32_t port = s->port_imm ? s->port : 0;
        if (!s->port_imm)
            uc_reg_read(m->uc, UC_X86_REG_DX, &port);
        d->reason = VMX_IO_INSTRUCTION;
        emul_io_cause((uint16_t)port, s->io_size, s->cls == IC_IN || s->cls == IC_INS, d->qual,
                      sizeof d->qual);
        break;
    }
    case IC_IRET: {
        uint32_t fl = 0;
        uc_reg_read(m->uc, UC_X86_REG_EFLAGS, &fl);
        if (!(fl & (1u << 14)))
            return;    /* an ordinary iret: no exit */
        d->reason = VMX_TASK_SWITCH;
        emul_put_str(d->qual, sizeof d->qual, "iret");
        break;
    }
    case IC_CPUID: d->reason = VMX_CPUID; break;
    case IC_RDMSR: d->reason = VMX_MSR_READ; break;
    case IC_WRMSR: d->reason = VMX_MSR_WRITE; break;
    default: return;
    }
    d->cls = EV_EXIT;
}

/* An iret with EFLAGS.NT set (the TASK_SWITCH exit site_exit recorded): the monitor performs the
 * task return on the guest's state (emu/taskswitch.c), as for a task gate; Unicorn's own would
 * load the guest's CR3 into the real CPU behind the shadow MMU. The CPU then resumes at the
 * returned-to task's EIP (written from this hook: the iret itself does not run). A fault of the
 * switch is raised at the iret; a #PF there (the TSS or GDT unmapped) ends the run, as the loop's
 * raise carries no CR2. Without NT, the CPU executes the iret. */
static struct action task_return(struct machine *m, const struct site *s, uint32_t eip)
{
    uint32_t fl = 0;
    uc_reg_read(m->uc, UC_X86_REG_EFLAGS, &fl);
    if (!(fl & (1u << 14)))
        return act(ACT_RESUME);
    struct cpu_view cv;
    struct xevent f;
    deliver_real_view(m, &cv);
    int r = task_switch_iret(m, &cv, eip, eip + s->len, &f);
    if (r == 0)
        return act(ACT_RESUME);
    if (r == 1 && f.vector != 14)
        return act_raise(f.vector, f.error);
    if (r == 1 || r == -2)
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "iret task return at EIP 0x%08x: %s reading the TSS or GDT", eip,
                    r == 1 ? "page fault" : "memory outside RAM");
    return act(ACT_END);
}

/* Every entry into the monitor is a VT-x exit: #PF (the exception bitmap of a shadow-paging
 * VMM), external interrupts (and the interrupt window), the intercepted instructions. */
static void trap_classify(struct machine *m, const struct vexit *x, struct exit_decl *d)
{
    switch (x->kind) {
    case VX_EPT:
        d->cls = EV_EXIT;
        d->reason = x->ept_misconfig ? VMX_EPT_MISCONFIG : VMX_EPT_VIOLATION;
        emul_put_str(d->qual, sizeof d->qual,
                     (uint64_t)x->gpa < m->ram_size ? "ram" : "beyond ram");
        break;
    case VX_EXCEPTION:
        if (x->ev->kind == XK_FAULT && x->ev->vector == 14 && !st(m)->ept) {
            d->cls = EV_EXIT;
            d->reason = VMX_EXCEPTION_NMI;
            emul_put_str(d->qual, sizeof d->qual, "#PF");
        }
        break;
    case VX_INTERRUPT:
        d->cls = EV_EXIT;
        d->reason = x->ev->after_window ? VMX_INTERRUPT_WINDOW : VMX_EXTERNAL_INTERRUPT;
        snprintf(d->qual, sizeof d->qual, "irq%d", x->ev->irq);
        break;
    case VX_SITE:
        site_exit(m, x->s, x->eip, d);
        break;
    case VX_TASK_SWITCH: {
        /* The task switch exits whatever the vector (the exit's IDT-vectoring information names
         * it); the handler is the task switch itself (trap_task_sys below). */
        const char *n = vector_name(x->ev->vector);
        d->cls = EV_EXIT;
        d->reason = VMX_TASK_SWITCH;
        if (x->ev->kind == XK_EXTINT)
            snprintf(d->qual, sizeof d->qual, "irq%d", x->ev->irq);
        else if (n && x->ev->kind != XK_SOFTINT)
            emul_put_str(d->qual, sizeof d->qual, n);
        else
            snprintf(d->qual, sizeof d->qual, "int 0x%x", x->ev->vector);
        break;
    }
    }
}

/* The monitor's part of a TASK_SWITCH exit (mode op task_sys): TR and LDTR are the guest's own
 * registers under VT-x; CR0.TS and CR3 are the guest's virtual ones (the read shadow, the shadow
 * MMU's root for the new address space). */
static int trap_task_sys(struct machine *m, const struct task_sys *s)
{
    task_load_real_tr_ldtr(m, s);
    return shadow_monitor_task_cr(m, s);
}

static struct action trap_site(struct machine *m, const struct block *b, const struct site *s,
                                  uint32_t eip)
{
    /* A privileged instruction at CPL > 0 raises #GP before VT-x would look at it: let the CPU
     * do that. (I/O permission was already checked by the machine.) */
    if (insn_class_kind[s->cls] == IK_PRIV && machine_cpl(m) > 0)
        return act(ACT_RESUME);
    switch (s->cls) {
    case IC_MOV_TO_CR:
        return mov_to_cr(m, s, eip);
    case IC_MOV_FROM_CR:
        return mov_from_cr(m, s, eip);
    case IC_INVLPG: {
        uint32_t va;
        if (emul_mem_operand(m, eip, &va) == 0) {
            shadow_invlpg(st(m)->mon.sh, va);
            tlb_invlpg(m, va, true);          /* the CPU then executes the INVLPG */
        } else {
            tlb_flush(m, TLB_FLUSH_INVLPG, false);
        }
        return act(ACT_RESUME);
    }
    case IC_IRET:
        return task_return(m, s, eip);
    default:
        /* HLT, I/O, CPUID, MSR: the exit is recorded; the CPU executes the instruction as the
         * monitor's emulation would (the machine's port path serves the emulated devices). */
        return act(ACT_RESUME);
    }
}

/* Whether the VM's CPU delivers `ev` itself (no VM exit): all but a #PF under shadow paging. */
static bool delivered_by_cpu(struct machine *m, const struct xevent *ev)
{
    return ev->kind != XK_FAULT || ev->vector != 14 || st(m)->ept;
}

/* Every exception: those the CPU delivers, and a #PF under shadow paging, whose handling changes
 * the shadow tables, the TLBs (the model's and Unicorn's), registers and the exception state
 * (trap keeps nothing mapped in the guest's linear space: no window moves). */
static bool trap_exception_in_hook(struct machine *m, const struct xevent *ev)
{
    (void)m;
    (void)ev;
    return true;
}

static struct action trap_exception(struct machine *m, const struct xevent *ev)
{
    struct trap_state *t = st(m);
    if (delivered_by_cpu(m, ev))
        return act_rc(funnel_deliver(m, ev, DLV_MODE));
    return act_rc(shadow_exception(t->mon.sh, &t->mon.v, ev));
}

/* The interrupt is injected by VM entry: the CPU delivers it through the guest's IDT. */
static struct action trap_interrupt(struct machine *m, const struct xevent *ev)
{
    return act_rc(funnel_deliver(m, ev, DLV_MODE));
}


const struct mode_ops mode_trap = {
    .name = "trap",
    .summary = "hardware-assisted trap-and-emulate (VT-x semantics, no EPT) with shadow paging",
    .classes = EV_BIT(INSN) | EV_BIT(PRIV) | EV_BIT(FAULT) | EV_BIT(INTERRUPT) | EV_BIT(SOFTINT) |
               EV_BIT(IOEMUL) | EV_BIT(HALT) | EV_BIT(EXIT) | EV_BIT(SHADOW) | EV_BIT(REFUSAL),
    .deliver_class = EV_FAULT,
    .io_emulated = true,
    .keep_walks = true,
    .classify = trap_classify,
    .setup = trap_setup,
    .exception = trap_exception,
    .exception_in_hook = trap_exception_in_hook,
    .interrupt = trap_interrupt,
    .irq_open = machine_if_set,
    .teardown = shadow_monitor_teardown,
    .paging_regs = shadow_monitor_paging_regs,
    .task_sys = trap_task_sys,
    .site_wanted = trap_site_wanted,
    .site = trap_site,
};

/* ---- trap-ept ------------------------------------------------------------------------------- */

static int trap_ept_setup(struct machine *m, const struct boot_info *bi, char *errbuf,
                          unsigned errlen)
{
    struct trap_state *t = state_new(m, errbuf, errlen);
    if (!t)
        return -1;
    t->ept = ept_create(m->ram, m->ram_size, errbuf, errlen);
    if (!t->ept)
        return -1;
    /* Guest RAM moves in Unicorn's physical space to the layout the EPT maps it to (ept.h);
     * the host keeps its view, m->ram by guest-physical address. */
    if (uc_mem_unmap(m->uc, 0, m->ram_size) != UC_ERR_OK) {
        snprintf(errbuf, errlen, "unicorn: cannot unmap guest RAM for the EPT layout");
        return -1;
    }
    for (uint64_t gpa = 0; gpa < m->ram_size; gpa += t->ept->chunk)
        if (uc_mem_map_ptr(m->uc, ept_layout_hpa(t->ept, (uint32_t)gpa), t->ept->chunk, UC_PROT_ALL,
                           m->ram + gpa) != UC_ERR_OK) {
            snprintf(errbuf, errlen, "unicorn: cannot map guest RAM at its host-physical place");
            return -1;
        }
    tlb_set_ept(m, t->ept);
    tlb_host_begin(m);           /* the entry state's segment loads are the monitor's reads */
    int r = loader_enter(m, bi, errbuf, errlen);
    tlb_host_end(m);
    return r;
}

static void trap_ept_teardown(struct machine *m)
{
    struct trap_state *t = m->mode_state;
    if (!t)
        return;
    ept_free(t->ept);
    free(t);
    m->mode_state = NULL;
}

/* What exits under EPT: as trap, but neither CR3 loads and reads nor INVLPG. */
static bool trap_ept_site_wanted(struct machine *m, const struct site *s)
{
    switch (s->cls) {
    case IC_MOV_TO_CR:
        return s->cr == 0 || s->cr == 4;
    case IC_MOV_FROM_CR: case IC_INVLPG:
        return false;
    default:
        return trap_site_wanted(m, s);
    }
}

/* EPT_VIOLATION: the first touch of a guest frame maps it; beyond RAM the run ends, as native
 * ends a guest that reads memory it does not have. EPT_MISCONFIG: the entry is rebuilt. */
static struct action trap_ept_fault(struct machine *m, uint32_t gpa, bool misconfig)
{
    struct trap_state *t = st(m);
    if (misconfig ? ept_repair(t->ept, gpa) > 0 : ept_populate(t->ept, gpa) == 0)
        return act(ACT_RESUME);
    if ((uint64_t)gpa >= m->ram_size)
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "guest accessed physical memory outside its %llu MiB of RAM (EPT violation "
                    "at guest-physical 0x%08x)", (unsigned long long)(m->ram_size >> 20), gpa);
    else
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                    "EPT %s at guest-physical 0x%08x the monitor cannot mend",
                    misconfig ? "misconfiguration" : "violation", gpa);
    return act(ACT_END);
}

const struct mode_ops mode_trap_ept = {
    .name = "trap-ept",
    .summary = "hardware-assisted trap-and-emulate (VT-x semantics) with EPT: nested paging",
    .classes = EV_BIT(INSN) | EV_BIT(PRIV) | EV_BIT(FAULT) | EV_BIT(INTERRUPT) | EV_BIT(SOFTINT) |
               EV_BIT(IOEMUL) | EV_BIT(HALT) | EV_BIT(EXIT) | EV_BIT(REFUSAL),
    .deliver_class = EV_FAULT,
    .io_emulated = true,
    .keep_walks = true,
    .classify = trap_classify,
    .setup = trap_ept_setup,
    .exception = trap_exception,
    .exception_in_hook = trap_exception_in_hook,
    .interrupt = trap_interrupt,
    .irq_open = machine_if_set,
    .teardown = trap_ept_teardown,
    .task_sys = NULL,            /* TR, LDTR, CR0.TS and CR3 are the real ones (task_sys_real) */
    .site_wanted = trap_ept_site_wanted,
    .site = trap_site,
    .ept_fault = trap_ept_fault,
};
