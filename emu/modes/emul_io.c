/*
 * emul_io.c — a trapped guest IN/OUT performed by the monitor (see emul_io.h).
 */
#include "emu/modes/emul_io.h"

#include <stdio.h>
#include <string.h>

#include "emu/funnel.h"
#include "emu/machine.h"
#include "emu/modes/emul_write.h"

int emul_io_decode(struct machine *m, const cs_insn *in, uint16_t *port, unsigned *size,
                   bool *is_in)
{
    if (in->id != X86_INS_IN && in->id != X86_INS_OUT)
        return -1;
    const cs_x86 *x = &in->detail->x86;
    *is_in = in->id == X86_INS_IN;
    *port = 0;
    *size = 0;
    for (int k = 0; k < x->op_count; k++) {
        const cs_x86_op *op = &x->operands[k];
        if (op->type == X86_OP_IMM) {
            *port = (uint16_t)(op->imm & 0xff);
        } else if (op->type == X86_OP_REG && op->reg == X86_REG_DX && x->op_count == 2 &&
                   (*is_in ? k == 1 : k == 0)) {
            uint32_t edx = 0;
            uc_reg_read(m->uc, UC_X86_REG_EDX, &edx);
            *port = (uint16_t)edx;
        } else if (op->type == X86_OP_REG) {
            *size = op->size;
        }
    }
    return *size == 1 || *size == 2 || *size == 4 ? 0 : -1;
}

void emul_io_cause(uint16_t port, unsigned size, bool is_in, char *q, unsigned len)
{
    /* "in1 0x80", as snprintf's "%s%u 0x%x" would give, without the formatter: this runs at every
     * trapped port access (7% of trap's `in` in a profile). */
    char b[16];
    unsigned n = 0;
    for (const char *p = is_in ? "in" : "out"; *p; p++)
        b[n++] = *p;
    b[n++] = (char)('0' + size % 10);
    b[n++] = ' ';
    b[n++] = '0';
    b[n++] = 'x';
    int shift = 12;
    while (shift > 0 && !((port >> shift) & 0xf))
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        b[n++] = "0123456789abcdef"[(port >> shift) & 0xf];
    b[n] = '\0';
    if (len > 0)
        emul_put_str(q, len, b);
}

int emul_io(struct machine *m, const cs_insn *in, uint32_t eip, int cpl)
{
    uint16_t port;
    unsigned size;
    bool is_in;
    if (emul_io_decode(m, in, &port, &size, &is_in) < 0)
        return -1;
    int areg = size == 1 ? UC_X86_REG_AL : size == 2 ? UC_X86_REG_AX : UC_X86_REG_EAX;
    uint32_t v = 0;
    if (!is_in)
        uc_reg_read(m->uc, areg, &v);
    funnel_port(m, port, (int)size, is_in, &v, eip, cpl);
    if (is_in)
        uc_reg_write(m->uc, areg, &v);
    return 0;
}
