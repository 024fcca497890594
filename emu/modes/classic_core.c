/*
 * classic_core.c — the ring-compression monitor shared by `trap-classic` and `bt` (see
 * classic_core.h): the monitor's GDT built from the guest's, the guest's view of the CPU for
 * delivery, and the emulation of the guest's privileged instructions on the virtual CPU.
 */
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/cpu_model.h"
#include "emu/deliver.h"
#include "emu/desc.h"
#include "emu/modes/classic_core.h"
#include "emu/modes/emul_io.h"
#include "emu/modes/emul_write.h"
#include "emu/modes/mode.h"
#include "emu/modes/shadow.h"
#include "emu/paging.h"
#include "emu/taskswitch.h"
#include "emu/vmx.h"

#define SHADOW_POOL_BYTES (32u << 20)

static struct classic *st(struct machine *m) { return m->mode_state; }

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

/* ---- the monitor's descriptor tables ---------------------------------------------------- */

static uint64_t compress(uint64_t d, uint32_t window)
{
    uint32_t hi = (uint32_t)(d >> 32);
    if (!(hi & (1u << 12)))                  /* system descriptor: the CPU must not use it */
        return d & ~(1ull << 47);
    if (((hi >> 13) & 3) == 0)
        d |= 1ull << 45;                     /* DPL 0 -> 1 */
    d |= 1ull << 40;                         /* accessed: the CPU must not write the table */
    struct desc x;
    desc_decode((uint32_t)d, hi, &x);
    if (x.base == 0 && x.g && x.limit == 0xffffffffu && window + 0x400000ull == 0x100000000ull) {
        /* Flat segments stop below a window at the top, as VMware truncated them (Unicorn does
         * not enforce limits: UNICORN.md 15); a window moved below other guest space cannot be
         * fenced so, and the flat limits stay. */
        uint64_t lim = (window >> 12) - 1;
        d = (d & ~0xffffull & ~(0xfull << 48)) | (lim & 0xffff) | ((lim >> 16) << 48);
    }
    return d;
}

static void put_desc(uint8_t *tab, unsigned i, uint32_t base, uint32_t limit, uint32_t type)
{
    uint64_t d = (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
                 ((uint64_t)type << 40) | (1ull << 47) | ((uint64_t)(limit >> 16 & 0xf) << 48) |
                 ((uint64_t)(base >> 24) << 56);
    memcpy(tab + i * 8, &d, 8);
}

static bool ring0_codedata(uint64_t d)
{
    uint32_t hi = (uint32_t)(d >> 32);
    return (hi & (1u << 12)) && ((hi >> 13) & 3) == 0 && (hi & (1u << 15));
}

/* Mirror guest GDT entry i into the monitor's GDT (its own slot and, for a ring-0 code or data
 * descriptor, its ring-1 copy). Returns whether either changed. */
static bool mirror_entry(struct machine *m, uint32_t i)
{
    struct classic *t = st(m);
    uint64_t d, own, c = 0, was_own, was_c;
    if (guest_read(m, t->gdt_base + i * 8, &d, 8) < 0)
        d = 0;
    own = (d >> 44) & 1 ? d | (1ull << 40) : d & ~(1ull << 47);
    if (ring0_codedata(d))
        c = compress(d, MON_WINDOW(m));
    memcpy(&was_own, t->mgdt + i * 8, 8);
    memcpy(&was_c, t->mgdt + (COPY_BASE + i) * 8, 8);
    memcpy(t->mgdt + i * 8, &own, 8);
    memcpy(t->mgdt + (COPY_BASE + i) * 8, &c, 8);
    return own != was_own || c != was_c;
}

/* The guest wrote a frame of its GDT (shadow_trace_desc): natively the next segment load reads
 * the new descriptor, so the mirror takes every entry again now; the mode hears of each one that
 * changed (bt's selector map). Segment registers keep what they have cached, as natively. */
static void trace_gdt(struct machine *m);

static void gdt_written(struct machine *m)
{
    struct classic *t = st(m);
    for (uint32_t i = 1; i < t->mgdt_n; i++)
        if (mirror_entry(m, i) && t->gdt_entry_changed)
            t->gdt_entry_changed(m, i);
    trace_gdt(m);   /* again, if a write had to be left to run (shadow_desc_sync) */
}

/* Trace the frames the guest's GDT lies in now (through its tables; with paging off the
 * addresses are physical), so that its writes to them refresh the mirror (gdt_written); the
 * frames of the previous table stop being traced. */
static void trace_gdt(struct machine *m)
{
    struct classic *t = st(m);
    uint32_t frames[17];
    unsigned n = 0;
    struct paging_regs pr;
    shadow_monitor_paging_regs(m, &pr);
    struct paging_access acc = {.write = false, .user = false, .set_ad = false};
    uint64_t end = (uint64_t)t->gdt_base + t->gdt_limit + 1;
    for (uint64_t a = t->gdt_base & ~0xfffull; a < end && n < 17; a += 4096) {
        uint32_t pa, pferr;
        if (paging_translate(&pr, &m->pm, (uint32_t)a, &acc, &pa, &pferr) == 0)
            frames[n++] = pa & ~0xfffu;
    }
    for (unsigned i = 0; i < t->ngdt_frames; i++) {
        bool keep = false;
        for (unsigned k = 0; k < n; k++)
            keep |= frames[k] == t->gdt_frames[i];
        if (!keep)
            shadow_trace_desc(t->mon.sh, t->gdt_frames[i], false, gdt_written);
    }
    for (unsigned k = 0; k < n; k++) {
        t->gdt_frames[k] = frames[k];
        shadow_trace_desc(t->mon.sh, frames[k], true, gdt_written);
    }
    t->ngdt_frames = n;
}

/* Rebuild the monitor's GDT from the guest's and load the monitor's GDTR, IDTR, TR and LDTR:
 *   [1, n)        the guest's descriptors (system ones made not present; accessed bits set so
 *                 the CPU never writes the read-only table)
 *   [256, 256+n)  ring-1 copies of the guest's ring-0 code/data descriptors (256 + i copies i;
 *                 fixed indices, so selectors already loaded stay valid across a guest lgdt)
 *   510, 511      the monitor's TSS and LDT                                                  */
static int rebuild_gdt(struct machine *m)
{
    struct classic *t = st(m);
    uint32_t n = (t->gdt_limit + 1) / 8;
    if (n > MON_GDT_MAX) {
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "guest GDT has %u entries; trap-classic shadows at most %u", n, MON_GDT_MAX);
        return -1;
    }
    memset(t->mgdt, 0, 4096);
    for (uint32_t i = 1; i < n; i++)
        mirror_entry(m, i);
    t->mgdt_n = n;
    trace_gdt(m);
    put_desc(t->mgdt, MON_TSS_IDX, MON_TSS_VA(m), 0x67, 0x8b);        /* busy 32-bit TSS */
    put_desc(t->mgdt, MON_LDT_IDX, MON_TSS_VA(m) + 0x800, 7, 0x82);   /* LDT */
    uint16_t iomap = 0x68;                                   /* past the limit: no I/O bitmap */
    memcpy(t->mtss + 0x66, &iomap, 2);
    uc_x86_mmr gdtr = {.base = MON_GDT_VA(m), .limit = 4095};
    uc_x86_mmr idtr = {.base = MON_IDT_VA(m), .limit = 0x7ff};
    uc_x86_mmr tr = {.selector = MON_TSS_IDX * 8, .base = MON_TSS_VA(m), .limit = 0x67,
                     .flags = 0x8b00};
    uc_x86_mmr ldtr = {.selector = MON_LDT_IDX * 8, .base = MON_TSS_VA(m) + 0x800, .limit = 7,
                       .flags = 0x8200};
    uc_reg_write(m->uc, UC_X86_REG_GDTR, &gdtr);
    uc_reg_write(m->uc, UC_X86_REG_IDTR, &idtr);
    uc_reg_write(m->uc, UC_X86_REG_TR, &tr);
    uc_reg_write(m->uc, UC_X86_REG_LDTR, &ldtr);
    return 0;
}

