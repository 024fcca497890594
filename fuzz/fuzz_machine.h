/*
 * fuzz_machine.h — the quiet machine the guest-running fuzz targets (fuzz_loader.c,
 * fuzz_hypercall.c) build for every input: guest console and vmlab's diagnostics thrown away,
 * `ram` bytes of RAM, a guest-time limit, the given guest command line. Header-only: each target
 * is one executable.
 */
#ifndef VMLAB_FUZZ_MACHINE_H
#define VMLAB_FUZZ_MACHINE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "emu/machine.h"

static void fuzz_quiet_sink(void *opaque, uint8_t b)
{
    (void)opaque;
    (void)b;
}

/* A new machine for one input; aborts (a finding) when it cannot be made. */
static inline struct machine *fuzz_machine(const char *who, uint64_t ram, uint64_t max_insns,
                                           const char *cmdline)
{
    static FILE *devnull;
    if (!devnull && !(devnull = fopen("/dev/null", "w")))
        abort();
    struct machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.ram_bytes = ram;
    cfg.max_insns = max_insns;
    cfg.wall_limit = 10;
    cfg.cmdline = cmdline;
    cfg.console = fuzz_quiet_sink;
    cfg.diag = devnull;
    char err[512] = "";
    struct machine *m = machine_create(&cfg, err, sizeof err);
    if (!m) {
        fprintf(stderr, "%s: machine_create: %s\n", who, err);
        abort();
    }
    return m;
}

#endif
