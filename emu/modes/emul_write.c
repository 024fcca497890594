/*
 * emul_write.c — emulate a guest instruction's memory write (see emul_write.h).
 *
 * Decoding is Capstone's (operands with detail). Segment bases are taken as 0: the guests vmlab
 * runs use flat segments, and an FS/GS-relative page-table write is refused rather than guessed.
 */
#include "emu/modes/emul_write.h"

#include <capstone/capstone.h>
#include <stdio.h>
#include <string.h>

#include "emu/decode_cache.h"
#include "emu/machine.h"

struct regmap {
    x86_reg cs;
    int uc;
};

static const struct regmap regs[] = {
    {X86_REG_EAX, UC_X86_REG_EAX}, {X86_REG_ECX, UC_X86_REG_ECX}, {X86_REG_EDX, UC_X86_REG_EDX},
    {X86_REG_EBX, UC_X86_REG_EBX}, {X86_REG_ESP, UC_X86_REG_ESP}, {X86_REG_EBP, UC_X86_REG_EBP},
    {X86_REG_ESI, UC_X86_REG_ESI}, {X86_REG_EDI, UC_X86_REG_EDI},
    {X86_REG_AX, UC_X86_REG_AX}, {X86_REG_CX, UC_X86_REG_CX}, {X86_REG_DX, UC_X86_REG_DX},
    {X86_REG_BX, UC_X86_REG_BX}, {X86_REG_SI, UC_X86_REG_SI}, {X86_REG_DI, UC_X86_REG_DI},
    {X86_REG_BP, UC_X86_REG_BP}, {X86_REG_SP, UC_X86_REG_SP},
    {X86_REG_AL, UC_X86_REG_AL}, {X86_REG_CL, UC_X86_REG_CL}, {X86_REG_DL, UC_X86_REG_DL},
    {X86_REG_BL, UC_X86_REG_BL}, {X86_REG_AH, UC_X86_REG_AH}, {X86_REG_CH, UC_X86_REG_CH},
    {X86_REG_DH, UC_X86_REG_DH}, {X86_REG_BH, UC_X86_REG_BH},
};

static int uc_reg(x86_reg r)
{
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
        if (regs[i].cs == r)
            return regs[i].uc;
    return -1;
}

static int get_reg(struct machine *m, x86_reg r, uint32_t *v)
{
    int u = uc_reg(r);
    if (u < 0)
        return -1;
    *v = 0;
    return uc_reg_read(m->uc, u, v) == UC_ERR_OK ? 0 : -1;
}

static int set_reg(struct machine *m, x86_reg r, uint32_t v)
{
    int u = uc_reg(r);
    return (u >= 0 && uc_reg_write(m->uc, u, &v) == UC_ERR_OK) ? 0 : -1;
}

static int ea(struct machine *m, const x86_op_mem *mem, uint32_t *out)
{
    if (mem->segment == X86_REG_FS || mem->segment == X86_REG_GS)
        return -1;
    uint32_t a = (uint32_t)mem->disp, v;
    if (mem->base != X86_REG_INVALID) {
        if (get_reg(m, mem->base, &v) < 0)
            return -1;
        a += v;
    }
    if (mem->index != X86_REG_INVALID) {
        if (get_reg(m, mem->index, &v) < 0)
            return -1;
        a += v * (uint32_t)mem->scale;
    }
    *out = a;
    return 0;
}

static int put(struct machine *m, uint32_t lin, const void *p, uint32_t n, bool user)
{
    uint32_t fl, pf;
    return machine_write_lin(m, lin, p, n, user, &fl, &pf) == 0 ? 0 : -1;
}

static int get(struct machine *m, uint32_t lin, void *p, uint32_t n, bool user)
{
    uint32_t fl, pf;
    return machine_read_lin(m, lin, p, n, user, &fl, &pf) == 0 ? 0 : -1;
}

/* STOS / MOVS, with or without REP, direction forward. */
static int string_op(struct machine *m, const cs_insn *in, bool user, struct emul_write *w)
{
    const cs_x86 *x = &in->detail->x86;
    uint32_t eflags = 0, edi = 0, esi = 0, ecx = 1, eax = 0;
    uc_reg_read(m->uc, UC_X86_REG_EFLAGS, &eflags);
    if (eflags & (1u << 10))
        return -1;
    bool rep = x->prefix[0] == X86_PREFIX_REP;
    unsigned sz = x->operands[0].size;
    if (sz != 1 && sz != 2 && sz != 4)
        return -1;
    uc_reg_read(m->uc, UC_X86_REG_EDI, &edi);
    uc_reg_read(m->uc, UC_X86_REG_ESI, &esi);
    uc_reg_read(m->uc, UC_X86_REG_EAX, &eax);
    if (rep)
        uc_reg_read(m->uc, UC_X86_REG_ECX, &ecx);
    bool movs = in->id == X86_INS_MOVSB || in->id == X86_INS_MOVSW || in->id == X86_INS_MOVSD;
    w->lin = edi;
    w->len = ecx * sz;
    for (uint32_t i = 0; i < ecx; i++) {
        uint32_t v = eax;
        if (movs && get(m, esi + i * sz, &v, sz, user) < 0)
            return -1;
        if (put(m, edi + i * sz, &v, sz, user) < 0)
            return -1;
    }
    edi += ecx * sz;
    esi += ecx * sz;
    uc_reg_write(m->uc, UC_X86_REG_EDI, &edi);
    if (movs)
        uc_reg_write(m->uc, UC_X86_REG_ESI, &esi);
    if (rep) {
        uint32_t zero = 0;
        uc_reg_write(m->uc, UC_X86_REG_ECX, &zero);
    }
    return 0;
}

