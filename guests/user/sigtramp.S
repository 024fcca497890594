/*
 * sigtramp.S — the signal trampoline the user library registers with every handler
 * (ulib.h's sigaction, as glibc registers sa_restorer): a handler returns here, with the stack
 * pointer just above its return address in the signal frame (signal_abi.h), and the sigreturn
 * system call puts back the context the signal interrupted. It never returns.
 */
#include "syscall_nr.h"

    .text
    .globl sig_restorer
sig_restorer:
    movl $SYS_SIGRETURN, %eax
    int $SYSCALL_VECTOR
