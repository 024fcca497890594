/*
 * bt_emul.c — the guest instructions bt's monitor carries out itself when the TC leaves for it.
 *
 * Two families are not worth trap-classic's handlers: indirect branches (ret, jmp/call through a
 * register or memory), which the monitor performs on the guest state so it can look the target
 * up in the translation cache, and lar/lsl/verr/verw, which must answer as the guest's ring 0
 * would see its own GDT (the monitor's GDT holds ring-1 copies the translated code runs on). Both
 * work on guest-visible state only (registers, guest linear memory through the guest's paging,
 * the guest's descriptors from classic_core) and never touch the TC.
 */
#include "emu/modes/bt_emul.h"

#include "emu/desc.h"
#include "emu/modes/classic_core.h"
#include "emu/modes/emul_write.h"

static uint32_t reg(struct machine *m, int r)
{
    uint32_t v = 0;
    uc_reg_read(m->uc, r, &v);
    return v;
}

static void set_eip(struct machine *m, uint32_t eip) { machine_set_eip(m, eip); }

/* A 32-bit register or memory operand of the guest instruction at eip (16-bit if size 2). */
static int operand(struct machine *m, const cs_x86_op *op, uint32_t eip, uint32_t *v)
{
    uint32_t fl, pf;
    *v = 0;
    if (op->type == X86_OP_REG) {
        int u = classic_gpr(op->reg);
        if (u < 0)
            return -1;
        *v = reg(m, u);
        return 0;
    }
    uint32_t lin;
    if (op->type != X86_OP_MEM || emul_mem_operand(m, eip, &lin) < 0)
        return -1;
    return machine_read_lin(m, lin, v, op->size == 2 ? 2 : 4, false, &fl, &pf) == 0 ? 0 : -1;
}

/* The target of the indirect branch `in` at eip; with commit, the guest state is left as after
 * it except EIP. 0 or -1 (nothing changed). */
static int indirect(struct machine *m, const cs_insn *in, uint32_t eip, uint32_t *target,
                    bool commit)
{
    const cs_x86 *x = &in->detail->x86;
    uint32_t esp = reg(m, UC_X86_REG_ESP), fl, pf;
    switch (in->id) {
    case X86_INS_RET: {
        uint32_t pop = 4 + (x->op_count == 1 ? (uint32_t)x->operands[0].imm : 0);
        if (machine_read_lin(m, esp, target, 4, false, &fl, &pf) != 0)
            return -1;
        esp += pop;
        break;
    }
    case X86_INS_JMP: case X86_INS_CALL:
        if (x->op_count != 1 || x->operands[0].size != 4 ||
            operand(m, &x->operands[0], eip, target) < 0)
            return -1;
        if (in->id == X86_INS_CALL) {
            uint32_t next = eip + in->size;
            esp -= 4;
            if (!commit)
                return machine_probe_lin(m, esp, 4, true) ? 0 : -1;
            if (machine_write_lin(m, esp, &next, 4, false, &fl, &pf) != 0)
                return -1;
        }
        break;
    default:
        return -1;
    }
    if (commit)
        uc_reg_write(m->uc, UC_X86_REG_ESP, &esp);
    return 0;
}

int bt_emul_indirect(struct machine *m, const cs_insn *in, uint32_t eip, uint32_t *target)
{
    return indirect(m, in, eip, target, true);
}

int bt_emul_indirect_target(struct machine *m, const cs_insn *in, uint32_t eip,
                            uint32_t *target)
{
    return indirect(m, in, eip, target, false);
}

static void set_zf(struct machine *m, bool z)
{
    uint32_t f = reg(m, UC_X86_REG_EFLAGS);
    f = z ? f | 0x40u : f & ~0x40u;
    uc_reg_write(m->uc, UC_X86_REG_EFLAGS, &f);
}

int bt_emul_descriptor_query(struct machine *m, const cs_insn *in, uint32_t eip)
{
    const cs_x86 *x = &in->detail->x86;
    bool verify = in->id == X86_INS_VERR || in->id == X86_INS_VERW;
    if (!verify && in->id != X86_INS_LAR && in->id != X86_INS_LSL)
        return -1;
    const cs_x86_op *src = &x->operands[verify ? 0 : 1];
    uint32_t sel;
    struct desc d;
    if (operand(m, src, eip, &sel) < 0)
        return -1;
    int dst = verify ? 0 : classic_gpr(x->operands[0].reg);
    if (dst < 0)
        return -1;
    bool ok = (sel & 0xfffcu) && classic_guest_desc(m, (uint16_t)sel, &d, false) == 0;
    uint32_t v = 0;
    /* System types LAR accepts (SDM: LDT, TSSs, call and task gates) and LSL (no gates). */
    const uint16_t lar_sys = 0x1a3eu, lsl_sys = 0x0a0eu;
    switch (in->id) {
    case X86_INS_LAR: ok = ok && (d.s || (lar_sys >> d.type & 1)); v = d.hi & 0x00f0ff00u; break;
    case X86_INS_LSL: ok = ok && (d.s || (lsl_sys >> d.type & 1)); v = d.limit; break;
    case X86_INS_VERR: ok = ok && d.s && (!(d.type & 8) || (d.type & 2)); break;
    default: ok = ok && desc_is_writable_data(&d); break;
    }
    set_zf(m, ok);
    if (!verify && ok)
        uc_reg_write(m->uc, dst, &v);
    set_eip(m, eip + in->size);
    machine_retire_emulated(m, -1);
    return 0;
}