/* The real segment running guest selector `sel`: a ring-0 code/data selector maps to its ring-1
 * copy (RPL 1); anything else is the monitor's entry at the same index. 0 or -1. */
static int mon_seg(struct machine *m, uint16_t sel, struct uq_seg *out)
{
    struct classic *t = st(m);
    unsigned i = sel >> 3;
    if ((sel & 4) || i == 0 || i >= MON_TSS_IDX || (i >= t->mgdt_n && i < COPY_BASE))
        return -1;
    uint64_t d;
    memcpy(&d, t->mgdt + i * 8, 8);
    if (i < t->mgdt_n && ring0_codedata(d)) {
        i += COPY_BASE;
        memcpy(&d, t->mgdt + i * 8, 8);
        sel = (uint16_t)((i << 3) | 1);
    }
    struct desc x;
    desc_decode((uint32_t)d, (uint32_t)(d >> 32), &x);
    if (!x.p || !x.s)
        return -1;
    out->selector = sel;
    out->base = x.base;
    out->limit = x.limit;
    out->flags = x.hi;
    return 0;
}

int classic_data_sel(const struct classic *t, uint16_t sel, uint16_t *real)
{
    unsigned i = sel >> 3;
    if (i == 0 && !(sel & 4)) {
        *real = sel;                                     /* a null selector */
        return 0;
    }
    if ((sel & 4) || i >= t->mgdt_n)
        return -1;
    uint64_t d;
    memcpy(&d, t->mgdt + i * 8, 8);
    struct desc x;
    desc_decode((uint32_t)d, (uint32_t)(d >> 32), &x);
    if (!x.p || !x.s || desc_is_conforming(&x) || (desc_is_code(&x) && !(x.type & 2)) ||
        x.dpl < (sel & 3))
        return -1;
    *real = x.dpl == 0 ? (uint16_t)(((COPY_BASE + i) << 3) | 1) : sel;
    return 0;
}

int classic_real_seg(struct machine *m, uint16_t sel, struct uq_seg *out)
{
    return mon_seg(m, sel, out);
}

uint16_t classic_guest_sel(const struct classic *t, uint16_t sel)
{
    unsigned i = sel >> 3;
    if (!t->guest_sels || (sel & 4) || i < COPY_BASE || i >= MON_TSS_IDX)
        return sel;
    return (uint16_t)((i - COPY_BASE) << 3);
}

/* Load segment register `seg` with the real segment for guest selector `sel`. 0 or -1. */
static int load_seg(struct machine *m, enum uq_segreg seg, uint16_t sel)
{
    struct uq_seg x;
    if (mon_seg(m, sel, &x) < 0)
        return -1;
    const struct uq_seg *segs[UQ_NSEG] = {[0] = NULL};
    segs[seg] = &x;
    return uq_load_segs(&m->quirks, m->uc, segs, machine_cpl(m), NULL);
}

/* Load CS and SS from the monitor's GDT at `ring`. */
static int load_cs_ss(struct machine *m, uint16_t cs, uint16_t ss, int ring)
{
    struct uq_seg c, s;
    if (mon_seg(m, cs, &c) < 0 || mon_seg(m, ss, &s) < 0)
        return -1;
    return uq_load_cs_ss(&m->quirks, m->uc, &c, &s, ring, NULL);
}

