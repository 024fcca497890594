/*
 * test_vmlayout.c — user address-space layout and page-fault classification
 * (guests/kernel/vmlayout.c): what the page-fault handler decides before it does anything, for
 * anonymous and for file regions.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "layout.h"
#include "vmlayout.h"

static struct vm_layout l;

/* An anonymous region of len bytes (the kernel's mmap with fd -1). */
static uint32_t anon(uint32_t len) { return vm_layout_mmap(&l, len, NULL, 0, true); }

static int unmap(uint32_t addr, uint32_t len)
{
    struct region gone;
    return vm_layout_munmap(&l, addr, len, &gone);
}

static void fresh(void)
{
    memset(&l, 0, sizeof(l));
    l.heap_start = 0x0804C000;
    l.brk = 0x0804E010;                     /* heap pages: 0x0804C000..0x0804F000 */
}

TestSuite(fault, .init = fresh);
TestSuite(mmap_area, .init = fresh);

#define NOT_PRESENT_READ  0u
#define NOT_PRESENT_WRITE PF_W
#define PROT_WRITE        (PF_P | PF_W)
#define USER              PF_U

Test(fault, heap_page_not_present_is_demand_zero)
{
    cr_assert_eq(fault_classify(&l, 0x0804C123, NOT_PRESENT_READ | USER, 0), FAULT_DEMAND_ZERO);
    cr_assert_eq(fault_classify(&l, 0x0804EFFC, NOT_PRESENT_WRITE | USER, 0), FAULT_DEMAND_ZERO);
}

Test(fault, past_the_brk_page_is_fatal)
{
    cr_assert_eq(fault_classify(&l, 0x0804F000, NOT_PRESENT_WRITE | USER, 0), FAULT_FATAL);
    cr_assert_eq(fault_classify(&l, 0x0804BFFF, NOT_PRESENT_WRITE | USER, 0), FAULT_FATAL);
}

Test(fault, stack_area_is_demand_zero_and_its_guard_below_is_not)
{
    cr_assert_eq(fault_classify(&l, USER_STACK_TOP - 0x5000, NOT_PRESENT_WRITE | USER, 0),
                 FAULT_DEMAND_ZERO);
    cr_assert_eq(fault_classify(&l, USER_STACK_LO, NOT_PRESENT_WRITE | USER, 0), FAULT_DEMAND_ZERO);
    cr_assert_eq(fault_classify(&l, USER_STACK_LO - 4, NOT_PRESENT_WRITE | USER, 0), FAULT_FATAL);
}

Test(fault, null_page_is_fatal)
{
    cr_assert_eq(fault_classify(&l, 0, NOT_PRESENT_READ | USER, 0), FAULT_FATAL);
}

Test(fault, kernel_address_is_fatal_even_from_the_kernel)
{
    cr_assert_eq(fault_classify(&l, KERNEL_BASE, NOT_PRESENT_READ | USER, 0), FAULT_FATAL);
    cr_assert_eq(fault_classify(&l, KERNEL_BASE + 0x1000, PF_P, pte_make(0x1000, PTE_P)),
                 FAULT_FATAL);
}

Test(fault, write_to_cow_page_is_cow)
{
    pte_t e = pte_make(0x123000, PTE_P | PTE_U | PTE_COW);
    cr_assert_eq(fault_classify(&l, 0x0804C000, PROT_WRITE | USER, e), FAULT_COW);
    cr_assert_eq(fault_classify(&l, 0x0804C000, PROT_WRITE, e), FAULT_COW, "kernel copy-out");
}

Test(fault, write_to_plain_read_only_page_is_fatal)
{
    pte_t text = pte_make(0x123000, PTE_P | PTE_U);
    cr_assert_eq(fault_classify(&l, 0x08048000, PROT_WRITE | USER, text), FAULT_FATAL);
}

Test(fault, read_protection_fault_is_fatal_even_on_cow_page)
{
    pte_t e = pte_make(0x123000, PTE_P | PTE_COW);      /* supervisor page */
    cr_assert_eq(fault_classify(&l, 0x0804C000, PF_P | USER, e), FAULT_FATAL);
}

Test(fault, not_present_error_on_a_present_entry_is_fatal)
{
    pte_t e = pte_make(0x123000, PTE_P | PTE_U | PTE_W);
    cr_assert_eq(fault_classify(&l, 0x0804C000, NOT_PRESENT_READ | USER, e), FAULT_FATAL);
}

