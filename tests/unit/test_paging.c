/*
 * test_paging.c — the pure i386 page walk of emu/paging.h on hand-built tables in a byte array.
 *
 * Physical memory is 1 MiB of zeros. Page directory at 0x1000; PDE 1 (linear 0x00400000-0x007fffff)
 * points to the page table at 0x2000 unless a test says otherwise. Each test writes the entries
 * it needs, then checks the translation, the page-fault error code (P = 1, W = 2, U = 4) or the
 * accessed/dirty bits the walk left behind.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "emu/paging.h"

#define RAM_SIZE (1u << 20)
#define PD 0x1000u
#define PT 0x2000u
#define LIN(pdi, pti, off) (((uint32_t)(pdi) << 22) | ((uint32_t)(pti) << 12) | (off))

static uint8_t ram[RAM_SIZE];
static struct phys_mem pm = {.ram = ram, .size = RAM_SIZE};
static struct paging_regs regs;

static void setup(void)
{
    memset(ram, 0, sizeof ram);
    regs = (struct paging_regs){.cr0 = CR0_PE | CR0_PG, .cr3 = PD, .cr4 = 0};
}

TestSuite(paging, .init = setup);

static void put(uint32_t pa, uint32_t v) { memcpy(ram + pa, &v, 4); }
static uint32_t get(uint32_t pa)
{
    uint32_t v;
    memcpy(&v, ram + pa, 4);
    return v;
}
static void pde(unsigned i, uint32_t v) { put(PD + 4 * i, v); }
static void pte(unsigned i, uint32_t v) { put(PT + 4 * i, v); }

static const struct paging_access SUP_READ = {.write = false, .user = false};
static const struct paging_access SUP_WRITE = {.write = true, .user = false};
static const struct paging_access USER_READ = {.write = false, .user = true};
static const struct paging_access USER_WRITE = {.write = true, .user = true};

/* Translate and expect a page fault; returns its error code. */
static uint32_t fault_of(uint32_t lin, const struct paging_access *acc)
{
    uint32_t phys = 0xdeadbeef, err = 0xdeadbeef;
    cr_assert_eq(paging_translate(&regs, &pm, lin, acc, &phys, &err), -1,
                 "0x%08x translated to 0x%08x instead of faulting", lin, phys);
    return err;
}

/* Translate and expect success; returns the physical address. */
static uint32_t phys_of(uint32_t lin, const struct paging_access *acc)
{
    uint32_t phys = 0, err = 0;
    cr_assert_eq(paging_translate(&regs, &pm, lin, acc, &phys, &err), 0,
                 "0x%08x faulted with error %u", lin, err);
    return phys;
}

Test(paging, paging_off_translates_every_address_to_itself)
{
    regs.cr0 = CR0_PE;
    cr_assert_eq(phys_of(0x00123456, &SUP_READ), 0x00123456);
    cr_assert_eq(phys_of(0xfee00ff0, &USER_WRITE), 0xfee00ff0);
}

Test(paging, small_page_maps_frame_plus_offset)
{
    pde(1, PT | PTE_P | PTE_W | PTE_U);
    pte(1, 0x7000 | PTE_P | PTE_W | PTE_U);
    pte(2, 0x3000 | PTE_P | PTE_W | PTE_U);
    cr_assert_eq(phys_of(LIN(1, 1, 0x234), &SUP_READ), 0x7234);
    cr_assert_eq(phys_of(LIN(1, 2, 0xfff), &USER_WRITE), 0x3fff);
}

Test(paging, large_page_with_cr4_pse_maps_4_mib)
{
    regs.cr4 = CR4_PSE;
    pde(2, 0x00c00000 | PTE_PS | PTE_P | PTE_W);
    cr_assert_eq(phys_of(LIN(2, 0x12, 0x345), &SUP_READ), 0x00c12345);
    cr_assert_eq(phys_of(LIN(2, 0x3ff, 0xfff), &SUP_WRITE), 0x00ffffff);
}

Test(paging, ps_bit_without_cr4_pse_points_to_a_page_table)
{
    /* Without CR4.PSE the PDE is a table pointer: at 0x5000, whose entry 0x12 maps 0x9000. */
    pde(2, 0x5000 | PTE_PS | PTE_P | PTE_W);
    put(0x5000 + 4 * 0x12, 0x9000 | PTE_P);
    cr_assert_eq(phys_of(LIN(2, 0x12, 0x345), &SUP_READ), 0x9345);
}

