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
 * as an exit: cli/sti, hlt, mov to/from CRn, invlpg, lgdt/lidt/ltr/lldt, in/out, clts/lmsw,
 * wbinvd/invd, and what ring compression itself makes fault (loading SS with an RPL-0 selector,
 * iret/far ret to an RPL-0 selector). Page faults go to the shadow MMU shared with `trap`.
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
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/deliver.h"
#include "emu/desc.h"
#include "emu/modes/emul_write.h"
#include "emu/modes/mode.h"
#include "emu/modes/shadow.h"
#include "emu/run.h"
#include "emu/vmx.h"

#define SHADOW_POOL_BYTES (32u << 20)
/* The monitor's window (m->cfg.monitor_window, default the top 4 MiB): page 0 its GDT, page 1 its
 * TSS and LDT, page 2 where its IDTR points (never mapped: the CPU never vectors itself). */
#define MON_GDT_VA(m) ((m)->cfg.monitor_window)
#define MON_TSS_VA(m) ((m)->cfg.monitor_window + 0x1000)
#define MON_IDT_VA(m) ((m)->cfg.monitor_window + 0x2000)
#define MON_GDT_MAX 254                      /* guest entries the monitor shadows */
#define COPY_BASE 256                        /* ring-1 copy of guest entry i is entry COPY_BASE+i */
#define MON_TSS_IDX 510
#define MON_LDT_IDX 511
#define EFLAGS_IF (1u << 9)
#define CR0_TS (1u << 3)
#define CR0_MP (1u << 1)
#define CR0_NE (1u << 5)

struct classic {
    struct shadow_monitor mon;               /* first: the shared monitor operations use it */
    uint32_t vif;                            /* guest's IF in its ring 0 (EFLAGS_IF or 0) */
    uint32_t gdt_base, gdt_limit, idt_base, idt_limit;
    uint16_t ldt_sel, tr_sel;
    uint32_t ldt_base, ldt_limit, tr_base, tr_limit;
    uint8_t *mgdt;                           /* the monitor's GDT page (host) */
    uint8_t *mtss;                           /* the monitor's TSS page (host) */
    uint32_t mgdt_n;                         /* guest descriptors copied */
    uint32_t lost_eip;                       /* last place the virtual IF was lost, 0 if none */
    char lost_by[8];
};

static struct classic *st(struct machine *m) { return m->mode_state; }

static uint32_t reg(struct machine *m, int r)
{
    uint32_t v = 0;
    uc_reg_read(m->uc, r, &v);
    return v;
}

