/*
 * divzero_probe.h — the divzero workload's probe, one definition for both guests: vmlab's own
 * kernel's user space (guests/user/wl_nano.c) and the Linux init (guests/linux/init.c), so that
 * the instruction that faults and the way back are the same code on both by construction.
 *
 * divzero_probe() divides by zero in user mode and returns 0 if the divide did not fault. The
 * kernel (the own guest's SYS_SIGFPE handler, or Linux's SIGFPE handler, which moves the saved
 * EIP) continues at divzero_fixup, stack as at the fault, which returns 1 to the probe's caller.
 *
 * Include it from one file of a program only: it defines the two global symbols.
 */
#ifndef GUEST_DIVZERO_PROBE_H
#define GUEST_DIVZERO_PROBE_H

int divzero_probe(void);
void divzero_fixup(void);
__asm__(".text\n"
        ".globl divzero_probe, divzero_fixup\n"
        "divzero_probe:\n"          /* returns 0 if the divide did not fault */
        "    xorl %edx, %edx\n"
        "    movl $1, %eax\n"
        "    xorl %ecx, %ecx\n"
        "    divl %ecx\n"
        "    xorl %eax, %eax\n"
        "    ret\n"
        "divzero_fixup:\n"          /* the kernel continues here, stack as at the fault */
        "    movl $1, %eax\n"
        "    ret\n");

#endif