/* Load CS alone from the monitor's GDT at `ring`, as a far jump, call or return within a privilege
 * level does: SS and the data segments keep what the CPU has cached for them (after a guest lgdt
 * their selectors may name nothing in the new table, e.g. Linux's head_32.S far-jumps to
 * __KERNEL_CS with SS still the boot loader's; the hardware reloads SS only on the `mov %ss`
 * that follows). */
static int load_cs(struct machine *m, uint16_t cs, int ring)
{
    struct uq_seg c;
    if (mon_seg(m, cs, &c) < 0)
        return -1;
    const struct uq_seg *segs[UQ_NSEG] = {[UQ_CS] = &c};
    return uq_load_segs(&m->quirks, m->uc, segs, ring, NULL);
}

/* ---- mode operations --------------------------------------------------------------------- */

/* The shadow MMU moved the window (the guest maps its old region): the monitor's GDT is mirrored
 * again (its TSS and LDT descriptors, and the flat limits, name the new place) and GDTR, IDTR, TR
 * and LDTR reloaded there; then the mode's own relocation. Segment registers keep their cached
 * descriptors (bases and limits of the guest's segments, nothing in the window). */
static void window_moved(struct machine *m, uint32_t from, uint32_t to)
{
    struct classic *t = st(m);
    if (rebuild_gdt(m) < 0)
        return;
    if (t->gdt_rebuilt)
        t->gdt_rebuilt(m);
    if (t->window_moved)
        t->window_moved(m, from, to);
}

int classic_init(struct machine *m, struct classic *t, const struct boot_info *bi, char *errbuf,
                 unsigned errlen)
{
    t->mon.sh = shadow_create(m, SHADOW_POOL_BYTES, m->cfg.monitor_window, errbuf, errlen);
    if (!t->mon.sh || !(t->mgdt = shadow_window_page(t->mon.sh, 0)) ||
        !(t->mtss = shadow_window_page(t->mon.sh, 1))) {
        if (!errbuf[0])
            snprintf(errbuf, errlen, "cannot set up the monitor's window");
        return -1;
    }
    shadow_on_window_move(t->mon.sh, window_moved);
    static const int drs[8] = {UC_X86_REG_DR0, UC_X86_REG_DR1, UC_X86_REG_DR2, UC_X86_REG_DR3,
                               UC_X86_REG_DR4, UC_X86_REG_DR5, UC_X86_REG_DR6, UC_X86_REG_DR7};
    for (int i = 0; i < 8; i++)        /* the guest starts with what the CPU holds */
        t->dr[i] = reg(m, drs[i]);
    if (loader_enter(m, bi, errbuf, errlen) < 0)
        return -1;
    shadow_monitor_enter(m);
    uc_x86_mmr g;
    memset(&g, 0, sizeof g);
    uc_reg_read(m->uc, UC_X86_REG_GDTR, &g);
    t->gdt_base = (uint32_t)g.base;
    t->gdt_limit = g.limit;
    if (shadow_activate(t->mon.sh, &t->mon.v) < 0 || rebuild_gdt(m) < 0 ||
        load_cs_ss(m, (uint16_t)reg(m, UC_X86_REG_CS), (uint16_t)reg(m, UC_X86_REG_SS), 1) < 0 ||
        load_seg(m, UQ_DS, (uint16_t)reg(m, UC_X86_REG_DS)) < 0 ||
        load_seg(m, UQ_ES, (uint16_t)reg(m, UC_X86_REG_ES)) < 0 ||
        load_seg(m, UQ_FS, (uint16_t)reg(m, UC_X86_REG_FS)) < 0 ||
        load_seg(m, UQ_GS, (uint16_t)reg(m, UC_X86_REG_GS)) < 0) {
        snprintf(errbuf, errlen, "cannot enter the guest in ring 1%s%s", m->message[0] ? ": " : "",
                 m->message);
        return -1;
    }
    /* The monitor runs with CR0.MP and NE set (its own FPU handling), bits smsw shows. */
    shadow_set_cr0_extra(t->mon.sh, CR0_MP | CR0_NE);
    if (shadow_activate(t->mon.sh, &t->mon.v) < 0) {
        snprintf(errbuf, errlen, "%s", m->message);
        return -1;
    }
    uint32_t eflags = reg(m, UC_X86_REG_EFLAGS) | EFLAGS_IF;
    uc_reg_write(m->uc, UC_X86_REG_EFLAGS, &eflags);
    classic_set_vif(t, 0);
    return 0;
}

static int vcpl(struct machine *m)
{
    int c = machine_cpl(m);
    return c == 1 ? 0 : c;
}

void classic_cpu_view(struct machine *m, struct cpu_view *v)
{
    struct classic *t = st(m);
    memset(v, 0, sizeof *v);
    v->idt_base = t->idt_base;
    v->idt_limit = t->idt_limit;
    v->gdt_base = t->gdt_base;
    v->gdt_limit = t->gdt_limit;
    v->ldt_sel = t->ldt_sel;
    v->ldt_base = t->ldt_base;
    v->ldt_limit = t->ldt_limit;
    v->tr_sel = t->tr_sel;
    v->tr_base = t->tr_base;
    v->tr_limit = t->tr_limit;
    v->cpl = vcpl(m);
    uint32_t f = reg(m, UC_X86_REG_EFLAGS);
    if (v->cpl == 0)
        f = (f & ~EFLAGS_IF) | classic_vif(t);
    v->eflags = f;
    v->kernel_ring = 1;
    if (t->guest_sels)
        v->frame_cs = classic_guest_sel(t, (uint16_t)reg(m, UC_X86_REG_CS));
    /* The selectors a task switch saves for the guest: the monitor performs the switch, so it
     * writes the guest's own selectors as ring 0 would (a ring-1 copy maps back to its guest
     * RPL-0 selector; both monitors set guest_sels). */
    static const int segs[6] = {UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS,
                                UC_X86_REG_DS, UC_X86_REG_FS, UC_X86_REG_GS};
    for (int i = 0; i < 6; i++)
        v->sel[i] = classic_guest_sel(t, (uint16_t)reg(m, segs[i]));
}

