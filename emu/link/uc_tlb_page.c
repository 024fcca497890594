/*
 * uc_tlb_page.c — single-page flushes of Unicorn's soft TLB (see uc_tlb_page.h).
 *
 * Linked into the vmlab executable with Unicorn's static archive and
 *   -Wl,--wrap=unicorn_fill_tlb_x86_64,--wrap=x86_cpu_tlb_fill_x86_64
 * (cmake/static_engine.cmake, vmlab_hook_table). In the virtual-TLB mode every entry of Unicorn's
 * TLB is made by unicorn_fill_tlb (Unicorn's qemu/softmmu/unicorn_vtlb.c), which calls the
 * UC_HOOK_TLB_FILL callbacks and then sets one 4 KiB page (tlb_set_page with TARGET_PAGE_SIZE);
 * while vmlab lets the CPU walk one instruction itself (UC_TLB_CPU, emu/tlb.c's tlb_fault_rerun),
 * by x86_cpu_tlb_fill (target/i386/excp_helper.c). The first wrapper notes the CPUState the fill
 * is for, so that the callback can learn it (uc_tlb_page_cpu); the second lists the pages
 * (uc_tlb_page_cpu_fills), noted before the walk, which may fault and never return here (a page
 * listed but not entered costs a flush of nothing); both note the MMU index (kernel or user
 * access) the entry is made for. uc_tlb_page_flush then calls QEMU's own tlb_flush_page_by_mmuidx
 * on it, what the guest's INVLPG does for every index (helper_invlpg): the entry and the victim
 * entries for the page in the indexes it was filled for, and the jump-cache entries of code on
 * it and on the page before (a block that starts there may run into it).
 *
 * Flushing every page filled since the TLB was last emptied leaves it as empty as a full flush:
 * each entry and each jump-cache entry (made only after a code fill of its page) belongs to such
 * a page. emu/tlb.c keeps that list and falls back to the full flush when it overflows, when the
 * CPU walked by itself (tlb_fault_rerun) or when these functions are absent. The signatures are
 * Unicorn 2.1.1's; with another release nothing is wrapped usefully: uc_tlb_page_cpu answers
 * NULL and tlb.c flushes whole. The golden counts (every modeled TLB miss of the default suite in
 * every mode) check that the partial flush leaves no entry behind.
 */
#include "emu/link/uc_tlb_page.h"

#include <stddef.h>
#include <unicorn/unicorn.h>

#if UC_API_MAJOR == 2 && UC_API_MINOR == 1 && UC_API_PATCH == 1
#define PAGE_FLUSH 1
#else
#define PAGE_FLUSH 0
#endif

bool __real_unicorn_fill_tlb_x86_64(void *cs, uint64_t address, int size, int rw, int mmu_idx,
                                    bool probe, uintptr_t retaddr);
bool __real_x86_cpu_tlb_fill_x86_64(void *cs, uint64_t address, int size, int rw, int mmu_idx,
                                    bool probe, uintptr_t retaddr);
void tlb_flush_page_by_mmuidx_x86_64(void *cpu, uint64_t addr, uint16_t idxmap);

#define CPU_FILLS 32

static _Thread_local void *filling;
static _Thread_local int filling_idx;
static _Thread_local uint64_t cpu_fill[CPU_FILLS];      /* page | 1 << MMU index */
static _Thread_local unsigned ncpu_fill;

bool __wrap_unicorn_fill_tlb_x86_64(void *cs, uint64_t address, int size, int rw, int mmu_idx,
                                    bool probe, uintptr_t retaddr)
{
    void *outer = filling;
    int outer_idx = filling_idx;
    filling = cs;
    filling_idx = mmu_idx;
    bool ok = __real_unicorn_fill_tlb_x86_64(cs, address, size, rw, mmu_idx, probe, retaddr);
    filling = outer;
    filling_idx = outer_idx;
    return ok;
}

bool __wrap_x86_cpu_tlb_fill_x86_64(void *cs, uint64_t address, int size, int rw, int mmu_idx,
                                    bool probe, uintptr_t retaddr)
{
    if (ncpu_fill < CPU_FILLS)
        cpu_fill[ncpu_fill] = (address & ~(uint64_t)0xfff) | (1u << (mmu_idx & 0x7));
    if (ncpu_fill <= CPU_FILLS)
        ncpu_fill++;
    return __real_x86_cpu_tlb_fill_x86_64(cs, address, size, rw, mmu_idx, probe, retaddr);
}

unsigned uc_tlb_page_cpu_fills(uint64_t *pages, unsigned max)
{
    unsigned n = ncpu_fill;
    for (unsigned i = 0; i < n && i < max && i < CPU_FILLS; i++)
        pages[i] = cpu_fill[i];
    ncpu_fill = 0;
    return PAGE_FLUSH ? n : (unsigned)-1;
}

void *uc_tlb_page_cpu(void)
{
    return PAGE_FLUSH ? filling : NULL;
}

unsigned uc_tlb_page_fill_idx(void)
{
    return (unsigned)filling_idx;
}

void uc_tlb_page_flush(void *cpu, uint64_t vaddr, uint16_t idxmap)
{
    tlb_flush_page_by_mmuidx_x86_64(cpu, vaddr & ~(uint64_t)0xfff, idxmap);
}
