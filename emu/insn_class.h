/*
 * insn_class.h — classify decoded x86 instructions into the classes of insn_class.def.
 *
 * Decoding is done with Capstone, once per translated block (emu/blocks.c), never per execution.
 */
#ifndef VMLAB_INSN_CLASS_H
#define VMLAB_INSN_CLASS_H

#include <capstone/capstone.h>
#include <stdbool.h>

enum insn_class {
#define INSN_CLASS(id, name, kind) IC_##id,
#include "emu/insn_class.def"
#undef INSN_CLASS
    IC_COUNT,
    IC_NONE = 255
};

enum insn_kind { IK_PRIV, IK_IOPL, IK_SENS, IK_OTHER };

extern const char *const insn_class_name[IC_COUNT];
extern const enum insn_kind insn_class_kind[IC_COUNT];

/* Class of a Capstone-decoded instruction (decoded with CS_OPT_DETAIL on), IC_NONE if it is an
 * ordinary instruction. For mov to/from CR, *cr receives the CR number (else -1). */
enum insn_class insn_classify(const cs_insn *insn, int *cr);

/* Classes whose every execution the machine itself hooks whatever the mode (emu/run.c): port
 * I/O (IOPL and bitmap checks), INVLPG and CR3 writes (TLB epochs), RDTSC (deterministic time),
 * undecodable bytes (#UD), and what the machine's processor model answers itself
 * (emu/cpu_model.h): CPUID, RDMSR, WRMSR, SYSENTER, SYSEXIT. cr is insn_classify's control
 * register. */
static inline bool insn_class_hooked(enum insn_class c, int cr)
{
    switch (c) {
    case IC_IN: case IC_OUT: case IC_INS: case IC_OUTS: case IC_INVLPG: case IC_RDTSC:
    case IC_UNDEFINED: case IC_CPUID: case IC_RDMSR: case IC_WRMSR: case IC_SYSENTER:
    case IC_SYSEXIT:
        return true;
    case IC_MOV_TO_CR:
        return cr == 0 || cr == 3 || cr == 4;   /* the TLB model's flushes (emu/tlb.h) */
    default:
        return false;
    }
}

/* True for control transfers that end a basic block (jumps, calls, returns, int, iret, hlt...). */
int insn_ends_block(const cs_insn *insn);

#endif
