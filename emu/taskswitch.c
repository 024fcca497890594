/*
 * taskswitch.c — the task switch of an interrupt or exception through an IDT task gate (see
 * taskswitch.h), step by step as Intel SDM vol. 3A, 7.3 "Task Switching" lists them for a switch
 * made by an exception or interrupt (a nested task, 7.4 "Task Linking"), with the checks of
 * Table 7-1 "Exception Conditions Checked During a Task Switch" and the task-gate path of the
 * INT n pseudocode (SDM vol. 2A, "INT n/INTO/INT3 ... TASK-GATE").
 *
 * Structure:
 *   task_switch_gate()   the new TSS descriptor -> the new TSS -> its segments -> probes ->
 *                        commit: save the old task, link, busy, system registers, segments,
 *                        general registers, EFLAGS, EIP -> push the error code
 *   check_segments()     Table 7-1's checks of the new task's LDT, CS, SS, DS, ES, FS, GS
 *   load_segments()      the six segment registers as the real CPU runs them, with the CPL
 *
 * As in delivery (deliver.c), everything that can fault before the SDM's commit point is checked
 * before the first write: such a fault returns 1 and leaves the CPU and memory untouched. One
 * difference from the SDM, on purpose: the new task's segment descriptors are checked before the
 * commit, so a bad one is reported in the old task's context where hardware would report it in
 * the new task's (7.3 step 13; the architectural state is then partly loaded anyway). What comes
 * after the commit and can fault — pushing the error code, the new EIP outside CS — is raised in
 * the new task's context, as the hardware does.
 *
 * Left out, each on purpose:
 *   - 16-bit TSSs (types 1 and 3): the run ends with a one-line diagnostic.
 *   - virtual-8086 tasks (EFLAGS.VM in the new TSS): the run ends with a one-line diagnostic.
 *   - the debug trap flag T (TSS offset 0x64, bit 0): the #DB it raises after the switch is not
 *     raised (vmlab has no debug-exception support).
 *   - the I/O map base (TSS offset 0x66): nothing to do at the switch; the CPU reads it through
 *     TR at each I/O permission check.
 *   - accessed bits of the new task's descriptors: not set (delivery does not set them either).
 *   - expand-down stack segments: the limit check of the error-code push treats SS as expand-up.
 */
#include "emu/taskswitch.h"

#include <stdio.h>
#include <string.h>

#include "emu/desc.h"
#include "emu/modes/mode.h"
#include "emu/paging.h"

/* Offsets in a 32-bit TSS (SDM vol. 3A, 7.2.1 "Task-State Segment (TSS)", Figure 7-2). */
enum {
    TSS_LINK = 0x00, TSS_CR3 = 0x1c, TSS_EIP = 0x20, TSS_EFLAGS = 0x24, TSS_EAX = 0x28,
    TSS_ESP = 0x38, TSS_ES = 0x48, TSS_LDT = 0x60, TSS_T = 0x64,
    TSS_MIN_LIMIT = 0x67,                /* 7.2.2: a 32-bit TSS needs a limit >= 67H, else #TS */
};

enum { V_TS = 10, V_NP = 11, V_SS = 12, V_GP = 13 };

#define EFLAGS_NT (1u << 14)
#define EFLAGS_VM (1u << 17)
#define EFLAGS_IF (1u << 9)
#define EFLAGS_IOPL (3u << 12)
#define CR0_TS (1u << 3)
#define DESC_BUSY (1u << 9)              /* the busy bit of a TSS descriptor's type (B) */

/* The general registers in TSS order (EAX at 0x28 ... EDI at 0x44). */
static const int gpr[8] = {UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                           UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI};

static int fault(struct xevent *f, uint8_t vector, uint16_t sel, uint32_t ext, uint32_t eip)
{
    deliver_make_fault(f, vector, (sel & 0xfffcu) | ext, eip);
    return 1;
}

