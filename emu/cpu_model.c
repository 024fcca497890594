/*
 * cpu_model.c — vmlab's processor model: the CPUID table, the MSR list, SYSENTER/SYSEXIT (see
 * cpu_model.h).
 *
 * CPUID starts from what Unicorn 2.1.1's default CPU ("qemu64": AuthenticAMD, family 6 model 6
 * stepping 3, "QEMU Virtual CPU version 2.5+") reports, measured leaf by leaf, and clears every
 * feature vmlab does not implement. Each cleared bit says why. The same model is what
 * `qemu-system-i386 -cpu` is given in the Linux console test (tests/kernel/linux_boot.sh), so
 * that QEMU stays the oracle for native behaviour.
 */
#include "emu/cpu_model.h"

#include <stddef.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "emu/machine.h"
#include "emu/modes/mode.h"

/* CPUID.1:EDX and CPUID.80000001h:EDX bits (Intel SDM vol. 2A, CPUID; AMD APM vol. 3, E.3). */
#define F_PAE (1u << 6)       /* 3-level paging: vmlab's shadow and PV MMUs are 2-level */
#define F_MCE (1u << 7)       /* machine-check exception: no MCi MSRs */
#define F_APIC (1u << 9)      /* local APIC: the board has the 8259 PIC only */
#define F_SYSCALL (1u << 11)  /* (80000001h) SYSCALL/SYSRET: not implemented, SYSENTER is */
#define F_MTRR (1u << 12)     /* memory-type range registers: no MTRR MSRs */
#define F_MCA (1u << 14)      /* machine-check architecture: no MCG MSRs */
#define F_PAT (1u << 16)      /* page attribute table: no IA32_PAT */
#define F_PSE36 (1u << 17)    /* 36-bit page-size extension: the walker is 32-bit */
#define F_NX (1u << 20)       /* (80000001h) no-execute: needs PAE */
#define F_LM (1u << 29)       /* (80000001h) long mode: an x86-32 machine */
/* CPUID.1:ECX and CPUID.80000001h:ECX */
#define F_CX16 (1u << 13)     /* CMPXCHG16B: a 64-bit-mode instruction */
#define F_HYPERVISOR (1u << 31) /* "running under a hypervisor": native mode is bare metal, and
                                 * the monitors do not announce themselves (as in the papers) */
#define F_SVM (1u << 2)       /* (80000001h) AMD-V: no nested virtualization */

#define HIDE_EDX_1 (F_PAE | F_MCE | F_APIC | F_MTRR | F_MCA | F_PAT | F_PSE36)
#define HIDE_EDX_X1 (HIDE_EDX_1 | F_SYSCALL | F_NX | F_LM)

struct leaf {
    uint32_t leaf;
    uint32_t r[4];           /* EAX, EBX, ECX, EDX */
};

/* Unicorn's qemu64 values, measured on 2.1.1, with the hidden bits cleared. Leaves not listed
 * (7, 0xa, 0xd within the basic range; 0x80000007; anything above the maximum) read as zero. */
static const struct leaf leaves[] = {
    {0x00000000, {0x0000000d, 0x68747541, 0x444d4163, 0x69746e65}},   /* "AuthenticAMD" */
    {0x00000001, {0x00000663, 0x00000800, 0x80002001u & ~(F_CX16 | F_HYPERVISOR),
                  0x078bfbfdu & ~HIDE_EDX_1}},
    {0x00000002, {0x00000001, 0x00000000, 0x00000000, 0x002c307d}},
    {0x00000004, {0x00000121, 0x01c0003f, 0x0000003f, 0x00000001}},
    {0x80000000, {0x8000000a, 0x68747541, 0x444d4163, 0x69746e65}},
    {0x80000001, {0x00000663, 0x00000000, 0x00000005u & ~F_SVM, 0x2193fbfdu & ~HIDE_EDX_X1}},
    {0x80000002, {0x554d4551, 0x72695620, 0x6c617574, 0x55504320}},   /* "QEMU Virtual CPU " */
    {0x80000003, {0x72657620, 0x6e6f6973, 0x352e3220, 0x0000002b}},   /* "version 2.5+" */
    {0x80000005, {0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140}},
    {0x80000006, {0x00000000, 0x42004200, 0x02008140, 0x00000000}},
    {0x80000008, {0x00003028, 0x00000000, 0x00000000, 0x00000000}},
};

