/*
 * test_uc_mem_cache.c — the memory-region cache (emu/link/uc_mem_cache.c) is installed in an x86
 * engine, answers the lookups of Unicorn's helper loads, and follows every change of the map.
 *
 * Linked like vmlab (Unicorn's static archive, the link layer and its --wrap options:
 * vmlab_hook_table in cmake/static_engine.cmake); without the archive the tests fail, naming why,
 * and ctest reports them disabled. Each test opens the engine of tests/unit/support_seg_loads.h,
 * whose code loads DS and ES from the GDT SEG_LOAD_ROUNDS times (each load is a helper's read of
 * the descriptor, which asks Unicorn which region holds it) and halts.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "emu/link/uc_fast_ld.h"
#include "emu/link/uc_mem_cache.h"
#include "support_seg_loads.h"
#include "support_uc.h"

static void setup(void)
{
#ifndef VMLAB_HOOK_TABLE
    cr_assert_fail("test_uc_mem_cache is built without Unicorn's static archive: the cache it "
                   "tests is not linked (cmake/static_engine.cmake)");
#endif
    /* Every descriptor load must ask the region lookup: the helper-load fast path, which answers
     * them from the TLB without asking, stands aside. */
    uc_fast_ld_refuse();
    seg_loads_open();
}

TestSuite(uc_mem_cache, .init = setup, .fini = uct_close);

static uc_err run(void)
{
    return uc_emu_start(uc, CODE, 0, 0, 0);
}

Test(uc_mem_cache, is_installed_and_answers_the_descriptor_loads)
{
    cr_assert_eq(run(), UC_ERR_OK);
    cr_assert_eq(nseen, 0);
    uint64_t hits, misses;
    cr_assert_eq(uc_mem_cache_stats(uc, &hits, &misses), 0, "the cache is not installed");
    cr_assert_geq(hits, 2 * SEG_LOAD_ROUNDS - 2, "%llu hits for %d descriptor loads",
                  (unsigned long long)hits, 2 * SEG_LOAD_ROUNDS);
    cr_assert_leq(misses, 4);
}

Test(uc_mem_cache, an_unmapped_page_is_unmapped_at_once)
{
    cr_assert_eq(run(), UC_ERR_OK);
    cr_assert_eq(uc_mem_unmap(uc, GDT, 0x1000), UC_ERR_OK);
    /* Unicorn without the cache: the descriptor read finds no region. A stale answer would read
     * the freed region instead. */
    cr_assert_eq(run(), UC_ERR_READ_UNMAPPED);
}

Test(uc_mem_cache, a_page_mapped_again_is_read_from_its_new_memory)
{
    /* The lookup's answer for the page is "no region" while it is unmapped; once mapped again,
     * a stale answer would refuse the descriptor read. */
    cr_assert_eq(uc_mem_unmap(uc, GDT, 0x1000), UC_ERR_OK);
    cr_assert_eq(run(), UC_ERR_READ_UNMAPPED);
    static uint8_t page[0x1000] __attribute__((aligned(4096)));
    memcpy(page, seg_absent_gdt, sizeof seg_absent_gdt);
    cr_assert_eq(uc_mem_map_ptr(uc, GDT, 0x1000, UC_PROT_ALL, page), UC_ERR_OK);
    wr32(UC_X86_REG_EIP, CODE);
    run();
    cr_assert_eq(nseen, 1, "the segment load did not reach the new memory's absent descriptor");
    cr_assert_eq(seen[0].vector, 11);
    cr_assert_eq(seen[0].error, 0x10);
}
