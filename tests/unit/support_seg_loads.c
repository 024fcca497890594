/*
 * support_seg_loads.c — the segment-load loop of the link layer's tests (see
 * support_seg_loads.h).
 */
#include "support_seg_loads.h"

#include <criterion/criterion.h>
#include <unicorn/unicorn.h>

#include "support_uc.h"

const uint8_t seg_loads[17] = {0xb9, SEG_LOAD_ROUNDS, 0, 0, 0, 0x66, 0xb8, 0x10, 0x00,
                               0x8e, 0xd8, 0x8e, 0xc0, 0x49, 0x75, 0xf5, 0xf4};
const uint64_t seg_flat_gdt[3] = {0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};
const uint64_t seg_absent_gdt[3] = {0, 0x00cf9a000000ffffull, 0x00cf12000000ffffull};

void seg_loads_open(void)
{
    uct_open();
    cr_assert_eq(uc_mem_map(uc, 0, GDT, UC_PROT_ALL), UC_ERR_OK);
    cr_assert_eq(uc_mem_map(uc, GDT, 0x1000, UC_PROT_ALL), UC_ERR_OK);
    cr_assert_eq(uc_mem_map(uc, CODE, 0x10000 - CODE, UC_PROT_ALL), UC_ERR_OK);
    uct_load_gdt(seg_flat_gdt, sizeof seg_flat_gdt);
    uct_enter_ring0();
    cr_assert_eq(uc_mem_write(uc, CODE, seg_loads, sizeof seg_loads), UC_ERR_OK);
}
