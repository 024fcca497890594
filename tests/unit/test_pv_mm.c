/*
 * test_pv_mm.c — Xen-style page types of emu/modes/pv_mm.h on hand-built tables in a byte array.
 *
 * The domain owns 64 frames of zeroed RAM; the hypervisor owns linear 0xFC000000 and up (PDE 1008
 * and up). Unless a test says otherwise the tables are:
 *
 *   frame 1  L2:  PDE 0 -> L1 2,  PDE 1 -> L1 3,  PDE 2 -> L1 2 again
 *   frame 2  L1:  PTE 0 -> 10 writable, PTE 1 -> 11 writable, PTE 2 -> 12 read-only
 *   frame 3  L1:  PTE 0 -> 10 writable, PTE 7 -> 13 read-only
 *
 * so pinning frame 1 validates three tables (L1 2 once although named twice) over 3 + 3 + 2
 * present entries, and leaves frame 10 with two writable references. Every refusal is checked to
 * leave every frame's state and all of RAM exactly as before.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "emu/modes/pv_mm.h"

#define NR_FRAMES 64u
#define HV_BASE 0xFC000000u
#define HV_SLOT (HV_BASE >> 22)
#define P 0x001u
#define W 0x002u
#define U 0x004u
#define PS 0x080u
#define MA(frame, index) (((uint32_t)(frame) << 12) + 4u * (index))
#define E(frame, flags) (((uint32_t)(frame) << 12) | (flags))

static uint8_t ram[NR_FRAMES * 4096];
static struct pvmm pm;

struct validation {
    uint32_t frame;
    int level;
    unsigned checked;
    int outcome;
};
static struct validation seen[64];
static unsigned nseen;

static void record(void *opaque, uint32_t frame, int level, unsigned checked, int outcome)
{
    cr_assert_lt(nseen, 64u);
    seen[nseen++] = (struct validation){frame, level, checked, outcome};
}

static void put(uint32_t frame, unsigned index, uint32_t v)
{
    memcpy(ram + MA(frame, index), &v, 4);
}

static uint32_t get(uint32_t frame, unsigned index)
{
    uint32_t v;
    memcpy(&v, ram + MA(frame, index), 4);
    return v;
}

static void setup(void)
{
    memset(ram, 0, sizeof ram);
    cr_assert_eq(pvmm_init(&pm, ram, NR_FRAMES, HV_BASE), 0);
    pm.on_validate = record;
    nseen = 0;
    put(1, 0, E(2, P | W | U));
    put(1, 1, E(3, P | W | U));
    put(1, 2, E(2, P | W | U));
    put(2, 0, E(10, P | W));
    put(2, 1, E(11, P | W));
    put(2, 2, E(12, P));
    put(3, 0, E(10, P | W));
    put(3, 7, E(13, P));
}

static void teardown(void) { pvmm_free(&pm); }

TestSuite(pv_mm, .init = setup, .fini = teardown);

/* ---- state snapshots ---- */

static struct pvmm_frame frames_before[NR_FRAMES];
static uint8_t ram_before[sizeof ram];
static uint64_t refusals_before;

static void snapshot(void)
{
    memcpy(frames_before, pm.frames, sizeof frames_before);
    memcpy(ram_before, ram, sizeof ram);
    refusals_before = pm.counters.refusals;
}

/* The request just refused changed nothing, was counted once and explained. */
static void assert_unchanged(void)
{
    for (uint32_t f = 0; f < NR_FRAMES; f++) {
        const struct pvmm_frame *a = &frames_before[f], *b = &pm.frames[f];
        cr_assert(a->type == b->type && a->type_count == b->type_count &&
                      a->pinned == b->pinned && a->validated == b->validated,
                  "frame %u changed: type %u->%u count %u->%u pinned %u->%u validated %u->%u", f,
                  a->type, b->type, a->type_count, b->type_count, a->pinned, b->pinned,
                  a->validated, b->validated);
    }
    cr_assert(memcmp(ram_before, ram, sizeof ram) == 0, "RAM changed");
    cr_assert_eq(pm.counters.refusals, refusals_before + 1);
    cr_assert_neq(pm.last_error[0], '\0', "a refusal without a reason");
}