/* A descriptor the new task names: as deliver_read_desc, but a selector outside its table is
 * #TS(selector) (Table 7-1), not #GP. */
static int task_desc(struct machine *m, const struct cpu_view *v, uint16_t sel, struct desc *d,
                     uint32_t ext, uint32_t eip, struct xevent *f)
{
    int r = deliver_read_desc(m, v, sel, d, ext, eip, f);
    if (r == 1 && f->vector == V_GP)
        return fault(f, V_TS, sel, ext, eip);
    return r;
}

/* Every page of [lin, lin + len) writable by a supervisor access through the guest's paging:
 * 0; 1 with the #PF in *f; -2 outside RAM. Nothing is written. */
static int probe_write(struct machine *m, uint32_t lin, uint32_t len, uint32_t eip,
                       struct xevent *f)
{
    struct paging_regs pr;
    machine_paging_regs(m, &pr);
    struct paging_access acc = {.write = true, .user = false, .set_ad = false};
    for (uint64_t a = lin & ~0xfffu; a < (uint64_t)lin + len; a += 0x1000) {
        uint32_t l = a < lin ? lin : (uint32_t)a, pa, err;
        if (paging_translate(&pr, &m->pm, l, &acc, &pa, &err) < 0) {
            deliver_make_pf(f, l, err | PFE_W, eip);
            return 1;
        }
        if ((uint64_t)pa + 1 > m->ram_size)
            return -2;
    }
    return 0;
}

/* SDM vol. 3A, Table 7-1, the checks on the state the new task loads (its CPL is CS's RPL):
 *   LDT selector: null, or a present LDT descriptor in the GDT           else #TS(LDT)
 *   CS: not null, code, DPL = RPL (non-conforming) or DPL <= RPL (conf.)  else #TS(CS)
 *       present                                                          else #NP(CS)
 *   SS: not null, RPL = CPL, writable data, DPL = CPL                    else #TS(SS)
 *       present                                                          else #SS(SS)
 *   DS, ES, FS, GS: null, or data / readable code; for data and non-conforming code
 *       DPL >= CPL and DPL >= RPL                                         else #TS(sel)
 *       present                                                          else #NP(sel)
 * nv is the guest's view with the new task's LDT (selectors with TI set read from it). */
static int check_segments(struct machine *m, struct cpu_view *nv, const uint32_t *w,
                          struct desc seg[6], uint32_t ext, uint32_t eip, struct xevent *f)
{
    uint16_t ldt = (uint16_t)w[TSS_LDT / 4];
    nv->ldt_sel = 0;
    nv->ldt_base = nv->ldt_limit = 0;
    if (ldt & 0xfffcu) {
        struct desc d;
        if (ldt & 4)
            return fault(f, V_TS, ldt, ext, eip);
        int r = task_desc(m, nv, ldt, &d, ext, eip, f);
        if (r)
            return r;
        if (d.s || d.type != 2 || !d.p)
            return fault(f, V_TS, ldt, ext, eip);
        nv->ldt_sel = ldt;
        nv->ldt_base = d.base;
        nv->ldt_limit = d.limit;
    }
    uint16_t sel[6];
    for (int i = 0; i < 6; i++)
        sel[i] = (uint16_t)w[TSS_ES / 4 + i];
    int cpl = sel[UQ_CS] & 3;
    for (int i = 0; i < 6; i++) {
        uint16_t s = sel[i];
        struct desc *d = &seg[i];
        memset(d, 0, sizeof *d);
        bool cs = i == UQ_CS, ss = i == UQ_SS;
        if (!(s & 0xfffcu)) {
            if (cs || ss)
                return fault(f, V_TS, s, ext, eip);
            continue;                        /* a null data selector loads an unusable segment */
        }
        if (ss && (s & 3) != cpl)
            return fault(f, V_TS, s, ext, eip);
        int r = task_desc(m, nv, s, d, ext, eip, f);
        if (r)
            return r;
        bool ok;
        if (cs)
            ok = desc_is_code(d) && (desc_is_conforming(d) ? d->dpl <= (s & 3) : d->dpl == (s & 3));
        else if (ss)
            ok = desc_is_writable_data(d) && d->dpl == cpl;
        else
            ok = d->s && (!desc_is_code(d) || (d->type & 2)) &&
                 (desc_is_conforming(d) || (d->dpl >= cpl && d->dpl >= (s & 3)));
        if (!ok)
            return fault(f, V_TS, s, ext, eip);
        if (!d->p)
            return fault(f, ss ? V_SS : V_NP, s, ext, eip);
    }
    return 0;
}