int classic_task_sys(struct machine *m, const struct task_sys *s)
{
    struct classic *t = st(m);
    t->tr_sel = s->tr_sel;
    t->tr_base = s->tr_base;
    t->tr_limit = s->tr_limit;
    t->ldt_sel = s->ldt_sel;
    t->ldt_base = s->ldt_base;
    t->ldt_limit = s->ldt_limit;
    return shadow_monitor_task_cr(m, s);
}

void classic_delivered(struct machine *m, int cpl, uint32_t eflags)
{
    if (cpl == 0)
        classic_set_vif(st(m), eflags);
}

/* ---- privileged instructions: #GP in ring 1, emulated ------------------------------------ */

int classic_gpr(x86_reg r)
{
    switch (r) {
    case X86_REG_EAX: return UC_X86_REG_EAX;
    case X86_REG_ECX: return UC_X86_REG_ECX;
    case X86_REG_EDX: return UC_X86_REG_EDX;
    case X86_REG_EBX: return UC_X86_REG_EBX;
    case X86_REG_ESP: return UC_X86_REG_ESP;
    case X86_REG_EBP: return UC_X86_REG_EBP;
    case X86_REG_ESI: return UC_X86_REG_ESI;
    case X86_REG_EDI: return UC_X86_REG_EDI;
    case X86_REG_AX: return UC_X86_REG_AX;
    case X86_REG_CX: return UC_X86_REG_CX;
    case X86_REG_DX: return UC_X86_REG_DX;
    case X86_REG_BX: return UC_X86_REG_BX;
    case X86_REG_SP: return UC_X86_REG_SP;
    case X86_REG_BP: return UC_X86_REG_BP;
    case X86_REG_SI: return UC_X86_REG_SI;
    case X86_REG_DI: return UC_X86_REG_DI;
    default: return -1;
    }
}

/* A 16- or 32-bit source operand (register or memory). */
static int src_value(struct machine *m, const cs_x86_op *op, uint32_t eip, uint32_t *v)
{
    *v = 0;
    if (op->type == X86_OP_REG) {
        int u = classic_gpr(op->reg);
        return u >= 0 && uc_reg_read(m->uc, u, v) == UC_ERR_OK ? 0 : -1;
    }
    if (op->type == X86_OP_MEM) {
        uint32_t lin;
        if (emul_mem_operand(m, eip, &lin) < 0)
            return -1;
        return guest_read(m, lin, v, op->size < 4 ? op->size : 4);
    }
    if (op->type == X86_OP_IMM) {
        *v = (uint32_t)op->imm;
        return 0;
    }
    return -1;
}

/* Base and limit of guest selector `sel` from the guest's GDT; sets the TSS busy bit if asked. */
int classic_guest_desc(struct machine *m, uint16_t sel, struct desc *d, bool set_busy)
{
    struct classic *t = st(m);
    uint32_t i = sel & ~7u;
    if ((sel & 4) || i == 0 || i + 7 > t->gdt_limit)
        return -1;
    uint32_t w[2];
    if (guest_read(m, t->gdt_base + i, w, 8) < 0)
        return -1;
    desc_decode(w[0], w[1], d);
    if (set_busy) {
        uint32_t fl, pf, hi = w[1] | (2u << 8);
        machine_write_lin(m, t->gdt_base + i + 4, &hi, 4, false, &fl, &pf);
    }
    return 0;
}

static int emulate_cr(struct machine *m, const cs_insn *in, uint32_t eip)
{
    struct classic *t = st(m);
    const cs_x86 *x = &in->detail->x86;
    int cr;
    enum insn_class c = insn_classify(in, &cr);
    if (c == IC_MOV_FROM_CR) {
        uint32_t v = cr == 0 ? t->mon.v.cr0 : cr == 2 ? t->mon.v.cr2 : cr == 3 ? t->mon.v.cr3 : t->mon.v.cr4;
        int u = classic_gpr(x->operands[0].reg);
        return u >= 0 && uc_reg_write(m->uc, u, &v) == UC_ERR_OK ? 0 : -1;
    }
    uint32_t v;
    if (src_value(m, &x->operands[1], eip, &v) < 0)
        return -1;
    if (cr == 2) {
        t->mon.v.cr2 = v;
        return uq_exception_done(&m->quirks, m->uc, &t->mon.v.cr2);
    }
    int r = shadow_load_cr(t->mon.sh, &t->mon.v, cr, v);
    return r > 0 ? -1 : r < 0 ? -2 : 0;
}

/* mov to or from a debug register (privileged: #GP in ring 1), on the virtual CPU's copies. DR4
 * and DR5 are DR6 and DR7 while CR4.DE is clear; with it set they are #UD natively (the guest
 * gets the #GP here). Writes keep DR6's and DR7's fixed bits set, as the CPU does. */
