/*
 * run.h — the CPU hooks and the exit loop (emu/run.c).
 */
#ifndef VMLAB_RUN_H
#define VMLAB_RUN_H

#include <stdint.h>

struct machine;
struct block;
struct site;

/* Install the block, interrupt, I/O and invalid-instruction hooks on m's engine. 0 or -1. */
int run_install_hooks(struct machine *m, char *errbuf, unsigned errlen);

/* From a hook: raise exception `vector` (error code `error` where it has one) at `eip`, as a
 * fault of the instruction there; the CPU stops and the exit loop hands it to the mode. */
void run_raise_fault(struct machine *m, uint8_t vector, uint32_t error, uint32_t eip);

/* The guest executed HLT (EIP is past it): let guest time pass until an interrupt can be taken,
 * or end the run if nothing can wake the guest. Called from the exit loop or a mode's handler. */
void run_halt(struct machine *m);

/* A monitor emulated one faulting guest instruction of class `cls` (enum insn_class, or -1):
 * count it as retired (the fault had taken it back). */
void machine_retire_emulated(struct machine *m, int cls);

/* From a site hook: the instruction of site s at eip was emulated; resume after it. */
void run_skip_site(struct machine *m, const struct block *b, const struct site *s, uint32_t eip);

#endif