int emul_decode(struct machine *m, uint32_t eip, cs_insn *in)
{
    uint8_t code[16];
    bool user = machine_cpl(m) == 3;
    /* The instruction may end before a page the guest has not mapped: fall back to fewer bytes. */
    uint32_t n = sizeof code;
    while (n > 0 && machine_read_code(m, eip, code, n, user) != 0)
        n = n > 1 ? (n + 1) / 2 : 0;
    if (n == 0)
        return -1;
    if (dcache_get(m->dcache, eip, code, n, in))
        return 0;
    const uint8_t *p = code;
    size_t left = n;
    uint64_t pc = eip;
    if (!cs_disasm_iter(m->cs, &p, &left, &pc, in))
        return -1;
    dcache_put(m->dcache, eip, code, in);
    return 0;
}

void emul_put_str(char *q, size_t len, const char *str)
{
    size_t n = strnlen(str, len - 1);
    memcpy(q, str, n);
    q[n] = '\0';
}

int emul_write(struct machine *m, uint32_t eip, struct emul_write *w)
{
    memset(w, 0, sizeof *w);
    bool user = machine_cpl(m) == 3;
    cs_insn *in = cs_malloc(m->cs);
    int r = -1;
    if (emul_decode(m, eip, in) < 0)
        goto out;
    emul_put_str(w->mnemonic, sizeof w->mnemonic, in->mnemonic);
    const cs_x86 *x = &in->detail->x86;
    switch (in->id) {
    case X86_INS_MOV:
    case X86_INS_XCHG: {
        int mi = -1, oi = -1;
        for (int k = 0; k < x->op_count; k++) {
            if (x->operands[k].type == X86_OP_MEM)
                mi = k;
            else
                oi = k;
        }
        if (mi < 0 || oi < 0 || (in->id == X86_INS_MOV && mi != 0))
            goto out;
        unsigned sz = x->operands[mi].size;
        uint32_t a, v = 0, old = 0;
        if (ea(m, &x->operands[mi].mem, &a) < 0)
            goto out;
        if (x->operands[oi].type == X86_OP_IMM)
            v = (uint32_t)x->operands[oi].imm;
        else if (get_reg(m, x->operands[oi].reg, &v) < 0)
            goto out;
        if (in->id == X86_INS_XCHG && get(m, a, &old, sz, user) < 0)
            goto out;
        if (put(m, a, &v, sz, user) < 0)
            goto out;
        if (in->id == X86_INS_XCHG)
            set_reg(m, x->operands[oi].reg, old);
        w->lin = a;
        w->len = sz;
        r = 0;
        break;
    }
    case X86_INS_OR: case X86_INS_AND: case X86_INS_XOR: {
        /* Logic ops on memory: CF = OF = 0, SF/ZF/PF from the result (AF is undefined). */
        if (x->op_count != 2 || x->operands[0].type != X86_OP_MEM)
            goto out;
        unsigned sz = x->operands[0].size;
        uint32_t a, v = 0, src = 0, eflags = 0;
        if (ea(m, &x->operands[0].mem, &a) < 0 || get(m, a, &v, sz, user) < 0)
            goto out;
        if (x->operands[1].type == X86_OP_IMM)
            src = (uint32_t)x->operands[1].imm;
        else if (get_reg(m, x->operands[1].reg, &src) < 0)
            goto out;
        v = in->id == X86_INS_OR ? (v | src) : in->id == X86_INS_AND ? (v & src) : (v ^ src);
        uint32_t mask = sz == 4 ? 0xffffffffu : (1u << (8 * sz)) - 1;
        v &= mask;
        if (put(m, a, &v, sz, user) < 0)
            goto out;
        uc_reg_read(m->uc, UC_X86_REG_EFLAGS, &eflags);
        eflags &= ~((1u << 0) | (1u << 2) | (1u << 6) | (1u << 7) | (1u << 11));
        if (v == 0)
            eflags |= 1u << 6;
        if (v & (1u << (8 * sz - 1)))
            eflags |= 1u << 7;
        if (!(__builtin_popcount(v & 0xff) & 1))
            eflags |= 1u << 2;
        uc_reg_write(m->uc, UC_X86_REG_EFLAGS, &eflags);
        w->lin = a;
        w->len = sz;
        r = 0;
        break;
    }
    case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD:
    case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD:
        r = string_op(m, in, user, w);
        break;
    default:
        break;
    }
    if (r == 0) {
        uint32_t next = eip + in->size;
        machine_set_eip(m, next);
    }
out:
    cs_free(in, 1);
    return r;
}

int emul_mem_operand(struct machine *m, uint32_t eip, uint32_t *lin)
{
    cs_insn *in = cs_malloc(m->cs);
    int r = -1;
    if (emul_decode(m, eip, in) == 0) {
        const cs_x86 *x = &in->detail->x86;
        for (int k = 0; k < x->op_count && r < 0; k++)
            if (x->operands[k].type == X86_OP_MEM)
                r = ea(m, &x->operands[k].mem, lin);
    }
    cs_free(in, 1);
    return r;
}
