/*
 * kstat.h — the kernel's own count of its signal work (guests/kernel/signal.c keeps it; SYS_KSTAT
 * copies it out), as vmstat.h counts page-table work: a workload reads it before and after its
 * measured region and prints the difference, so a test can check that an operation delivered
 * exactly the signals its definition says. Every field only grows.
 */
#ifndef GUEST_KSTAT_H
#define GUEST_KSTAT_H

#include "types.h"

struct kstat {
    uint32_t signals;       /* signals delivered to a handler (a frame built) */
    uint32_t sigreturns;    /* handlers returned through sigreturn */
    uint32_t sigkills;      /* processes ended by a signal's default action or a fatal fault */
};

#endif
