/*
 * deliver.c — the one implementation of protected-mode event delivery (see deliver.h).
 *
 * Structure:
 *   deliver_event()          the double-fault state machine around
 *     try_deliver()          one attempt: gate -> code segment -> stack -> frame -> commit
 *       read_desc()          GDT/LDT descriptor fetch through the guest's page tables
 *       stack_for()          TSS stack of an inward transition, checked like the CPU does
 *       commit()             the Unicorn side: reset exception state, set CPL, load registers
 *     task_switch_gate()     a task gate: the hardware task switch (emu/taskswitch.c), after the
 *                            funnel recorded it (a VT-x monitor's TASK_SWITCH exit)
 *
 * An attempt that must fault returns 1 with the new fault in *f and changes nothing in the CPU:
 * all checks (including page faults on the whole new frame) happen before the first write.
 */
#include "emu/deliver.h"

#include <stdio.h>
#include <string.h>

#include "emu/desc.h"
#include "emu/modes/mode.h"
#include "emu/paging.h"
#include "emu/taskswitch.h"

static const char *const names[20] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO",
    "#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM",
};

const char *vector_name(unsigned v) { return v < 20 ? names[v] : NULL; }

bool vector_has_error_code(unsigned v)
{
    return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

enum fclass { FC_BENIGN, FC_CONTRIB, FC_PF };

static enum fclass fault_class(const struct xevent *e)
{
    if (e->kind != XK_FAULT && e->kind != XK_TRAP)
        return FC_BENIGN;
    if (e->vector == 14)
        return FC_PF;
    if (e->vector == 0 || (e->vector >= 10 && e->vector <= 13))
        return FC_CONTRIB;
    return FC_BENIGN;
}

static void make_fault(struct xevent *f, uint8_t vector, uint32_t err, uint32_t eip)
{
    memset(f, 0, sizeof *f);
    f->kind = XK_FAULT;
    f->vector = vector;
    f->has_error = vector_has_error_code(vector);
    f->error = err;
    f->eip = eip;
}

static void make_pf(struct xevent *f, uint32_t lin, uint32_t pferr, uint32_t eip)
{
    make_fault(f, 14, pferr, eip);
    f->cr2 = lin;
}

void deliver_make_fault(struct xevent *f, uint8_t vector, uint32_t err, uint32_t eip)
{
    make_fault(f, vector, err, eip);
}

void deliver_make_pf(struct xevent *f, uint32_t lin, uint32_t pferr, uint32_t eip)
{
    make_pf(f, lin, pferr, eip);
}

void deliver_real_view(struct machine *m, struct cpu_view *v)
{
    struct uq_sysregs r;
    uq_sysregs(&m->quirks, m->uc, &r);
    memset(v, 0, sizeof *v);
    v->idt_base = r.idt_base;
    v->idt_limit = r.idt_limit;
    v->gdt_base = r.gdt_base;
    v->gdt_limit = r.gdt_limit;
    v->ldt_sel = r.ldt.selector;
    v->ldt_base = r.ldt.base;
    v->ldt_limit = r.ldt.limit;
    v->tr_sel = r.tr.selector;
    v->tr_base = r.tr.base;
    v->tr_limit = r.tr.limit;
    v->cpl = r.sel[UQ_CS] & 3;
    /* EFLAGS through the API: QEMU keeps the arithmetic flags in its lazy condition codes. */
    uc_reg_read(m->uc, UC_X86_REG_EFLAGS, &v->eflags);
    memcpy(v->sel, r.sel, sizeof v->sel);
}

/* Read descriptor `sel` (TI selects the LDT). 0 ok; 1 with *f = #GP(sel) / #PF; -2 outside RAM. */
static int read_desc(struct machine *m, const struct paging_regs *pr, struct paging_memo *memo,
                     const struct cpu_view *cv, uint16_t sel, struct desc *d, uint32_t ext,
                     uint32_t eip, struct xevent *f)
{
    struct { uint16_t selector; uint32_t base, limit; } tab;
    if (sel & 4)
        tab = (typeof(tab)){cv->ldt_sel, cv->ldt_base, cv->ldt_limit};
    else
        tab = (typeof(tab)){0, cv->gdt_base, cv->gdt_limit};
    uint32_t idx = sel & ~7u;
    if (idx + 7 > tab.limit || ((sel & 4) && tab.selector == 0) || (!(sel & 4) && idx == 0)) {
        make_fault(f, 13, (sel & 0xfffcu) | ext, eip);
        return 1;
    }
    uint32_t raw[2], fl, pferr;
    int r = machine_read_lin_with(m, pr, memo, (uint32_t)tab.base + idx, raw, 8, false, &fl,
                                  &pferr);
    if (r == -1) {
        make_pf(f, fl, pferr, eip);
        return 1;
    }
    if (r < 0)
        return -2;
    desc_decode(raw[0], raw[1], d);
    return 0;
}

int deliver_read_desc(struct machine *m, const struct cpu_view *cv, uint16_t sel, struct desc *d,
                      uint32_t ext, uint32_t eip, struct xevent *f)
{
    struct paging_regs pr;
    machine_paging_regs(m, &pr);
    return read_desc(m, &pr, NULL, cv, sel, d, ext, eip, f);
}

struct target {
    struct desc csd, ssd;    /* descriptors of the new CS and SS */
    uint16_t cs;
    uint32_t eip;
    int cpl;                 /* new CPL */
    bool iflag_clear;
    bool stack_switch;
    uint16_t ss;
    uint32_t esp;            /* new ESP after pushes */
    uint32_t frame_lin;      /* linear address of the frame */
    uint32_t frame[7];
    unsigned nframe;
};

/* TSS stack for privilege `dpl`. */
static int stack_for(struct machine *m, const struct paging_regs *pr, struct paging_memo *memo,
                     const struct cpu_view *cv, int dpl, uint32_t ext, uint32_t eip,
                     uint16_t *ss, uint32_t *esp, struct desc *ssd, struct xevent *f)
{
    uint32_t off = 4 + 8 * (uint32_t)dpl;
    if (cv->tr_sel == 0 || off + 5 > cv->tr_limit) {
        make_fault(f, 10, (cv->tr_sel & 0xfffcu) | ext, eip);
        return 1;
    }
    uint32_t v[2], fl, pferr;
    int r = machine_read_lin_with(m, pr, memo, cv->tr_base + off, v, 8, false, &fl, &pferr);
    if (r == -1) {
        make_pf(f, fl, pferr, eip);
        return 1;
    }
    if (r < 0)
        return -2;
    *esp = v[0];
    *ss = (uint16_t)v[1];
    if ((*ss & 0xfffcu) == 0 || (*ss & 3) != dpl) {
        make_fault(f, 10, (*ss & 0xfffcu) | ext, eip);
        return 1;
    }
    r = read_desc(m, pr, memo, cv, *ss, ssd, ext, eip, f);
    if (r)
        return r;
    /* Writable data segment of the right privilege. */
    if (!desc_is_writable_data(ssd) || ssd->dpl != dpl) {
        make_fault(f, 10, (*ss & 0xfffcu) | ext, eip);
        return 1;
    }
    if (!ssd->p) {
        make_fault(f, 12, (*ss & 0xfffcu) | ext, eip);
        return 1;
    }
    return 0;
}


static int commit(struct machine *m, const struct cpu_view *cv, const struct target *t,
                  uint32_t eflags, const uint32_t *cr2)
{
    uint32_t esp = t->esp, eip = t->eip;
    int ring = deliver_real_ring(cv, t->cpl);
    struct uq_seg cs, ss;
    /* The guest's selectors as the real CPU runs them: a ring-compressing monitor maps them to
     * its own descriptors (mode op real_seg); otherwise RPL and DPL follow the real ring. */
    if (m->mode && m->mode->real_seg) {
        if (m->mode->real_seg(m, t->cs, &cs) < 0 ||
            (t->stack_switch && m->mode->real_seg(m, t->ss, &ss) < 0))
            return -1;
    } else {
        uint32_t dpl_bits = (uint32_t)ring << 13;
        cs = (struct uq_seg){(uint16_t)((t->cs & 0xfffcu) | (unsigned)ring), t->csd.base,
                             t->csd.limit, (t->csd.hi & ~(3u << 13)) | dpl_bits};
        ss = (struct uq_seg){(uint16_t)((t->ss & 0xfffcu) | (unsigned)ring), t->ssd.base,
                             t->ssd.limit, (t->ssd.hi & ~(3u << 13)) | dpl_bits};
    }
    if (uq_load_cs_ss(&m->quirks, m->uc, &cs, t->stack_switch ? &ss : NULL, ring, cr2) < 0)
        return -1;
    /* In the interrupt hook the CPU goes on at the handler when the hook returns, without
     * leaving its loop (uq_hook_resume), as QEMU's own delivery does. */
    if (m->in_intr_hook && uq_hook_resume(&m->quirks, m->uc, esp, eflags, eip) == 0)
        return 0;
    uc_reg_write(m->uc, UC_X86_REG_ESP, &esp);
    uc_reg_write(m->uc, UC_X86_REG_EFLAGS, &eflags);
    uc_reg_write(m->uc, UC_X86_REG_EIP, &eip);
    return 0;
}

static bool is_hw(const struct xevent *e)
{
    return e->kind == XK_FAULT || e->kind == XK_TRAP || e->kind == XK_EXTINT;
}

/* One delivery attempt: 0 done, 1 nested fault in *f, -1 run ended, -2 memory outside RAM. */
static int try_deliver(struct machine *m, const struct xevent *ev, struct xevent *f)
{
    uint32_t ext = is_hw(ev) ? 1 : 0;
    uint32_t eip_fault = ev->eip;           /* EIP reported by nested faults */
    struct cpu_view view, *cv = &view;
    if (m->mode && m->mode->cpu_view)
        m->mode->cpu_view(m, cv);
    else
        deliver_real_view(m, cv);
    uint32_t cs_old = uq_selector(&m->quirks, m->uc, UQ_CS);
    uint32_t ss_old = uq_selector(&m->quirks, m->uc, UQ_SS), eflags = cv->eflags;
    if (cv->frame_cs)
        cs_old = cv->frame_cs;
    uint32_t esp_old = uq_esp(&m->quirks, m->uc);
    int cpl = cv->cpl;
    /* A fault while delivering int n / int3 / into reports the instruction itself. */
    if (ev->kind == XK_SOFTINT)
        eip_fault = ev->insn_eip;

    uint32_t gerr = ((uint32_t)ev->vector << 3) | 2u | ext;
    if ((uint32_t)ev->vector * 8 + 7 > cv->idt_limit) {
        make_fault(f, 13, gerr, eip_fault);
        return 1;
    }
    /* Nothing in one attempt changes the paging registers: they are read once. Nor does
     * anything but the attempt's own accessed/dirty bits change the page tables, so its later
     * accesses to a page (the GDT and the TSS often share one; the frame's probe, check and
     * write are three) reuse the first walk's translation (struct paging_memo). Where the mode
     * says so (keep_walks: all but pv), the walks live on to the next event, as the
     * CPU's TLB keeps translations, until the TLB model's next flush or other paging registers. */
    struct paging_regs pr;
    machine_paging_regs(m, &pr);
    struct paging_memo local = {0}, *memo = machine_kept_walks(m, &pr);
    if (!memo)
        memo = &local;
    uint32_t g[2], fl, pferr;
    int r = machine_read_lin_with(m, &pr, memo, cv->idt_base + ev->vector * 8u, g, 8, false,
                                  &fl, &pferr);
    if (r == -1) {
        make_pf(f, fl, pferr, eip_fault);
        return 1;
    }
    if (r < 0)
        return -2;
    struct gate gate;
    gate_decode(g[0], g[1], &gate);
    unsigned gtype = gate.type, gdpl = gate.dpl;
    if (gtype != GATE_INT32 && gtype != GATE_TRAP32 && gtype != GATE_TASK) {
        if (gtype == GATE_INT16 || gtype == GATE_TRAP16) {
            machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                        "vector %u uses a 16-bit gate, which vmlab does not support", ev->vector);
            return -1;
        }
        make_fault(f, 13, gerr, eip_fault);
        return 1;
    }
    if (ev->kind == XK_SOFTINT && (int)gdpl < cpl) {
        make_fault(f, 13, gerr & ~1u, eip_fault);
        return 1;
    }
    if (!gate.present) {
        make_fault(f, 11, gerr, eip_fault);
        return 1;
    }
    if (gtype == GATE_TASK) {
        /* Intel SDM vol. 3A, 6.12.2 "Interrupt Tasks": the gate's DPL (int n, int3 and into
         * only) and presence are checked as for interrupt gates (6.12.1.1, above); then the task
         * switch (7.3). Under VT-x every task switch is a VM exit (basic reason TASK_SWITCH): the
         * funnel records what the mode says it is first. */
        if (funnel_task_switch(m, ev, gate.selector) < 0)
            return -1;
        return task_switch_gate(m, cv, ev, gate.selector, ext, eip_fault, f);
    }
    struct target t;
    memset(&t, 0, sizeof t);
    t.cs = gate.selector;
    t.eip = gate.offset;
    t.iflag_clear = gtype == GATE_INT32;
    if ((t.cs & 0xfffcu) == 0) {
        make_fault(f, 13, ext, eip_fault);
        return 1;
    }
    struct desc csd;
    r = read_desc(m, &pr, memo, cv, t.cs, &csd, ext, eip_fault, f);
    if (r)
        return r;
    t.csd = csd;
    if (!desc_is_code(&csd) || (int)csd.dpl > cpl) {
        make_fault(f, 13, (t.cs & 0xfffcu) | ext, eip_fault);
        return 1;
    }
    if (!csd.p) {
        make_fault(f, 11, (t.cs & 0xfffcu) | ext, eip_fault);
        return 1;
    }
    bool conforming = desc_is_conforming(&csd);
    t.cpl = conforming ? cpl : (int)csd.dpl;
    t.cs = (uint16_t)((t.cs & 0xfffcu) | (unsigned)t.cpl);

    uint32_t ss_base;
    uint32_t esp;
    t.stack_switch = t.cpl < cpl;
    if (t.stack_switch) {
        r = stack_for(m, &pr, memo, cv, t.cpl, ext, eip_fault, &t.ss, &esp, &t.ssd, f);
        if (r)
            return r;
        ss_base = t.ssd.base;
        t.frame[t.nframe++] = ss_old;
        t.frame[t.nframe++] = esp_old;
    } else {
        /* Same privilege: the stack in use, as the CPU has it cached. */
        struct uq_seg cur;
        t.ss = (uint16_t)ss_old;
        esp = esp_old;
        if (uq_seg_cache(&m->quirks, m->uc, UQ_SS, &cur) < 0)
            return -2;
        ss_base = cur.base;
    }
    t.frame[t.nframe++] = eflags;
    t.frame[t.nframe++] = cs_old;
    t.frame[t.nframe++] = ev->eip;
    if (ev->has_error)
        t.frame[t.nframe++] = ev->error;
    esp -= 4 * t.nframe;
    t.esp = esp;
    t.frame_lin = ss_base + esp;
    /* The frame is pushed last-first: frame[0] at the highest address. */
    uint32_t mem[7];
    for (unsigned i = 0; i < t.nframe; i++)
        mem[t.nframe - 1 - i] = t.frame[i];
    bool user = t.cpl == 3;
    /* Probe every page of the frame for write access before changing anything. */
    uint32_t probe[7];
    r = machine_read_lin_with(m, &pr, memo, t.frame_lin, probe, 4 * t.nframe, user, &fl,
                              &pferr);
    if (r == 0) {
        struct paging_access acc = {.write = true, .user = user, .set_ad = false, .memo = memo};
        uint32_t pa;
        for (uint32_t a = t.frame_lin & ~0xfffu; a < t.frame_lin + 4 * t.nframe; a += 0x1000) {
            uint32_t lin = a < t.frame_lin ? t.frame_lin : a;
            if (paging_translate(&pr, &m->pm, lin, &acc, &pa, &pferr) < 0) {
                r = -1;
                fl = lin;
                break;
            }
        }
    }
    if (r == -1) {
        /* A page fault on the new stack is a #PF, as the CPU raises it. */
        make_pf(f, fl, pferr | (user ? PFE_U : 0) | PFE_W, eip_fault);
        return 1;
    }
    if (r < 0)
        return -2;
    if (machine_write_lin_with(m, &pr, memo, t.frame_lin, mem, 4 * t.nframe, user, &fl,
                               &pferr) != 0)
        return -2;
    eflags &= ~((1u << 8) | (1u << 14) | (1u << 16) | (1u << 17)); /* TF, NT, RF, VM */
    if (t.iflag_clear)
        eflags &= ~(1u << 9);
    bool pf = ev->vector == 14 && ev->kind == XK_FAULT;
    /* Under ring compression the real interrupt flag stays set (the monitor takes every
     * interrupt) and the real IOPL 0 (so the kernel's cli, sti and port I/O reach the monitor);
     * the guest's own flag and IOPL are the mode's (the frame shows them), told through
     * delivered(). */
    uint32_t real_eflags = cv->kernel_ring ? ((eflags | (1u << 9)) & ~(3u << 12)) : eflags;
    if (commit(m, cv, &t, real_eflags, pf ? &ev->cr2 : NULL) < 0) {
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                    "unicorn refused the register state for delivering vector %u (CS=0x%x SS=0x%x)",
                    ev->vector, t.cs, t.ss);
        return -1;
    }
    if (m->mode && m->mode->delivered)
        m->mode->delivered(m, t.cpl, eflags);
    return 0;
}