Test(paging, not_present_pde_faults_with_error_0_2_4_6)
{
    pde(1, PT | PTE_W | PTE_U);          /* P clear */
    pte(0, 0x7000 | PTE_P | PTE_W | PTE_U);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &SUP_READ), 0);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &SUP_WRITE), 2);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &USER_READ), 4);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &USER_WRITE), 6);
}

Test(paging, not_present_pte_faults_with_error_0_2_4_6)
{
    pde(1, PT | PTE_P | PTE_W | PTE_U);
    pte(0, 0x7000 | PTE_W | PTE_U);      /* P clear */
    cr_assert_eq(fault_of(LIN(1, 0, 0), &SUP_READ), 0);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &SUP_WRITE), 2);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &USER_READ), 4);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &USER_WRITE), 6);
}

Test(paging, not_present_large_page_faults_with_error_0)
{
    regs.cr4 = CR4_PSE;
    pde(2, 0x00c00000 | PTE_PS | PTE_W);
    cr_assert_eq(fault_of(LIN(2, 0, 0), &SUP_READ), 0);
}

Test(paging, user_read_of_supervisor_page_faults_with_error_5)
{
    pde(1, PT | PTE_P | PTE_W | PTE_U);
    pte(0, 0x7000 | PTE_P | PTE_W);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &USER_READ), 5);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &USER_WRITE), 7);
}

Test(paging, user_write_to_readonly_page_faults_with_error_7)
{
    pde(1, PT | PTE_P | PTE_W | PTE_U);
    pte(0, 0x7000 | PTE_P | PTE_U);
    cr_assert_eq(phys_of(LIN(1, 0, 0x10), &USER_READ), 0x7010);
    cr_assert_eq(fault_of(LIN(1, 0, 0x10), &USER_WRITE), 7);
}

Test(paging, supervisor_read_of_any_present_page_never_faults)
{
    /* Without SMEP/SMAP a protection fault on a supervisor read (error 1) cannot happen. */
    pde(1, PT | PTE_P);
    pte(0, 0x7000 | PTE_P);
    pte(1, 0x8000 | PTE_P | PTE_U);
    regs.cr0 |= CR0_WP;
    cr_assert_eq(phys_of(LIN(1, 0, 0), &SUP_READ), 0x7000);
    cr_assert_eq(phys_of(LIN(1, 1, 0), &SUP_READ), 0x8000);
}

Test(paging, supervisor_pde_over_user_pte_denies_user_access)
{
    pde(1, PT | PTE_P | PTE_W);          /* U clear at the directory level */
    pte(0, 0x7000 | PTE_P | PTE_W | PTE_U);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &USER_READ), 5);
    cr_assert_eq(phys_of(LIN(1, 0, 0), &SUP_WRITE), 0x7000);
}

Test(paging, readonly_pde_over_writable_pte_denies_user_writes)
{
    pde(1, PT | PTE_P | PTE_U);          /* W clear at the directory level */
    pte(0, 0x7000 | PTE_P | PTE_W | PTE_U);
    cr_assert_eq(phys_of(LIN(1, 0, 0), &USER_READ), 0x7000);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &USER_WRITE), 7);
}

Test(paging, user_write_needs_u_and_w_at_both_levels)
{
    pde(1, PT | PTE_P | PTE_W | PTE_U);
    pte(0, 0x7000 | PTE_P | PTE_W | PTE_U);
    cr_assert_eq(phys_of(LIN(1, 0, 4), &USER_WRITE), 0x7004);
}

Test(paging, supervisor_write_to_readonly_page_succeeds_without_cr0_wp)
{
    pde(1, PT | PTE_P | PTE_U);
    pte(0, 0x7000 | PTE_P | PTE_U);
    cr_assert_eq(phys_of(LIN(1, 0, 8), &SUP_WRITE), 0x7008);
}

Test(paging, supervisor_write_to_readonly_page_faults_with_error_3_under_cr0_wp)
{
    regs.cr0 |= CR0_WP;
    pde(1, PT | PTE_P | PTE_W);
    pte(0, 0x7000 | PTE_P);
    cr_assert_eq(fault_of(LIN(1, 0, 8), &SUP_WRITE), 3);
    pde(1, PT | PTE_P);                  /* read-only at the directory level counts as well */
    pte(0, 0x7000 | PTE_P | PTE_W);
    cr_assert_eq(fault_of(LIN(1, 0, 8), &SUP_WRITE), 3);
}

