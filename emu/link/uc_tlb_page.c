/*
 * uc_tlb_page.c — single-page flushes of Unicorn's soft TLB, and fills walked in place by the CPU
 * (see uc_tlb_page.h).
 *
 * Linked into the vmlab executable with Unicorn's static archive and
 *   -Wl,--wrap=unicorn_fill_tlb_x86_64,--wrap=x86_cpu_tlb_fill_x86_64,
 *   --wrap=get_page_addr_code_x86_64,--wrap=tb_flush_jmp_cache_x86_64
 * (cmake/static_engine.cmake, vmlab_hook_table; the last two: the jump cache, at the end). In the
 * virtual-TLB mode every entry of Unicorn's TLB is made by unicorn_fill_tlb (Unicorn's
 * qemu/softmmu/unicorn_vtlb.c), which calls the UC_HOOK_TLB_FILL callbacks and then sets one 4 KiB
 * page (tlb_set_page with TARGET_PAGE_SIZE); while vmlab lets the CPU walk one instruction itself
 * (UC_TLB_CPU, emu/tlb.c's tlb_fault_rerun), by x86_cpu_tlb_fill (target/i386/excp_helper.c). The
 * first wrapper notes the CPUState the fill is for, so that the callback can learn it
 * (uc_tlb_page_cpu); the second lists the pages (uc_tlb_page_cpu_fills), noted before the walk,
 * which may fault and never return here (a page listed but not entered costs a flush of nothing);
 * both note the MMU index (kernel or user access) the entry is made for. The first also keeps the
 * fill's arguments, so that a callback about to refuse a fill the guest's tables fault can have
 * x86_cpu_tlb_fill walk it in place (uc_tlb_page_walk_here): the #PF is raised from inside the
 * fill, as the UC_TLB_CPU mode would, and the CPU's run goes on. uc_tlb_page_flush then
 * calls QEMU's own tlb_flush_page_by_mmuidx on it, what the guest's INVLPG does for every index
 * (helper_invlpg): the entry and the victim entries for the page in the indexes it was filled for,
 * and the jump-cache entries of code on it and on the page before (a block that starts there may
 * run into it).
 *
 * Flushing every page filled since the TLB was last emptied leaves it as empty as a full flush:
 * each entry and each jump-cache entry (made only after a code lookup of its page, which reads the
 * page's entry) belongs to such a page. emu/tlb.c keeps that list and falls back to the full flush when it overflows, when the
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

/* The fill in progress on this thread (the last one, after a fill the guest's tables refused:
 * Unicorn then leaves it by a longjmp). */
static _Thread_local struct fill_args {
    void *cs;
    uint64_t address;
    int size, rw, mmu_idx;
    bool probe;
    uintptr_t retaddr;
} filling;
static _Thread_local uint64_t cpu_fill[CPU_FILLS];      /* page | 1 << MMU index */
static _Thread_local unsigned ncpu_fill;

bool __wrap_unicorn_fill_tlb_x86_64(void *cs, uint64_t address, int size, int rw, int mmu_idx,
                                    bool probe, uintptr_t retaddr)
{
    struct fill_args outer = filling;
    filling = (struct fill_args){cs, address, size, rw, mmu_idx, probe, retaddr};
    bool ok = __real_unicorn_fill_tlb_x86_64(cs, address, size, rw, mmu_idx, probe, retaddr);
    filling = outer;
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
    return PAGE_FLUSH ? filling.cs : NULL;
}

unsigned uc_tlb_page_fill_idx(void)
{
    return (unsigned)filling.mmu_idx;
}

#define MMU_USER_IDX 1      /* QEMU 5's x86 MMU indexes: 0 kernel (SMAP), 1 user, 2 kernel */

bool uc_tlb_page_walk_here(bool user)
{
    const struct fill_args a = filling;
    if (!PAGE_FLUSH || !a.cs || a.probe || (a.mmu_idx == MMU_USER_IDX) != user)
        return false;
    return __real_x86_cpu_tlb_fill_x86_64(a.cs, a.address, a.size, a.rw, a.mmu_idx, false,
                                          a.retaddr);
}

void uc_tlb_page_flush(void *cpu, uint64_t vaddr, uint16_t idxmap)
{
    tlb_flush_page_by_mmuidx_x86_64(cpu, vaddr & ~(uint64_t)0xfff, idxmap);
}

/* ---- the jump cache: cleared only where code was looked up ----------------------------------
 *
 * A page flush (QEMU's tlb_flush_page_by_mmuidx) ends with tb_flush_jmp_cache, which clears the
 * jump-cache window (64 entries) of the page and of the page before it (a block starting there
 * may run into it): 7.7% of trap pgfault, whose VM exits flush about seven pages each, most of
 * them data. An entry for a block at pc enters the jump cache only after get_page_addr_code(pc)
 * (tb_htable_lookup and tb_gen_code call it first), so a page no code lookup touched since its
 * window was last cleared has no entry to clear. `code` remembers the pages looked up, in a
 * direct-mapped table whose slot, once two pages met in it, answers "maybe" for every page
 * hashing there (never a wrong "no"); a clear forgets the two pages, an emptying of the whole
 * jump cache (uc_tlb_page_flushed_whole) forgets all. When neither page was looked up the clear
 * is skipped: it would have emptied only entries of other pages sharing its windows, and those
 * stay valid (their pages were not flushed: a flush of theirs clears their own windows). The
 * golden counts check that no code-TLB lookup is lost (every modeled itlb miss of the default
 * suite in every mode). */
#define CODE_SLOTS 1024u

struct code_slot {
    uint64_t page;
    uint32_t gen;       /* valid while gen == code_gen */
    bool shared;        /* two pages met here: every page of this slot may have entries */
};

static _Thread_local struct code_slot code[CODE_SLOTS];
static _Thread_local uint32_t code_gen = 1;

static struct code_slot *code_slot(uint64_t page)
{
    uint64_t h = (page >> 12) * 0x9e3779b97f4a7c15ull;
    return &code[(h >> 40) & (CODE_SLOTS - 1)];
}

static bool maybe_code(uint64_t page)
{
    const struct code_slot *c = code_slot(page);
    return c->gen == code_gen && (c->shared || c->page == page);
}

static void forget_code(uint64_t page)
{
    struct code_slot *c = code_slot(page);
    if (c->gen == code_gen && !c->shared && c->page == page)
        c->gen = 0;
}

uint64_t __real_get_page_addr_code_x86_64(void *env, uint64_t addr);
uint64_t __wrap_get_page_addr_code_x86_64(void *env, uint64_t addr)
{
    uint64_t page = addr & ~(uint64_t)0xfff;
    struct code_slot *c = code_slot(page);
    if (c->gen != code_gen)
        *c = (struct code_slot){.page = page, .gen = code_gen};
    else if (c->page != page)
        c->shared = true;
    return __real_get_page_addr_code_x86_64(env, addr);
}

void __real_tb_flush_jmp_cache_x86_64(void *cpu, uint64_t addr);
void __wrap_tb_flush_jmp_cache_x86_64(void *cpu, uint64_t addr)
{
    uint64_t page = addr & ~(uint64_t)0xfff, before = page - 0x1000;
    if (!maybe_code(page) && !maybe_code(before))
        return;
    __real_tb_flush_jmp_cache_x86_64(cpu, addr);
    forget_code(page);
    forget_code(before);
}

void uc_tlb_page_flushed_whole(void)
{
    if (++code_gen == 0)        /* 0 marks a forgotten slot */
        code_gen = 1;
}