void cpu_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    (void)subleaf;   /* leaf 4's subleaves all read as Unicorn's subleaf 0 does: one cache */
    memset(out, 0, 4 * sizeof *out);
    for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++)
        if (leaves[i].leaf == leaf) {
            memcpy(out, leaves[i].r, sizeof leaves[i].r);
            return;
        }
}

/* ---- MSRs ---------------------------------------------------------------------------------- */

/* What an MSR holds, and so what RDMSR/WRMSR do with it. */
enum msr_kind {
    MK_TSC,       /* guest time + tsc_offset; a write moves the offset */
    MK_FIELD32,   /* a 32-bit field of struct cpu_msrs, written through `mask` */
    MK_DEAD,      /* exists, does nothing: reads 0, writes are dropped */
};

struct msr_def {
    uint32_t first, count;      /* the indices first .. first + count - 1 */
    const char *name;
    enum msr_kind kind;
    size_t field;               /* MK_FIELD32: offsetof(struct cpu_msrs, ...) */
    uint32_t mask;              /* MK_FIELD32: the bits a write keeps */
};

#define FIELD(f) MK_FIELD32, offsetof(struct cpu_msrs, f)

/* Every MSR vmlab's CPU has, the one list: any other index is #GP(0). Booting Linux 6.1
 * (scripts/linux-guest.sh) touches these and, through rdmsr_safe, 0x8b and 0xc0011029. */
static const struct msr_def msrs[] = {
    /* Guest time, so that it is deterministic and agrees with RDTSC. */
    {MSR_TSC, 1, "IA32_TIME_STAMP_COUNTER", MK_TSC, 0, 0},
    /* Unicorn's SYSENTER does nothing, so the machine performs it and keeps these. They are 32
     * bits wide on a processor without long mode: the high half of EDX:EAX is ignored (SDM
     * vol. 4, table 2-2, "IA32_SYSENTER_CS[15:0]"; ESP/EIP are 32-bit linear addresses here). */
    {MSR_SYSENTER_CS, 1, "IA32_SYSENTER_CS", FIELD(sysenter_cs), 0xffff},
    {MSR_SYSENTER_ESP, 1, "IA32_SYSENTER_ESP", FIELD(sysenter_esp), 0xffffffffu},
    {MSR_SYSENTER_EIP, 1, "IA32_SYSENTER_EIP", FIELD(sysenter_eip), 0xffffffffu},
    /* The family-6 AMD processor's four performance counters and their event selects (AMD
     * Athlon, "PerfEvtSel0-3, PerfCtr0-3", C001_0000h-C001_0007h): they exist, but vmlab does not
     * count hardware events, so they read 0 and writes are dropped — what QEMU's TCG does too.
     * Linux's check then reports "Broken PMU hardware" and uses software events, as under QEMU. */
    {0xc0010000u, 4, "K7_EVNTSEL0-3", MK_DEAD, 0, 0},
    {0xc0010004u, 4, "K7_PERFCTR0-3", MK_DEAD, 0, 0},
};

static const struct msr_def *find_msr(uint32_t index)
{
    for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++)
        if (index - msrs[i].first < msrs[i].count)
            return &msrs[i];
    return NULL;
}

static uint32_t *msr_field(struct machine *m, const struct msr_def *d)
{
    return (uint32_t *)((char *)&m->msr + d->field);
}

uint64_t cpu_tsc(const struct machine *m, uint64_t now)
{
    return now + (uint64_t)m->msr.tsc_offset;
}

int cpu_rdmsr(struct machine *m, uint32_t index, uint64_t now, uint64_t *value)
{
    const struct msr_def *d = find_msr(index);
    if (!d)
        return -1;
    switch (d->kind) {
    case MK_TSC: *value = cpu_tsc(m, now); break;
    case MK_FIELD32: *value = *msr_field(m, d); break;
    case MK_DEAD: *value = 0; break;
    }
    return 0;
}

int cpu_wrmsr(struct machine *m, uint32_t index, uint64_t now, uint64_t value)
{
    const struct msr_def *d = find_msr(index);
    if (!d)
        return -1;
    switch (d->kind) {
    case MK_TSC: m->msr.tsc_offset = (int64_t)(value - now); break;
    case MK_FIELD32: *msr_field(m, d) = (uint32_t)value & d->mask; break;
    case MK_DEAD: break;
    }
    return 0;
}

