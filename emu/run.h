/*
 * run.h — the CPU hooks and the exit loop (emu/run.c). Only the machine uses it: modes never call
 * into the loop, they return an action (emu/modes/mode.h) that the loop carries out.
 */
#ifndef VMLAB_RUN_H
#define VMLAB_RUN_H

#include <stdint.h>

struct machine;

/* Install the block, interrupt, I/O and invalid-instruction hooks on m's engine. 0 or -1. */
int run_install_hooks(struct machine *m, char *errbuf, unsigned errlen);

#endif
