/*
 * test_uc_tlb_page.c — a fill the guest's tables refuse, walked in place by the CPU
 * (uc_tlb_page_walk_here, emu/link/uc_tlb_page.c).
 *
 * Linked like vmlab (Unicorn's static archive, the link layer and its --wrap options:
 * vmlab_hook_table in cmake/static_engine.cmake); without the archive the tests fail, naming why,
 * and ctest reports them disabled. Each test opens the bare engine of tests/unit/support_uc.h
 * (64 KiB at physical 0, flat ring 0), turns paging on with one page table mapping the first 16
 * pages to themselves except page 5 (not present), and gives Unicorn's TLB to a fill hook
 * (UC_TLB_VIRTUAL) that maps every page to itself but page 5, whose fill it refuses as emu/tlb.c
 * does: first asking the CPU to walk in place when the test says so. The code reads 0x5123 and
 * halts; the interrupt hook of support_uc notes the #PF and stops the CPU.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "emu/link/uc_tlb_page.h"
#include "support_uc.h"

#define PD 0x3000u
#define PT 0x4000u
#define HOLE 0x5000u       /* the page the tables and the fill hook leave out */

static const uint8_t read_hole[] = {0xa1, 0x23, 0x51, 0, 0, 0xf4};   /* mov eax, [0x5123]; hlt */

static int walk_as;        /* -1: refuse plainly; 0 / 1: walk here as a kernel / user access */
static int walked = -2;    /* what uc_tlb_page_walk_here returned (-2: not called or no return) */
static unsigned hole_fills;

static bool fill(uc_engine *u, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *e, void *opaque)
{
    (void)u;
    (void)type;
    (void)opaque;
    if ((vaddr & ~0xfffull) == HOLE) {
        hole_fills++;
        if (walk_as >= 0)
            walked = uc_tlb_page_walk_here(walk_as == 1);
        return false;
    }
    e->paddr = vaddr & ~0xfffull;
    e->perms = UC_PROT_ALL;
    return true;
}

static void setup(void)
{
#ifndef VMLAB_HOOK_TABLE
    cr_assert_fail("test_uc_tlb_page is built without Unicorn's static archive: the link layer "
                   "it tests is not linked (cmake/static_engine.cmake)");
#endif
    uct_open();
    cr_assert_eq(uc_mem_map(uc, 0, 0x10000, UC_PROT_ALL), UC_ERR_OK);
    static const uint64_t gdt[] = {0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};
    uct_load_gdt(gdt, sizeof gdt);
    uct_enter_ring0();
    uint32_t pde = PT | 7u, pte[16];
    for (uint32_t i = 0; i < 16; i++)
        pte[i] = i * 0x1000u == HOLE ? 0 : (i * 0x1000u) | 7u;
    cr_assert_eq(uc_mem_write(uc, PD, &pde, 4), UC_ERR_OK);
    cr_assert_eq(uc_mem_write(uc, PT, pte, sizeof pte), UC_ERR_OK);
    cr_assert_eq(uc_mem_write(uc, CODE, read_hole, sizeof read_hole), UC_ERR_OK);
    wr32(UC_X86_REG_CR3, PD);
    wr32(UC_X86_REG_CR0, rd32(UC_X86_REG_CR0) | 0x80000001u);
    cr_assert_eq(uc_ctl_tlb_mode(uc, UC_TLB_VIRTUAL), UC_ERR_OK);
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_TLB_FILL, (void *)fill, NULL, 1, 0), UC_ERR_OK);
}

TestSuite(uc_tlb_page, .init = setup, .fini = uct_close);

Test(uc_tlb_page, a_walk_in_place_raises_the_page_fault_with_its_exact_cr2_in_the_same_run)
{
    walk_as = 0;
    cr_assert_eq(uc_emu_start(uc, CODE, 0, 0, 0), UC_ERR_OK, "the run ended at the refusal");
    cr_assert_eq(walked, -2, "uc_tlb_page_walk_here returned (%d) instead of raising", walked);
    cr_assert_eq(nseen, 1);
    cr_assert_eq(seen[0].vector, 14);
    cr_assert_eq(seen[0].error, 0, "not present, read, supervisor: error code 0, got %u",
                 seen[0].error);
    cr_assert_eq(seen[0].eip, CODE);
    cr_assert_eq(rd32(UC_X86_REG_CR2), HOLE + 0x123);
    cr_assert_eq(hole_fills, 1);
}

Test(uc_tlb_page, a_plain_refusal_ends_the_run_without_a_page_fault)
{
    walk_as = -1;
    cr_assert_eq(uc_emu_start(uc, CODE, 0, 0, 0), UC_ERR_EXCEPTION);
    cr_assert_eq(nseen, 0);
    cr_assert_eq(rd32(UC_X86_REG_EIP), CODE);
}

Test(uc_tlb_page, an_access_of_another_kind_is_not_walked_here)
{
    walk_as = 1;            /* a user access, says the caller; the CPU's is a kernel one */
    cr_assert_eq(uc_emu_start(uc, CODE, 0, 0, 0), UC_ERR_EXCEPTION);
    cr_assert_eq(walked, 0);
    cr_assert_eq(nseen, 0);
}

Test(uc_tlb_page, a_walk_that_does_not_fault_enters_the_page_for_the_cpu)
{
    uint32_t pte = HOLE | 7u, value = 0x600dda7au;
    cr_assert_eq(uc_mem_write(uc, PT + (HOLE >> 12) * 4, &pte, 4), UC_ERR_OK);
    cr_assert_eq(uc_mem_write(uc, HOLE + 0x123, &value, 4), UC_ERR_OK);
    walk_as = 0;
    cr_assert_eq(uc_emu_start(uc, CODE, 0, 0, 0), UC_ERR_EXCEPTION, "the fill was refused");
    cr_assert_eq(walked, 1);
    /* Run again: the CPU's entry answers the read; the fill hook is not asked again. */
    cr_assert_eq(uc_emu_start(uc, CODE, 0, 0, 0), UC_ERR_OK);
    cr_assert_eq(nseen, 0);
    cr_assert_eq(rd32(UC_X86_REG_EAX), value);
    cr_assert_eq(hole_fills, 1);
}
