/*
 * test_pgtable.c — page-table entry helpers (guests/kernel/pgtable.h), in particular the two
 * copy-on-write transformations fork and the COW fault apply.
 */
#include <criterion/criterion.h>
#include "pgtable.h"

Test(pgtable, linear_address_splits_into_directory_and_table_index)
{
    cr_assert_eq(pde_index(0xC0000000), 768);
    cr_assert_eq(pde_index(0xFBFFFFFF), 1007);
    cr_assert_eq(pte_index(0x08048000), 0x48);
    cr_assert_eq(pte_index(0x003FF000), 1023);
}

Test(pgtable, pte_make_keeps_frame_and_flag_bits_apart)
{
    pte_t e = pte_make(0x12345FFF, PTE_P | PTE_W | 0x1000);
    cr_assert_eq(pte_frame(e), 0x12345000);
    cr_assert_eq(pte_flags(e), PTE_P | PTE_W);
    cr_assert(pte_present(e));
    cr_assert_not(pte_present(pte_make(0x1000, PTE_W)));
}

Test(pgtable, fork_write_protects_writable_pages_and_marks_them_cow)
{
    pte_t e = pte_make(0x5000, PTE_P | PTE_W | PTE_U | PTE_D);
    pte_t s = pte_share_cow(e);
    cr_assert_eq(s, pte_make(0x5000, PTE_P | PTE_U | PTE_D | PTE_COW));
    cr_assert_eq(pte_share_cow(s), s, "sharing a COW page again changes nothing");
}

Test(pgtable, fork_shares_read_only_pages_unchanged)
{
    pte_t text = pte_make(0x5000, PTE_P | PTE_U);
    cr_assert_eq(pte_share_cow(text), text);
}

Test(pgtable, fork_shares_shared_file_pages_writable_as_they_are)
{
    pte_t shared = pte_make(0x5000, PTE_P | PTE_U | PTE_W | PTE_SHARED);
    cr_assert_eq(pte_share_cow(shared), shared);
}

Test(pgtable, breaking_cow_gives_a_writable_private_entry)
{
    pte_t s = pte_make(0x5000, PTE_P | PTE_U | PTE_A | PTE_D | PTE_COW);
    pte_t e = pte_break_cow(s, 0x9000);
    cr_assert_eq(e, pte_make(0x9000, PTE_P | PTE_U | PTE_W));
}
