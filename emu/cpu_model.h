/*
 * cpu_model.h — the processor the guest sees: what CPUID reports, which MSRs exist, and the
 * fast system call instructions (SYSENTER/SYSEXIT), implemented once for every mode.
 *
 * Unicorn's own CPU (QEMU's "qemu64" model) advertises features vmlab does not implement: PAE and
 * NX (vmlab's MMUs are 2-level), a local APIC, MTRRs, machine checks, PAT, 36-bit PSE, SYSCALL,
 * long mode. A guest that believes CPUID uses them and breaks in ways that have nothing to do with
 * virtualization. So the machine answers CPUID itself, from one table (cpu_model.c) that starts
 * from Unicorn's model and hides each feature vmlab does not handle, with the reason. No guest
 * ever needs `clearcpuid=`.
 *
 * MSRs: the machine owns RDMSR/WRMSR at CPL 0 (Unicorn handles none). The one list in cpu_model.c
 * is every MSR that exists: the time-stamp counter (guest time, so that it is deterministic), the
 * three SYSENTER MSRs and the performance counters, which exist but do not count. Any
 * other index raises #GP(0), as the SDM specifies for a reserved or unimplemented MSR
 * (Intel SDM vol. 2B, RDMSR/WRMSR: "#GP(0) if the value in ECX specifies a reserved or
 * unimplemented MSR address").
 *
 * SYSENTER/SYSEXIT: Unicorn 2.1.1 turns SYSENTER into a no-op (emu/UNICORN.md), so the machine
 * performs both instructions as the SDM describes them (vol. 2B, SYSENTER and SYSEXIT): flat
 * segments derived from IA32_SYSENTER_CS, ESP/EIP from the MSRs (SYSENTER) or ECX/EDX
 * (SYSEXIT).
 *
 * The state here is the CPU's architectural state as the guest sees it. Under ring compression
 * and translation the guest's ring 0 runs in ring 1: `ring` arguments say where the guest's
 * ring 0 really runs, so selectors and the CPL come out right for the mode.
 */
#ifndef VMLAB_CPU_MODEL_H
#define VMLAB_CPU_MODEL_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

#define MSR_TSC 0x10u
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u

/* The MSR state the machine keeps (cpu_model.c's list says which MSR is which field). */
struct cpu_msrs {
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    int64_t tsc_offset;          /* TSC = guest time + offset (WRMSR to the TSC moves it) */
};

/* The four CPUID registers for leaf eax, subleaf ecx. */
void cpu_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* RDMSR/WRMSR of `index` as the CPU would at CPL 0. 0 on success, -1 when the CPU raises #GP(0)
 * (unknown MSR, or a value the MSR refuses). `now` is the guest time the instruction executes at
 * (for the TSC). */
int cpu_rdmsr(struct machine *m, uint32_t index, uint64_t now, uint64_t *value);
int cpu_wrmsr(struct machine *m, uint32_t index, uint64_t now, uint64_t value);

/* The TSC the guest reads at guest time `now` (RDTSC and RDMSR 0x10 agree). */
uint64_t cpu_tsc(const struct machine *m, uint64_t now);

/* Perform SYSENTER (at any CPL; the caller has checked it is not virtual-8086 mode) entering the
 * guest's ring 0, which really runs in ring `ring` (0, or 1 under ring compression): CS and SS
 * flat from IA32_SYSENTER_CS (RPL/DPL `ring`), ESP and EIP from the MSRs, VM, IF and RF cleared.
 * Returns 0, or -1 when the CPU raises #GP(0) (IA32_SYSENTER_CS is null). */
int cpu_sysenter(struct machine *m, int ring);

/* Perform SYSEXIT to ring 3: CS = IA32_SYSENTER_CS + 16, SS = + 24 (RPL 3, flat), ESP = ECX,
 * EIP = EDX. The caller has checked that the guest's CPL is 0. Returns 0, or -1 when the CPU
 * raises #GP(0) (IA32_SYSENTER_CS is null). */
int cpu_sysexit(struct machine *m);

#endif