Test(paging, cr0_wp_applies_to_large_pages)
{
    regs.cr4 = CR4_PSE;
    pde(2, 0x00c00000 | PTE_PS | PTE_P);
    cr_assert_eq(phys_of(LIN(2, 0, 0), &SUP_WRITE), 0x00c00000);
    regs.cr0 |= CR0_WP;
    cr_assert_eq(fault_of(LIN(2, 0, 0), &SUP_WRITE), 3);
    cr_assert_eq(fault_of(LIN(2, 0, 0), &USER_READ), 5);
}

Test(paging, walk_without_set_ad_leaves_accessed_and_dirty_clear)
{
    pde(1, PT | PTE_P | PTE_W | PTE_U);
    pte(0, 0x7000 | PTE_P | PTE_W | PTE_U);
    phys_of(LIN(1, 0, 0), &USER_WRITE);
    cr_assert_eq(get(PD + 4), PT | PTE_P | PTE_W | PTE_U);
    cr_assert_eq(get(PT), 0x7000 | PTE_P | PTE_W | PTE_U);
}

Test(paging, read_with_set_ad_sets_accessed_but_not_dirty)
{
    struct paging_access acc = {.write = false, .user = true, .set_ad = true};
    pde(1, PT | PTE_P | PTE_W | PTE_U);
    pte(0, 0x7000 | PTE_P | PTE_W | PTE_U);
    phys_of(LIN(1, 0, 0), &acc);
    cr_assert_eq(get(PD + 4), PT | PTE_P | PTE_W | PTE_U | PTE_A);
    cr_assert_eq(get(PT), 0x7000 | PTE_P | PTE_W | PTE_U | PTE_A);
}

Test(paging, write_with_set_ad_sets_dirty_in_the_pte_only)
{
    struct paging_access acc = {.write = true, .user = false, .set_ad = true};
    pde(1, PT | PTE_P | PTE_W);
    pte(0, 0x7000 | PTE_P | PTE_W);
    phys_of(LIN(1, 0, 0), &acc);
    cr_assert_eq(get(PD + 4), PT | PTE_P | PTE_W | PTE_A);
    cr_assert_eq(get(PT), 0x7000 | PTE_P | PTE_W | PTE_A | PTE_D);
}

Test(paging, write_with_set_ad_sets_accessed_and_dirty_in_a_large_pde)
{
    struct paging_access rd = {.write = false, .set_ad = true};
    struct paging_access wr = {.write = true, .set_ad = true};
    regs.cr4 = CR4_PSE;
    pde(2, 0x00c00000 | PTE_PS | PTE_P | PTE_W);
    phys_of(LIN(2, 0, 0), &rd);
    cr_assert_eq(get(PD + 8), 0x00c00000 | PTE_PS | PTE_P | PTE_W | PTE_A);
    phys_of(LIN(2, 0, 0), &wr);
    cr_assert_eq(get(PD + 8), 0x00c00000 | PTE_PS | PTE_P | PTE_W | PTE_A | PTE_D);
}

Test(paging, faulting_access_with_set_ad_leaves_the_pte_unchanged)
{
    struct paging_access acc = {.write = true, .user = true, .set_ad = true};
    pde(1, PT | PTE_P | PTE_W | PTE_U);
    pte(0, 0x7000 | PTE_P | PTE_U);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &acc), 7);
    cr_assert_eq(get(PT), 0x7000 | PTE_P | PTE_U);
}

Test(paging, page_directory_outside_ram_reads_as_not_present)
{
    regs.cr3 = 0x08000000;               /* 128 MiB: far beyond the 1 MiB of RAM */
    cr_assert_eq(fault_of(LIN(1, 0, 0), &SUP_READ), 0);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &USER_WRITE), 6);
}

Test(paging, page_table_outside_ram_reads_as_not_present)
{
    pde(1, 0x08000000 | PTE_P | PTE_W | PTE_U);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &SUP_WRITE), 2);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &USER_READ), 4);
}