static void assert_frame(uint32_t f, int type, uint32_t count, int pinned, int validated)
{
    const struct pvmm_frame *fr = &pm.frames[f];
    cr_assert_eq(fr->type_count, count, "frame %u: %u references, expected %u", f, fr->type_count,
                 count);
    if (count > 0)
        cr_assert_eq(fr->type, type, "frame %u is %s, expected %s", f, pvmm_type_name[fr->type],
                     pvmm_type_name[type]);
    cr_assert_eq(fr->pinned, pinned, "frame %u pinned = %u", f, fr->pinned);
    cr_assert_eq(fr->validated, validated, "frame %u validated = %u", f, fr->validated);
}

/* One frame's expected state: type, type references, pinned, validated (as assert_frame). */
struct frame_want {
    uint32_t frame;
    int type;
    uint32_t count;
    int pinned;
    int validated;
};

static void assert_frame_table(const struct frame_want *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_frame(w[i].frame, w[i].type, w[i].count, w[i].pinned, w[i].validated);
}

/* assert_frames({frame, type, count, pinned, validated}, ...): each frame is in that state. */
#define assert_frames(...)                                                                     \
    assert_frame_table((const struct frame_want[]){__VA_ARGS__},                               \
                       sizeof((const struct frame_want[]){__VA_ARGS__}) /                      \
                           sizeof(struct frame_want))

static void assert_validation_table(const struct validation *w, unsigned n)
{
    cr_assert_eq(nseen, n, "%u validations reported, expected %u", nseen, n);
    for (unsigned i = 0; i < n; i++)
        cr_assert(seen[i].frame == w[i].frame && seen[i].level == w[i].level &&
                      seen[i].checked == w[i].checked && seen[i].outcome == w[i].outcome,
                  "validation %u: frame %u level %d checked %u outcome %d, expected frame %u "
                  "level %d checked %u outcome %d", i, seen[i].frame, seen[i].level,
                  seen[i].checked, seen[i].outcome, w[i].frame, w[i].level, w[i].checked,
                  w[i].outcome);
}

/* assert_validations({frame, level, checked, outcome}, ...): exactly these were reported, in
 * this order. */
#define assert_validations(...)                                                                \
    assert_validation_table((const struct validation[]){__VA_ARGS__},                          \
                            sizeof((const struct validation[]){__VA_ARGS__}) /                 \
                                sizeof(struct validation))

static void pin_default_l2(void)
{
    cr_assert_eq(pvmm_pin(&pm, 1, 2), 0, "%s", pm.last_error);
}

/* ---- validation ---- */

Test(pv_mm, pinning_an_l2_validates_it_and_each_of_its_l1s_exactly_once)
{
    pin_default_l2();
    assert_validations({2, 1, 3, 0}, {3, 1, 2, 0}, {1, 2, 3, 0});
    cr_assert_eq(pm.counters.validations, 3u);
    cr_assert_eq(pm.counters.entries_checked, 8u);
    cr_assert_eq(pm.counters.refusals, 0u);
    assert_frames({1, PVMM_L2, 1, 1, 1}, {2, PVMM_L1, 2, 0, 1}, {3, PVMM_L1, 1, 0, 1},
                  {10, PVMM_WRITABLE, 2, 0, 1}, {11, PVMM_WRITABLE, 1, 0, 1},
                  {12, PVMM_NONE, 0, 0, 0}, {13, PVMM_NONE, 0, 0, 0});
}

Test(pv_mm, pinning_an_l1_alone_validates_only_that_table)
{
    cr_assert_eq(pvmm_pin(&pm, 3, 1), 0);
    cr_assert_eq(nseen, 1u);
    cr_assert_eq(seen[0].checked, 2u);
    assert_frame(3, PVMM_L1, 1, 1, 1);
    assert_frame(10, PVMM_WRITABLE, 1, 0, 1);
}

