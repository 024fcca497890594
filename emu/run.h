/*
 * run.h — the CPU hooks and the exit loop (emu/run.c).
 */
#ifndef VMLAB_RUN_H
#define VMLAB_RUN_H

struct machine;

/* Install the block, interrupt, I/O and invalid-instruction hooks on m's engine. 0 or -1. */
int run_install_hooks(struct machine *m, char *errbuf, unsigned errlen);

#endif