Test(paging, read_across_a_page_boundary_joins_two_frames)
{
    pde(1, PT | PTE_P | PTE_W | PTE_U);
    pte(0, 0x5000 | PTE_P | PTE_U);
    pte(1, 0x9000 | PTE_P | PTE_U);      /* not adjacent to 0x5000 */
    memcpy(ram + 0x5ffe, "ab", 2);
    memcpy(ram + 0x9000, "cd", 2);
    char buf[5] = "";
    uint32_t fl = 0, err = 0;
    cr_assert_eq(paging_read(&regs, &pm, LIN(1, 0, 0xffe), buf, 4, &USER_READ, &fl, &err), 0);
    cr_assert_str_eq(buf, "abcd");
}

Test(paging, write_across_a_page_boundary_splits_into_two_frames)
{
    pde(1, PT | PTE_P | PTE_W);
    pte(0, 0x5000 | PTE_P | PTE_W);
    pte(1, 0x9000 | PTE_P | PTE_W);
    uint32_t fl = 0, err = 0;
    cr_assert_eq(paging_write(&regs, &pm, LIN(1, 0, 0xffd), "wxyz", 4, &SUP_WRITE, &fl, &err), 0);
    cr_assert_eq(memcmp(ram + 0x5ffd, "wxy", 3), 0);
    cr_assert_eq(ram[0x9000], 'z');
    cr_assert_eq(ram[0x6000], 0);
}

Test(paging, read_stopping_at_a_missing_second_page_returns_minus_1_with_its_address)
{
    pde(1, PT | PTE_P | PTE_W | PTE_U);
    pte(0, 0x5000 | PTE_P | PTE_U);
    uint32_t fl = 0, err = 0;
    char buf[8];
    cr_assert_eq(paging_read(&regs, &pm, LIN(1, 0, 0xffc), buf, 8, &USER_READ, &fl, &err), -1);
    cr_assert_eq(fl, LIN(1, 1, 0));
    cr_assert_eq(err, 4);
}

Test(paging, write_faulting_on_the_second_page_has_written_the_first)
{
    pde(1, PT | PTE_P | PTE_W | PTE_U);
    pte(0, 0x5000 | PTE_P | PTE_W | PTE_U);
    pte(1, 0x9000 | PTE_P | PTE_U);      /* read-only */
    uint32_t fl = 0, err = 0;
    cr_assert_eq(paging_write(&regs, &pm, LIN(1, 0, 0xffe), "wxyz", 4, &USER_WRITE, &fl, &err), -1);
    cr_assert_eq(fl, LIN(1, 1, 0));
    cr_assert_eq(err, 7);
    cr_assert_eq(memcmp(ram + 0x5ffe, "wx", 2), 0);
    cr_assert_eq(ram[0x9000], 0);
}

Test(paging, fault_on_the_first_byte_reports_the_start_address)
{
    uint32_t fl = 0, err = 0;
    char buf[4];
    cr_assert_eq(paging_read(&regs, &pm, LIN(3, 7, 0x123), buf, 4, &SUP_READ, &fl, &err), -1);
    cr_assert_eq(fl, LIN(3, 7, 0x123));
    cr_assert_eq(err, 0);
}

Test(paging, frame_outside_ram_makes_read_return_minus_2)
{
    pde(1, PT | PTE_P | PTE_W);
    pte(0, 0x5000 | PTE_P | PTE_W);
    pte(1, 0x08000000 | PTE_P | PTE_W);  /* present, but no RAM there */
    uint32_t fl = 0, err = 0;
    char buf[8];
    cr_assert_eq(paging_read(&regs, &pm, LIN(1, 0, 0xffc), buf, 8, &SUP_READ, &fl, &err), -2);
    cr_assert_eq(fl, LIN(1, 1, 0));
}

Test(paging, access_straddling_the_end_of_ram_with_paging_off_returns_minus_2)
{
    regs.cr0 = CR0_PE;
    uint32_t fl = 0, err = 0;
    char buf[4];
    cr_assert_eq(paging_read(&regs, &pm, RAM_SIZE - 2, buf, 4, &SUP_READ, &fl, &err), -2);
    cr_assert_eq(fl, RAM_SIZE, "the first page past the end is reported, got 0x%x", fl);
    cr_assert_eq(paging_write(&regs, &pm, RAM_SIZE + 0x1000, "x", 1, &SUP_WRITE, &fl, &err), -2);
    cr_assert_eq(fl, RAM_SIZE + 0x1000);
}

