/*
 * entry.S — trap entry and exit, and the kernel-stack switch.
 *
 * Each vector has a stub that pushes an error code (0 when the CPU does not push one) and the
 * vector number, then joins trap_common, which saves the general and segment registers, loads the
 * kernel data segments (a copy of SS) and calls trap(struct trapframe *). trap_return undoes that and leaves
 * through pv_ops.iret (native: the iret instruction). No privileged instruction here.
 *
 *   kernel stack of a process, from the top:
 *     [ss esp]     (only when the trap came from user mode)
 *     eflags cs eip err vector eax ecx edx ebx esp' ebp esi edi ds es fs gs   <- struct trapframe
 *     ...kernel frames...
 *     ret edi esi ebx ebp   <- what switch_stacks saves; a new process's "ret" is trap_return
 */
#include "layout.h"

    .text
.macro STUB vec, name
    .globl \name
\name:
    .if (\vec == 8) || (\vec == 10) || (\vec == 11) || (\vec == 12) || (\vec == 13) || (\vec == 14) || (\vec == 17)
    .else
    pushl $0
    .endif
    pushl $\vec
    jmp trap_common
.endm

.altmacro
.macro STUBN vec
    STUB \vec, vector_\vec
.endm
.set i, 0
.rept 48
    STUBN %i
    .set i, i + 1
.endr
    STUB 0x80, vector_syscall
    STUB 0x81, vector_holes

trap_common:
    pushal
    pushl %ds
    pushl %es
    pushl %fs
    pushl %gs
    movw %ss, %ax                    /* the kernel's data segment, at whatever RPL it runs */
    movw %ax, %ds
    movw %ax, %es
    pushl %esp
    call trap
    addl $4, %esp
    .globl trap_return
trap_return:
    popl %gs
    popl %fs
    popl %es
    popl %ds
    popal
    addl $8, %esp                    /* vector, error code */
    jmp *pv_ops                      /* pv_ops.iret */

/* void switch_stacks(uint32_t *save_esp, uint32_t new_esp) */
    .globl switch_stacks
switch_stacks:
    movl 4(%esp), %eax
    movl 8(%esp), %edx
    pushl %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl %esp, (%eax)
    movl %edx, %esp
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

    .section .rodata
    .align 4
    .globl trap_vectors
trap_vectors:
.macro VEC vec
    .long vector_\vec
.endm
.set i, 0
.rept 48
    VEC %i
    .set i, i + 1
.endr
