/*
 * test_uc_fast_ld.c — the helper-load fast path (emu/link/uc_fast_ld.c) answers the loads of
 * Unicorn's x86 helpers from the soft TLB once it has checked its reading of it, reads what the
 * page holds now, and stands aside for a read hook.
 *
 * Linked like vmlab (Unicorn's static archive, the link layer and its --wrap options:
 * vmlab_hook_table in cmake/static_engine.cmake); without the archive the tests fail, naming why,
 * and ctest reports them disabled. Each test opens the engine of tests/unit/support_seg_loads.h,
 * whose code loads DS and ES from the GDT SEG_LOAD_ROUNDS times (each load reads the descriptor
 * with two 4-byte helper loads) and halts. The fast path's state is the process's; Criterion
 * runs each test in a process of its own.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "emu/link/uc_fast_ld.h"
#include "support_seg_loads.h"
#include "support_uc.h"

#define LOADS (2 * 2 * SEG_LOAD_ROUNDS)   /* two segment loads a round, two reads each */

static void setup(void)
{
#ifndef VMLAB_HOOK_TABLE
    cr_assert_fail("test_uc_fast_ld is built without Unicorn's static archive: the fast path it "
                   "tests is not linked (cmake/static_engine.cmake)");
#endif
    seg_loads_open();
}

TestSuite(uc_fast_ld, .init = setup, .fini = uct_close);

static uc_err run(void)
{
    wr32(UC_X86_REG_EIP, CODE);
    return uc_emu_start(uc, CODE, 0, 0, 0);
}

Test(uc_fast_ld, answers_the_descriptor_loads_after_checking)
{
    cr_assert_eq(run(), UC_ERR_OK);
    cr_assert_eq(nseen, 0);
    struct uc_fast_ld_stats st;
    uc_fast_ld_stats(&st);
    cr_assert_eq(st.state, 1, "the fast path is not answering (state %d)", st.state);
    /* The first 32 checked loads go to Unicorn, so do TLB misses: a handful. */
    cr_assert_geq(st.answered, LOADS - 48, "%llu of %d descriptor loads answered",
                  (unsigned long long)st.answered, LOADS);
    cr_assert_geq(st.answered + st.passed, LOADS);
}

Test(uc_fast_ld, reads_what_the_page_holds_now)
{
    cr_assert_eq(run(), UC_ERR_OK);
    struct uc_fast_ld_stats st;
    uc_fast_ld_stats(&st);
    cr_assert_eq(st.state, 1);
    /* The descriptor changed in place: the next load must see it absent. */
    cr_assert_eq(uc_mem_write(uc, GDT, seg_absent_gdt, sizeof seg_absent_gdt), UC_ERR_OK);
    run();
    cr_assert_eq(nseen, 1, "the segment load did not see the descriptor written in place");
    cr_assert_eq(seen[0].vector, 11);
    cr_assert_eq(seen[0].error, 0x10);
}

/* One exception a test: the hook stops the CPU without delivering, so a second contributory
 * fault would be escalated to #DF. */
Test(uc_fast_ld, reads_the_memory_a_page_is_mapped_to_now)
{
    cr_assert_eq(run(), UC_ERR_OK);
    struct uc_fast_ld_stats st;
    uc_fast_ld_stats(&st);
    cr_assert_eq(st.state, 1);
    /* The page replaced by other memory (Unicorn flushes its TLB): the old memory's present
     * descriptor must not be read from a host address the fast path kept. */
    cr_assert_eq(uc_mem_unmap(uc, GDT, 0x1000), UC_ERR_OK);
    static uint8_t page[0x1000] __attribute__((aligned(4096)));
    memcpy(page, seg_absent_gdt, sizeof seg_absent_gdt);
    cr_assert_eq(uc_mem_map_ptr(uc, GDT, 0x1000, UC_PROT_ALL, page), UC_ERR_OK);
    run();
    cr_assert_eq(nseen, 1, "the segment load did not reach the new memory's absent descriptor");
    cr_assert_eq(seen[0].vector, 11);
    cr_assert_eq(seen[0].error, 0x10);
}

static uint64_t gdt_reads;

static void count_read(uc_engine *e, uc_mem_type type, uint64_t addr, int size, int64_t value,
                       void *data)
{
    (void)e, (void)type, (void)size, (void)value, (void)data;
    if (addr >= GDT && addr < GDT + 0x1000)
        gdt_reads++;
}

Test(uc_fast_ld, stands_aside_for_a_read_hook)
{
    cr_assert_eq(run(), UC_ERR_OK);
    struct uc_fast_ld_stats st;
    uc_fast_ld_stats(&st);
    cr_assert_eq(st.state, 1);
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_MEM_READ, (void *)count_read, NULL, 1, 0), UC_ERR_OK);
    cr_assert_eq(run(), UC_ERR_OK);
    uc_fast_ld_stats(&st);
    cr_assert_eq(st.state, -1, "a read hook did not end the fast path");
    cr_assert_geq(gdt_reads, LOADS, "the hook saw %llu of the %d descriptor reads",
                  (unsigned long long)gdt_reads, LOADS);
}

Test(uc_fast_ld, stands_aside_for_an_unreadable_region)
{
    cr_assert_eq(run(), UC_ERR_OK);
    cr_assert_eq(uc_mem_protect(uc, 0, GDT, UC_PROT_WRITE), UC_ERR_OK);
    struct uc_fast_ld_stats st;
    uc_fast_ld_stats(&st);
    cr_assert_eq(st.state, -1, "a region without UC_PROT_READ did not end the fast path");
}