/* SDM vol. 3A, 7.3 step 13: load the segment registers from the new task's selectors (checked),
 * CPL = CS.RPL, as the real CPU runs them: a ring-compressing monitor maps the guest's selectors
 * to its own descriptors (mode op real_seg), otherwise the descriptors are loaded as they are
 * (CS and SS at the real ring, as delivery's commit does). 0, or -1 with the run ended. */
static int load_segments(struct machine *m, const struct cpu_view *cv, const uint32_t *w,
                         const struct desc seg[6], int cpl)
{
    int ring = deliver_real_ring(cv, cpl);
    struct uq_seg real[UQ_NSEG];
    const struct uq_seg *p[UQ_NSEG];
    for (int i = 0; i < UQ_NSEG; i++) {
        uint16_t s = (uint16_t)w[TSS_ES / 4 + i];
        p[i] = &real[i];
        if (!(s & 0xfffcu)) {
            real[i] = (struct uq_seg){s, 0, 0, 0};
        } else if (m->mode && m->mode->real_seg) {
            if (m->mode->real_seg(m, s, &real[i]) < 0) {
                machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                            "task switch: the monitor cannot run selector 0x%x of the new task "
                            "(LDT selectors are not supported under ring compression)", s);
                return -1;
            }
        } else if (i == UQ_CS || i == UQ_SS) {
            real[i] = (struct uq_seg){(uint16_t)((s & 0xfffcu) | (unsigned)ring), seg[i].base,
                                      seg[i].limit,
                                      (seg[i].hi & ~(3u << 13)) | ((uint32_t)ring << 13)};
        } else {
            real[i] = (struct uq_seg){s, seg[i].base, seg[i].limit, seg[i].hi};
        }
    }
    return uq_load_segs(&m->quirks, m->uc, p, ring, NULL);
}

void task_load_real_tr_ldtr(struct machine *m, const struct task_sys *s)
{
    uc_x86_mmr tr = {.selector = s->tr_sel, .base = s->tr_base, .limit = s->tr_limit,
                     .flags = s->tr_flags};
    uc_x86_mmr ldtr = {.selector = s->ldt_sel, .base = s->ldt_base, .limit = s->ldt_limit,
                       .flags = s->ldt_flags};
    uc_reg_write(m->uc, UC_X86_REG_TR, &tr);
    uc_reg_write(m->uc, UC_X86_REG_LDTR, &ldtr);
}

int task_sys_real(struct machine *m, const struct task_sys *s)
{
    task_load_real_tr_ldtr(m, s);
    uint64_t cr0 = 0;
    uc_reg_read(m->uc, UC_X86_REG_CR0, &cr0);
    cr0 |= CR0_TS;
    tlb_set_cr(m, 0, cr0);
    if (s->load_cr3)
        tlb_set_cr(m, 3, s->cr3);
    return 0;
}

/* The switch itself, from step 3 on, to the task of TSS `tss_sel` (descriptor td, type and
 * presence checked by the caller): for an event (ev, a nested switch) or for an iret with NT set
 * (ev NULL, `iret`: a return to the task in the back link). old_eip is the old task's return
 * point, saved in its TSS. Returns as task_switch_gate. */