static void describe(char *buf, size_t len, const struct xevent *e)
{
    const char *n = vector_name(e->vector);
    if (e->kind == XK_EXTINT)
        snprintf(buf, len, "interrupt 0x%x (irq %d)", e->vector, e->irq);
    else if (e->kind == XK_SOFTINT)
        snprintf(buf, len, "int 0x%x", e->vector);
    else if (e->vector == 14)
        snprintf(buf, len, "#PF(0x%x, cr2=0x%08x)", e->error, e->cr2);
    else if (e->has_error)
        snprintf(buf, len, "%s(0x%x)", n ? n : "vector", e->error);
    else
        snprintf(buf, len, "%s", n ? n : "vector");
}

int deliver_event(struct machine *m, const struct xevent *ev)
{
    /* hist[0] is the original event, hist[k] what went wrong while delivering hist[k-1]. */
    struct xevent hist[6];
    int nh = 0;
    struct xevent cur = *ev, f;
    for (;;) {
        hist[nh++] = cur;
        int r = try_deliver(m, &cur, &f);
        if (r == 0)
            return 0;
        if (r == -1)
            return -1;
        char chain[480] = "";
        size_t used = 0;
        for (int k = nh - 1; k >= 0 && used < sizeof chain; k--) {
            char d[96];
            describe(d, sizeof d, &hist[k]);
            used += (size_t)snprintf(chain + used, sizeof chain - used, "%s%s",
                                     k == nh - 1 ? "" : " while delivering ", d);
        }
        if (r == -2) {
            machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                        "delivering %s touched memory outside RAM; EIP 0x%08x", chain, ev->eip);
            return -1;
        }
        char fd[96];
        describe(fd, sizeof fd, &f);
        if ((cur.vector == 8 && cur.kind == XK_FAULT) || nh == 6) {
            machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                        "triple fault: %s while delivering %s; EIP 0x%08x", fd, chain, ev->eip);
            return -1;
        }
        enum fclass a = fault_class(&cur), b = fault_class(&f);
        bool df = (a == FC_CONTRIB && b == FC_CONTRIB) || (a == FC_PF && b != FC_BENIGN);
        if (df) {
            hist[nh++] = f;
            make_fault(&cur, 8, 0, f.eip);
        } else {
            cur = f;
        }
    }
}