Test(pv_mm, pinning_a_pinned_frame_again_fails_with_eexist_and_changes_nothing)
{
    pin_default_l2();
    snapshot();
    cr_assert_eq(pvmm_pin(&pm, 1, 2), -EEXIST);
    assert_unchanged();
    cr_assert_eq(pvmm_pin(&pm, 1, 1), -EEXIST);
    cr_assert_eq(pm.counters.validations, 3u, "a refused pin validated something");
}

Test(pv_mm, a_pte_naming_a_frame_beyond_the_domain_is_refused_and_changes_nothing)
{
    put(3, 9, E(NR_FRAMES, P));
    snapshot();
    cr_assert_eq(pvmm_pin(&pm, 1, 2), -EINVAL);
    assert_unchanged();
    cr_assert(strstr(pm.last_error, "beyond") != NULL, "reason: %s", pm.last_error);
    /* L1 2 passed, then L1 3 and so the L2 failed: all reported, all undone; the L2 stopped at
     * its refused PDE (the second). */
    assert_validations({2, 1, 3, 0}, {3, 1, 3, -EINVAL}, {1, 2, 2, -EINVAL});
}

Test(pv_mm, a_refused_pin_leaves_no_trace_so_a_fixed_table_then_pins)
{
    put(3, 9, E(NR_FRAMES + 5, P | W));
    snapshot();
    cr_assert_eq(pvmm_pin(&pm, 1, 2), -EINVAL);
    assert_unchanged();
    put(3, 9, 0);
    pin_default_l2();
    assert_frame(10, PVMM_WRITABLE, 2, 0, 1);
    cr_assert_eq(pm.last_error[0], '\0');
}

Test(pv_mm, an_l2_with_a_present_pde_in_the_hypervisor_range_fails_validation)
{
    put(1, HV_SLOT, E(4, P | W));
    snapshot();
    cr_assert_eq(pvmm_pin(&pm, 1, 2), -EINVAL);
    assert_unchanged();
    cr_assert(strstr(pm.last_error, "hypervisor") != NULL, "reason: %s", pm.last_error);
}

Test(pv_mm, a_non_present_pde_in_the_hypervisor_range_is_not_checked)
{
    put(1, HV_SLOT, 0xfffffffeu);
    put(1, 1023, E(NR_FRAMES + 1, 0));
    pin_default_l2();
    cr_assert_eq(seen[2].checked, 3u);
}

Test(pv_mm, a_4mib_pde_fails_validation)
{
    put(1, 5, E(4, P | W | PS));
    snapshot();
    cr_assert_eq(pvmm_pin(&pm, 1, 2), -EINVAL);
    assert_unchanged();
}

Test(pv_mm, an_l2_naming_itself_as_an_l1_fails_validation)
{
    put(1, 3, E(1, P | W));
    snapshot();
    cr_assert_eq(pvmm_pin(&pm, 1, 2), -EINVAL);
    assert_unchanged();
}

Test(pv_mm, an_l1_mapping_itself_writable_fails_validation)
{
    put(3, 8, E(3, P | W));
    snapshot();
    cr_assert_eq(pvmm_pin(&pm, 3, 1), -EINVAL);
    assert_unchanged();
}

Test(pv_mm, an_l1_may_map_itself_and_other_tables_read_only)
{
    put(3, 8, E(3, P));
    put(3, 9, E(1, P));
    put(3, 10, E(2, P));
    pin_default_l2();
    assert_frame(3, PVMM_L1, 1, 0, 1);
}

/* ---- never a table and writable at once ---- */

Test(pv_mm, a_writable_mapping_of_a_pinned_table_is_refused_with_ebusy)
{
    pin_default_l2();
    snapshot();
    cr_assert_eq(pvmm_mmu_update(&pm, MA(2, 5), E(3, P | W)), -EBUSY);
    assert_unchanged();
    snapshot();
    cr_assert_eq(pvmm_mmu_update(&pm, MA(2, 5), E(1, P | W)), -EBUSY);
    assert_unchanged();
    cr_assert_eq(pvmm_mmu_update(&pm, MA(2, 5), E(1, P)), 0, "read-only is fine");
}