static int do_switch(struct machine *m, const struct cpu_view *cv, bool iret, uint16_t tss_sel,
                     const struct desc *tdp, const struct xevent *ev, uint32_t old_eip,
                     uint32_t ext, uint32_t eip_fault, struct xevent *f)
{
    struct desc td = *tdp;
    unsigned vector = ev ? ev->vector : 0;
    bool push_error = ev && ev->has_error;
    /* Step 3: limit >= 67H (else #TS). */
    if (td.limit < TSS_MIN_LIMIT)
        return fault(f, V_TS, tss_sel, ext, eip_fault);
    /* The current task's TSS receives the old state: vmlab requires one (TR loaded with a
     * 32-bit TSS of limit >= 67H), else #TS(TR). */
    if (!(cv->tr_sel & 0xfffcu) || cv->tr_limit < TSS_MIN_LIMIT)
        return fault(f, V_TS, cv->tr_sel, ext, eip_fault);

    /* Step 5: the current TSS, the new TSS and the descriptors are read or probed through the
     * guest's paging before anything is written: a page fault there is raised in the old task's
     * context. */
    uint32_t w[26], fl, pferr;
    int r = machine_read_lin(m, td.base, w, sizeof w, false, &fl, &pferr);
    if (r == -1) {
        deliver_make_pf(f, fl, pferr, eip_fault);
        return 1;
    }
    if (r < 0)
        return -2;
    uint32_t eflags_new = w[TSS_EFLAGS / 4];
    if (eflags_new & EFLAGS_VM) {
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "%s%u: task switch to a virtual-8086 task (TSS 0x%x), which vmlab does not "
                    "support", iret ? "iret, vector " : "vector ", vector, tss_sel);
        return -1;
    }
    struct cpu_view nv = *cv;
    struct desc seg[6];
    r = check_segments(m, &nv, w, seg, ext, eip_fault, f);
    if (r)
        return r;
    int cpl = (int)(w[TSS_ES / 4 + UQ_CS] & 3);
    uint32_t eip = w[TSS_EIP / 4];
    /* The error code goes on the new task's stack: it must fit below SS's limit (else #SS). */
    uint32_t esp = w[TSS_ESP / 4];
    if (push_error && (esp < 4 || esp - 1 > seg[UQ_SS].limit))
        return fault(f, V_SS, 0, ext, eip_fault);
    /* IRET pseudocode (TASK-RETURN): EIP outside the new CS is #GP(0); checked here, before the
     * commit, so a monitor can raise it at the iret (hardware raises it in the new task). */
    if (iret && eip > seg[UQ_CS].limit)
        return fault(f, V_GP, 0, 0, eip_fault);
    uint32_t gdt_new = cv->gdt_base + (tss_sel & ~7u) + 4;
    uint32_t gdt_old = cv->gdt_base + (cv->tr_sel & ~7u) + 4;
    struct desc od;
    if (iret) {
        /* Step 6 for iret: the old TSS descriptor is read, to be marked not busy. */
        r = task_desc(m, cv, cv->tr_sel, &od, ext, eip_fault, f);
        if (r)
            return r;
    }
    if ((r = probe_write(m, cv->tr_base + TSS_EIP, TSS_LDT - TSS_EIP, eip_fault, f)) != 0 ||
        (!iret && (r = probe_write(m, td.base + TSS_LINK, 2, eip_fault, f)) != 0) ||
        (r = probe_write(m, iret ? gdt_old : gdt_new, 4, eip_fault, f)) != 0)
        return r;

    /* Commit. Step 6: a switch by an exception or interrupt nests: the old TSS stays busy; an
     * iret leaves the old task: its TSS becomes available. Step 7: the saved EFLAGS keep NT as
     * it was, except that an iret clears it. Step 8: save the old task's state in the current
     * TSS: EIP (the return point: the faulting instruction, the next one for int n, the one
     * after an iret), EFLAGS and the general registers and selectors as the guest sees them.
     * CR3 and the LDT selector are not written back (7.2.1: static fields). */
    uint32_t save[10];
    save[0] = old_eip;
    save[1] = iret ? cv->eflags & ~EFLAGS_NT : cv->eflags;
    for (int i = 0; i < 8; i++) {
        save[2 + i] = 0;
        uc_reg_read(m->uc, gpr[i], &save[2 + i]);
    }
    if (machine_write_lin(m, cv->tr_base + TSS_EIP, save, sizeof save, false, &fl, &pferr) != 0)
        return -2;
    for (int i = 0; i < 6; i++)
        if (machine_write_lin(m, cv->tr_base + TSS_ES + 4 * i, &cv->sel[i], 2, false, &fl,
                              &pferr) != 0)
            return -2;
    uint32_t hi = td.hi | DESC_BUSY;
    if (iret) {
        uint32_t old_hi = od.hi & ~DESC_BUSY;
        if (machine_write_lin(m, gdt_old, &old_hi, 4, false, &fl, &pferr) != 0)
            return -2;
    } else {
        /* 7.4 "Task Linking": the old TSS selector goes into the new TSS's previous-task link.
         * Step 10: the new TSS descriptor becomes busy (an iret's target already is). */
        uint16_t link = cv->tr_sel;
        if (machine_write_lin(m, td.base + TSS_LINK, &link, 2, false, &fl, &pferr) != 0 ||
            machine_write_lin(m, gdt_new, &hi, 4, false, &fl, &pferr) != 0)
            return -2;
    }

    /* Step 11: TR <- the new TSS. Step 12: LDTR and, with paging on, CR3 (the new task's address
     * space) from the new TSS. 2.5 "Control Registers": CR0.TS is set on every task switch. */
    struct paging_regs pr;
    machine_paging_regs(m, &pr);
    struct task_sys sys = {
        .tr_sel = tss_sel, .tr_base = td.base, .tr_limit = td.limit,
        .tr_flags = hi & 0x00f0ff00u,
        .ldt_sel = nv.ldt_sel, .ldt_base = nv.ldt_base, .ldt_limit = nv.ldt_limit,
        .load_cr3 = (pr.cr0 & CR0_PG) != 0, .cr3 = w[TSS_CR3 / 4],
    };
    if (nv.ldt_sel) {
        struct desc ld;
        struct xevent ignore;
        if (deliver_read_desc(m, cv, nv.ldt_sel, &ld, ext, eip_fault, &ignore) == 0)
            sys.ldt_flags = ld.hi & 0x00f0ff00u;
    }
    if ((m->mode && m->mode->task_sys ? m->mode->task_sys(m, &sys) : task_sys_real(m, &sys)) < 0)
        return -1;

    /* Steps 12-13: segment registers (and the CPL, CS's RPL), then the general registers,
     * EFLAGS and EIP. Step 9: after an exception or interrupt NT is set (the new task is nested
     * in the old); after an iret it is as the new TSS has it. Under ring compression the real
     * IF stays set and the real IOPL 0 in the guest's ring 0, as delivery keeps them; the
     * guest's own flag reaches the mode through delivered(). */
    if (load_segments(m, cv, w, seg, cpl) < 0) {
        if (!m->end)
            machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                        "unicorn refused the segment state of the task switch to TSS 0x%x",
                        tss_sel);
        return -1;
    }
    for (int i = 0; i < 8; i++)
        uc_reg_write(m->uc, gpr[i], &w[TSS_EAX / 4 + i]);
    uint32_t eflags = (iret ? eflags_new : eflags_new | EFLAGS_NT) | 2u;
    uint32_t real_eflags = cv->kernel_ring && cpl == 0 ? (eflags | EFLAGS_IF) & ~EFLAGS_IOPL
                                                      : eflags;
    uc_reg_write(m->uc, UC_X86_REG_EFLAGS, &real_eflags);
    uc_reg_write(m->uc, UC_X86_REG_EIP, &eip);
    if (m->mode && m->mode->delivered)
        m->mode->delivered(m, cpl, eflags);

    /* Step 14 and the INT n pseudocode's end: in the new task, EIP must lie within CS (else
     * #GP(EXT)), and an exception with an error code pushes it on the new task's stack. */
    if (eip > seg[UQ_CS].limit)
        return fault(f, V_GP, 0, ext, eip);
    if (push_error) {
        esp -= 4;
        r = machine_write_lin(m, seg[UQ_SS].base + esp, &ev->error, 4, cpl == 3, &fl, &pferr);
        if (r == -1) {
            deliver_make_pf(f, fl, pferr | PFE_W | (cpl == 3 ? PFE_U : 0), eip);
            return 1;
        }
        if (r < 0)
            return -2;
        uc_reg_write(m->uc, UC_X86_REG_ESP, &esp);
    }
    return 0;
}