Test(paging, zero_length_copy_touches_nothing_and_succeeds)
{
    uint32_t fl = 0xabc, err = 0;
    cr_assert_eq(paging_read(&regs, &pm, LIN(9, 9, 9), NULL, 0, &SUP_READ, &fl, &err), 0);
    cr_assert_eq(fl, 0xabc);
}

/* ---- the memo of one operation's translations (struct paging_memo) ---- */

Test(paging, a_memo_answers_a_page_it_translated_without_walking)
{
    struct paging_memo memo = {0};
    struct paging_access acc = {.write = false, .set_ad = true, .memo = &memo};
    pde(1, PT | PTE_P | PTE_W);
    pte(0, 0x7000 | PTE_P | PTE_W);
    cr_assert_eq(phys_of(LIN(1, 0, 0x10), &acc), 0x7010);
    /* The entry changes behind the memo's back (only ever by the operation's own bits in vmlab):
     * the memo still answers, which shows it did not walk; without it the walk sees the change. */
    pte(0, 0x9000 | PTE_P | PTE_W);
    cr_assert_eq(phys_of(LIN(1, 0, 0x20), &acc), 0x7020);
    struct paging_access plain = {.write = false, .set_ad = true};
    cr_assert_eq(phys_of(LIN(1, 0, 0x20), &plain), 0x9020);
}

Test(paging, a_write_after_a_memoized_read_walks_and_sets_dirty)
{
    struct paging_memo memo = {0};
    struct paging_access rd = {.write = false, .set_ad = true, .memo = &memo};
    struct paging_access wr = {.write = true, .set_ad = true, .memo = &memo};
    pde(1, PT | PTE_P | PTE_W);
    pte(0, 0x7000 | PTE_P | PTE_W);
    phys_of(LIN(1, 0, 0), &rd);
    cr_assert_eq(get(PT), 0x7000 | PTE_P | PTE_W | PTE_A);
    phys_of(LIN(1, 0, 4), &wr);
    cr_assert_eq(get(PT), 0x7000 | PTE_P | PTE_W | PTE_A | PTE_D, "the write did not set D");
    /* Now both bits are set: a second write is answered by the memo (a cleared D stays clear). */
    pte(0, 0x7000 | PTE_P | PTE_W | PTE_A);
    phys_of(LIN(1, 0, 8), &wr);
    cr_assert_eq(get(PT), 0x7000 | PTE_P | PTE_W | PTE_A);
}

Test(paging, a_memo_grants_nothing_the_walk_would_refuse)
{
    struct paging_memo memo = {0};
    struct paging_access sup = {.write = false, .memo = &memo};
    struct paging_access user = {.write = false, .user = true, .memo = &memo};
    struct paging_access sup_wr = {.write = true, .memo = &memo};
    regs.cr0 |= CR0_WP;
    pde(1, PT | PTE_P | PTE_W);
    pte(0, 0x7000 | PTE_P);                 /* supervisor, read-only */
    phys_of(LIN(1, 0, 0), &sup);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &user), PFE_P | PFE_U);
    cr_assert_eq(fault_of(LIN(1, 0, 0), &sup_wr), PFE_P | PFE_W);
}

Test(paging, a_memo_keeps_the_last_pages_it_has_room_for)
{
    enum { N = PAGING_MEMO_PAGES };
    struct paging_memo memo = {0};
    struct paging_access acc = {.write = false, .memo = &memo};
    pde(1, PT | PTE_P | PTE_W);
    for (unsigned i = 0; i <= N; i++)
        pte(i, (0x10 + i) << 12 | PTE_P | PTE_W);
    for (unsigned i = 0; i <= N; i++)
        phys_of(LIN(1, i, 0), &acc);
    for (unsigned i = 0; i <= N; i++)
        pte(i, (0x20 + i) << 12 | PTE_P | PTE_W);
    /* Page 0 was replaced by page N: walked again. Pages 2..N are answered as first translated. */
    cr_assert_eq(phys_of(LIN(1, 0, 0), &acc), 0x20000);
    for (unsigned i = 2; i <= N; i++)
        cr_assert_eq(phys_of(LIN(1, i, 0), &acc), (0x10 + i) << 12);
}