Test(pv_mm, a_frame_mapped_writable_cannot_be_pinned_as_a_table)
{
    pin_default_l2();
    snapshot();
    cr_assert_eq(pvmm_pin(&pm, 10, 1), -EBUSY);
    assert_unchanged();
    snapshot();
    cr_assert_eq(pvmm_pin(&pm, 11, 2), -EBUSY);
    assert_unchanged();
}

Test(pv_mm, an_l1_mapping_a_pinned_table_writable_cannot_be_pinned)
{
    cr_assert_eq(pvmm_pin(&pm, 3, 1), 0);
    put(4, 0, E(3, P | W));
    snapshot();
    cr_assert_eq(pvmm_pin(&pm, 4, 1), -EINVAL);
    assert_unchanged();
}

Test(pv_mm, a_pde_naming_a_writable_frame_is_refused_with_ebusy)
{
    pin_default_l2();
    snapshot();
    cr_assert_eq(pvmm_mmu_update(&pm, MA(1, 4), E(10, P | W)), -EBUSY);
    assert_unchanged();
}

Test(pv_mm, a_descriptor_page_cannot_be_mapped_writable)
{
    pin_default_l2();
    cr_assert_eq(pvmm_get_type(&pm, 20, PVMM_SEGDESC), 0);
    snapshot();
    cr_assert_eq(pvmm_mmu_update(&pm, MA(2, 5), E(20, P | W)), -EBUSY);
    assert_unchanged();
}

/* ---- mmu_update ---- */

Test(pv_mm, mmu_update_moves_writable_references_from_the_old_target_to_the_new)
{
    pin_default_l2();
    cr_assert_eq(pvmm_mmu_update(&pm, MA(2, 0), E(14, P | W)), 0, "%s", pm.last_error);
    cr_assert_eq(get(2, 0), E(14, P | W));
    assert_frame(10, PVMM_WRITABLE, 1, 0, 1);
    assert_frame(14, PVMM_WRITABLE, 1, 0, 1);
    cr_assert_eq(pvmm_mmu_update(&pm, MA(2, 0), E(14, P)), 0);
    assert_frame(14, PVMM_WRITABLE, 0, 0, 1);
    cr_assert_eq(pvmm_mmu_update(&pm, MA(3, 0), 0), 0);
    assert_frame(10, PVMM_WRITABLE, 0, 0, 1);
    cr_assert_eq(pm.counters.validations, 3u, "entry updates are not table validations");
}

Test(pv_mm, mmu_update_rewriting_the_same_writable_entry_keeps_its_count)
{
    pin_default_l2();
    cr_assert_eq(pvmm_mmu_update(&pm, MA(2, 1), E(11, P | W | 0x20)), 0);
    assert_frame(11, PVMM_WRITABLE, 1, 0, 1);
}

Test(pv_mm, mmu_update_of_a_pde_validates_a_new_l1_once_and_frees_it_with_its_last_pde)
{
    pin_default_l2();
    put(4, 3, E(15, P | W));
    cr_assert_eq(pvmm_mmu_update(&pm, MA(1, 6), E(4, P | W)), 0, "%s", pm.last_error);
    cr_assert_eq(nseen, 4u);
    cr_assert_eq(seen[3].frame, 4u);
    cr_assert_eq(seen[3].checked, 1u);
    assert_frame(4, PVMM_L1, 1, 0, 1);
    assert_frame(15, PVMM_WRITABLE, 1, 0, 1);
    cr_assert_eq(pvmm_mmu_update(&pm, MA(1, 7), E(4, P)), 0);
    cr_assert_eq(nseen, 4u, "an L1 in use is not validated again");
    assert_frame(4, PVMM_L1, 2, 0, 1);
    cr_assert_eq(pvmm_mmu_update(&pm, MA(1, 6), 0), 0);
    cr_assert_eq(pvmm_mmu_update(&pm, MA(1, 7), 0), 0);
    assert_frame(4, PVMM_L1, 0, 0, 0);
    assert_frame(15, PVMM_WRITABLE, 0, 0, 1);
    cr_assert_eq(pvmm_get_type(&pm, 4, PVMM_WRITABLE), 0, "a freed table is ordinary memory");
}

