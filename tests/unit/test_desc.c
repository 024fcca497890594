/*
 * test_desc.c — segment descriptors and IDT gates decoded from raw words (emu/desc.h).
 *
 * The descriptors are the ones a Multiboot kernel actually loads (flat ring-0 and ring-3 code and
 * data, a TSS) plus a few with every field set to something distinct, so a field taken from the
 * wrong bits shows. Two tables, one case a descriptor or gate, each run as its own test: a case
 * says what it shows and everything its words decode to, and every field is checked (for a
 * descriptor also the code, conforming and writable-data predicates).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "emu/desc.h"

/* What a descriptor decodes to: its fields (limit in bytes) and what the predicates say. */
struct want {
    uint32_t base, limit;
    unsigned type, s, dpl, p, db, g;
    bool code, conforming, writable;
};

/* Criterion may run each case in a fresh process of the test binary (addresses may differ there),
 * so a case carries its text, not a pointer to it. */
struct desc_case {
    char what[80];
    uint64_t raw;
    struct want w;
};

/* A present flat 4 GiB segment (base 0, limit 0xfffff pages, G = 1, D/B = 1) of type t and DPL
 * `ring`, then the predicates that hold. */
#define FLAT(t, ring, ...) \
    { .base = 0, .limit = 0xffffffffu, .type = (t), .s = 1, .dpl = (ring), .p = 1, .db = 1, \
      .g = 1, __VA_ARGS__ }

static struct desc_case desc_cases[] = {
    { "flat ring-0 code decodes to 4 GiB, present, 32-bit, readable code",
      0x00cf9a000000ffffull, FLAT(0xa, 0, .code = true) },
    { "execute-only code is code but not conforming",
      0x00cf98000000ffffull, FLAT(0x8, 0, .code = true) },
    { "read-only data is not writable", 0x00cf90000000ffffull, FLAT(0x0, 0, .writable = false) },
    { "expand-down writable data is", 0x00cf96000000ffffull, FLAT(0x6, 0, .writable = true) },
    /* 32-bit available TSS (type 9: bit 3 set like code) at 0x00105000, limit 0x67. */
    { "a TSS is a system descriptor and neither code nor data", 0x0000891050000067ull,
      { .base = 0x00105000u, .limit = 0x67u, .type = 0x9, .s = 0, .p = 1 } },
    /* LDT: type 2 (like writable data) but S = 0. */
    { "an LDT descriptor is not writable data", 0x0000821050000067ull,
      { .base = 0x00105000u, .limit = 0x67u, .type = 0x2, .s = 0, .p = 1 } },
    { "flat ring-0 data is writable data, not code",
      0x00cf92000000ffffull, FLAT(0x2, 0, .writable = true) },
    { "flat ring-3 code carries DPL 3", 0x00cffa000000ffffull, FLAT(0xa, 3, .code = true) },
    { "flat ring-3 data carries DPL 3", 0x00cff2000000ffffull, FLAT(0x2, 3, .writable = true) },
    { "ring-1 code carries DPL 1", 0x00cfba000000ffffull, FLAT(0xa, 1, .code = true) },
    /* base 0x12345678, limit 0x54321, G = 0, D/B = 0, present ring-0 writable data. */
    { "base and byte-granular limit are gathered from their split fields", 0x1205923456784321ull,
      { .base = 0x12345678u, .limit = 0x54321u, .type = 0x2, .s = 1, .dpl = 0, .p = 1, .db = 0,
        .g = 0, .writable = true } },
    /* base 0xc0000000, limit 0x12 pages, G = 1, D = 1, ring-3 conforming readable code. */
    { "a page-granular limit is scaled to bytes", 0xc0c0fe0000000012ull,
      { .base = 0xc0000000u, .limit = 0x12fffu, .type = 0xe, .s = 1, .dpl = 3, .p = 1, .db = 1,
        .g = 1, .code = true, .conforming = true } },
    { "a not-present descriptor has P = 0", 0x00cf12000000ffffull,
      { .base = 0, .limit = 0xffffffffu, .type = 0x2, .s = 1, .dpl = 0, .p = 0, .db = 1, .g = 1,
        .writable = true } },
};

ParameterizedTestParameters(desc, decodes_every_field)
{
    return cr_make_param_array(struct desc_case, desc_cases,
                               sizeof desc_cases / sizeof desc_cases[0]);
}

