/*
 * uc_fast_ld.c — the loads Unicorn's x86 helpers make, answered from the soft TLB (see
 * uc_fast_ld.h).
 *
 * Every syscall of a guest costs QEMU's helpers a dozen or more loads: iret pops EIP, CS, EFLAGS,
 * ESP and SS and reads two descriptors, and each segment load (the kernel entry's push/pop of DS,
 * ES, FS, GS) reads one. They go through cpu_ld*_mmuidx_ra -> load_helper, which Unicorn 2.1.1
 * made a 2 KB function: besides QEMU's TLB lookup it asks which memory region holds the page
 * (uc->memory_mapping), walks four hook lists and checks the region's permissions. Measured on
 * native syscall n=600000: load_helper 15.9% of the run, cpu_ldl_mmuidx_ra and the region lookup
 * another 5%, where QEMU's own load on a TLB hit is a compare and a load.
 *
 * Linked into the vmlab executable with Unicorn's static archive and
 *   -Wl,--wrap=cpu_ldub_mmuidx_ra_x86_64,--wrap=cpu_lduw_mmuidx_ra_x86_64,
 *   --wrap=cpu_ldl_mmuidx_ra_x86_64,--wrap=cpu_ldq_mmuidx_ra_x86_64
 * (cmake/static_engine.cmake, vmlab_hook_table): the helpers (seg_helper.c) call these across
 * objects, so the wrappers see each call. A wrapper looks the address up in the TLB itself, as
 * the code QEMU generates for a guest load does: the table of the access's MMU index, the entry
 * of the page, and a hit only when the entry's read tag is the page with no flag bit (no MMIO,
 * no watchpoint, not invalid) and the load stays within the page. A hit loads from the host
 * address the entry holds; anything else calls Unicorn's function, which handles it as before
 * (victim TLB, fill, fault, MMIO, page crossing). A hit does not fill, so the TLB model sees the
 * same fills with or without this file; it skips only work that has no effect in vmlab: the
 * region lookup (a page in the TLB is mapped: unmapping flushes it), the read hooks (vmlab adds
 * none; uc_hook_table.c's wrapper of uc_hook_add calls uc_fast_ld_refuse if one is added) and
 * the region's permissions (all of vmlab's regions are readable; uc_mem_cache.c's wrappers call
 * uc_fast_ld_refuse for one that is not).
 *
 * Where the TLB is, relative to the CPU state the helpers pass (env), is QEMU 5's layout as
 * Unicorn 2.1.1 builds it for x86 (three MMU indexes; CPUTLBDescFast {mask, table} of index i at
 * env - 0x40 + 16 i; entries of 64 bytes with the read tag first and the host addend at 0x20),
 * read off load_helper's code. It is not trusted blindly: the first CHECKS loads go to Unicorn,
 * and after each the wrapper reads the entry it would have used — through process_vm_readv, so
 * that a wrong reading cannot fault — and compares the bytes at its host address with what
 * Unicorn returned. Only after CHECKS agreeing answers and no disagreeing one does it answer
 * itself; one disagreement refuses for the life of the process. Another Unicorn release: nothing
 * is answered. tests/unit/test_uc_fast_ld.c checks that it answers, follows a remapped page, and
 * stands aside for a read hook.
 */
#define _GNU_SOURCE              /* process_vm_readv */
#include "emu/link/uc_fast_ld.h"

#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <unicorn/unicorn.h>

#if UC_API_MAJOR == 2 && UC_API_MINOR == 1 && UC_API_PATCH == 1
#define FAST_LD 1
#else
#define FAST_LD 0
#endif

#define MMU_MODES 3                 /* NB_MMU_MODES of target/i386 */
#define DESC_FROM_ENV (-0x40)       /* &env_tlb(env)->f[0] - env */
#define ENTRY_BITS 6                /* CPU_TLB_ENTRY_BITS: 64-byte CPUTLBEntry */
#define ADDEND_AT 0x20              /* offsetof(CPUTLBEntry, addend); addr_read is at 0 */
#define PAGE 0x1000u
#define CHECKS 32u

struct fast_desc {                  /* QEMU's CPUTLBDescFast */
    uintptr_t mask;                 /* (entries - 1) << ENTRY_BITS */
    const uint8_t *table;
};

static int state = FAST_LD ? 0 : -1;
static unsigned agreed;
static uint64_t answered, passed;

void uc_fast_ld_refuse(void)
{
    state = -1;
}