Test(pv_mm, mmu_update_of_a_pde_naming_an_invalid_l1_is_refused_and_changes_nothing)
{
    pin_default_l2();
    put(4, 0, E(16, P | W));
    put(4, 1, E(NR_FRAMES * 2, P));
    snapshot();
    cr_assert_eq(pvmm_mmu_update(&pm, MA(1, 6), E(4, P | W)), -EINVAL);
    assert_unchanged();
    cr_assert_eq(seen[nseen - 1].outcome, -EINVAL);
}

Test(pv_mm, mmu_update_on_a_frame_that_is_not_a_table_in_use_is_refused)
{
    pin_default_l2();
    uint32_t targets[] = {20 /* never typed */, 10 /* writable */, 12 /* mapped read-only */};
    for (unsigned i = 0; i < 3; i++) {
        snapshot();
        cr_assert_eq(pvmm_mmu_update(&pm, MA(targets[i], 0), E(30, P)), -EINVAL);
        assert_unchanged();
    }
    cr_assert_eq(pvmm_unpin(&pm, 1), 0);
    snapshot();
    cr_assert_eq(pvmm_mmu_update(&pm, MA(2, 0), 0), -EINVAL, "an L1 no longer in use");
    assert_unchanged();
}

Test(pv_mm, mmu_update_of_a_pde_in_the_hypervisor_range_is_refused_with_eperm)
{
    pin_default_l2();
    uint32_t vals[] = {0, E(4, P | W)};
    for (unsigned s = HV_SLOT; s < 1024; s += 1023 - HV_SLOT)
        for (unsigned i = 0; i < 2; i++) {
            snapshot();
            cr_assert_eq(pvmm_mmu_update(&pm, MA(1, s), vals[i]), -EPERM);
            assert_unchanged();
        }
    cr_assert_eq(pvmm_mmu_update(&pm, MA(1, HV_SLOT - 1), E(4, P | W)), 0, "the last guest PDE");
}

Test(pv_mm, mmu_update_of_a_4mib_pde_is_refused)
{
    pin_default_l2();
    snapshot();
    cr_assert_eq(pvmm_mmu_update(&pm, MA(1, 6), E(4, P | W | PS)), -EINVAL);
    assert_unchanged();
}

Test(pv_mm, mmu_update_with_a_misaligned_or_out_of_range_pointer_is_refused)
{
    pin_default_l2();
    uint32_t ptrs[] = {MA(2, 0) + 1, MA(2, 4) + 2, MA(NR_FRAMES, 0), 0xfffffffcu};
    for (unsigned i = 0; i < 4; i++) {
        snapshot();
        cr_assert_eq(pvmm_mmu_update(&pm, ptrs[i], 0), -EINVAL, "ptr 0x%08x", ptrs[i]);
        assert_unchanged();
    }
}

Test(pv_mm, mmu_update_of_a_pte_naming_a_frame_beyond_the_domain_is_refused)
{
    pin_default_l2();
    snapshot();
    cr_assert_eq(pvmm_mmu_update(&pm, MA(2, 0), E(NR_FRAMES, P | W)), -EINVAL);
    assert_unchanged();
    cr_assert_eq(get(2, 0), E(10, P | W));
}

/* ---- base pointer ---- */

Test(pv_mm, new_baseptr_to_an_unvalidated_frame_validates_it_and_moves_l2_references)
{
    uint32_t base = 0;
    cr_assert_eq(pvmm_new_baseptr(&pm, 1, &base), 0, "%s", pm.last_error);
    cr_assert_eq(base, 1u);
    cr_assert_eq(nseen, 3u);
    assert_frame(1, PVMM_L2, 1, 0, 1);

    put(5, 0, E(3, P | W));
    cr_assert_eq(pvmm_new_baseptr(&pm, 5, &base), 0, "%s", pm.last_error);
    cr_assert_eq(base, 5u);
    cr_assert_eq(nseen, 4u, "only the new L2 is validated: its L1 was in use");
    assert_frames({5, PVMM_L2, 1, 0, 1}, {1, PVMM_L2, 0, 0, 0}, {2, PVMM_L1, 0, 0, 0},
                  {3, PVMM_L1, 1, 0, 1}, {10, PVMM_WRITABLE, 1, 0, 1},
                  {11, PVMM_WRITABLE, 0, 0, 1});
}

