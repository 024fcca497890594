/*
 * bt_xlate.c — translate one guest kernel basic block into translation-cache code (bt_xlate.h).
 *
 * bt_translate() decodes one guest instruction at a time with Capstone and hands it to the
 * translator of its kind: copy (IDENT), a direct branch (JCC/JMP/CALL), an in-cache sequence on
 * the vcpu block, or a callout. Branches only record their exits; once the unit ends, the exit
 * stubs are laid out after its last instruction and each branch's rel32 is aimed at its stub.
 * An instruction whose form a translator does not handle is rolled back: a sensitive one becomes
 * a callout, an ordinary one ends the unit before it.
 *
 * The in-cache sequences (V = the vcpu block, M = BT_EFLAGS_VIRT; * marks the steps that can fault,
 * all of them before_effect, their map entries saying what to rewind: sp_undo, saved_reg):
 *
 *   cli / sti        *pushfl; andl $~IF, V.eflags / orl $IF, V.eflags; popfl
 *   pushf            *pushfl; *pushfl; movl %eax, V.scratch; movl V.eflags, %eax;
 *                    xorl 4(%esp), %eax; andl $M, %eax; xorl %eax, 4(%esp);
 *                    movl V.scratch, %eax; popfl
 *                    (the guest's slot gets the real flags with IF/IOPL replaced by V's; the real
 *                    flags come back from the second copy)
 *   popf             movl %eax, V.scratch; *movl (%esp), %eax; xorl V.eflags, %eax; andl $M, %eax;
 *                    xorl %eax, V.eflags; movl V.scratch, %eax; popfl
 *                    (V takes IF/IOPL from the popped word; popfl at CPL 1, IOPL 0 takes the rest)
 *   sgdt/sidt m      movl %r, V.scratch; movl V.limit, %r; *movw %r16, m; movl V.base, %r;
 *                    *movl %r, m+2; movl V.scratch, %r
 *                    (r: the first of EAX, ECX, EDX, EBX that m does not address with; two stores
 *                    through stack temporaries could clobber each other when m lies just below
 *                    ESP, a borrowed register cannot)
 *   read r32 / r16   movl V.slot, %r / movw V.slot, %r   (smsw, str, sldt, mov from sreg/CRn)
 *   read m16         *pushw V.slot; *popw m
 *   push sreg        *pushl V.sel[s]  (pushw with a 0x66 prefix)
 *   pop/mov sreg     *pushl %ecx; *movzwl <selector>, %ecx; ... through the selector map (at
 *                    seq_seg_load); a callout where the map says 0
 *   in / out         movl %ecx, V.scratch; ... through the port map; the guest's in/out where
 *                    the map says nonzero, a callout where it says 0 (at seq_io)
 *
 * pop to memory computes an ESP-based address after incrementing ESP, so `popw m` right after
 * `pushw` addresses m as the guest's instruction did. Stores keep the guest's segment override.
 */
#include "emu/modes/bt_xlate.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "emu/insn_class.h"

const char *const bt_kind_name[BT_KIND_COUNT] = {
#define BT_KIND_NAME(id, name, what) [BT_##id] = name,
    BT_KIND_LIST(BT_KIND_NAME)
#undef BT_KIND_NAME
};

const char *const bt_ib_name[BT_IB_COUNT] = {"", "ret", "jmp", "call"};

#define EAX 0
#define ECX 1
#define ESP_BASE 0x24                /* SIB byte for (%esp) */
#define OPSIZE 0x66
#define ADDRSIZE 0x67

/* One guest instruction being translated. */
struct gi {
    const cs_insn *in;
    const cs_x86 *x;
    const uint8_t *b;                /* its bytes */
    uint32_t eip;
    uint8_t len;
    uint8_t cls;                     /* enum insn_class */
};

/* The unit being built. */
struct xl {
    const struct bt_env *env;
    struct bt_unit *u;
    csh cs;
    bool full;                       /* out of TC capacity or map entries */
    const struct gi *g;              /* instruction the next map entries stand for */
    uint8_t kind;
    uint8_t saved_reg;               /* for the next map entries: 1 + GPR held in V.scratch */
};

enum step { ST_NEXT, ST_END };       /* translators: go on, or the unit ends here */

/* ---- emission ------------------------------------------------------------------------------ */

static uint32_t off(const struct xl *x) { return (uint32_t)x->u->tc_len; }

static void put(struct xl *x, const void *p, size_t n)
{
    if (x->u->tc_len + n > x->u->tc_cap) {
        x->full = true;
        return;
    }
    memcpy(x->u->tc + x->u->tc_len, p, n);
    x->u->tc_len += n;
}

static void put8(struct xl *x, uint8_t v) { put(x, &v, 1); }

/* PUT(x, byte, byte, ...): emit these bytes. */
#define PUT(x, ...) put(x, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void put32(struct xl *x, uint32_t v)
{
    uint8_t b[4] = {v, v >> 8, v >> 16, v >> 24};
    put(x, b, 4);
}