static int emulate_dr(struct machine *m, const cs_insn *in)
{
    struct classic *t = st(m);
    const cs_x86 *x = &in->detail->x86;
    if (x->op_count != 2 || x->operands[0].type != X86_OP_REG || x->operands[1].type != X86_OP_REG)
        return -1;
    bool to_dr = x->operands[0].reg >= X86_REG_DR0 && x->operands[0].reg <= X86_REG_DR7;
    x86_reg dreg = to_dr ? x->operands[0].reg : x->operands[1].reg;
    int g = classic_gpr(to_dr ? x->operands[1].reg : x->operands[0].reg);
    if (dreg < X86_REG_DR0 || dreg > X86_REG_DR7 || g < 0)
        return -1;
    unsigned n = (unsigned)(dreg - X86_REG_DR0);
    if (n == 4 || n == 5) {
        if (t->mon.v.cr4 & (1u << 3))
            return -1;
        n += 2;
    }
    if (!to_dr)
        return uc_reg_write(m->uc, g, &t->dr[n]) == UC_ERR_OK ? 0 : -1;
    uint32_t v = reg(m, g);
    t->dr[n] = n == 6 ? v | 0xffff0ff0u : n == 7 ? v | 0x400u : v;
    return 0;
}

/* Pop `n` dwords of the guest's stack. */
static int pop(struct machine *m, uint32_t *w, unsigned n)
{
    uint32_t esp = reg(m, UC_X86_REG_ESP);
    if (guest_read(m, esp, w, 4 * n) < 0)
        return -1;
    esp += 4 * n;
    uc_reg_write(m->uc, UC_X86_REG_ESP, &esp);
    return 0;
}

static enum uq_segreg segreg_of(x86_reg r)
{
    switch (r) {
    case X86_REG_ES: return UQ_ES;
    case X86_REG_CS: return UQ_CS;
    case X86_REG_SS: return UQ_SS;
    case X86_REG_DS: return UQ_DS;
    case X86_REG_FS: return UQ_FS;
    case X86_REG_GS: return UQ_GS;
    default: return UQ_NSEG;
    }
}

/* Does guest selector `sel` run in ring 1 (one of the guest's ring-0 code/data selectors)? */
static bool kernel_sel(struct machine *m, uint16_t sel)
{
    struct uq_seg x;
    return mon_seg(m, sel, &x) == 0 && ((x.flags >> 13) & 3) == 1;
}

/* mov/pop to a segment register of a guest ring-0 selector: load its ring-1 copy. */
static int emulate_seg_load(struct machine *m, x86_reg r, uint32_t sel)
{
    enum uq_segreg sr = segreg_of(r);
    if (sr == UQ_NSEG || sr == UQ_CS || !kernel_sel(m, (uint16_t)sel))
        return -1;
    return load_seg(m, sr, (uint16_t)sel);
}

/* Far jmp/call ptr16:32 to a guest ring-0 code selector: continue on its ring-1 copy. */
static int emulate_far(struct machine *m, const cs_insn *in, uint32_t eip)
{
    const cs_x86 *x = &in->detail->x86;
    if (x->op_count != 2 || x->operands[0].type != X86_OP_IMM || x->operands[1].type != X86_OP_IMM)
        return -1;
    uint16_t sel = (uint16_t)x->operands[0].imm;
    uint32_t target = (uint32_t)x->operands[1].imm;
    if (!kernel_sel(m, sel))
        return -1;
    if (in->id == X86_INS_LCALL) {
        uint32_t esp = reg(m, UC_X86_REG_ESP) - 8,
                 frame[2] = {eip + in->size,
                             classic_guest_sel(st(m), (uint16_t)reg(m, UC_X86_REG_CS))};
        uint32_t fl, pf;
        if (machine_write_lin(m, esp, frame, 8, false, &fl, &pf) != 0)
            return -1;
        uc_reg_write(m->uc, UC_X86_REG_ESP, &esp);
    }
    if (load_cs(m, sel, 1) < 0)
        return -1;
    machine_set_eip(m, target);
    return 1;
}

/* iret / far ret to a guest ring-0 selector (which ring 1 may not load): return to its ring-1
 * copy. */
static int emulate_return(struct machine *m, bool iret, uint32_t eip)
{
    struct classic *t = st(m);
    uint32_t w[3];
    uint32_t esp0 = reg(m, UC_X86_REG_ESP);
    if (pop(m, w, iret ? 3 : 2) < 0 || !kernel_sel(m, (uint16_t)w[1])) {
        uc_reg_write(m->uc, UC_X86_REG_ESP, &esp0);
        return -1;
    }
    if (load_cs(m, (uint16_t)w[1], 1) < 0) {   /* same privilege: SS stays */
        uc_reg_write(m->uc, UC_X86_REG_ESP, &esp0);
        return -1;
    }
    if (iret) {
        classic_set_vif(t, w[2]);
        uint32_t f = (w[2] & ~(EFLAGS_IF | (3u << 12))) | EFLAGS_IF | 2u;
        uc_reg_write(m->uc, UC_X86_REG_EFLAGS, &f);
    }
    machine_set_eip(m, w[0]);
    return 1;   /* EIP set */
}

/* iret with EFLAGS.NT set (the guest's NT is the real one): a task return to the task in the
 * guest's TSS back link, performed on the virtual CPU (emu/taskswitch.c). In ring 1 the CPU
 * would take the link from the monitor's TSS (trap-classic meets it as a #TS there; bt's
 * translation calls out). 1 (EIP set), or -2 (the run ended); a fault of the switch is delivered
 * to the guest at the iret. */
static int emulate_task_return(struct machine *m, uint32_t eip, uint32_t next)
{
    struct cpu_view cv;
    struct xevent f;
    classic_cpu_view(m, &cv);
    machine_set_eip(m, eip);
    int r = task_switch_iret(m, &cv, eip, next, &f);
    if (r == 1)
        r = funnel_deliver(m, &f, DLV_MODE);
    if (r == -2)
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "iret task return at EIP 0x%08x touched memory outside RAM", eip);
    return r == 0 ? 1 : -2;
}