int task_switch_gate(struct machine *m, const struct cpu_view *cv, const struct xevent *ev,
                     uint16_t tss_sel, uint32_t ext, uint32_t eip_fault, struct xevent *f)
{
    /* Step 1: the new task's TSS selector is the task gate's. INT n pseudocode (TASK-GATE): it
     * must name the GDT, within its limit (else #GP(TSS selector)). */
    if (tss_sel & 4)
        return fault(f, V_GP, tss_sel, ext, eip_fault);
    struct desc td;
    int r = deliver_read_desc(m, cv, tss_sel, &td, ext, eip_fault, f);
    if (r)
        return r;
    /* Step 2: no privilege check for an exception or external interrupt; the gate's DPL was
     * checked for int n by delivery (6.12.2). Step 4: the descriptor must be an available TSS
     * (a busy one, or anything else: #GP(TSS selector)); 16-bit TSSs are refused. */
    if (!td.s && (td.type == 1 || td.type == 3)) {
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "vector %u: task gate names a 16-bit TSS (0x%x), which vmlab does not support",
                    ev->vector, tss_sel);
        return -1;
    }
    if (td.s || td.type != 9)
        return fault(f, V_GP, tss_sel, ext, eip_fault);
    /* Step 3 (first half): present, else #NP. */
    if (!td.p)
        return fault(f, V_NP, tss_sel, ext, eip_fault);
    /* The old task resumes, if it ever does, where the event returns to. */
    return do_switch(m, cv, false, tss_sel, &td, ev, ev->eip, ext, eip_fault, f);
}