static void exit_rec(struct machine *m, enum vmx_exit reason, const char *qual, uint32_t eip)
{
    ev_record(&m->ev, machine_now(m), EV_EXIT, reason, qual, 0, eip, machine_cpl(m));
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
    if (x.base == 0 && x.g && x.limit == 0xffffffffu) {
        uint64_t lim = (window >> 12) - 1;   /* flat segments stop below the window */
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
    for (uint32_t i = 1; i < n; i++) {
        uint64_t d;
        if (guest_read(m, t->gdt_base + i * 8, &d, 8) < 0)
            d = 0;
        uint64_t own = (d >> 44) & 1 ? d | (1ull << 40) : d & ~(1ull << 47);
        memcpy(t->mgdt + i * 8, &own, 8);
        if (ring0_codedata(d)) {
            uint64_t c = compress(d, m->cfg.monitor_window);
            memcpy(t->mgdt + (COPY_BASE + i) * 8, &c, 8);
        }
    }
    t->mgdt_n = n;
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

static int classic_real_seg(struct machine *m, uint16_t sel, struct uq_seg *out)
{
    return mon_seg(m, sel, out);
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

/* ---- mode operations --------------------------------------------------------------------- */

static int classic_setup(struct machine *m, const struct boot_info *bi, char *errbuf,
                         unsigned errlen)
{
    struct classic *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    m->mode_state = t;
    t->mon.v.cr0 = CR0_PE | (1u << 4);
    t->mon.sh = shadow_create(m, SHADOW_POOL_BYTES, m->cfg.monitor_window, errbuf, errlen);
    if (!t->mon.sh || !(t->mgdt = shadow_window_page(t->mon.sh, 0)) ||
        !(t->mtss = shadow_window_page(t->mon.sh, 1))) {
        if (!errbuf[0])
            snprintf(errbuf, errlen, "cannot set up the monitor's window");
        return -1;
    }
    if (loader_enter(m, bi, errbuf, errlen) < 0)
        return -1;
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
    t->vif = 0;
    return 0;
}

static int vcpl(struct machine *m)
{
    int c = machine_cpl(m);
    return c == 1 ? 0 : c;
}

static void classic_cpu_view(struct machine *m, struct cpu_view *v)
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
        f = (f & ~EFLAGS_IF) | t->vif;
    v->eflags = f;
    v->kernel_ring = 1;
}

static void classic_delivered(struct machine *m, int cpl, uint32_t eflags)
{
    if (cpl == 0)
        st(m)->vif = eflags & EFLAGS_IF;
}

static bool classic_irq_open(struct machine *m)
{
    return machine_cpl(m) == 3 ? machine_if_set(m) : st(m)->vif != 0;
}

/* ---- holes: sensitive instructions that do not trap ------------------------------------- */

static bool classic_site_wanted(struct machine *m, const struct site *s)
{
    return insn_class_kind[s->cls] == IK_SENS;
}

static void lost_if(struct classic *t, uint32_t eip, const char *by)
{
    t->lost_eip = eip;
    snprintf(t->lost_by, sizeof t->lost_by, "%s", by);
}

static enum site_action classic_site(struct machine *m, const struct block *b, const struct site *s,
                                     uint32_t eip)
{
    struct classic *t = st(m);
    if (machine_cpl(m) != 1)
        return SITE_RUN;      /* holes matter in the guest kernel, not in its user code */
    char detail[96] = "";
    uint32_t esp = reg(m, UC_X86_REG_ESP), word = 0;
    switch (s->cls) {
    case IC_PUSHF:
        snprintf(detail, sizeof detail, "IF observed=1 native=%u", t->vif ? 1u : 0u);
        break;
    case IC_POPF:
        if (guest_read(m, esp, &word, 4) == 0) {
            snprintf(detail, sizeof detail, "IF popped=%u kept=%u", (word >> 9) & 1,
                     t->vif ? 1u : 0u);
            if ((word & EFLAGS_IF) && !t->vif)
                lost_if(t, eip, "popf");
        }
        break;
    case IC_IRET:
        if (guest_read(m, esp + 4, &word, 4) == 0 && (word & 3) != 3 &&
            guest_read(m, esp + 8, &word, 4) == 0 && (word & EFLAGS_IF) && !t->vif)
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
    case IC_SMSW:
        snprintf(detail, sizeof detail, "observed=%04x native=%04x",
                 (CR0_PE | CR0_MP | CR0_NE | (1u << 4)) & 0xffff, t->mon.v.cr0 & 0xffff);
        break;
    case IC_PUSH_SEG: case IC_MOV_FROM_SEG:
        snprintf(detail, sizeof detail, "kernel selectors: the monitor's ring-1 copies");
        break;
    default:
        break;
    }
    ev_record_detail(&m->ev, machine_now(m), EV_HOLE, s->cls, insn_class_name[s->cls], 0, eip, 0,
                     detail[0] ? detail : NULL);
    return SITE_RUN;
}

/* ---- privileged instructions: #GP in ring 1, emulated ------------------------------------ */

static int gpr_uc(x86_reg r)
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
        int u = gpr_uc(op->reg);
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
static int guest_desc(struct machine *m, uint16_t sel, struct desc *d, bool set_busy)
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
    char q[16];
    if (c == IC_MOV_FROM_CR) {
        uint32_t v = cr == 0 ? t->mon.v.cr0 : cr == 2 ? t->mon.v.cr2 : cr == 3 ? t->mon.v.cr3 : t->mon.v.cr4;
        if (cr == 3)
            exit_rec(m, VMX_CR_ACCESS, "cr3/read", eip);
        int u = gpr_uc(x->operands[0].reg);
        return u >= 0 && uc_reg_write(m->uc, u, &v) == UC_ERR_OK ? 0 : -1;
    }
    uint32_t v;
    if (src_value(m, &x->operands[1], eip, &v) < 0)
        return -1;
    snprintf(q, sizeof q, "cr%d/write", cr);
    exit_rec(m, VMX_CR_ACCESS, q, eip);
    uint32_t old0 = t->mon.v.cr0, old4 = t->mon.v.cr4;
    switch (cr) {
    case 0: t->mon.v.cr0 = v | CR0_PE; break;
    case 2: t->mon.v.cr2 = v; return uq_exception_done(&m->quirks, m->uc, &t->mon.v.cr2);
    case 3: t->mon.v.cr3 = v; break;
    case 4: t->mon.v.cr4 = v; break;
    default: return -1;
    }
    if (((old0 ^ t->mon.v.cr0) & CR0_WP) || ((old4 ^ t->mon.v.cr4) & CR4_PSE))
        shadow_flush(t->mon.sh);
    return shadow_activate(t->mon.sh, &t->mon.v) < 0 ? -2 : 0;
}

static int emulate_io(struct machine *m, const cs_insn *in, uint32_t eip)
{
    const cs_x86 *x = &in->detail->x86;
    bool is_in = in->id == X86_INS_IN;
    uint32_t port = 0, size = 0;
    for (int k = 0; k < x->op_count; k++) {
        const cs_x86_op *op = &x->operands[k];
        if (op->type == X86_OP_IMM)
            port = (uint32_t)op->imm & 0xff;
        else if (op->type == X86_OP_REG && op->reg == X86_REG_DX && x->op_count == 2 &&
                 (is_in ? k == 1 : k == 0))
            port = reg(m, UC_X86_REG_EDX) & 0xffff;
        else if (op->type == X86_OP_REG)
            size = op->size;
    }
    if (!size)
        return -1;
    char q[24];
    snprintf(q, sizeof q, "%s%u 0x%x", is_in ? "in" : "out", size, port);
    exit_rec(m, VMX_IO_INSTRUCTION, q, eip);
    static const char *const io_q[2][5] = {{"", "out1", "out2", "", "out4"},
                                           {"", "in1", "in2", "", "in4"}};
    ev_record(&m->ev, machine_now(m), EV_IO, port, io_q[is_in][size], 0, eip, 0);
    int areg = size == 1 ? UC_X86_REG_AL : size == 2 ? UC_X86_REG_AX : UC_X86_REG_EAX;
    if (is_in) {
        uint32_t v = pio_read(&m->bus, (uint16_t)port, (int)size);
        uc_reg_write(m->uc, areg, &v);
    } else {
        pio_write(&m->bus, (uint16_t)port, (int)size, reg(m, areg));
    }
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
        uint32_t esp = reg(m, UC_X86_REG_ESP) - 8, frame[2] = {eip + in->size, reg(m, UC_X86_REG_CS)};
        uint32_t fl, pf;
        if (machine_write_lin(m, esp, frame, 8, false, &fl, &pf) != 0)
            return -1;
        uc_reg_write(m->uc, UC_X86_REG_ESP, &esp);
    }
    if (load_cs_ss(m, sel, (uint16_t)reg(m, UC_X86_REG_SS), 1) < 0)
        return -1;
    uc_reg_write(m->uc, UC_X86_REG_EIP, &target);
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
    if (load_cs_ss(m, (uint16_t)w[1], (uint16_t)reg(m, UC_X86_REG_SS), 1) < 0) {
        uc_reg_write(m->uc, UC_X86_REG_ESP, &esp0);
        return -1;
    }
    if (iret) {
        t->vif = w[2] & EFLAGS_IF;
        uint32_t f = (w[2] & ~(EFLAGS_IF | (3u << 12))) | EFLAGS_IF | 2u;
        uc_reg_write(m->uc, UC_X86_REG_EFLAGS, &f);
    }
    uc_reg_write(m->uc, UC_X86_REG_EIP, &w[0]);
    return 1;   /* EIP set */
}

