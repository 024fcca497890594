/*
 * test_frames.c — the physical frame pool (guests/kernel/frames.c): usable and reserved ranges,
 * allocation order, reference counting for copy-on-write sharing, and misuse detection.
 */
#include <criterion/criterion.h>
#include "frames.h"

#define NPFN 64
#define KB4 4096u

static struct frame_pool pool;
static uint16_t refs[NPFN];
static uint32_t stack[NPFN];

static void fresh(void)
{
    frames_init(&pool, NPFN, refs, stack);
}

TestSuite(frames, .init = fresh);

Test(frames, empty_pool_allocates_nothing)
{
    cr_assert_eq(frames_seal(&pool), 0);
    cr_assert_eq(frames_alloc(&pool), 0);
}

Test(frames, add_range_keeps_only_whole_frames)
{
    frames_add_range(&pool, 0x1800, 0x5800);   /* frames 2, 3, 4 are whole */
    cr_assert_eq(frames_seal(&pool), 3);
    cr_assert_eq(frames_count(&pool, 0x1000), FRAME_RESERVED);
    cr_assert_eq(frames_count(&pool, 0x5000), FRAME_RESERVED);
}

Test(frames, add_range_is_clipped_to_the_pool)
{
    frames_add_range(&pool, 0, (uint64_t)1 << 33);
    cr_assert_eq(frames_seal(&pool), NPFN);
}

Test(frames, reserve_range_covers_partial_frames)
{
    frames_add_range(&pool, 0, NPFN * KB4);
    frames_reserve_range(&pool, 0x2800, 0x3001);    /* touches frames 2 and 3 */
    cr_assert_eq(frames_seal(&pool), NPFN - 2);
    cr_assert_eq(frames_count(&pool, 0x2000), FRAME_RESERVED);
    cr_assert_eq(frames_count(&pool, 0x3000), FRAME_RESERVED);
    cr_assert_eq(frames_count(&pool, 0x4000), 0);
}

Test(frames, sealed_pool_hands_out_lowest_address_first)
{
    frames_add_range(&pool, 0x10000, 0x14000);
    frames_seal(&pool);
    cr_assert_eq(frames_alloc(&pool), 0x10000);
    cr_assert_eq(frames_alloc(&pool), 0x11000);
    cr_assert_eq(frames_count(&pool, 0x10000), 1);
}

Test(frames, exhausted_pool_returns_zero)
{
    frames_add_range(&pool, 0x10000, 0x12000);
    frames_seal(&pool);
    cr_assert_neq(frames_alloc(&pool), 0);
    cr_assert_neq(frames_alloc(&pool), 0);
    cr_assert_eq(frames_alloc(&pool), 0);
}

Test(frames, last_unref_returns_the_frame_and_it_is_reused_first)
{
    frames_add_range(&pool, 0x10000, 0x14000);
    frames_seal(&pool);
    uint32_t a = frames_alloc(&pool);
    frames_alloc(&pool);
    uint32_t free_before = pool.nfree;
    cr_assert_eq(frames_unref(&pool, a), 0);
    cr_assert_eq(pool.nfree, free_before + 1);
    cr_assert_eq(frames_alloc(&pool), a);
}

Test(frames, shared_frame_is_freed_only_by_its_last_user)
{
    frames_add_range(&pool, 0x10000, 0x12000);
    frames_seal(&pool);
    uint32_t a = frames_alloc(&pool);
    cr_assert_eq(frames_ref(&pool, a), 2);
    cr_assert_eq(frames_ref(&pool, a), 3);
    cr_assert_eq(frames_unref(&pool, a), 2);
    cr_assert_eq(frames_unref(&pool, a), 1);
    cr_assert_eq(pool.nfree, 1);
    cr_assert_eq(frames_unref(&pool, a), 0);
    cr_assert_eq(pool.nfree, 2);
}

Test(frames, misuse_is_reported_not_absorbed)
{
    frames_add_range(&pool, 0x10000, 0x12000);
    frames_seal(&pool);
    uint32_t a = frames_alloc(&pool);
    frames_unref(&pool, a);
    cr_assert_eq(frames_unref(&pool, a), -1, "double free");
    cr_assert_eq(frames_ref(&pool, a), -1, "reference to a free frame");
    cr_assert_eq(frames_unref(&pool, 0x0), -1, "reserved frame");
    cr_assert_eq(frames_unref(&pool, NPFN * KB4), -1, "outside the pool");
    cr_assert_eq(pool.nfree, 2);
}