void uc_fast_ld_stats(struct uc_fast_ld_stats *st)
{
    st->state = state;
    st->answered = answered;
    st->passed = passed;
}

/* The entry that would hold addr's page in the table f describes. */
static const uint8_t *entry_of(const struct fast_desc *f, uint64_t addr)
{
    return f->table + (((addr >> 12) & (f->mask >> ENTRY_BITS)) << ENTRY_BITS);
}

/* The host address of [addr, addr + size) on a plain TLB hit, else NULL. */
static inline const uint8_t *hit(void *env, uint64_t addr, int idx, unsigned size)
{
    if ((unsigned)idx >= MMU_MODES || (addr & (PAGE - 1)) + size > PAGE)
        return NULL;
    const struct fast_desc *f = (const struct fast_desc *)((char *)env + DESC_FROM_ENV) + idx;
    const uint8_t *e = entry_of(f, addr);
    uint64_t tag;
    memcpy(&tag, e, sizeof tag);
    if (tag != (addr & ~(uint64_t)(PAGE - 1)))
        return NULL;
    uintptr_t addend;
    memcpy(&addend, e + ADDEND_AT, sizeof addend);
    return (const uint8_t *)(uintptr_t)(addr + addend);
}

/* Reads n bytes at p into out without faulting on a wrong pointer. */
static int peek(const void *p, void *out, size_t n)
{
    struct iovec local = {out, n}, remote = {(void *)p, n};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -1;
}

/* Unicorn answered *value (size bytes) for addr: does the TLB, read this file's way, agree? */
static void check(void *env, uint64_t addr, int idx, const void *value, unsigned size)
{
    if ((unsigned)idx >= MMU_MODES || (addr & (PAGE - 1)) + size > PAGE)
        return;
    struct fast_desc f;
    if (peek((char *)env + DESC_FROM_ENV + idx * (int)sizeof f, &f, sizeof f))
        goto refuse;
    uintptr_t entries = (f.mask >> ENTRY_BITS) + 1;
    if (!f.table || (f.mask & ((1u << ENTRY_BITS) - 1)) || (entries & (entries - 1)) ||
        entries > (1u << 22))
        goto refuse;
    uint8_t e[ADDEND_AT + sizeof(uintptr_t)];
    if (peek(entry_of(&f, addr), e, sizeof e))
        goto refuse;
    uint64_t tag;
    uintptr_t addend;
    memcpy(&tag, e, sizeof tag);
    memcpy(&addend, e + ADDEND_AT, sizeof addend);
    if (tag != (addr & ~(uint64_t)(PAGE - 1)))
        return;                     /* not a plain entry (MMIO, flags, victim): no verdict */
    uint8_t bytes[8];
    if (peek((const void *)(uintptr_t)(addr + addend), bytes, size) || memcmp(bytes, value, size))
        goto refuse;
    if (++agreed >= CHECKS)
        state = 1;
    return;
refuse:
    state = -1;
}

#define FAST_LOAD(name, type, size)                                                               \
    type __real_##name(void *env, uint64_t addr, int mmu_idx, uintptr_t ra);                      \
    type __wrap_##name(void *env, uint64_t addr, int mmu_idx, uintptr_t ra);                      \
    type __wrap_##name(void *env, uint64_t addr, int mmu_idx, uintptr_t ra)                       \
    {                                                                                             \
        if (state > 0) {                                                                          \
            const uint8_t *h = hit(env, addr, mmu_idx, size);                                     \
            if (h) {                                                                              \
                uint8_t v[8] = {0};                                                               \
                memcpy(v, h, size);                                                               \
                type out;                                                                         \
                memcpy(&out, v, sizeof out);                                                      \
                answered++;                                                                       \
                return out;                                                                       \
            }                                                                                     \
        }                                                                                         \
        passed++;                                                                                 \
        type out = __real_##name(env, addr, mmu_idx, ra);                                         \
        if (state == 0) {                                                                         \
            uint8_t v[8];                                                                         \
            memcpy(v, &out, sizeof out);                                                          \
            check(env, addr, mmu_idx, v, size);                                                   \
        }                                                                                         \
        return out;                                                                               \
    }

FAST_LOAD(cpu_ldub_mmuidx_ra_x86_64, uint32_t, 1)
FAST_LOAD(cpu_lduw_mmuidx_ra_x86_64, uint32_t, 2)
FAST_LOAD(cpu_ldl_mmuidx_ra_x86_64, uint32_t, 4)
FAST_LOAD(cpu_ldq_mmuidx_ra_x86_64, uint64_t, 8)