ParameterizedTest(struct desc_case *c, desc, decodes_every_field)
{
    const struct want *w = &c->w;
    struct desc d;
    desc_decode((uint32_t)c->raw, (uint32_t)(c->raw >> 32), &d);
    cr_assert_eq(d.lo, (uint32_t)c->raw, "%s: lo", c->what);
    cr_assert_eq(d.hi, (uint32_t)(c->raw >> 32), "%s: hi", c->what);
    cr_assert_eq(d.base, w->base, "%s: base", c->what);
    cr_assert_eq(d.limit, w->limit, "%s: limit", c->what);
    cr_assert_eq(d.type, w->type, "%s: type", c->what);
    cr_assert_eq(d.s, w->s, "%s: s", c->what);
    cr_assert_eq(d.dpl, w->dpl, "%s: dpl", c->what);
    cr_assert_eq(d.p, w->p, "%s: p", c->what);
    cr_assert_eq(d.db, w->db, "%s: db", c->what);
    cr_assert_eq(d.g, w->g, "%s: g", c->what);
    cr_assert_eq(desc_is_code(&d), w->code, "%s: desc_is_code", c->what);
    cr_assert_eq(desc_is_conforming(&d), w->conforming, "%s: desc_is_conforming", c->what);
    cr_assert_eq(desc_is_writable_data(&d), w->writable, "%s: desc_is_writable_data", c->what);
}

struct gate_case {
    char what[80];
    uint64_t raw;
    struct gate w;
};

static struct gate_case gate_cases[] = {
    { "an interrupt gate decodes selector, offset, type and DPL", 0xc0108e0000081234ull,
      { .selector = 0x08, .offset = 0xc0101234u, .type = GATE_INT32, .dpl = 0, .present = true } },
    { "a ring-3 trap gate decodes as trap with DPL 3", 0x0010ef0000105678ull,
      { .selector = 0x10, .offset = 0x00105678u, .type = GATE_TRAP32, .dpl = 3, .present = true } },
    { "a task gate carries the TSS selector", 0x0000850000280000ull,
      { .selector = 0x28, .offset = 0, .type = GATE_TASK, .dpl = 0, .present = true } },
    { "a 16-bit interrupt gate has its own type", 0x0000860000081234ull,
      { .selector = 0x08, .offset = 0x1234u, .type = GATE_INT16, .dpl = 0, .present = true } },
    { "a 16-bit trap gate has its own type", 0x0000870000081234ull,
      { .selector = 0x08, .offset = 0x1234u, .type = GATE_TRAP16, .dpl = 0, .present = true } },
    { "a not-present gate keeps its type", 0xc0100e0000081234ull,
      { .selector = 0x08, .offset = 0xc0101234u, .type = GATE_INT32, .dpl = 0, .present = false } },
    /* A code descriptor (S = 1, type 0xa) where a gate should be: the S bit is part of `type`
     * (see also segment_descriptor_in_the_idt_matches_no_gate_type). */
    { "a segment descriptor in the IDT has type 0x1a", 0x00cf9a000000ffffull,
      { .selector = 0, .offset = 0x00cfffffu, .type = 0x1a, .dpl = 0, .present = true } },
};

ParameterizedTestParameters(gate, decodes_every_field)
{
    return cr_make_param_array(struct gate_case, gate_cases,
                               sizeof gate_cases / sizeof gate_cases[0]);
}

ParameterizedTest(struct gate_case *c, gate, decodes_every_field)
{
    struct gate g;
    gate_decode((uint32_t)c->raw, (uint32_t)(c->raw >> 32), &g);
    cr_assert_eq(g.selector, c->w.selector, "%s: selector", c->what);
    cr_assert_eq(g.offset, c->w.offset, "%s: offset", c->what);
    cr_assert_eq(g.type, c->w.type, "%s: type", c->what);
    cr_assert_eq(g.dpl, c->w.dpl, "%s: dpl", c->what);
    cr_assert_eq(g.present, c->w.present, "%s: present", c->what);
}

Test(gate, segment_descriptor_in_the_idt_matches_no_gate_type)
{
    struct gate g;
    gate_decode(0x0000ffffu, 0x00cf9a00u, &g);
    cr_assert_eq(g.type, 0x1a);
    cr_assert_neq(g.type, GATE_INT32);
    cr_assert_neq(g.type, GATE_TRAP32);
}
