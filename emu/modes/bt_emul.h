/*
 * bt_emul.h — instructions bt's monitor performs itself on the guest state: indirect branches
 * (so their target can be looked up in the translation cache) and the descriptor queries
 * lar/lsl/verr/verw (answered from the guest's own GDT as its ring 0 would see it).
 *
 * Both take the Capstone decoding (with detail) of the guest instruction at guest EIP `eip`
 * and work on the guest's registers and linear memory only; neither touches the TC.
 */
#ifndef VMLAB_BT_EMUL_H
#define VMLAB_BT_EMUL_H

#include <capstone/capstone.h>
#include <stdint.h>

#include "emu/machine.h"

/* ret [imm], jmp/call through a 32-bit register or memory operand at guest eip: leaves the guest
 * state as after the instruction except EIP (ESP popped or the return address pushed) and puts
 * the branch target in *target. Returns 0, or -1 when `in` is not one of these or an operand
 * cannot be read; then nothing has changed. */
int bt_emul_indirect(struct machine *m, const cs_insn *in, uint32_t eip, uint32_t *target);

/* The same without changing anything: 0 with the target bt_emul_indirect would reach and take,
 * or -1 when it would fail. */
int bt_emul_indirect_target(struct machine *m, const cs_insn *in, uint32_t eip,
                            uint32_t *target);

/* lar, lsl, verr, verw at guest eip, answered from the guest's GDT: sets ZF, the destination
 * register (lar, lsl) and EIP past the instruction, and retires it. Returns 0, or -1 when `in`
 * is not one of these or its operand cannot be read. */
int bt_emul_descriptor_query(struct machine *m, const cs_insn *in, uint32_t eip);

#endif