/* ---- SYSENTER / SYSEXIT ------------------------------------------------------------------- */

/* Descriptor flags as QEMU caches them (the descriptor's high dword): G, D/B, P, S, type. */
#define SEGF_G (1u << 23)
#define SEGF_B (1u << 22)
#define SEGF_P (1u << 15)
#define SEGF_S (1u << 12)
#define SEGF_CODE_RX_A (0xbu << 8)    /* code, readable, accessed */
#define SEGF_DATA_RW_A (0x3u << 8)    /* data, writable, accessed */
#define SEGF_DPL(r) ((uint32_t)(r) << 13)

static struct uq_seg flat(uint16_t sel, int dpl, bool code)
{
    return (struct uq_seg){sel, 0, 0xffffffffu,
                           SEGF_G | SEGF_B | SEGF_P | SEGF_S | SEGF_DPL(dpl) |
                               (code ? SEGF_CODE_RX_A : SEGF_DATA_RW_A)};
}

#define EFLAGS_IF (1u << 9)
#define EFLAGS_RF (1u << 16)
#define EFLAGS_VM (1u << 17)

int cpu_sysenter(struct machine *m, int ring)
{
    uint16_t cs = (uint16_t)(m->msr.sysenter_cs & 0xfffc);
    if (cs == 0)
        return -1;
    /* SDM vol. 2B, SYSENTER: CS.Selector = IA32_SYSENTER_CS[15:0] AND FFFCH, flat 4 GiB code,
     * CPL 0; SS.Selector = CS.Selector + 8, flat data; ESP/EIP from the MSRs; VM, IF, RF cleared.
     * The descriptors are not read from the GDT. */
    struct uq_seg c = flat((uint16_t)(cs | ring), ring, true);
    struct uq_seg s = flat((uint16_t)((cs + 8) | ring), ring, false);
    /* A monitor running the guest's ring 0 in ring 1 runs each guest kernel selector on its own
     * ring-1 copy (mode op real_seg): enter on those when the guest's GDT has the descriptors,
     * so that the selectors the guest kernel then sees and reloads are the monitor's as after
     * any other entry. */
    struct uq_seg rc, rs;
    if (ring != 0 && m->mode && m->mode->real_seg && m->mode->real_seg(m, cs, &rc) == 0 &&
        m->mode->real_seg(m, (uint16_t)(cs + 8), &rs) == 0) {
        c = rc;
        s = rs;
    }
    uint32_t eflags = 0;
    uc_reg_read(m->uc, UC_X86_REG_EFLAGS, &eflags);
    eflags &= ~(EFLAGS_VM | EFLAGS_IF | EFLAGS_RF);
    if (uq_load_cs_ss(&m->quirks, m->uc, &c, &s, ring, NULL) < 0)
        return -1;
    uc_reg_write(m->uc, UC_X86_REG_EFLAGS, &eflags);
    uc_reg_write(m->uc, UC_X86_REG_ESP, &m->msr.sysenter_esp);
    uc_reg_write(m->uc, UC_X86_REG_EIP, &m->msr.sysenter_eip);
    return 0;
}

int cpu_sysexit(struct machine *m)
{
    uint16_t base = (uint16_t)(m->msr.sysenter_cs & 0xfffc);
    if (base == 0)
        return -1;
    /* SDM vol. 2B, SYSEXIT (32-bit operand size): CS = IA32_SYSENTER_CS + 16, SS = + 24, both
     * with RPL 3 and flat; CPL 3; ESP = ECX, EIP = EDX. */
    struct uq_seg c = flat((uint16_t)((base + 16) | 3), 3, true);
    struct uq_seg s = flat((uint16_t)((base + 24) | 3), 3, false);
    uint32_t ecx = 0, edx = 0;
    uc_reg_read(m->uc, UC_X86_REG_ECX, &ecx);
    uc_reg_read(m->uc, UC_X86_REG_EDX, &edx);
    if (uq_load_cs_ss(&m->quirks, m->uc, &c, &s, 3, NULL) < 0)
        return -1;
    uc_reg_write(m->uc, UC_X86_REG_ESP, &ecx);
    uc_reg_write(m->uc, UC_X86_REG_EIP, &edx);
    return 0;
}