/* Open a map entry at the current TC offset for x->g, unless the previous one says the same. */
static void mark(struct xl *x, bool before, unsigned sp_undo)
{
    struct bt_unit *u = x->u;
    const struct gi *g = x->g;
    struct bt_map e = {.tc_off = (uint16_t)off(x), .kind = x->kind, .cls = g->cls,
                       .guest_eip = g->eip, .guest_len = g->len, .before_effect = before,
                       .sp_undo = (uint8_t)sp_undo, .saved_reg = x->saved_reg};
    if (u->nmap) {
        struct bt_map *p = &u->map[u->nmap - 1];
        if (p->tc_off == e.tc_off) {
            *p = e;
            return;
        }
        if (p->guest_eip == e.guest_eip && p->kind == e.kind && p->guest_len == e.guest_len &&
            p->before_effect == e.before_effect && p->sp_undo == e.sp_undo &&
            p->saved_reg == e.saved_reg)
            return;
    }
    if (u->nmap == BT_MAP_MAX) {
        x->full = true;
        return;
    }
    u->map[u->nmap++] = e;
}

/* The monitor counts executions of TC offset tc_off: an in-cache emulation of class cls done,
 * or (lookup) a hit of an in-cache lookup of kind cls. */
static void count_at(struct xl *x, uint32_t tc_off, bool lookup, uint8_t cls)
{
    struct bt_unit *u = x->u;
    if (u->ncounts == BT_UNIT_INSNS) {
        x->full = true;
        return;
    }
    u->counts[u->ncounts++] = (struct bt_count){(uint16_t)tc_off, lookup, cls};
}

/* Aim the rel8 of the short branch (jecxz, jmp) at TC offset `at` at the current offset. */
static void aim_rel8(struct xl *x, uint32_t at)
{
    if (!x->full)
        x->u->tc[at + 1] = (uint8_t)(off(x) - at - 2);
}

/* opc modrm(00, reg, 101) disp32: an instruction on an absolute address (a vcpu slot). */
static void op_abs(struct xl *x, uint8_t opc, unsigned reg, uint32_t addr)
{
    uint8_t b[2] = {opc, (uint8_t)(reg << 3 | 5)};
    put(x, b, 2);
    put32(x, addr);
}

#define VCPU(x, field) ((x)->env->vcpu_state + (uint32_t)offsetof(struct bt_vcpu, field))

static uint32_t vcpu_sel(const struct xl *x, unsigned s)
{
    return VCPU(x, sel) + 4 * s;
}

/* ---- the guest's operands ------------------------------------------------------------------ */

static bool has_prefix(const struct gi *g, uint8_t p)
{
    for (int i = 0; i < 4; i++)
        if (g->x->prefix[i] == p)
            return true;
    return false;
}

static uint8_t modrm(const struct gi *g) { return g->b[g->x->encoding.modrm_offset]; }

/* The instruction has a ModRM byte, found where Capstone says. */
static bool has_modrm(const struct gi *g)
{
    unsigned mo = g->x->encoding.modrm_offset;
    return mo > 0 && mo < g->len && g->b[mo] == g->x->modrm;
}

static bool reg_form(const struct gi *g) { return (modrm(g) >> 6) == 3; }

