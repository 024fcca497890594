/*
 * test_uc_hook_table.c — the code-hook table (emu/link/uc_hook_table.c) answers exactly when
 * Unicorn's walk would call one callback, and leaves every other case to Unicorn.
 *
 * This executable is linked like vmlab (Unicorn's static archive, the table and its --wrap
 * options: vmlab_hook_table in cmake/static_engine.cmake); without the archive every test is
 * skipped. Each test opens a bare 32-bit engine (flat segments, paging off, CPL 0) with 64 KiB at
 * 0 and runs, 100 times, a loop whose two nops are the hooked instructions A and B:
 *     mov ecx, 100; L: inc eax; nop (A); nop (B); dec ecx; jnz L; hlt
 * Dummy hooks sit on addresses never executed, so that the engine has more than one code hook
 * (with one, Unicorn calls it directly and neither the walk nor the table is involved).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "emu/link/uc_hook_table.h"

#define CODE 0x1000u
#define OUT_CODE 0x2000u
#define A (CODE + 6)
#define B (CODE + 7)
#define NEVER 0x8000u
#define ROUNDS 100

static const uint8_t loop[] = {0xb9, ROUNDS, 0, 0, 0, 0x40, 0x90, 0x90, 0x49, 0x75, 0xfa, 0xf4};

static uc_engine *uc;
static unsigned calls_a, calls_a2, calls_b, calls_range, calls_out;

static void setup(void)
{
#ifndef VMLAB_HOOK_TABLE
    cr_assert_fail("test_uc_hook_table is built without Unicorn's static archive: the code-hook "
                   "table it tests is not linked (cmake/static_engine.cmake)");
#endif
    cr_assert_eq(uc_open(UC_ARCH_X86, UC_MODE_32, &uc), UC_ERR_OK);
    cr_assert_eq(uc_mem_map(uc, 0, 0x10000, UC_PROT_ALL), UC_ERR_OK);
    cr_assert_eq(uc_mem_write(uc, CODE, loop, sizeof loop), UC_ERR_OK);
    calls_a = calls_a2 = calls_b = calls_range = calls_out = 0;
}

static void teardown(void)
{
    if (uc)
        uc_close(uc);
}

TestSuite(uc_hook_table, .init = setup, .fini = teardown);

static void on_a(uc_engine *u, uint64_t addr, uint32_t size, void *opaque)
{
    (void)u;
    (void)size;
    (void)opaque;
    cr_assert_eq(addr, A);
    calls_a++;
}

static void on_a2(uc_engine *u, uint64_t addr, uint32_t size, void *opaque)
{
    (void)u;
    (void)addr;
    (void)size;
    (void)opaque;
    calls_a2++;
}

static void on_b(uc_engine *u, uint64_t addr, uint32_t size, void *opaque)
{
    (void)u;
    (void)size;
    (void)opaque;
    cr_assert_eq(addr, B);
    calls_b++;
}

static void on_range(uc_engine *u, uint64_t addr, uint32_t size, void *opaque)
{
    (void)u;
    (void)addr;
    (void)size;
    (void)opaque;
    calls_range++;
}

static void stop_on_out(uc_engine *u, uint32_t port, int size, uint32_t value, void *opaque)
{
    (void)port;
    (void)size;
    (void)value;
    (void)opaque;
    calls_out++;
    uc_emu_stop(u);
}

static uc_hook hook(void *cb, uint64_t begin, uint64_t end)
{
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_CODE, cb, NULL, begin, end), UC_ERR_OK);
    return h;
}

static void dummies(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        hook((void *)on_range, NEVER + i, NEVER + i);
}

static void run(size_t count)
{
    cr_assert_eq(uc_emu_start(uc, CODE, 0, 0, count), UC_ERR_OK);
}

Test(uc_hook_table, answers_single_address_hooks_among_many)
{
    dummies(9);
    hook((void *)on_a, A, A);
    hook((void *)on_b, B, B);
    run(0);
    cr_assert_eq(calls_a, ROUNDS);
    cr_assert_eq(calls_b, ROUNDS);
    cr_assert_eq(calls_range, 0);
    cr_assert_eq(uc_hook_table_answered(uc), 2 * ROUNDS);
}

Test(uc_hook_table, leaves_an_address_a_range_hook_covers_to_unicorn)
{
    dummies(3);
    hook((void *)on_a, A, A);
    hook((void *)on_range, A, B);
    run(0);
    cr_assert_eq(calls_a, ROUNDS);
    cr_assert_eq(calls_range, 2 * ROUNDS);
    cr_assert_eq(uc_hook_table_answered(uc), 0);
}

Test(uc_hook_table, leaves_two_hooks_on_one_address_to_unicorn)
{
    dummies(3);
    hook((void *)on_a, A, A);
    hook((void *)on_a2, A, A);
    run(0);
    cr_assert_eq(calls_a, ROUNDS);
    cr_assert_eq(calls_a2, ROUNDS);
    cr_assert_eq(uc_hook_table_answered(uc), 0);
}

Test(uc_hook_table, never_calls_a_deleted_hook)
{
    dummies(3);
    uc_hook h = hook((void *)on_a, A, A);
    hook((void *)on_b, B, B);
    cr_assert_eq(uc_hook_del(uc, h), UC_ERR_OK);
    run(0);
    cr_assert_eq(calls_a, 0);
    cr_assert_eq(calls_b, ROUNDS);
    cr_assert_eq(uc_hook_table_answered(uc), ROUNDS);
}

Test(uc_hook_table, after_a_stop_calls_no_hook_as_unicorn_does)
{
    /* out dx, al; nop (S); hlt: the OUT hook stops the CPU in the middle of the block. Unicorn's
     * walk calls no code hook once a stop is requested, and the table must not either. */
    static const uint8_t out_nop[] = {0xba, 0x80, 0, 0, 0, 0xee, 0x90, 0xf4};
    cr_assert_eq(uc_mem_write(uc, OUT_CODE, out_nop, sizeof out_nop), UC_ERR_OK);
    dummies(3);
    hook((void *)on_range, OUT_CODE + 6, OUT_CODE + 6);
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)stop_on_out, NULL, 1, 0, UC_X86_INS_OUT),
                 UC_ERR_OK);
    cr_assert_eq(uc_emu_start(uc, OUT_CODE, 0, 0, 0), UC_ERR_OK);
    cr_assert_eq(calls_out, 1);
    cr_assert_eq(calls_range, 0);
}

Test(uc_hook_table, leaves_a_counted_run_to_unicorn)
{
    dummies(3);
    hook((void *)on_a, A, A);
    run(1 + 5 * 10);  /* mov, then ten rounds of inc, nop, nop, dec, jnz */
    cr_assert_eq(calls_a, 10);
    cr_assert_eq(uc_hook_table_answered(uc), 0);
}
