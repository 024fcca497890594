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
 *
 * How it is done on Unicorn: the guest's CR0/CR3/CR4 are virtual (vcpu.h); the real ones belong
 * to the shadow MMU. The intercepted instructions carry code hooks placed when their block is
 * first decoded (the machine's site mechanism), so nothing else pays for them. Exceptions other
 * than #PF, and software interrupts, are delivered straight into the guest's IDT without an exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/deliver.h"
#include "emu/modes/emul_write.h"
#include "emu/modes/mode.h"
#include "emu/modes/shadow.h"
#include "emu/run.h"
#include "emu/vmx.h"

#define SHADOW_POOL_BYTES (32u << 20)

struct trap_state {
    struct shadow_monitor mon;               /* first: the shared monitor operations use it */
};

static struct trap_state *st(struct machine *m) { return m->mode_state; }

static void exit_rec(struct machine *m, enum vmx_exit reason, const char *qual, uint32_t eip)
{
    ev_record(&m->ev, machine_now(m), EV_EXIT, reason, qual, 0, eip, machine_cpl(m));
}

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

static int trap_setup(struct machine *m, const struct boot_info *bi, char *errbuf,
                      unsigned errlen)
{
    struct trap_state *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    m->mode_state = t;
    t->mon.sh = shadow_create(m, SHADOW_POOL_BYTES, m->cfg.monitor_window, errbuf, errlen);
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
        return true;
    default:
        return false;
    }
}

static enum site_action mov_to_cr(struct machine *m, const struct site *s, uint32_t eip)
{
    struct trap_state *t = st(m);
    int reg = cr_gpr(m, eip);
    if (reg < 0 || s->cr == 2)
        return SITE_RUN;    /* CR2 writes do not exit; the real CR2 is the guest's */
    uint32_t val = 0;
    uc_reg_read(m->uc, reg, &val);
    char q[16];
    snprintf(q, sizeof q, "cr%d/write", s->cr);
    exit_rec(m, VMX_CR_ACCESS, q, eip);
    int r = shadow_load_cr(t->mon.sh, &t->mon.v, s->cr, val);
    if (r > 0)
        run_raise_fault(m, 13, 0, eip);
    return r == 0 ? SITE_SKIP : SITE_STOPPED;
}

static enum site_action mov_from_cr(struct machine *m, const struct site *s, uint32_t eip)
{
    struct trap_state *t = st(m);
    int reg = cr_gpr(m, eip);
    uint32_t val;
    switch (s->cr) {
    case 0: val = t->mon.v.cr0; break;
    case 3: val = t->mon.v.cr3; exit_rec(m, VMX_CR_ACCESS, "cr3/read", eip); break;
    case 4: val = t->mon.v.cr4; break;
    default: return SITE_RUN;
    }
    if (reg < 0)
        return SITE_RUN;
    uc_reg_write(m->uc, reg, &val);
    return SITE_SKIP;
}

static enum site_action trap_site(struct machine *m, const struct block *b, const struct site *s,
                                  uint32_t eip)
{
    char q[24];
    /* A privileged instruction at CPL > 0 raises #GP before VT-x would look at it: let the CPU
     * do that. (I/O permission was already checked by the machine.) */
    if (insn_class_kind[s->cls] == IK_PRIV && machine_cpl(m) > 0)
        return SITE_RUN;
    switch (s->cls) {
    case IC_MOV_TO_CR:
        return mov_to_cr(m, s, eip);
    case IC_MOV_FROM_CR:
        return mov_from_cr(m, s, eip);
    case IC_INVLPG: {
        uint32_t va;
        exit_rec(m, VMX_INVLPG, "", eip);
        if (emul_mem_operand(m, eip, &va) == 0)
            shadow_invlpg(st(m)->mon.sh, va);
        return SITE_RUN;
    }
    case IC_HLT:
        exit_rec(m, VMX_HLT, "", eip);
        return SITE_RUN;
    case IC_IN: case IC_OUT: case IC_INS: case IC_OUTS: {
        uint32_t port = s->port_imm ? s->port : 0;
        if (!s->port_imm)
            uc_reg_read(m->uc, UC_X86_REG_DX, &port);
        bool in = s->cls == IC_IN || s->cls == IC_INS;
        snprintf(q, sizeof q, "%s%u 0x%x", in ? "in" : "out", s->io_size, port & 0xffff);
        exit_rec(m, VMX_IO_INSTRUCTION, q, eip);
        return SITE_RUN;
    }
    case IC_CPUID:
        exit_rec(m, VMX_CPUID, "", eip);
        return SITE_RUN;
    case IC_RDMSR:
        exit_rec(m, VMX_MSR_READ, "", eip);
        return SITE_RUN;
    case IC_WRMSR:
        exit_rec(m, VMX_MSR_WRITE, "", eip);
        return SITE_RUN;
    default:
        return SITE_RUN;
    }
}

static int trap_exception(struct machine *m, const struct xevent *ev)
{
    struct trap_state *t = st(m);
    if (ev->kind != XK_FAULT || ev->vector != 14)
        return shadow_deliver_recorded(m, ev);
    return shadow_exception(t->mon.sh, &t->mon.v, ev);
}

static int trap_interrupt(struct machine *m, const struct xevent *ev)
{
    char q[16];
    snprintf(q, sizeof q, "irq%d", ev->irq);
    exit_rec(m, ev->after_window ? VMX_INTERRUPT_WINDOW : VMX_EXTERNAL_INTERRUPT, q, ev->eip);
    ev_record(&m->ev, m->time, EV_INTERRUPT, ev->vector, q, 0, ev->eip, machine_cpl(m));
    return deliver_event(m, ev);
}


const struct mode_ops mode_trap = {
    .name = "trap",
    .summary = "hardware-assisted trap-and-emulate (VT-x semantics, no EPT) with shadow paging",
    .setup = trap_setup,
    .exception = trap_exception,
    .interrupt = trap_interrupt,
    .irq_open = machine_if_set,
    .teardown = shadow_monitor_teardown,
    .paging_regs = shadow_monitor_paging_regs,
    .site_wanted = trap_site_wanted,
    .site = trap_site,
};