/* Emulate the privileged instruction at `eip` that faulted in ring 1. Returns 0 (emulated, EIP
 * to be moved past it), 1 (emulated, EIP already set), -1 (not ours: the guest gets the #GP),
 * -2 (the run ended). */
static int emulate(struct machine *m, const cs_insn *in, uint32_t eip)
{
    struct classic *t = st(m);
    const cs_x86 *x = &in->detail->x86;
    switch (in->id) {
    case X86_INS_CLI:
        classic_set_vif(t, 0);
        return 0;
    case X86_INS_STI:
        classic_set_vif(t, EFLAGS_IF);
        return 0;
    case X86_INS_MOV: {
        int cr;
        enum insn_class c = insn_classify(in, &cr);
        if (c == IC_MOV_TO_CR || c == IC_MOV_FROM_CR)
            return emulate_cr(m, in, eip);
        if (c == IC_MOV_DR)
            return emulate_dr(m, in);
        if (c == IC_MOV_TO_SEG) {
            uint32_t sel;
            if (src_value(m, &x->operands[1], eip, &sel) < 0)
                return -1;
            return emulate_seg_load(m, x->operands[0].reg, sel & 0xffff);
        }
        return -1;
    }
    case X86_INS_POP:
        if (x->op_count == 1 && x->operands[0].type == X86_OP_REG &&
            segreg_of(x->operands[0].reg) != UQ_NSEG) {
            uint32_t sel, esp0 = reg(m, UC_X86_REG_ESP);
            if (pop(m, &sel, 1) < 0)
                return -1;
            if (emulate_seg_load(m, x->operands[0].reg, sel & 0xffff) < 0) {
                uc_reg_write(m->uc, UC_X86_REG_ESP, &esp0);
                return -1;
            }
            return 0;
        }
        return -1;
    case X86_INS_LJMP: case X86_INS_LCALL:
        return emulate_far(m, in, eip);
    case X86_INS_INVLPG: {
        uint32_t va;
        if (emul_mem_operand(m, eip, &va) < 0)
            return -1;
        shadow_invlpg(t->mon.sh, va);
        tlb_invlpg(m, va, false);
        return 0;
    }
    case X86_INS_LGDT: case X86_INS_LIDT: {
        uint32_t lin;
        uint8_t d[6];
        if (emul_mem_operand(m, eip, &lin) < 0 || guest_read(m, lin, d, 6) < 0)
            return -1;
        uint32_t base, limit = (uint32_t)(d[0] | (d[1] << 8));
        memcpy(&base, d + 2, 4);
        if (in->id == X86_INS_LIDT) {
            t->idt_base = base;
            t->idt_limit = limit;
            return 0;
        }
        t->gdt_base = base;
        t->gdt_limit = limit;
        if (rebuild_gdt(m) < 0)
            return -2;
        if (t->gdt_rebuilt)
            t->gdt_rebuilt(m);
        return 0;
    }
    case X86_INS_LTR: case X86_INS_LLDT: {
        uint32_t sel;
        struct desc d = {0};
        if (src_value(m, &x->operands[0], eip, &sel) < 0)
            return -1;
        sel &= 0xffff;
        bool ltr = in->id == X86_INS_LTR;
        if ((sel & ~3u) && classic_guest_desc(m, (uint16_t)sel, &d, ltr) < 0)
            return -1;
        if (ltr) {
            t->tr_sel = (uint16_t)sel;
            t->tr_base = d.base;
            t->tr_limit = d.limit;
        } else {
            t->ldt_sel = (uint16_t)sel;
            t->ldt_base = d.base;
            t->ldt_limit = d.limit;
        }
        return 0;
    }
    case X86_INS_IN: case X86_INS_OUT:
        return emul_io(m, in, eip, 0);
    case X86_INS_HLT:
        return 0;
    case X86_INS_CLTS:
        t->mon.v.cr0 &= ~CR0_TS;
        return 0;
    case X86_INS_LMSW: {
        uint32_t v;
        if (src_value(m, &x->operands[0], eip, &v) < 0)
            return -1;
        t->mon.v.cr0 = (t->mon.v.cr0 & ~0xeu) | (v & 0xf) | CR0_PE;
        return 0;
    }
    case X86_INS_WBINVD: case X86_INS_INVD:
        return 0;
    case X86_INS_RDMSR: case X86_INS_WRMSR: {
        /* The guest's MSRs are the machine's processor model (emu/cpu_model.h): an MSR the CPU
         * does not have is #GP(0) for the guest, as on hardware. */
        uint32_t ecx = reg(m, UC_X86_REG_ECX), eax = reg(m, UC_X86_REG_EAX);
        uint32_t edx = reg(m, UC_X86_REG_EDX);
        uint64_t v = ((uint64_t)edx << 32) | eax;
        if (in->id == X86_INS_WRMSR)
            return cpu_wrmsr(m, ecx, machine_now(m), v) < 0 ? -1 : 0;
        if (cpu_rdmsr(m, ecx, machine_now(m), &v) < 0)
            return -1;
        eax = (uint32_t)v;
        edx = (uint32_t)(v >> 32);
        uc_reg_write(m->uc, UC_X86_REG_EAX, &eax);
        uc_reg_write(m->uc, UC_X86_REG_EDX, &edx);
        return 0;
    }
    case X86_INS_SYSEXIT: {
        /* The guest kernel's SYSEXIT to its ring 3 (which is the real ring 3). SYSEXIT leaves
         * EFLAGS alone, so ring 3 runs with the guest kernel's IF, its virtual one (the real
         * flag is always set in ring 1); in ring 3 the real flag is the guest's. */
        uint32_t vif = classic_vif(t);
        if (cpu_sysexit(m) < 0)
            return -1;
        uint32_t f = (reg(m, UC_X86_REG_EFLAGS) & ~EFLAGS_IF) | vif;
        uc_reg_write(m->uc, UC_X86_REG_EFLAGS, &f);
        return 1;
    }
    case X86_INS_SYSENTER: {
        /* The guest's SYSENTER (from its ring 3 through the monitor's #GP, or a bt callout):
         * into the guest's ring 0, run in ring 1. SYSENTER clears IF: the guest's flag, the
         * virtual one; the real flag stays set in ring 1, as after any delivery (deliver.c). */
        if (cpu_sysenter(m, 1) < 0)
            return -1;
        classic_set_vif(t, 0);
        uint32_t f = reg(m, UC_X86_REG_EFLAGS) | EFLAGS_IF;
        uc_reg_write(m->uc, UC_X86_REG_EFLAGS, &f);
        return 1;
    }
    case X86_INS_IRET: case X86_INS_IRETD:
        if (reg(m, UC_X86_REG_EFLAGS) & EFLAGS_NT)
            return emulate_task_return(m, eip, eip + in->size);
        return emulate_return(m, true, eip);
    case X86_INS_RETF:
        return emulate_return(m, false, eip);
    default:
        return -1;
    }
}