static int32_t rd_disp(const uint8_t *p, unsigned n)
{
    if (n == 1)
        return (int8_t)p[0];
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

/* The guest instruction's memory operand: base and index registers (-1 if none). */
static void mem_regs(const struct gi *g, int *base, int *index)
{
    const uint8_t *p = g->b + g->x->encoding.modrm_offset;
    unsigned mod = p[0] >> 6, rm = p[0] & 7;
    unsigned b = rm == 4 ? (p[1] & 7) : rm;
    *base = mod == 0 && b == 5 ? -1 : (int)b;
    *index = rm == 4 && ((p[1] >> 3) & 7) != 4 ? (int)((p[1] >> 3) & 7) : -1;
}

/* Emit the guest instruction's memory operand (ModRM, SIB, displacement) with `reg` in the ModRM
 * reg field and `add` added to the displacement. 32-bit addressing forms only. */
static void put_mem(struct xl *x, const struct gi *g, unsigned reg, int32_t add)
{
    const uint8_t *p = g->b + g->x->encoding.modrm_offset;
    unsigned mod = p[0] >> 6, rm = p[0] & 7;
    bool sib = rm == 4;
    unsigned base = sib ? (p[1] & 7) : rm;
    const uint8_t *dp = p + 1 + sib;
    bool nobase = mod == 0 && base == 5;
    int32_t disp = mod == 1 ? rd_disp(dp, 1) : (mod == 2 || nobase) ? rd_disp(dp, 4) : 0;
    int32_t nd = (int32_t)((uint32_t)disp + (uint32_t)add);
    unsigned nmod = nobase ? 0 : (nd >= -128 && nd <= 127) ? 1 : 2;
    put8(x, (uint8_t)(nmod << 6 | reg << 3 | rm));
    if (sib)
        put8(x, p[1]);
    if (nmod == 1)
        put8(x, (uint8_t)nd);
    else
        put32(x, (uint32_t)nd);
}

/* An instruction on the guest's memory operand m+add: [segment override] [0x66] opc modrm... */
static void op_mem(struct xl *x, const struct gi *g, bool word, uint8_t opc, unsigned reg,
                   int32_t add)
{
    if (g->x->prefix[1])
        put8(x, g->x->prefix[1]);
    if (word)
        put8(x, OPSIZE);
    put8(x, opc);
    put_mem(x, g, reg, add);
}

/* A memory destination we can re-encode: 32-bit addressing, no lock/rep prefix. */
static bool plain_mem(const struct gi *g)
{
    return has_modrm(g) && !reg_form(g) && !g->x->prefix[0] && !has_prefix(g, ADDRSIZE);
}

/* ---- in-cache sequences -------------------------------------------------------------------- */

static void seq_cli_sti(struct xl *x, bool sti)
{
    mark(x, true, 0);
    put8(x, 0x9c);                                     /* pushfl */
    mark(x, false, 0);
    op_abs(x, 0x81, sti ? 1 : 4, VCPU(x, eflags));    /* orl/andl $imm32, V.eflags */
    put32(x, sti ? BT_EFLAGS_IF : ~BT_EFLAGS_IF);
    put8(x, 0x9d);                                     /* popfl */
}

static const uint8_t xor_eax_esp4[] = {0x33, 0x44, ESP_BASE, 4};   /* xorl 4(%esp), %eax */
static const uint8_t xor_esp4_eax[] = {0x31, 0x44, ESP_BASE, 4};   /* xorl %eax, 4(%esp) */
static const uint8_t mov_eax_esp[] = {0x8b, 0x04, ESP_BASE};       /* movl (%esp), %eax */

static void and_eax_virt(struct xl *x)
{
    put8(x, 0x25);                                     /* andl $M, %eax */
    put32(x, BT_EFLAGS_VIRT);
}

static void seq_pushf(struct xl *x)
{
    mark(x, true, 0);
    put8(x, 0x9c);                                     /* the guest's slot */
    mark(x, true, 4);
    put8(x, 0x9c);                                     /* the real flags, kept */
    mark(x, false, 0);
    op_abs(x, 0x89, EAX, VCPU(x, scratch));
    op_abs(x, 0x8b, EAX, VCPU(x, eflags));
    put(x, xor_eax_esp4, sizeof xor_eax_esp4);
    and_eax_virt(x);
    put(x, xor_esp4_eax, sizeof xor_esp4_eax);
    op_abs(x, 0x8b, EAX, VCPU(x, scratch));
    put8(x, 0x9d);
}

static void seq_popf(struct xl *x)
{
    mark(x, true, 0);
    op_abs(x, 0x89, EAX, VCPU(x, scratch));
    put(x, mov_eax_esp, sizeof mov_eax_esp);
    mark(x, false, 0);
    op_abs(x, 0x33, EAX, VCPU(x, eflags));            /* xorl V.eflags, %eax */
    and_eax_virt(x);
    op_abs(x, 0x31, EAX, VCPU(x, eflags));            /* xorl %eax, V.eflags */
    op_abs(x, 0x8b, EAX, VCPU(x, scratch));
    put8(x, 0x9d);
}

/* sgdt/sidt m: the 6-byte image (limit16, base32) stored from the vcpu slots through a borrowed
 * register. */
static void seq_sdt(struct xl *x, const struct gi *g, uint32_t base, uint32_t limit)
{
    int mb, mi;
    mem_regs(g, &mb, &mi);
    unsigned r = 0;
    while ((int)r == mb || (int)r == mi)
        r++;
    mark(x, true, 0);
    op_abs(x, 0x89, r, VCPU(x, scratch));              /* movl %r, V.scratch */
    x->saved_reg = (uint8_t)(r + 1);
    mark(x, true, 0);
    op_abs(x, 0x8b, r, limit);                         /* movl V.limit, %r */
    op_mem(x, g, true, 0x89, r, 0);                    /* movw %r16, m */
    op_abs(x, 0x8b, r, base);                          /* movl V.base, %r */
    op_mem(x, g, false, 0x89, r, 2);                   /* movl %r, m+2 */
    x->saved_reg = 0;
    mark(x, false, 0);
    op_abs(x, 0x8b, r, VCPU(x, scratch));              /* movl V.scratch, %r */
}

/* A 16/32-bit read of a vcpu slot into the guest instruction's destination: the ModRM r/m
 * operand (smsw, str, sldt, mov from sreg), or `rreg` when >= 0 (mov from CRn). */
static void seq_read(struct xl *x, const struct gi *g, uint32_t slot, int rreg)
{
    bool word = has_prefix(g, OPSIZE);
    mark(x, true, 0);
    if (rreg >= 0 || reg_form(g)) {
        if (word && rreg < 0)
            put8(x, OPSIZE);
        op_abs(x, 0x8b, rreg >= 0 ? (unsigned)rreg : (modrm(g) & 7), slot);
        return;
    }
    put8(x, OPSIZE);
    op_abs(x, 0xff, 6, slot);                          /* pushw V.slot */
    mark(x, true, 2);
    op_mem(x, g, true, 0x8f, 0, 0);                    /* popw m */
}

static int sreg_index(x86_reg r)
{
    switch (r) {
    case X86_REG_ES: return 0;
    case X86_REG_CS: return 1;
    case X86_REG_SS: return 2;
    case X86_REG_DS: return 3;
    case X86_REG_FS: return 4;
    case X86_REG_GS: return 5;
    default: return -1;
    }
}

/* pop/mov to DS, ES, FS or GS: the guest selector through the selector map (env->selmap) onto
 * the real one, in the cache when the map knows it, else a callout of the instruction (the
 * unit goes on). No step touches the flags; the guest's selector goes to V.sel[s] for reads.
 *
 *     *pushl %ecx; *movzwl <selector>, %ecx (pop: 4(%esp)); movl %ecx, V.sel[s]
 *     movzwl map(,%ecx,2), %ecx; jecxz miss
 *     leal -1(%ecx), %ecx; movw %cx, %sreg; popl %ecx; [pop: leal 4(%esp), %esp]; jmp done
 *   miss: popl %ecx; int $callout_vector
 *   done:                                                                                    */
static int seq_seg_load(struct xl *x, const struct gi *g, int s)
{
    bool pop = g->cls == IC_POP_SEG;
    if (!x->env->selmap || s < 0 || s == 1 || s == 2 || g->x->prefix[0] ||
        has_prefix(g, ADDRSIZE) ||
        (pop && has_prefix(g, OPSIZE)) ||
        (!pop && (!has_modrm(g) || (reg_form(g) ? (modrm(g) & 7) == 4 : !plain_mem(g)))))
        return -ENOTSUP;
    mark(x, true, 0);
    put8(x, 0x51);                                     /* pushl %ecx */
    mark(x, true, 4);
    if (pop) {
        PUT(x, 0x0f, 0xb7, 0x4c, ESP_BASE, 4);         /* movzwl 4(%esp), %ecx */
    } else if (reg_form(g)) {
        PUT(x, 0x0f, 0xb7, (uint8_t)(0xc8 | (modrm(g) & 7)));   /* movzwl %r16, %ecx */
    } else {
        int base, index;
        mem_regs(g, &base, &index);
        if (g->x->prefix[1])
            put8(x, g->x->prefix[1]);
        PUT(x, 0x0f, 0xb7);                            /* movzwl m, %ecx */
        put_mem(x, g, 1, base == 4 ? 4 : 0);
    }
    mark(x, false, 4);
    op_abs(x, 0x89, 1, vcpu_sel(x, (unsigned)s));      /* movl %ecx, V.sel[s] */
    PUT(x, 0x0f, 0xb7, 0x0c, 0x4d);                    /* movzwl map(,%ecx,2), %ecx */
    put32(x, x->env->selmap);
    uint32_t jecxz = off(x);
    PUT(x, 0xe3, 0);                                   /* jecxz miss */
    count_at(x, off(x), false, g->cls);
    PUT(x, 0x8d, 0x49, 0xff);                          /* leal -1(%ecx), %ecx */
    PUT(x, 0x8e, (uint8_t)(0xc1 | s << 3));            /* movw %cx, %sreg */
    put8(x, 0x59);                                     /* popl %ecx */
    if (pop)
        PUT(x, 0x8d, 0x64, ESP_BASE, 4);               /* leal 4(%esp), %esp */
    PUT(x, 0xeb, 3);                                   /* jmp done */
    aim_rel8(x, jecxz);
    put8(x, 0x59);                                     /* miss: popl %ecx */
    x->kind = BT_CALLOUT;
    mark(x, true, 0);
    put8(x, 0xcd);
    put8(x, x->env->callout_vector);
    x->kind = BT_INCACHE;
    return 0;
}

/* Load the port map's entry for g's port into ECX (p: g's opcode offset; dx: the port is DX). */
static void put_port_lookup(struct xl *x, const struct gi *g, unsigned p, bool dx)
{
    if (dx) {
        PUT(x, 0x0f, 0xb7, 0xca);                      /* movzwl %dx, %ecx */
        PUT(x, 0x0f, 0xb6, 0x89);                      /* movzbl map(%ecx), %ecx */
        put32(x, x->env->portmap);
    } else {
        PUT(x, 0x0f, 0xb6, 0x0d);                      /* movzbl map+port, %ecx */
        put32(x, x->env->portmap + g->b[p + 1]);
    }
}

/* in/out through the port map (env->portmap): the guest's own instruction where the map lets
 * its port through, else a callout of it (the unit goes on). ECX is borrowed through V.scratch,
 * so no step touches the stack or the flags, and none can fault. Only the plain forms (imm8 or
 * DX port; AL, EAX, or AX with 0x66) are taken; INS/OUTS stay callouts.
 *
 *     movl %ecx, V.scratch; movzwl %dx, %ecx; movzbl map(%ecx), %ecx    (imm8: movzbl map+port)
 *     jecxz miss; movl V.scratch, %ecx; <in/out>; jmp done
 *   miss: movl V.scratch, %ecx; int $callout_vector
 *   done:                                                                                    */
static int seq_io(struct xl *x, const struct gi *g)
{
    unsigned p = g->b[0] == OPSIZE;
    uint8_t op = g->b[p];
    bool dx = (op & 0x08) != 0;
    if (!x->env->portmap || (op & 0xf4) != 0xe4 || g->len != p + (dx ? 1u : 2u))
        return -ENOTSUP;
    mark(x, true, 0);
    op_abs(x, 0x89, ECX, VCPU(x, scratch));            /* movl %ecx, V.scratch */
    x->saved_reg = 1 + ECX;
    mark(x, true, 0);
    put_port_lookup(x, g, p, dx);
    uint32_t jecxz = off(x);
    PUT(x, 0xe3, 0);                                   /* jecxz miss */
    count_at(x, off(x), false, g->cls);
    op_abs(x, 0x8b, ECX, VCPU(x, scratch));            /* movl V.scratch, %ecx */
    x->saved_reg = 0;
    mark(x, true, 0);
    put(x, g->b, g->len);                              /* the guest's in/out */
    mark(x, false, 0);
    uint32_t jmp = off(x);
    PUT(x, 0xeb, 0);                                   /* jmp done */
    aim_rel8(x, jecxz);
    x->saved_reg = 1 + ECX;
    mark(x, true, 0);
    op_abs(x, 0x8b, ECX, VCPU(x, scratch));            /* miss: movl V.scratch, %ecx */
    x->saved_reg = 0;
    x->kind = BT_CALLOUT;
    mark(x, true, 0);
    put8(x, 0xcd);
    put8(x, x->env->callout_vector);
    x->kind = BT_INCACHE;
    aim_rel8(x, jmp);
    return 0;
}

/* Emit the in-cache sequence for g; -ENOTSUP if its class or form has none (a callout then). */
static int incache(struct xl *x, const struct gi *g)
{
    bool word = has_prefix(g, OPSIZE);
    switch (g->cls) {
    case IC_CLI: case IC_STI:
        seq_cli_sti(x, g->cls == IC_STI);
        return 0;
    case IC_PUSHF: case IC_POPF:
        if (word)
            return -ENOTSUP;
        g->cls == IC_PUSHF ? seq_pushf(x) : seq_popf(x);
        return 0;
    case IC_SGDT: case IC_SIDT:
        if (word || !plain_mem(g))
            return -ENOTSUP;
        if (g->cls == IC_SGDT)
            seq_sdt(x, g, VCPU(x, gdt_base), VCPU(x, gdt_limit));
        else
            seq_sdt(x, g, VCPU(x, idt_base), VCPU(x, idt_limit));
        return 0;
    case IC_SMSW: case IC_STR: case IC_SLDT: case IC_MOV_FROM_SEG: {
        if (!has_modrm(g) || (!reg_form(g) && !plain_mem(g)))
            return -ENOTSUP;
        uint32_t slot = g->cls == IC_SMSW ? VCPU(x, cr[0])
                        : g->cls == IC_STR ? VCPU(x, tr)
                        : g->cls == IC_SLDT ? VCPU(x, ldtr)
                                            : vcpu_sel(x, (modrm(g) >> 3) & 7);
        seq_read(x, g, slot, -1);
        return 0;
    }
    case IC_MOV_FROM_CR: {
        if (!has_modrm(g))
            return -ENOTSUP;
        unsigned cr = (modrm(g) >> 3) & 7;
        if (cr == 1 || cr > 4)
            return -ENOTSUP;
        seq_read(x, g, VCPU(x, cr[cr]), modrm(g) & 7);
        return 0;
    }
    case IC_IN: case IC_OUT:
        return seq_io(x, g);
    case IC_POP_SEG: case IC_MOV_TO_SEG:
        if (g->x->op_count < 1 || g->x->operands[0].type != X86_OP_REG)
            return -ENOTSUP;
        return seq_seg_load(x, g, sreg_index(g->x->operands[0].reg));
    case IC_PUSH_SEG: {
        int s = sreg_index(g->x->operands[0].reg);
        if (s < 0)
            return -ENOTSUP;
        mark(x, true, 0);
        if (word)
            put8(x, OPSIZE);
        op_abs(x, 0xff, 6, vcpu_sel(x, (unsigned)s));  /* pushl/pushw V.sel[s] */
        return 0;
    }
    default:
        return -ENOTSUP;
    }
}

/* ---- exits --------------------------------------------------------------------------------- */

/* A rel32 field aimed, for now, at nothing: the stub is placed when the unit ends. */
static void put_exit(struct xl *x, uint32_t target)
{
    struct bt_unit *u = x->u;
    if (u->nexits == BT_EXITS_MAX) {
        x->full = true;
        return;
    }
    u->exits[u->nexits++] = (struct bt_exit){.target = target, .rel32_off = (uint16_t)off(x)};
    put32(x, 0);
}

/* The map entry of an exit's jmp or stub: it stands for the guest instruction at `target`. */
static void mark_exit(struct xl *x, uint32_t target)
{
    static const struct gi none = {.cls = IC_NONE};
    struct gi t = none;
    t.eip = target;
    const struct gi *g = x->g;
    uint8_t k = x->kind;
    x->g = &t;
    x->kind = BT_EXIT;
    mark(x, true, 0);
    x->g = g;
    x->kind = k;
}

static void jmp_exit(struct xl *x, uint32_t target)
{
    mark_exit(x, target);
    put8(x, 0xe9);
    put_exit(x, target);
}

/* Lay out the stubs and aim every exit's rel32 at its stub. */
static void put_stubs(struct xl *x)
{
    struct bt_unit *u = x->u;
    for (unsigned i = 0; i < u->nexits; i++) {
        struct bt_exit *e = &u->exits[i];
        e->stub_off = (uint16_t)off(x);
        mark_exit(x, e->target);
        put8(x, 0xcd);
        put8(x, x->env->callout_vector);
        if (!x->full)
            bt_chain(u->tc, u->tc_addr, e, u->tc_addr + e->stub_off);
    }
}

/* ---- translators by kind ------------------------------------------------------------------- */

static enum step callout(struct xl *x, enum bt_kind kind)
{
    x->kind = (uint8_t)kind;
    mark(x, true, 0);
    put8(x, 0xcd);
    put8(x, x->env->callout_vector);
    x->u->end = kind == BT_INDIRECT ? BT_END_TRANSFER : BT_END_CALLOUT;
    return ST_END;
}

static bool legacy_prefix(uint8_t b)
{
    switch (b) {
    case 0xf0: case 0xf2: case 0xf3: case 0x2e: case 0x36: case 0x3e: case 0x26: case 0x64:
    case 0x65: case 0x66: case 0x67:
        return true;
    default:
        return false;
    }
}

/* ---- indirect branches: the in-cache lookup ----------------------------------------------- */


/* Which indirect transfer g is, if the in-cache lookup handles its form: near ret [imm16], jmp or
 * call through a 32-bit register (not ESP) or memory operand with 32-bit addressing and no
 * operand-size, lock or rep prefix. Far forms and the rest: BT_IB_NONE (a callout). */
static enum bt_ib ib_form(const struct gi *g, uint16_t *imm)
{
    unsigned p = 0;
    *imm = 0;
    if (has_prefix(g, 0xf0) || has_prefix(g, OPSIZE) || has_prefix(g, ADDRSIZE))
        return BT_IB_NONE;
    while (p < g->len && legacy_prefix(g->b[p]))
        p++;
    uint8_t op = g->b[p];
    if (g->x->prefix[0] && op != 0xc3 && op != 0xc2)   /* `rep ret` is a ret */
        return BT_IB_NONE;
    if (op == 0xc3)
        return BT_IB_RET;
    if (op == 0xc2) {
        *imm = (uint16_t)(g->b[p + 1] | g->b[p + 2] << 8);
        return *imm <= 0xfffbu ? BT_IB_RET : BT_IB_NONE;
    }
    if (op != 0xff || !has_modrm(g) || (reg_form(g) && (modrm(g) & 7) == 4))
        return BT_IB_NONE;
    unsigned r = (modrm(g) >> 3) & 7;
    return r == 2 ? BT_IB_CALL : r == 4 ? BT_IB_JMP : BT_IB_NONE;
}

/* The in-cache lookup for g (see the header comment). Every step up to the load of the target
 * can fault and is before_effect with sp_undo the bytes pushed so far; from the index on nothing
 * can fault and the steps are not boundaries. No step reads or writes the flags. The hit path
 * leaves through `ret`, the miss path through a callout of kind INDIRECT at the guest state
 * before g. */
static enum step indirect(struct xl *x, const struct gi *g)
{
    uint16_t imm;
    enum bt_ib ib = x->env->ibtc ? ib_form(g, &imm) : BT_IB_NONE;
    if (ib == BT_IB_NONE)
        return callout(x, BT_INDIRECT);
    uint32_t tbl = x->env->ibtc;
    unsigned sp = 0;
    x->kind = BT_INDIRECT;
    mark(x, true, 0);
    if (ib == BT_IB_CALL) {
        put8(x, 0x68);                                 /* pushl $guest_return */
        put32(x, g->eip + g->len);
        mark(x, true, sp += 4);
    }
    put8(x, 0x50);                                     /* pushl %eax */
    mark(x, true, sp += 4);
    put8(x, 0x51);                                     /* pushl %ecx */
    mark(x, true, sp += 4);
    put8(x, 0x52);                                     /* pushl %edx */
    mark(x, true, sp += 4);
    if (ib == BT_IB_RET) {
        PUT(x, 0x8b, 0x44, ESP_BASE, (uint8_t)sp);     /* movl sp(%esp), %eax */
    } else if (reg_form(g)) {
        PUT(x, 0x8b, (uint8_t)(0xc0 | (modrm(g) & 7))); /* movl %r, %eax */
    } else {
        int base, index;
        mem_regs(g, &base, &index);
        op_mem(x, g, false, 0x8b, EAX, base == 4 ? (int32_t)sp : 0);   /* movl m, %eax */
    }
    mark(x, false, sp);
    PUT(x, 0x0f, 0xb7, 0xd0);                          /* movzwl %ax, %edx (bt_ibtc_slot) */
    PUT(x, 0x8b, 0x0c, 0xd5);                          /* movl tbl(,%edx,8), %ecx: -guest_eip */
    put32(x, tbl);
    PUT(x, 0x8d, 0x0c, 0x08);                          /* leal (%eax,%ecx), %ecx */
    uint32_t jecxz = off(x);
    PUT(x, 0xe3, 0);                                   /* jecxz hit */
    PUT(x, 0x5a, 0x59, 0x58);                          /* miss: popl %edx; popl %ecx; popl %eax */
    if (ib == BT_IB_CALL)
        PUT(x, 0x8d, 0x64, ESP_BASE, 4);               /* leal 4(%esp), %esp */
    callout(x, BT_INDIRECT);
    x->kind = BT_INDIRECT;
    mark(x, false, sp);
    aim_rel8(x, jecxz);
    count_at(x, off(x), true, (uint8_t)ib);
    PUT(x, 0x8b, 0x04, 0xd5);                          /* hit: movl tbl+4(,%edx,8), %eax */
    put32(x, tbl + 4);
    PUT(x, 0x87, 0x44, ESP_BASE, 8);                   /* xchgl %eax, 8(%esp): saved EAX */
    PUT(x, 0x5a, 0x59);                                /* popl %edx; popl %ecx */
    if (ib == BT_IB_RET)
        PUT(x, 0xc2, (uint8_t)(imm + 4), (uint8_t)((imm + 4u) >> 8)); /* ret $(4 + imm) */
    else
        put8(x, 0xc3);                                 /* ret: to the translation */
    return ST_END;
}

/* Direct relative branches. Operand-size (16-bit EIP) and lock prefixes are not handled;
 * segment and hint prefixes are dropped; 0x67 is kept where it matters (jcxz, loop on CX). */
static int direct(struct xl *x, const struct gi *g)
{
    if (has_prefix(g, OPSIZE) || has_prefix(g, 0xf0) || g->x->op_count != 1 ||
        g->x->operands[0].type != X86_OP_IMM)
        return -EINVAL;
    unsigned p = 0;
    while (p < g->len && legacy_prefix(g->b[p]))
        p++;
    uint8_t op = g->b[p];
    uint32_t target = (uint32_t)g->x->operands[0].imm, next = g->eip + g->len;
    if (op == 0xe8) {                                  /* call: push $guest_return; jmp */
        x->kind = BT_CALL;
        mark(x, true, 0);
        put8(x, 0x68);
        put32(x, next);
        mark(x, false, 0);
        put8(x, 0xe9);
        put_exit(x, target);
    } else if (op == 0xe9 || op == 0xeb) {
        x->kind = BT_JMP;
        mark(x, true, 0);
        put8(x, 0xe9);
        put_exit(x, target);
    } else if (op >= 0xe0 && op <= 0xe3) {             /* loop*, jecxz: rel8 only */
        x->kind = BT_JCC;
        mark(x, true, 0);
        if (has_prefix(g, ADDRSIZE))
            put8(x, ADDRSIZE);
        put8(x, op);
        put8(x, 5);                                    /* over the fall-through jmp */
        jmp_exit(x, next);
        jmp_exit(x, target);
    } else if ((op >= 0x70 && op <= 0x7f) || (op == 0x0f && (g->b[p + 1] & 0xf0) == 0x80)) {
        uint8_t cc = (op == 0x0f ? g->b[p + 1] : op) & 0xf;
        x->kind = BT_JCC;
        mark(x, true, 0);
        put8(x, 0x0f);
        put8(x, 0x80 | cc);
        put_exit(x, target);
        jmp_exit(x, next);
    } else {
        return -EINVAL;
    }
    x->u->end = BT_END_TRANSFER;
    return ST_END;
}

static bool in_group(const cs_insn *in, uint8_t grp)
{
    for (int i = 0; i < in->detail->groups_count; i++)
        if (in->detail->groups[i] == grp)
            return true;
    return false;
}

/* Class of g as the translator sees it: insn_classify's, plus the far-pointer loads (lds, les,
 * lfs, lgs, lss), which load a segment register as mov to a segment register does. */
static uint8_t bt_class(const cs_insn *in)
{
    int cr;
    enum insn_class c = insn_classify(in, &cr);
    if (c != IC_NONE)
        return (uint8_t)c;
    switch (in->id) {
    case X86_INS_LDS: case X86_INS_LES: case X86_INS_LFS: case X86_INS_LGS: case X86_INS_LSS:
        return IC_MOV_TO_SEG;
    default:
        return IC_NONE;
    }
}

/* Translate one guest instruction. ST_NEXT, ST_END, or -EINVAL (nothing emitted that counts:
 * the caller rolls back). */
static int xl_insn(struct xl *x, const struct gi *g)
{
    x->g = g;
    x->kind = BT_IDENT;
    if (g->cls != IC_NONE) {
        if (g->cls == IC_CPUID || g->cls == IC_RDTSC) {
            mark(x, true, 0);
            put(x, g->b, g->len);
            return ST_NEXT;
        }
        x->kind = BT_INCACHE;
        uint32_t start = off(x);
        unsigned counts0 = x->u->ncounts;
        if (incache(x, g) == 0) {
            if (x->u->ncounts == counts0)        /* counted where the sequence starts */
                count_at(x, start, false, g->cls);
            return ST_NEXT;
        }
        return callout(x, BT_CALLOUT);
    }
    if (in_group(g->in, CS_GRP_BRANCH_RELATIVE))
        return direct(x, g);
    if (in_group(g->in, CS_GRP_JUMP) || in_group(g->in, CS_GRP_CALL) ||
        in_group(g->in, CS_GRP_RET))
        return indirect(x, g);
    if (in_group(g->in, CS_GRP_INT) || in_group(g->in, CS_GRP_IRET) ||
        in_group(g->in, X86_GRP_PRIVILEGE))
        return callout(x, BT_CALLOUT);
    mark(x, true, 0);
    put(x, g->b, g->len);
    return ST_NEXT;
}

/* ---- the unit ------------------------------------------------------------------------------ */

/* Decode the instruction at code[pos]; 0, -ENODATA if it runs past len, -EINVAL if undecodable. */
static int decode(csh cs, const uint8_t *code, size_t len, size_t pos, uint32_t eip,
                  cs_insn **in, uint8_t buf[16])
{
    size_t avail = len - pos;
    memset(buf, 0, 16);
    memcpy(buf, code + pos, avail < 16 ? avail : 16);
    if (cs_disasm(cs, buf, 16, eip, 1, in) != 1)
        return -EINVAL;
    if ((*in)->size > avail) {
        cs_free(*in, 1);
        return -ENODATA;
    }
    return 0;
}

static int xl_run(struct xl *x, const uint8_t *code, size_t len)
{
    struct bt_unit *u = x->u;
    size_t pos = 0;
    u->end = BT_END_BYTES;
    while (pos < len) {
        if (u->ninsns == BT_UNIT_INSNS) {
            u->end = BT_END_LIMIT;
            break;
        }
        cs_insn *in;
        uint8_t buf[16];
        int rc = decode(x->cs, code, len, pos, u->guest_eip + (uint32_t)pos, &in, buf);
        if (rc < 0) {
            if (u->ninsns == 0)
                return rc;
            u->end = rc == -ENODATA ? BT_END_BYTES : BT_END_UNTRANSLATABLE;
            break;
        }
        struct gi g = {.in = in, .x = &in->detail->x86, .b = code + pos,
                       .eip = u->guest_eip + (uint32_t)pos, .len = (uint8_t)in->size,
                       .cls = bt_class(in)};
        size_t tc0 = u->tc_len;
        unsigned map0 = u->nmap, exits0 = u->nexits, counts0 = u->ncounts;
        rc = xl_insn(x, &g);
        cs_free(in, 1);
        if (rc < 0) {
            u->tc_len = tc0;
            u->nmap = map0;
            u->nexits = exits0;
            u->ncounts = counts0;
            if (u->ninsns == 0)
                return rc;
            u->end = BT_END_UNTRANSLATABLE;
            break;
        }
        u->ninsns++;
        pos += g.len;
        if (rc == ST_END)
            break;
    }
    u->guest_len = (uint32_t)pos;
    u->next_eip = u->guest_eip + (uint32_t)pos;
    if (u->end != BT_END_TRANSFER && u->end != BT_END_CALLOUT)
        jmp_exit(x, u->next_eip);
    put_stubs(x);
    return x->full ? -ENOSPC : 0;
}

int bt_translate(const struct bt_env *env, const uint8_t *code, size_t len, uint32_t guest_eip,
                 uint32_t tc_addr, struct bt_unit *out)
{
    if (!env || !code || !out || !out->tc)
        return -EINVAL;
    uint8_t *tc = out->tc;
    size_t cap = out->tc_cap;
    memset(out, 0, sizeof *out);
    out->tc = tc;
    out->tc_cap = cap;
    out->guest_eip = guest_eip;
    out->tc_addr = tc_addr;
    if (len == 0)
        return -ENODATA;
    struct xl x = {.env = env, .u = out};
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &x.cs) != CS_ERR_OK)
        return -ENOMEM;
    cs_option(x.cs, CS_OPT_DETAIL, CS_OPT_ON);
    int rc = xl_run(&x, code, len);
    cs_close(&x.cs);
    if (rc < 0) {
        out->tc_len = 0;
        out->nmap = out->nexits = out->ninsns = out->ncounts = 0;
    }
    return rc;
}

const struct bt_map *bt_map_find(const struct bt_unit *u, uint32_t tc_off)
{
    if (tc_off >= u->tc_len || u->nmap == 0)
        return NULL;
    unsigned lo = 0, hi = u->nmap;                     /* last entry with tc_off <= the offset */
    while (hi - lo > 1) {
        unsigned mid = (lo + hi) / 2;
        if (u->map[mid].tc_off <= tc_off)
            lo = mid;
        else
            hi = mid;
    }
    return &u->map[lo];
}

void bt_chain(uint8_t *tc, uint32_t tc_addr, const struct bt_exit *x, uint32_t dest)
{
    uint32_t rel = dest - (tc_addr + x->rel32_off + 4);
    uint8_t b[4] = {rel, rel >> 8, rel >> 16, rel >> 24};
    memcpy(tc + x->rel32_off, b, 4);
}
