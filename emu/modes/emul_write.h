/*
 * emul_write.h — perform, on the monitor's side, a guest instruction's write to memory.
 *
 * When the guest writes one of its own page tables, the shadow MMU has made the page read-only
 * and the write faults; the monitor must then do what the instruction would have done, so that it
 * can see the old and new entries and update its shadows. This file emulates the instructions a
 * kernel writes page tables with: MOV (register or immediate source, 1/2/4 bytes), XCHG with a
 * register, OR / AND / XOR into memory (with their flags), and STOS / MOVS with or without REP
 * (the forward direction). Memory is accessed
 * through the guest's own page tables (machine_read_lin / machine_write_lin). Anything else is
 * refused: the caller ends the run with a clear message rather than guess.
 */
#ifndef VMLAB_EMUL_WRITE_H
#define VMLAB_EMUL_WRITE_H

#include <capstone/capstone.h>
#include <stddef.h>
#include <stdint.h>

struct machine;

struct emul_write {
    uint32_t lin;            /* first linear byte written */
    uint32_t len;            /* bytes written */
    char mnemonic[16];
};

/* Emulate the instruction at guest linear `eip`: memory written, registers updated, EIP past the
 * instruction. 0 on success; -1 (nothing changed) if the instruction is not one of the above or
 * its operands cannot be read. */
int emul_write(struct machine *m, uint32_t eip, struct emul_write *w);

/* Decode the guest instruction at linear `eip` (the guest's view of memory) into `in`, allocated
 * by the caller with cs_malloc on m->cs. 0, or -1 if it cannot be read or decoded. */
int emul_decode(struct machine *m, uint32_t eip, cs_insn *in);

/* q = str, cut to len - 1 bytes (len > 0): what snprintf(q, len, "%s", str) gives, without the
 * formatter, for the qualifiers and mnemonics a monitor writes at every trap. */
void emul_put_str(char *q, size_t len, const char *str);

/* The linear address of the memory operand of the instruction at `eip` (e.g. INVLPG's). 0 or -1. */
int emul_mem_operand(struct machine *m, uint32_t eip, uint32_t *lin);

#endif
