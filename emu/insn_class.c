/*
 * insn_class.c — map Capstone's instruction ids (and, for mov/push/pop, operands) to the classes
 * of insn_class.def. Mov to/from control and debug registers and segment-register moves are all
 * X86_INS_MOV/PUSH/POP to Capstone; the register operand decides.
 */
#include "emu/insn_class.h"

const char *const insn_class_name[IC_COUNT] = {
#define INSN_CLASS(id, name, kind) [IC_##id] = name,
#include "emu/insn_class.def"
#undef INSN_CLASS
};

const enum insn_kind insn_class_kind[IC_COUNT] = {
#define INSN_CLASS(id, name, kind) [IC_##id] = IK_##kind,
#include "emu/insn_class.def"
#undef INSN_CLASS
};

static int is_seg(x86_reg r)
{
    return r == X86_REG_CS || r == X86_REG_DS || r == X86_REG_ES || r == X86_REG_FS ||
           r == X86_REG_GS || r == X86_REG_SS;
}

static int cr_num(x86_reg r)
{
    switch (r) {
    case X86_REG_CR0: return 0;
    case X86_REG_CR2: return 2;
    case X86_REG_CR3: return 3;
    case X86_REG_CR4: return 4;
    default:
        return (r >= X86_REG_CR0 && r <= X86_REG_CR15) ? (int)(r - X86_REG_CR0) : -1;
    }
}

static int is_dr(x86_reg r) { return r >= X86_REG_DR0 && r <= X86_REG_DR15; }

static enum insn_class classify_mov(const cs_x86 *x, int *cr)
{
    if (x->op_count != 2)
        return IC_NONE;
    const cs_x86_op *dst = &x->operands[0], *src = &x->operands[1];
    if (dst->type == X86_OP_REG && cr_num(dst->reg) >= 0) {
        *cr = cr_num(dst->reg);
        return IC_MOV_TO_CR;
    }
    if (src->type == X86_OP_REG && cr_num(src->reg) >= 0) {
        *cr = cr_num(src->reg);
        return IC_MOV_FROM_CR;
    }
    if ((dst->type == X86_OP_REG && is_dr(dst->reg)) || (src->type == X86_OP_REG && is_dr(src->reg)))
        return IC_MOV_DR;
    if (dst->type == X86_OP_REG && is_seg(dst->reg))
        return IC_MOV_TO_SEG;
    if (src->type == X86_OP_REG && is_seg(src->reg))
        return IC_MOV_FROM_SEG;
    return IC_NONE;
}

enum insn_class insn_classify(const cs_insn *insn, int *cr)
{
    *cr = -1;
    const cs_x86 *x = insn->detail ? &insn->detail->x86 : NULL;
    switch (insn->id) {
    case X86_INS_HLT: return IC_HLT;
    case X86_INS_LGDT: return IC_LGDT;
    case X86_INS_LIDT: return IC_LIDT;
    case X86_INS_LLDT: return IC_LLDT;
    case X86_INS_LTR: return IC_LTR;
    case X86_INS_INVLPG: return IC_INVLPG;
    case X86_INS_WBINVD: return IC_WBINVD;
    case X86_INS_INVD: return IC_INVD;
    case X86_INS_CLTS: return IC_CLTS;
    case X86_INS_LMSW: return IC_LMSW;
    case X86_INS_RDMSR: return IC_RDMSR;
    case X86_INS_WRMSR: return IC_WRMSR;
    case X86_INS_CLI: return IC_CLI;
    case X86_INS_STI: return IC_STI;
    case X86_INS_IN: return IC_IN;
    case X86_INS_OUT: return IC_OUT;
    case X86_INS_INSB: case X86_INS_INSW: case X86_INS_INSD: return IC_INS;
    case X86_INS_OUTSB: case X86_INS_OUTSW: case X86_INS_OUTSD: return IC_OUTS;
    case X86_INS_SGDT: return IC_SGDT;
    case X86_INS_SIDT: return IC_SIDT;
    case X86_INS_SLDT: return IC_SLDT;
    case X86_INS_SMSW: return IC_SMSW;
    case X86_INS_STR: return IC_STR;
    case X86_INS_PUSHF: case X86_INS_PUSHFD: return IC_PUSHF;
    case X86_INS_POPF: case X86_INS_POPFD: return IC_POPF;
    case X86_INS_LAR: return IC_LAR;
    case X86_INS_LSL: return IC_LSL;
    case X86_INS_VERR: return IC_VERR;
    case X86_INS_VERW: return IC_VERW;
    case X86_INS_LCALL: return IC_FAR_CALL;
    case X86_INS_LJMP: return IC_FAR_JMP;
    case X86_INS_RETF: case X86_INS_RETFQ: return IC_FAR_RET;
    case X86_INS_INT: return IC_INT_N;
    case X86_INS_INT3: return IC_INT3;
    case X86_INS_INTO: return IC_INTO;
    case X86_INS_IRET: case X86_INS_IRETD: return IC_IRET;
    case X86_INS_CPUID: return IC_CPUID;
    case X86_INS_RDTSC: return IC_RDTSC;
    case X86_INS_RDPMC: return IC_RDPMC;
    case X86_INS_UD2: return IC_UD2;
    case X86_INS_SYSENTER: return IC_SYSENTER;
    case X86_INS_SYSEXIT: return IC_SYSEXIT;
    case X86_INS_MOV:
        return x ? classify_mov(x, cr) : IC_NONE;
    case X86_INS_PUSH:
        return (x && x->op_count == 1 && x->operands[0].type == X86_OP_REG &&
                is_seg(x->operands[0].reg)) ? IC_PUSH_SEG : IC_NONE;
    case X86_INS_POP:
        return (x && x->op_count == 1 && x->operands[0].type == X86_OP_REG &&
                is_seg(x->operands[0].reg)) ? IC_POP_SEG : IC_NONE;
    default:
        return IC_NONE;
    }
}

int insn_ends_block(const cs_insn *insn)
{
    for (int i = 0; insn->detail && i < insn->detail->groups_count; i++) {
        switch (insn->detail->groups[i]) {
        case CS_GRP_JUMP: case CS_GRP_CALL: case CS_GRP_RET: case CS_GRP_INT: case CS_GRP_IRET:
            return 1;
        default:
            break;
        }
    }
    return insn->id == X86_INS_HLT;
}