Test(pv_mm, new_baseptr_to_a_pinned_l2_does_not_validate_it_again)
{
    pin_default_l2();
    uint32_t base = 0;
    cr_assert_eq(pvmm_new_baseptr(&pm, 1, &base), 0);
    cr_assert_eq(pvmm_new_baseptr(&pm, 1, &base), 0);
    cr_assert_eq(nseen, 3u);
    assert_frame(1, PVMM_L2, 2, 1, 1);
}

Test(pv_mm, new_baseptr_to_an_invalid_frame_is_refused_and_keeps_the_old_base)
{
    uint32_t base = 0;
    cr_assert_eq(pvmm_new_baseptr(&pm, 1, &base), 0);
    put(5, 0, E(3, P | W));
    put(5, 1, E(NR_FRAMES + 3, P | W));
    snapshot();
    cr_assert_eq(pvmm_new_baseptr(&pm, 5, &base), -EINVAL);
    assert_unchanged();
    cr_assert_eq(base, 1u);
    snapshot();
    cr_assert_eq(pvmm_new_baseptr(&pm, 10, &base), -EBUSY, "a writable frame");
    assert_unchanged();
    snapshot();
    cr_assert_eq(pvmm_new_baseptr(&pm, 0, &base), -EINVAL, "0 means none");
    assert_unchanged();
    snapshot();
    cr_assert_eq(pvmm_new_baseptr(&pm, NR_FRAMES, &base), -EINVAL);
    assert_unchanged();
    cr_assert_eq(base, 1u);
}

Test(pv_mm, new_baseptr_with_a_current_base_that_is_not_an_l2_in_use_is_refused)
{
    uint32_t base = 7;
    snapshot();
    cr_assert_eq(pvmm_new_baseptr(&pm, 1, &base), -EINVAL);
    assert_unchanged();
    cr_assert_eq(base, 7u);
}

/* ---- pin life cycle and type references ---- */

Test(pv_mm, unpin_then_repin_validates_again)
{
    pin_default_l2();
    cr_assert_eq(pvmm_unpin(&pm, 1), 0);
    for (uint32_t f = 0; f < NR_FRAMES; f++)
        cr_assert_eq(pm.frames[f].type_count, 0u, "frame %u still referenced", f);
    assert_frame(1, PVMM_L2, 0, 0, 0);
    pin_default_l2();
    cr_assert_eq(pm.counters.validations, 6u);
    cr_assert_eq(pm.counters.entries_checked, 16u);
    assert_frame(10, PVMM_WRITABLE, 2, 0, 1);
}

Test(pv_mm, unpin_of_a_table_still_in_use_keeps_it_validated)
{
    pin_default_l2();
    cr_assert_eq(pvmm_pin(&pm, 3, 1), 0);
    cr_assert_eq(pvmm_unpin(&pm, 1), 0);
    assert_frame(3, PVMM_L1, 1, 1, 1);
    assert_frame(2, PVMM_L1, 0, 0, 0);
    cr_assert_eq(pvmm_unpin(&pm, 3), 0);
    cr_assert_eq(pvmm_pin(&pm, 1, 2), 0);
    cr_assert_eq(pm.counters.validations, 6u);
}

Test(pv_mm, unpin_of_a_frame_that_is_not_pinned_is_refused)
{
    cr_assert_eq(pvmm_get_type(&pm, 3, PVMM_L1), 0);
    uint32_t frames[] = {3, 20, NR_FRAMES};
    for (unsigned i = 0; i < 3; i++) {
        snapshot();
        cr_assert_eq(pvmm_unpin(&pm, frames[i]), -EINVAL);
        assert_unchanged();
    }
}