/* After an emulated hlt: 2 (the guest waits, as it asked), or -1 with the reason it would never
 * wake. */
static int do_halt(struct machine *m, uint32_t eip)
{
    struct classic *t = st(m);
    if (!classic_vif(t)) {
        if (t->lost_eip)
            machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                        "virtual IF lost after %s at EIP 0x%08x (ring 1 cannot change IF; the "
                        "guest halts at EIP 0x%08x believing interrupts are on)",
                        t->lost_by, t->lost_eip, eip);
        else
            machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                        "guest halted with interrupts disabled at EIP 0x%08x: nothing can wake it",
                        eip);
        return -1;
    }
    return 2;
}

const cs_insn *classic_decoded(struct machine *m, uint32_t eip)
{
    struct classic *t = st(m);
    if (!t->dec && !(t->dec = cs_malloc(m->cs)))
        return NULL;
    if (t->dec_ok && t->dec_eip == eip)
        return t->dec;
    t->dec_ok = emul_decode(m, eip, t->dec) == 0;
    t->dec_eip = eip;
    return t->dec_ok ? t->dec : NULL;
}

int classic_emulate_at(struct machine *m, uint32_t eip)
{
    const cs_insn *in = classic_decoded(m, eip);
    st(m)->dec_ok = false;    /* emulation may change the guest's code: decode afresh next time */
    if (!in)
        return 1;
    int cr;
    enum insn_class cls = insn_classify(in, &cr);
    int r = emulate(m, in, eip);
    uint32_t next = eip + in->size;
    bool is_hlt = in->id == X86_INS_HLT;
    if (r == -2)
        return -1;
    if (r < 0)
        return 1;
    if (r == 0)
        machine_set_eip(m, next);
    machine_retire_emulated(m, cls == IC_NONE ? -1 : (int)cls);
    if (uq_exception_done(&m->quirks, m->uc, NULL) < 0)
        return -1;
    return is_hlt ? do_halt(m, eip) : 0;
}

void classic_cause(struct machine *m, uint32_t eip, char *q, size_t len)
{
    const cs_insn *in = classic_decoded(m, eip);
    if (!in) {
        emul_put_str(q, len, "#GP");
        return;
    }
    int cr;
    enum insn_class c = insn_classify(in, &cr);
    if (c == IC_MOV_TO_CR || c == IC_MOV_FROM_CR) {
        snprintf(q, len, "cr%d/%s", cr, c == IC_MOV_TO_CR ? "write" : "read");
    } else if (c == IC_IN || c == IC_OUT) {
        uint16_t port;
        unsigned size;
        bool is_in;
        if (emul_io_decode(m, in, &port, &size, &is_in) == 0)
            emul_io_cause(port, size, is_in, q, (unsigned)len);
        else
            emul_put_str(q, len, in->mnemonic);
    } else if (c == IC_MOV_TO_SEG || c == IC_POP_SEG) {
        emul_put_str(q, len, c == IC_MOV_TO_SEG ? "mov seg" : "pop seg");
    } else {
        emul_put_str(q, len, in->mnemonic);
    }
}

bool classic_io_allowed(struct machine *m, uint32_t addr, uint16_t port, uint32_t *eip)
{
    struct classic *t = st(m);
    if (machine_cpl(m) != 3 || t->tr_limit < 0x67)
        return false;
    const cs_insn *in = classic_decoded(m, addr);
    uint16_t p;
    unsigned size;
    bool is_in;
    if (!in || emul_io_decode(m, in, &p, &size, &is_in) < 0 || p != port)
        return false;
    uint16_t iomap;
    if (guest_read(m, t->tr_base + 0x66, &iomap, 2) < 0)
        return false;
    uint32_t byte = iomap + port / 8u;
    uint8_t bits[2];
    if (byte + 1 > t->tr_limit || guest_read(m, t->tr_base + byte, bits, 2) < 0)
        return false;
    uint16_t w = (uint16_t)(bits[0] | (bits[1] << 8));
    uint16_t mask = (uint16_t)(((1u << size) - 1) << (port % 8u));
    if (w & mask)
        return false;
    *eip = addr;
    return true;
}

/* A #GP(0) from user code at a SYSENTER: the monitor keeps the real IA32_SYSENTER_CS null, so
 * that the guest's fast system calls enter the monitor (emu/run.c, cpu_site). */