int task_switch_iret(struct machine *m, const struct cpu_view *cv, uint32_t eip,
                     uint32_t next_eip, struct xevent *f)
{
    /* Step 1 for iret (IRET pseudocode, TASK-RETURN): the selector is the current TSS's
     * previous-task link; it must name the GDT within its limit, else #TS(selector). */
    uint16_t link = 0;
    uint32_t fl, pferr;
    if (!(cv->tr_sel & 0xfffcu) || cv->tr_limit < TSS_MIN_LIMIT)
        return fault(f, V_TS, cv->tr_sel, 0, eip);
    int r = machine_read_lin(m, cv->tr_base + TSS_LINK, &link, 2, false, &fl, &pferr);
    if (r == -1) {
        deliver_make_pf(f, fl, pferr, eip);
        return 1;
    }
    if (r < 0)
        return -2;
    if (link & 4)
        return fault(f, V_TS, link, 0, eip);
    struct desc td;
    r = task_desc(m, cv, link, &td, 0, eip, f);
    if (r)
        return r;
    /* Step 2: no privilege check for iret. Step 4: the task returned to must be busy (a TSS
     * descriptor of the busy type), else #TS; present, else #NP. */
    if (!td.s && td.type == 3) {
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "iret: task return to a 16-bit TSS (0x%x), which vmlab does not support",
                    link);
        return -1;
    }
    if (td.s || td.type != 0xb)
        return fault(f, V_TS, link, 0, eip);
    if (!td.p)
        return fault(f, V_NP, link, 0, eip);
    return do_switch(m, cv, true, link, &td, NULL, next_eip, 0, eip, f);
}
