/*
 * holes_asm.S — the far-transfer probes of the holes workload (holes.c). Each returns the code
 * selector it observed after the transfer: the CS pushed by a far call, the CS after a far jump
 * and after a far return, and (through vector T_HOLES) the CS saved by `int n`. A far return to
 * the ring-0 selector faults (#GP) when the kernel really runs in ring 1 (a PV kernel): the probe
 * then reports 0xffffffff (holes_fixup).
 */
#include "layout.h"

    .text
    .globl hole_call_far
hole_call_far:
    lcall $SEL_KCODE, $far_target
    ret
far_target:
    movl 4(%esp), %eax               /* the caller's CS, pushed by the far call */
    andl $0xFFFF, %eax
    lret

    .globl hole_jmp_far
hole_jmp_far:
    ljmp $SEL_KCODE, $1f
1:  movw %cs, %ax
    movzwl %ax, %eax
    ret

    .globl hole_ret_far, hole_ret_far_lret, hole_ret_far_faulted
hole_ret_far:
    pushl $SEL_KCODE
    pushl $1f
hole_ret_far_lret:
    lret
1:  movw %cs, %ax
    movzwl %ax, %eax
    ret
hole_ret_far_faulted:                /* holes_fixup() continues here when the lret faulted */
    addl $8, %esp
    movl $0xFFFFFFFF, %eax
    ret

    .globl hole_int_n
hole_int_n:
    int $0x81
    ret