/* Emulate the privileged instruction at `eip` that faulted in ring 1. Returns 0 (emulated, EIP
 * to be moved past it), 1 (emulated, EIP already set), -1 (not ours: the guest gets the #GP),
 * -2 (the run ended). */
static int emulate(struct machine *m, const cs_insn *in, uint32_t eip)
{
    struct classic *t = st(m);
    const cs_x86 *x = &in->detail->x86;
    char q[24];
    snprintf(q, sizeof q, "#GP %.19s", in->mnemonic);
    switch (in->id) {
    case X86_INS_CLI:
        exit_rec(m, VMX_EXCEPTION_NMI, q, eip);
        t->vif = 0;
        return 0;
    case X86_INS_STI:
        exit_rec(m, VMX_EXCEPTION_NMI, q, eip);
        t->vif = EFLAGS_IF;
        return 0;
    case X86_INS_MOV: {
        int cr;
        enum insn_class c = insn_classify(in, &cr);
        if (c == IC_MOV_TO_CR || c == IC_MOV_FROM_CR)
            return emulate_cr(m, in, eip);
        if (c == IC_MOV_TO_SEG) {
            uint32_t sel;
            if (src_value(m, &x->operands[1], eip, &sel) < 0)
                return -1;
            exit_rec(m, VMX_EXCEPTION_NMI, "#GP mov seg", eip);
            return emulate_seg_load(m, x->operands[0].reg, sel & 0xffff);
        }
        return -1;
    }
    case X86_INS_POP:
        if (x->op_count == 1 && x->operands[0].type == X86_OP_REG &&
            segreg_of(x->operands[0].reg) != UQ_NSEG) {
            uint32_t sel, esp0 = reg(m, UC_X86_REG_ESP);
            exit_rec(m, VMX_EXCEPTION_NMI, "#GP pop seg", eip);
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
        exit_rec(m, VMX_EXCEPTION_NMI, q, eip);
        return emulate_far(m, in, eip);
    case X86_INS_INVLPG: {
        uint32_t va;
        exit_rec(m, VMX_INVLPG, "", eip);
        if (emul_mem_operand(m, eip, &va) < 0)
            return -1;
        shadow_invlpg(t->mon.sh, &t->mon.v, va);
        uc_ctl_flush_tlb(m->uc);
        return 0;
    }
    case X86_INS_LGDT: case X86_INS_LIDT: {
        uint32_t lin;
        uint8_t d[6];
        exit_rec(m, VMX_GDTR_IDTR, in->mnemonic, eip);
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
        return rebuild_gdt(m) < 0 ? -2 : 0;
    }
    case X86_INS_LTR: case X86_INS_LLDT: {
        uint32_t sel;
        struct desc d = {0};
        exit_rec(m, VMX_LDTR_TR, in->mnemonic, eip);
        if (src_value(m, &x->operands[0], eip, &sel) < 0)
            return -1;
        sel &= 0xffff;
        bool ltr = in->id == X86_INS_LTR;
        if ((sel & ~3u) && guest_desc(m, (uint16_t)sel, &d, ltr) < 0)
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
        return emulate_io(m, in, eip);
    case X86_INS_HLT:
        exit_rec(m, VMX_HLT, "", eip);
        return 0;
    case X86_INS_CLTS:
        exit_rec(m, VMX_CR_ACCESS, "clts", eip);
        t->mon.v.cr0 &= ~CR0_TS;
        return 0;
    case X86_INS_LMSW: {
        uint32_t v;
        exit_rec(m, VMX_CR_ACCESS, "lmsw", eip);
        if (src_value(m, &x->operands[0], eip, &v) < 0)
            return -1;
        t->mon.v.cr0 = (t->mon.v.cr0 & ~0xeu) | (v & 0xf) | CR0_PE;
        return 0;
    }
    case X86_INS_WBINVD: case X86_INS_INVD:
        exit_rec(m, in->id == X86_INS_WBINVD ? VMX_WBINVD : VMX_INVD, "", eip);
        return 0;
    case X86_INS_IRET: case X86_INS_IRETD:
        exit_rec(m, VMX_EXCEPTION_NMI, "#GP iret", eip);
        return emulate_return(m, true, eip);
    case X86_INS_RETF:
        exit_rec(m, VMX_EXCEPTION_NMI, "#GP retf", eip);
        return emulate_return(m, false, eip);
    default:
        return -1;
    }
}

/* After an emulated hlt: wait as the guest asked, or explain why it never wakes. */
static int do_halt(struct machine *m, uint32_t eip)
{
    struct classic *t = st(m);
    if (!t->vif) {
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
    run_halt(m);
    return m->end ? -1 : 0;
}

static int classic_exception(struct machine *m, const struct xevent *ev)
{
    struct classic *t = st(m);
    if (ev->kind == XK_FAULT && ev->vector == 14)
        return shadow_exception(t->mon.sh, &t->mon.v, ev);
    if (ev->kind != XK_FAULT || ev->vector != 13 || machine_cpl(m) != 1)
        return shadow_deliver_recorded(m, ev);
    cs_insn *in = cs_malloc(m->cs);
    int r = -1;
    int cr;
    enum insn_class cls = IC_NONE;
    if (emul_decode(m, ev->eip, in) == 0) {
        cls = insn_classify(in, &cr);
        r = emulate(m, in, ev->eip);
    }
    uint32_t next = ev->eip + in->size;
    bool is_hlt = in->id == X86_INS_HLT;
    cs_free(in, 1);
    if (r == -2)
        return -1;
    if (r < 0)
        return shadow_deliver_recorded(m, ev);
    if (r == 0)
        uc_reg_write(m->uc, UC_X86_REG_EIP, &next);
    machine_retire_emulated(m, cls == IC_NONE ? -1 : (int)cls);
    if (uq_exception_done(&m->quirks, m->uc, NULL) < 0)
        return -1;
    return is_hlt ? do_halt(m, ev->eip) : 0;
}

static int classic_interrupt(struct machine *m, const struct xevent *ev)
{
    char q[16];
    snprintf(q, sizeof q, "irq%d", ev->irq);
    exit_rec(m, VMX_EXTERNAL_INTERRUPT, q, ev->eip);
    ev_record(&m->ev, m->time, EV_INTERRUPT, ev->vector, q, 0, ev->eip, vcpl(m));
    return deliver_event(m, ev);
}

const struct mode_ops mode_trap_classic = {
    .name = "trap-classic",
    .summary = "pre-VT trap-and-emulate by ring compression (guest kernel in ring 1), shadow paging",
    .setup = classic_setup,
    .exception = classic_exception,
    .interrupt = classic_interrupt,
    .irq_open = classic_irq_open,
    .teardown = shadow_monitor_teardown,
    .paging_regs = shadow_monitor_paging_regs,
    .cpu_view = classic_cpu_view,
    .delivered = classic_delivered,
    .real_seg = classic_real_seg,
    .site_wanted = classic_site_wanted,
    .site = classic_site,
};
