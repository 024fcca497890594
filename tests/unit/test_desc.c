/*
 * test_desc.c — segment descriptors and IDT gates decoded from raw words (emu/desc.h).
 *
 * The descriptors are the ones a Multiboot kernel actually loads (flat ring-0 and ring-3 code and
 * data, a TSS) plus a few with every field set to something distinct, so a field taken from the
 * wrong bits shows.
 */
#include <criterion/criterion.h>

#include "emu/desc.h"

static struct desc dec(uint64_t raw)
{
    struct desc d;
    desc_decode((uint32_t)raw, (uint32_t)(raw >> 32), &d);
    return d;
}

static struct gate gdec(uint64_t raw)
{
    struct gate g;
    gate_decode((uint32_t)raw, (uint32_t)(raw >> 32), &g);
    return g;
}

Test(desc, flat_ring0_code_decodes_to_4_gib_present_32_bit_readable_code)
{
    struct desc d = dec(0x00cf9a000000ffffull);
    cr_assert_eq(d.lo, 0x0000ffffu);
    cr_assert_eq(d.hi, 0x00cf9a00u);
    cr_assert_eq(d.base, 0);
    cr_assert_eq(d.limit, 0xffffffffu);
    cr_assert_eq(d.type, 0xa);
    cr_assert_eq(d.s, 1);
    cr_assert_eq(d.dpl, 0);
    cr_assert_eq(d.p, 1);
    cr_assert_eq(d.db, 1);
    cr_assert_eq(d.g, 1);
    cr_assert(desc_is_code(&d));
    cr_assert_not(desc_is_conforming(&d));
    cr_assert_not(desc_is_writable_data(&d));
}

Test(desc, flat_ring0_data_is_writable_data_not_code)
{
    struct desc d = dec(0x00cf92000000ffffull);
    cr_assert_eq(d.limit, 0xffffffffu);
    cr_assert_eq(d.type, 0x2);
    cr_assert_eq(d.dpl, 0);
    cr_assert_not(desc_is_code(&d));
    cr_assert(desc_is_writable_data(&d));
}

Test(desc, flat_ring3_code_and_data_carry_dpl_3)
{
    struct desc c = dec(0x00cffa000000ffffull);
    struct desc d = dec(0x00cff2000000ffffull);
    cr_assert_eq(c.dpl, 3);
    cr_assert_eq(d.dpl, 3);
    cr_assert(desc_is_code(&c));
    cr_assert(desc_is_writable_data(&d));
}

Test(desc, ring1_code_carries_dpl_1)
{
    cr_assert_eq(dec(0x00cfba000000ffffull).dpl, 1);
}

Test(desc, base_and_byte_granular_limit_are_gathered_from_their_split_fields)
{
    /* base 0x12345678, limit 0x54321, G = 0, D/B = 0, present ring-0 writable data. */
    struct desc d = dec(0x1205923456784321ull);
    cr_assert_eq(d.base, 0x12345678u);
    cr_assert_eq(d.limit, 0x54321u);
    cr_assert_eq(d.g, 0);
    cr_assert_eq(d.db, 0);
    cr_assert_eq(d.type, 0x2);
    cr_assert_eq(d.p, 1);
}

Test(desc, page_granular_limit_is_scaled_to_bytes)
{
    /* base 0xc0000000, limit 0x12 pages, G = 1, D = 1, ring-3 conforming readable code. */
    struct desc d = dec(0xc0c0fe0000000012ull);
    cr_assert_eq(d.base, 0xc0000000u);
    cr_assert_eq(d.limit, 0x12fffu);
    cr_assert_eq(d.g, 1);
    cr_assert_eq(d.db, 1);
    cr_assert_eq(d.dpl, 3);
    cr_assert_eq(d.type, 0xe);
    cr_assert(desc_is_code(&d));
    cr_assert(desc_is_conforming(&d));
}

Test(desc, not_present_descriptor_has_p_0)
{
    struct desc d = dec(0x00cf12000000ffffull);
    cr_assert_eq(d.p, 0);
    cr_assert_eq(d.s, 1);
}

Test(desc, execute_only_code_is_code_but_not_conforming)
{
    struct desc d = dec(0x00cf98000000ffffull);
    cr_assert(desc_is_code(&d));
    cr_assert_not(desc_is_conforming(&d));
}

Test(desc, readonly_data_is_not_writable_but_expand_down_writable_data_is)
{
    struct desc ro = dec(0x00cf90000000ffffull);
    struct desc ed = dec(0x00cf96000000ffffull);
    cr_assert_not(desc_is_writable_data(&ro));
    cr_assert_not(desc_is_code(&ro));
    cr_assert(desc_is_writable_data(&ed));
}

Test(desc, tss_is_a_system_descriptor_and_neither_code_nor_data)
{
    /* 32-bit available TSS (type 9: bit 3 set like code) at 0x00105000, limit 0x67. */
    struct desc d = dec(0x0000891050000067ull);
    cr_assert_eq(d.s, 0);
    cr_assert_eq(d.type, 0x9);
    cr_assert_eq(d.base, 0x00105000u);
    cr_assert_eq(d.limit, 0x67u);
    cr_assert_not(desc_is_code(&d));
    cr_assert_not(desc_is_conforming(&d));
    cr_assert_not(desc_is_writable_data(&d));
}

Test(desc, ldt_descriptor_is_not_writable_data)
{
    /* LDT: type 2 (like writable data) but S = 0. */
    struct desc d = dec(0x0000821050000067ull);
    cr_assert_eq(d.type, 0x2);
    cr_assert_not(desc_is_writable_data(&d));
}

Test(gate, interrupt_gate_decodes_selector_offset_type_and_dpl)
{
    struct gate g = gdec(0xc0108e0000081234ull);
    cr_assert_eq(g.selector, 0x08);
    cr_assert_eq(g.offset, 0xc0101234u);
    cr_assert_eq(g.type, GATE_INT32);
    cr_assert_eq(g.dpl, 0);
    cr_assert(g.present);
}

Test(gate, ring3_trap_gate_decodes_as_trap_with_dpl_3)
{
    struct gate g = gdec(0x0010ef0000105678ull);
    cr_assert_eq(g.selector, 0x10);
    cr_assert_eq(g.offset, 0x00105678u);
    cr_assert_eq(g.type, GATE_TRAP32);
    cr_assert_eq(g.dpl, 3);
    cr_assert(g.present);
}

Test(gate, task_gate_carries_the_tss_selector)
{
    struct gate g = gdec(0x0000850000280000ull);
    cr_assert_eq(g.type, GATE_TASK);
    cr_assert_eq(g.selector, 0x28);
    cr_assert(g.present);
}

Test(gate, sixteen_bit_gates_have_their_own_types)
{
    cr_assert_eq(gdec(0x0000860000081234ull).type, GATE_INT16);
    cr_assert_eq(gdec(0x0000870000081234ull).type, GATE_TRAP16);
}

Test(gate, not_present_gate_keeps_its_type)
{
    struct gate g = gdec(0xc0100e0000081234ull);
    cr_assert_not(g.present);
    cr_assert_eq(g.type, GATE_INT32);
}

Test(gate, segment_descriptor_in_the_idt_matches_no_gate_type)
{
    /* A code descriptor (S = 1, type 0xa) where a gate should be: the S bit is part of `type`. */
    struct gate g = gdec(0x00cf9a000000ffffull);
    cr_assert_eq(g.type, 0x1a);
    cr_assert_neq(g.type, GATE_INT32);
    cr_assert_neq(g.type, GATE_TRAP32);
}
