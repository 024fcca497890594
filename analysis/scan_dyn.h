/*
 * scan_dyn.h — the dynamic half of `vmlab scan` (issue 19): the sites of a guest kernel that
 * executed in recorded runs (`vmlab run --trace full`), by function and source line, with counts
 * and modeled cycles per mode. Where the static view (scan_elf.h) says what a port must touch,
 * this says which of those places cost something, so a port can start with the costliest.
 */
#ifndef VMLAB_SCAN_DYN_H
#define VMLAB_SCAN_DYN_H

#include <stdbool.h>

/* Views of the dynamic scan (bits of scan_dyn_opts.views). */
enum { SD_SITES = 1, SD_FUNCS = 2, SD_PTWRITES = 4 };

struct scan_dyn_opts {
    const char *db;         /* the trace database, only read */
    const char *runs;       /* comma-separated run ids, NULL: every ok run with event rows */
    const char *guest;      /* ELF to map EIPs with, NULL: each run's own guest file */
    const char *model;      /* cost model name or file, NULL: the default (as `vmlab stat`) */
    const char *events;     /* comma-separated event classes, "all", or NULL: exit, callout,
                             * montrap, hvtrap, hole, hypercall, shadow */
    int phase;              /* -1: every phase */
    unsigned views;         /* SD_* bits */
    bool csv, json;
};

/* Runs the dynamic view: opens o->db read-only (an_open_existing), prices every event row of the
 * selected runs with the model through the view priced_count (an event costs its counter row's
 * cycles / count, so a run's event rows add up to what `vmlab stat` prices), maps each EIP to
 * function and file:line with scan_lookup() on the run's guest ELF (or o->guest), and prints the
 * selected views on stdout. Returns the exit status: 0, 2 for a selection or database error, 3
 * when a guest file cannot be scanned. Errors are one line on stderr. */
int scan_dynamic(const struct scan_dyn_opts *o);

#endif