Test(pv_mm, put_type_to_zero_makes_a_table_usable_as_writable_again)
{
    cr_assert_eq(pvmm_get_type(&pm, 2, PVMM_L1), 0);
    snapshot();
    cr_assert_eq(pvmm_get_type(&pm, 2, PVMM_WRITABLE), -EBUSY);
    assert_unchanged();
    pvmm_put_type(&pm, 2);
    assert_frame(2, PVMM_L1, 0, 0, 0);
    assert_frame(10, PVMM_WRITABLE, 0, 0, 1);
    cr_assert_eq(pvmm_get_type(&pm, 2, PVMM_WRITABLE), 0);
    assert_frame(2, PVMM_WRITABLE, 1, 0, 1);
}

Test(pv_mm, a_writable_frame_becomes_a_table_once_its_last_writable_reference_goes)
{
    cr_assert_eq(pvmm_get_type(&pm, 3, PVMM_WRITABLE), 0);
    snapshot();
    cr_assert_eq(pvmm_get_type(&pm, 3, PVMM_L1), -EBUSY);
    assert_unchanged();
    pvmm_put_type(&pm, 3);
    cr_assert_eq(pvmm_pin(&pm, 3, 1), 0);
}

Test(pv_mm, put_type_misuse_is_ignored_and_counted)
{
    cr_assert_eq(pvmm_pin(&pm, 3, 1), 0);
    uint32_t frames[] = {3 /* only the pin's reference */, 20 /* none */, NR_FRAMES};
    for (unsigned i = 0; i < 3; i++) {
        snapshot();
        pvmm_put_type(&pm, frames[i]);
        assert_unchanged();
    }
}

Test(pv_mm, get_type_of_a_bad_type_or_frame_is_refused)
{
    int types[] = {PVMM_NONE, 5, -1};
    for (unsigned i = 0; i < 3; i++) {
        snapshot();
        cr_assert_eq(pvmm_get_type(&pm, 20, types[i]), -EINVAL);
        assert_unchanged();
    }
    snapshot();
    cr_assert_eq(pvmm_get_type(&pm, NR_FRAMES, PVMM_WRITABLE), -EINVAL);
    assert_unchanged();
    snapshot();
    cr_assert_eq(pvmm_pin(&pm, 3, 3), -EINVAL);
    assert_unchanged();
}

/* ---- update_va_mapping helper ---- */

Test(pv_mm, va_to_l1e_gives_the_machine_address_of_the_pte)
{
    pin_default_l2();
    uint32_t ptr = 0;
    cr_assert_eq(pvmm_va_to_l1e(&pm, 1, 0x00407123u, &ptr), 0);
    cr_assert_eq(ptr, MA(3, 7));
    cr_assert_eq(pvmm_va_to_l1e(&pm, 1, 0x00801000u, &ptr), 0);
    cr_assert_eq(ptr, MA(2, 1));
    cr_assert_eq(pvmm_mmu_update(&pm, ptr, E(11, P)), 0, "the address is updatable");
}

Test(pv_mm, va_to_l1e_fails_without_a_present_pde_or_in_the_hypervisor_range)
{
    pin_default_l2();
    uint32_t ptr = 0xdead;
    snapshot();
    cr_assert_eq(pvmm_va_to_l1e(&pm, 1, 0x01000000u, &ptr), -EINVAL);
    assert_unchanged();
    snapshot();
    cr_assert_eq(pvmm_va_to_l1e(&pm, 1, HV_BASE + 0x1000, &ptr), -EPERM);
    assert_unchanged();
    snapshot();
    cr_assert_eq(pvmm_va_to_l1e(&pm, 2, 0, &ptr), -EINVAL, "frame 2 is an L1");
    assert_unchanged();
    cr_assert_eq(ptr, 0xdeadu);
}

/* ---- set-up ---- */

Test(pv_mm, init_refuses_bad_arguments)
{
    struct pvmm other;
    cr_assert_eq(pvmm_init(&other, NULL, 4, HV_BASE), -EINVAL);
    cr_assert_eq(pvmm_init(&other, ram, 0, HV_BASE), -EINVAL);
    cr_assert_eq(pvmm_init(&other, ram, 4, 0), -EINVAL);
    cr_assert_eq(pvmm_init(&other, ram, 4, HV_BASE + 0x1000), -EINVAL);
    pvmm_free(&other);
}
