/*
 * fault_probe.h — a probe that runs one faulting instruction in user mode and a fixup where the
 * program's signal handler resumes it, for workloads whose operation is a fault delivered to a
 * handler (divzero, protfault). One macro makes both, so every probe has the same shape:
 *
 *     int NAME_probe(PARAMS);      runs BODY (which may read a first argument at 4(%esp));
 *                                  returns 0 if BODY did not fault
 *     void NAME_fixup(void);       where the handler sends the interrupted context (its saved
 *                                  EIP), stack as at the fault: returns 1 to the probe's caller
 *
 * BODY is a string of assembler lines; EAX, ECX and EDX are free. Expand FAULT_PROBE in one
 * file of a program only: it defines the two global symbols; FAULT_PROBE_DECL declares them for
 * the program's other files.
 */
#ifndef GUEST_FAULT_PROBE_H
#define GUEST_FAULT_PROBE_H

#define FAULT_PROBE_DECL(NAME, PARAMS)                                           \
    int NAME##_probe(PARAMS);                                                    \
    void NAME##_fixup(void)

#define FAULT_PROBE(NAME, PARAMS, BODY)                                          \
    FAULT_PROBE_DECL(NAME, PARAMS);                                              \
    __asm__(".text\n"                                                            \
            ".globl " #NAME "_probe, " #NAME "_fixup\n"                          \
            #NAME "_probe:\n"                                                    \
            BODY                                                                 \
            "    xorl %eax, %eax\n"                                              \
            "    ret\n"                                                          \
            #NAME "_fixup:\n"                                                    \
            "    movl $1, %eax\n"                                                \
            "    ret\n")

#endif