Test(mmap_area, regions_are_placed_lowest_first_and_rounded_to_pages)
{
    cr_assert_eq(anon(1), USER_MMAP_BASE);
    cr_assert_eq(anon(0x2001), USER_MMAP_BASE + 0x1000);
    cr_assert_eq(l.nmmap, 2);
    cr_assert_eq(l.mmap[1].end, USER_MMAP_BASE + 0x4000);
    cr_assert(vm_layout_demand_zero(&l, USER_MMAP_BASE + 0x3FFF));
    cr_assert_not(vm_layout_demand_zero(&l, USER_MMAP_BASE + 0x4000));
}

Test(mmap_area, a_freed_gap_is_reused_when_big_enough)
{
    uint32_t a = anon(0x3000);
    uint32_t b = anon(0x1000);
    anon(0x1000);
    cr_assert_eq(unmap(a, 0x3000), 0);
    cr_assert_eq(anon(0x4000), b + 0x2000, "too big for the gap");
    cr_assert_eq(anon(0x2000), a);
    cr_assert_eq(anon(0x1000), a + 0x2000);
}

Test(mmap_area, unmap_must_name_a_whole_region)
{
    uint32_t a = anon(0x3000);
    cr_assert_eq(unmap(a, 0x1000), -1);
    cr_assert_eq(unmap(a + 0x1000, 0x2000), -1);
    cr_assert_eq(unmap(a, 0), -1);
    cr_assert_eq(unmap(a, 0x2001), 0, "length rounds up like mmap's");
    cr_assert_eq(l.nmmap, 0);
    cr_assert_not(vm_layout_demand_zero(&l, a));
}

Test(mmap_area, region_slots_and_area_size_are_limits)
{
    for (int i = 0; i < MAX_MMAPS; i++)
        cr_assert_neq(anon(0x1000), 0);
    cr_assert_eq(anon(0x1000), 0, "no free slot");
    fresh();
    cr_assert_eq(anon(USER_MMAP_END - USER_MMAP_BASE + 1), 0);
    cr_assert_eq(anon(0), 0);
    cr_assert_eq(anon(USER_MMAP_END - USER_MMAP_BASE), USER_MMAP_BASE);
    cr_assert_eq(anon(0x1000), 0, "area full");
}

static int file_object;                 /* stands for the region's struct inode */

Test(mmap_area, a_file_region_is_file_backed_not_demand_zero)
{
    uint32_t a = vm_layout_mmap(&l, 0x3000, &file_object, 5, true);
    cr_assert_eq(fault_classify(&l, a + 0x1000, NOT_PRESENT_READ | USER, 0), FAULT_FILE);
    cr_assert_eq(fault_classify(&l, a + 0x2FFF, NOT_PRESENT_WRITE | USER, 0), FAULT_FILE);
    cr_assert_not(vm_layout_demand_zero(&l, a));
    const struct region *r = vm_layout_region(&l, a + 0x2000);
    cr_assert(r && r->file == &file_object && r->pgoff == 5 && r->start == a);
    cr_assert_null(vm_layout_region(&l, a + 0x3000));
}

Test(mmap_area, a_write_to_a_read_only_file_region_is_fatal)
{
    uint32_t a = vm_layout_mmap(&l, 0x1000, &file_object, 0, false);
    pte_t ro = pte_make(0x123000, PTE_P | PTE_U | PTE_SHARED);
    cr_assert_eq(fault_classify(&l, a, NOT_PRESENT_READ | USER, 0), FAULT_FILE);
    cr_assert_eq(fault_classify(&l, a, NOT_PRESENT_WRITE | USER, 0), FAULT_FATAL);
    cr_assert_eq(fault_classify(&l, a, PROT_WRITE | USER, ro), FAULT_FATAL, "protection fault");
}

Test(mmap_area, anonymous_regions_are_writable_whatever_they_ask)
{
    uint32_t a = vm_layout_mmap(&l, 0x1000, NULL, 0, false);
    cr_assert(l.mmap[0].writable);
    cr_assert_eq(fault_classify(&l, a, NOT_PRESENT_WRITE | USER, 0), FAULT_DEMAND_ZERO);
}

Test(mmap_area, unmap_hands_back_the_region_for_its_file)
{
    uint32_t a = vm_layout_mmap(&l, 0x2000, &file_object, 3, true);
    struct region gone;
    cr_assert_eq(vm_layout_munmap(&l, a, 0x2000, &gone), 0);
    cr_assert(gone.file == &file_object && gone.pgoff == 3 && gone.end == a + 0x2000);
}
