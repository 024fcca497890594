/*
 * trap.h — the trap frame built by entry.S, and the trap dispatcher.
 */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include "types.h"

struct trapframe {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_kernel, ebx, edx, ecx, eax;   /* pushal */
    uint32_t vector, err;
    uint32_t eip, cs, eflags;
    uint32_t esp, ss;               /* only valid for traps from user mode */
};

static inline bool tf_from_user(const struct trapframe *tf) { return (tf->cs & 3) == 3; }

void trap(struct trapframe *tf);
void syscall_dispatch(struct trapframe *tf);

/* holes.c: vector T_HOLES records the CS it interrupted. */
void holes_int_handler(struct trapframe *tf);
/* holes.c: a probe's expected kernel-mode fault (the far return of a ring-1 kernel) is resumed
 * past the probe; returns false for any other fault. */
bool holes_fixup(struct trapframe *tf);

/* bench.c: the pgfault nanobenchmark's faults; returns true if it was one and is now fixed. */
bool bench_page_fault(uint32_t addr);

#endif