static bool sysenter_at(struct machine *m, const struct xevent *ev)
{
    if (ev->kind != XK_FAULT || ev->vector != 13 || ev->error != 0 || machine_cpl(m) != 3)
        return false;
    const cs_insn *in = classic_decoded(m, ev->eip);
    return in && in->id == X86_INS_SYSENTER;
}

void classic_classify(struct machine *m, const struct vexit *x, struct exit_decl *d)
{
    st(m)->dec_ok = false;   /* the decode cache lives from a classify to its handler */
    if (x->kind == VX_SITE)
        return;    /* a hole: no trap, recorded as what it is by the site handler */
    if (x->kind == VX_TASK_SWITCH)
        return;    /* the monitor's reflection already counted: it performs the switch itself */
    const struct xevent *ev = x->ev;
    d->cls = EV_MONTRAP;
    d->reason = ev->vector;
    const char *n = vector_name(ev->vector);
    if (x->kind == VX_INTERRUPT)
        snprintf(d->qual, sizeof d->qual, "irq%d", ev->irq);
    else if (ev->kind == XK_SOFTINT)
        emul_put_str(d->qual, sizeof d->qual, "int");
    else if ((ev->vector == 13 || ev->vector == 10) && machine_cpl(m) == 1)
        classic_cause(m, ev->eip, d->qual, sizeof d->qual);
    else if (sysenter_at(m, ev))
        emul_put_str(d->qual, sizeof d->qual, "sysenter");
    else
        emul_put_str(d->qual, sizeof d->qual, n ? n : "");
}

/* Whether `ev` is the guest kernel's instruction for the monitor to emulate: #GP in ring 1 (a
 * privileged instruction), or #TS with NT set (an iret's task return, which ring 1 takes through
 * the monitor's TSS: emulate_task_return). Anything else is delivered to the guest. */
static bool to_emulate(struct machine *m, const struct xevent *ev)
{
    bool ts_iret = ev->vector == 10 && (reg(m, UC_X86_REG_EFLAGS) & EFLAGS_NT);
    return ev->kind == XK_FAULT && (ev->vector == 13 || ts_iret) && machine_cpl(m) == 1;
}

int classic_handle(struct machine *m, const struct xevent *ev)
{
    struct classic *t = st(m);
    if (ev->kind == XK_FAULT && ev->vector == 14)
        return shadow_exception(t->mon.sh, &t->mon.v, ev);
    shadow_desc_sync(t->mon.sh);
    if (sysenter_at(m, ev)) {
        int r = classic_emulate_at(m, ev->eip);   /* the guest's SYSENTER, into ring 1 */
        return r == 1 ? funnel_deliver(m, ev, DLV_MODE) : r;
    }
    if (!to_emulate(m, ev))
        return funnel_deliver(m, ev, DLV_MODE);
    int r = classic_emulate_at(m, ev->eip);
    return r == 1 ? funnel_deliver(m, ev, DLV_MODE) : r;
}

bool classic_insn_in_hook(struct machine *m, uint8_t cls)
{
    switch (cls) {
    case IC_NONE: case IC_CLI: case IC_MOV_TO_CR: case IC_MOV_FROM_CR: case IC_MOV_DR:
    case IC_INVLPG: case IC_CLTS: case IC_SGDT: case IC_SIDT: case IC_SLDT: case IC_SMSW:
    case IC_STR: case IC_PUSHF: case IC_LAR: case IC_LSL: case IC_VERR: case IC_VERW:
    case IC_PUSH_SEG: case IC_POP_SEG: case IC_MOV_FROM_SEG: case IC_MOV_TO_SEG: case IC_INT_N:
    case IC_INT3: case IC_INTO: case IC_UD2: case IC_UNDEFINED: case IC_CPUID: case IC_RDTSC:
        return true;
    case IC_STI: case IC_POPF: case IC_IRET: case IC_FAR_RET:
        return !pic_intr(&m->pic);
    default:
        return false;
    }
}

/* classic_insn_in_hook of the guest instruction at `eip` as its bytes are now (decoded afresh);
 * false if they do not decode. */
static bool insn_now_in_hook(struct machine *m, uint32_t eip)
{
    st(m)->dec_ok = false;
    const cs_insn *in = classic_decoded(m, eip);
    int cr;
    return in && classic_insn_in_hook(m, (uint8_t)insn_classify(in, &cr));
}

bool classic_exception_in_hook(struct machine *m, const struct xevent *ev)
{
    struct classic *t = st(m);
    if (shadow_desc_pending(t->mon.sh) || sysenter_at(m, ev))
        return false;
    if (ev->kind == XK_FAULT && ev->vector == 14)
        return true;     /* the shadow MMU's: tables, flushes, a window move's register writes */
    if (!to_emulate(m, ev))
        return true;                       /* delivered through the guest's IDT, as natively */
    /* A privileged instruction of the guest kernel (a #GP in ring 1) whose emulation
     * classic_insn_in_hook allows, as its bytes are now (decoded afresh: the decoding kept
     * for EIP may be of bytes the guest has since rewritten). */
    if (ev->vector != 13)
        return false;
    return insn_now_in_hook(m, ev->eip);
}

struct action classic_exception(struct machine *m, const struct xevent *ev)
{
    int r = classic_handle(m, ev);
    return r == 2 ? act(ACT_HALT) : act_rc(r);
}

void classic_teardown(struct machine *m)
{
    struct classic *t = st(m);
    if (t && t->dec)
        cs_free(t->dec, 1);
    shadow_monitor_teardown(m);
}

struct action classic_interrupt(struct machine *m, const struct xevent *ev)
{
    return act_rc(funnel_deliver(m, ev, DLV_MODE));
}
