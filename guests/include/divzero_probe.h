/*
 * divzero_probe.h — the divzero workload's probe, one definition for both guests: vmlab's own
 * kernel's user space (guests/user/wl_nano.c) and the Linux init (guests/linux/init.c), so that
 * the instruction that faults and the way back are the same code on both by construction.
 *
 * divzero_probe() divides by zero in user mode and returns 0 if the divide did not fault. The
 * kernel delivers SIGFPE; the program's handler (the own guest's and Linux's alike) moves the
 * saved EIP to divzero_fixup and returns through sigreturn, which resumes there, stack as at the
 * fault, and divzero_fixup returns 1 to the probe's caller (fault_probe.h).
 *
 * Include it from one file of a program only: it defines the two global symbols.
 */
#ifndef GUEST_DIVZERO_PROBE_H
#define GUEST_DIVZERO_PROBE_H

#include "fault_probe.h"

FAULT_PROBE(divzero, void,
            "    xorl %edx, %edx\n"
            "    movl $1, %eax\n"
            "    xorl %ecx, %ecx\n"
            "    divl %ecx\n");

#endif
