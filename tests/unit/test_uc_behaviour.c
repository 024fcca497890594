/*
 * test_uc_behaviour.c — the Unicorn behaviours vmlab is built around, each asserted on a bare
 * engine, so that a Unicorn upgrade that changes one fails here and not somewhere deep in a mode.
 *
 * emu/UNICORN.md lists the behaviours and names the test of each (the workarounds themselves,
 * emu/uc_quirks.h, are tested in test_uc_quirks.c). A test here asserts what Unicorn 2.1.1 does,
 * even where that is a bug: if an assertion starts failing after an upgrade, the behaviour
 * changed, and the code that relies on it (named in emu/UNICORN.md) must be looked at before the
 * assertion is.
 *
 * Each test opens a fresh 32-bit engine and hands it 4 MiB of host memory at physical 0 with
 * uc_mem_map_ptr, as the machine does with guest RAM (so host writes bypass Unicorn, as the
 * machine's do). The GDT at 0x1000 (limit 79) holds flat code and data for rings 0 (0x08, 0x10),
 * 3 (0x1b, 0x23) and 1 (0x29, 0x31), a ring-0 data segment whose limit is 1 MiB (0x38) and a
 * 32-bit TSS descriptor (0x40, base 0x1800). Hand-assembled code runs at 0x2000 with paging off
 * unless a test turns it on; the stack is below 0x8000. Privilege changes are made with
 * uq_load_segs (the CPU-state patch vmlab uses: see the SS tests for why). An interrupt hook
 * notes each exception (vector, EIP) and stops the CPU.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unicorn/unicorn.h>

#include "emu/uc_quirks.h"

#include "support_uc.h" /* the engine (uc, q), the exceptions seen, GDT, CODE, STACK */

#define RAM_BYTES (4u << 20)
#define IDT 0x1400u
#define TSS 0x1800u
#define DATA 0x9000u
#define EFL_IF (1u << 9)

static uint8_t *ram;

static uint32_t ram32(uint32_t pa)
{
    uint32_t v;
    memcpy(&v, ram + pa, 4);
    return v;
}
static void put32(uint32_t pa, uint32_t v) { memcpy(ram + pa, &v, 4); }

static const uint64_t gdt[] = {
    0,
    0x00cf9a000000ffffull,   /* 0x08 ring-0 code */
    0x00cf92000000ffffull,   /* 0x10 ring-0 data */
    0x00cffa000000ffffull,   /* 0x1b ring-3 code */
    0x00cff2000000ffffull,   /* 0x23 ring-3 data */
    0x00cfba000000ffffull,   /* 0x29 ring-1 code */
    0x00cfb2000000ffffull,   /* 0x31 ring-1 data */
    0x004f92000000ffffull,   /* 0x38 ring-0 data, byte granular, limit 0xfffff (1 MiB) */
    0x0000890018000067ull,   /* 0x40 32-bit TSS at 0x1800, limit 0x67 */
    0,
};

static void setup(void)
{
    ram = calloc(1, RAM_BYTES);
    cr_assert_not_null(ram);
    uct_open();
    cr_assert_eq(uc_mem_map_ptr(uc, 0, RAM_BYTES, UC_PROT_ALL, ram), UC_ERR_OK);
    uct_load_gdt(gdt, sizeof gdt);
    uc_x86_mmr idtr = {.base = IDT, .limit = 0x7ff};
    uc_x86_mmr tr = {.selector = 0x40, .base = TSS, .limit = 0x67, .flags = 0x8b00};
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_IDTR, &idtr), UC_ERR_OK);
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_TR, &tr), UC_ERR_OK);
    uct_enter_ring0();
    wr32(UC_X86_REG_ES, 0x10);
}

static void teardown(void)
{
    uct_close();
    free(ram);
}

TestSuite(uc_behaviour, .init = setup, .fini = teardown);

static void load_code(const uint8_t *code, size_t len) { memcpy(ram + CODE, code, len); }

/* Run from `at` until the CPU stops at `end` (or earlier: an exception, hlt). */
static uc_err run(uint32_t at, uint32_t end) { return uc_emu_start(uc, at, end, 0, 0); }

/* Run from `at` as the machine runs the CPU: exits enabled and no exit address, until hlt or an
 * exception. (An exit address given to uc_emu_start invalidates, on every call, the translation
 * that ends at it, which would hide the stale translations some tests look for.) */
static uc_err run_to_hlt(uint32_t at)
{
    uc_ctl_exits_enable(uc);
    return uc_emu_start(uc, at, 0, 0, 0);
}

/* Flat segments of ring `cpl` (1 or 3) in every segment register, CPL set, as vmlab's
 * privilege changes are made (uq_load_segs). */
static void enter_ring(int cpl)
{
    uint16_t cs_sel = cpl == 3 ? 0x1b : 0x29, ds_sel = cpl == 3 ? 0x23 : 0x31;
    uint32_t cs_flags = cpl == 3 ? 0x00cffa00u : 0x00cfba00u;
    uint32_t ds_flags = cpl == 3 ? 0x00cff200u : 0x00cfb200u;
    struct uq_seg cs = {cs_sel, 0, 0xffffffffu, cs_flags};
    struct uq_seg ds = {ds_sel, 0, 0xffffffffu, ds_flags};
    const struct uq_seg *segs[UQ_NSEG] = {&ds, &cs, &ds, &ds, &ds, &ds};
    cr_assert_eq(uq_load_segs(&q, uc, segs, cpl, NULL), 0);
    cr_assert_eq(uq_cpl(&q, uc), cpl);
}

/* ---- privilege: CPL and SS ------------------------------------------------------------------ */

Test(uc_behaviour, ss_write_of_a_selector_of_another_privilege_is_refused)
{
    uint32_t sel = 0x23;
    cr_assert_neq(uc_reg_write(uc, UC_X86_REG_SS, &sel), UC_ERR_OK);
    cr_assert_eq(rd32(UC_X86_REG_SS), 0x10);
    cr_assert_eq(uq_cpl(&q, uc), 0);
}

Test(uc_behaviour, cs_write_of_a_ring3_selector_leaves_the_cpl_at_0)
{
    wr32(UC_X86_REG_CS, 0x1b);
    cr_assert_eq(rd32(UC_X86_REG_CS), 0x1b);
    cr_assert_eq(uq_cpl(&q, uc), 0);
}

Test(uc_behaviour, ss_write_is_accepted_once_hflags_carry_its_privilege)
{
    cr_assert_eq(uq_reset_exception(&q, uc, 3), 0);
    uint32_t sel = 0x23;
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_SS, &sel), UC_ERR_OK);
    cr_assert_eq(rd32(UC_X86_REG_SS), 0x23);
}

Test(uc_behaviour, guest_iretd_to_ring3_sets_the_cpl_from_the_new_ss)
{
    /* push 0x23 (ss); push 0x7000 (esp); push 0x2 (eflags); push 0x1b (cs); push CODE+17; iretd;
     * then at CODE+17: nop */
    static const uint8_t code[] = {0x6a, 0x23, 0x68, 0x00, 0x70, 0x00, 0x00, 0x6a, 0x02, 0x6a,
                                   0x1b, 0x68, 0x11, 0x20, 0x00, 0x00, 0xcf, 0x90};
    load_code(code, sizeof code);
    cr_assert_eq(run(CODE, CODE + sizeof code), UC_ERR_OK);
    cr_assert_eq(nseen, 0);
    cr_assert_eq(rd32(UC_X86_REG_EIP), CODE + sizeof code);
    cr_assert_eq(rd32(UC_X86_REG_SS), 0x23);
    cr_assert_eq(uq_cpl(&q, uc), 3);
}

static void sigsegv_test_init(void)
{
    setup();
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);   /* the crash is the expected outcome: no core file */
}

Test(uc_behaviour, selector_write_whose_descriptor_read_faults_crashes_the_host,
     .init = sigsegv_test_init, .signal = SIGSEGV, .timeout = 20)
{
    /* Paging on, the GDT at a linear address no page table maps: uc_reg_write of DS reads the
     * descriptor through the page tables, the read faults, and Unicorn longjmps to nowhere. */
    put32(0x3000, 0);                      /* a page directory with nothing present */
    uc_x86_mmr gdtr = {.base = 0x400000, .limit = sizeof gdt - 1};
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr), UC_ERR_OK);
    uint64_t cr3 = 0x3000, cr0 = 0;
    uc_reg_write(uc, UC_X86_REG_CR3, &cr3);
    uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
    cr0 |= 1u << 31;
    uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
    uint32_t sel = 0x10;
    uc_reg_write(uc, UC_X86_REG_DS, &sel);
    cr_assert_fail("uc_reg_write(DS) through an unmapped GDT returned: fixed in this Unicorn?");
}

/* ---- port I/O ------------------------------------------------------------------------------ */

struct io_seen {
    unsigned n_in, n_out;
    uint32_t port, value, eip;
};

static uint32_t on_in(uc_engine *u, uint32_t port, int size, void *opaque)
{
    struct io_seen *s = opaque;
    (void)size;
    s->n_in++;
    s->port = port;
    uc_reg_read(u, UC_X86_REG_EIP, &s->eip);
    return 0x5a;
}

static void on_out(uc_engine *u, uint32_t port, int size, uint32_t value, void *opaque)
{
    struct io_seen *s = opaque;
    (void)size;
    s->n_out++;
    s->port = port;
    s->value = value;
    uc_reg_read(u, UC_X86_REG_EIP, &s->eip);
}

static void hook_io(struct io_seen *s)
{
    uc_hook h;
    memset(s, 0, sizeof *s);
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)on_in, s, 1, 0, UC_X86_INS_IN),
                 UC_ERR_OK);
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)on_out, s, 1, 0, UC_X86_INS_OUT),
                 UC_ERR_OK);
}

Test(uc_behaviour, in_and_out_at_cpl3_with_iopl_0_never_fault_and_reach_the_hooks)
{
    struct io_seen s;
    hook_io(&s);
    enter_ring(3);
    wr32(UC_X86_REG_EFLAGS, 0x2);            /* IOPL 0, and no TSS I/O bitmap to allow it */
    /* mov al, 0x42; out 0x80, al; in al, 0x71 */
    static const uint8_t code[] = {0xb0, 0x42, 0xe6, 0x80, 0xe4, 0x71};
    load_code(code, sizeof code);
    cr_assert_eq(run(CODE, CODE + sizeof code), UC_ERR_OK);
    cr_assert_eq(nseen, 0, "an I/O instruction faulted (vector %u): Unicorn checks IOPL now?",
                 seen[0].vector);
    cr_assert_eq(s.n_out, 1);
    cr_assert_eq(s.value, 0x42);
    cr_assert_eq(s.n_in, 1);
    cr_assert_eq(s.port, 0x71);
    cr_assert_eq(rd32(UC_X86_REG_EAX) & 0xff, 0x5a, "the in hook's return value is the data read");
}

Test(uc_behaviour, io_hook_sees_the_block_start_as_eip_not_the_io_instruction)
{
    struct io_seen s;
    hook_io(&s);
    /* nop; nop; nop; out 0x80, al; in al, 0x71 */
    static const uint8_t code[] = {0x90, 0x90, 0x90, 0xe6, 0x80, 0xe4, 0x71};
    load_code(code, sizeof code);
    cr_assert_eq(run(CODE, CODE + sizeof code), UC_ERR_OK);
    cr_assert_eq(s.n_out, 1);
    cr_assert_eq(s.n_in, 1);
    cr_assert_eq(s.eip, CODE, "EIP in the I/O hook is 0x%x (fixed upstream in 2.1.4: the I/O "
                 "instruction's own address)", s.eip);
}

/* ---- hlt and invalid opcodes --------------------------------------------------------------- */

Test(uc_behaviour, hlt_at_cpl0_ends_emulation_with_ok_and_eip_after_it)
{
    uc_ctl_exits_enable(uc);                 /* as the machine runs: no exit address at all */
    static const uint8_t code[] = {0x90, 0xf4, 0x90, 0x90};
    load_code(code, sizeof code);
    cr_assert_eq(uc_emu_start(uc, CODE, 0, 0, 0), UC_ERR_OK);
    cr_assert_eq(nseen, 0, "hlt was reported to the interrupt hook");
    cr_assert_eq(rd32(UC_X86_REG_EIP), CODE + 2);
}

static bool on_invalid(uc_engine *u, void *opaque)
{
    (void)u;
    ++*(unsigned *)opaque;
    return true;
}

Test(uc_behaviour, ud2_without_an_invalid_hook_ends_emulation_with_insn_invalid)
{
    static const uint8_t code[] = {0x90, 0x0f, 0x0b, 0xf4};
    load_code(code, sizeof code);
    cr_assert_eq(run(CODE, CODE + sizeof code), UC_ERR_INSN_INVALID);
    cr_assert_eq(nseen, 0);
    cr_assert_eq(rd32(UC_X86_REG_EIP), CODE + 1);
}

Test(uc_behaviour, ud2_with_an_invalid_hook_returning_true_arrives_as_ud_at_the_interrupt_hook)
{
    unsigned calls = 0;
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_INSN_INVALID, (void *)on_invalid, &calls, 1, 0),
                 UC_ERR_OK);
    static const uint8_t code[] = {0x90, 0x0f, 0x0b, 0xf4};
    load_code(code, sizeof code);
    cr_assert_eq(run(CODE, CODE + sizeof code), UC_ERR_OK);
    cr_assert_eq(calls, 1);
    cr_assert_eq(nseen, 1);
    cr_assert_eq(seen[0].vector, 6);
    cr_assert_eq(seen[0].eip, CODE + 1);
}

/* ---- control flow of the host loop ---------------------------------------------------------- */

struct skip {
    uint32_t at, to;
    unsigned calls;
};

static void on_code_skip(uc_engine *u, uint64_t addr, uint32_t size, void *opaque)
{
    struct skip *s = opaque;
    (void)size;
    s->calls++;
    if (addr == s->at)
        uc_reg_write(u, UC_X86_REG_EIP, &s->to);
}

Test(uc_behaviour, eip_written_in_a_code_hook_resumes_execution_there)
{
    /* inc ebx; inc eax (skipped by the hook); inc ecx */
    static const uint8_t code[] = {0x43, 0x40, 0x41};
    load_code(code, sizeof code);
    struct skip s = {CODE + 1, CODE + 2, 0};
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)on_code_skip, &s, CODE + 1, CODE + 1),
                 UC_ERR_OK);
    cr_assert_eq(run(CODE, CODE + sizeof code), UC_ERR_OK);
    cr_assert_eq(s.calls, 1);
    cr_assert_eq(rd32(UC_X86_REG_EBX), 1);
    cr_assert_eq(rd32(UC_X86_REG_EAX), 0, "the instruction whose hook moved EIP ran anyway");
    cr_assert_eq(rd32(UC_X86_REG_ECX), 1);
}

/* div ecx (ecx = 0: #DE at CODE); inc eax; hlt. The "handler" at CODE + 0x10: inc ebx; hlt. */
static const uint8_t divide_then_handler[] = {0xf7, 0xf1, 0x40, 0xf4, 0, 0, 0, 0,
                                              0, 0, 0, 0, 0, 0, 0, 0, 0x43, 0xf4};
#define HANDLER (CODE + 0x10)

/* An interrupt hook that moves the CPU to HANDLER, as vmlab's delivery in the hook does. */
static void on_intr_to_handler(uc_engine *u, uint32_t intno, void *opaque)
{
    (void)intno;
    (void)opaque;
    uint32_t to = HANDLER;
    uc_reg_write(u, UC_X86_REG_EIP, &to);
}

static void divide_by_zero_to_handler(void)
{
    load_code(divide_then_handler, sizeof divide_then_handler);
    wr32(UC_X86_REG_EAX, 5);
    wr32(UC_X86_REG_EDX, 0);
    wr32(UC_X86_REG_ECX, 0);
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_intr_to_handler, NULL, 1, 0),
                 UC_ERR_OK);
}

Test(uc_behaviour, eip_written_in_the_interrupt_hook_resumes_execution_there)
{
    /* No stop asked: the CPU goes on at the new EIP within the same uc_emu_start, the faulting
     * instruction and the one after it not run. */
    uct_stop_on_intr = false;
    divide_by_zero_to_handler();
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_OK);
    cr_assert_eq(nseen, 1);
    cr_assert_eq(seen[0].vector, 0);
    cr_assert_eq(rd32(UC_X86_REG_EBX), 1, "the handler did not run");
    cr_assert_eq(rd32(UC_X86_REG_EAX), 5, "the instruction after the fault ran");
    cr_assert_eq(rd32(UC_X86_REG_EIP), HANDLER + 2);
}

Test(uc_behaviour, a_stop_asked_in_the_interrupt_hook_that_writes_eip_is_honoured)
{
    /* The fixture's hook asks for a stop, the second one writes EIP: uc_emu_start returns with
     * EIP at the new address, nothing run there. */
    divide_by_zero_to_handler();
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_OK);
    cr_assert_eq(nseen, 1);
    cr_assert_eq(rd32(UC_X86_REG_EIP), HANDLER);
    cr_assert_eq(rd32(UC_X86_REG_EBX), 0, "the CPU ran on at the new EIP");
    cr_assert_eq(rd32(UC_X86_REG_EAX), 5);
}

Test(uc_behaviour, host_write_to_translated_code_runs_stale_until_remove_cache)
{
    /* mov eax, 1; hlt — run, then the host changes the immediate to 2 through its RAM pointer. */
    static const uint8_t code[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4};
    load_code(code, sizeof code);
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_OK);
    cr_assert_eq(rd32(UC_X86_REG_EAX), 1);
    ram[CODE + 1] = 2;
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_OK);
    cr_assert_eq(rd32(UC_X86_REG_EAX), 1, "the old translation no longer runs: Unicorn noticed "
                 "the host's write?");
    cr_assert_eq(uc_ctl_remove_cache(uc, CODE, CODE + sizeof code), UC_ERR_OK);
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_OK);
    cr_assert_eq(rd32(UC_X86_REG_EAX), 2);
}

static void on_code_count(uc_engine *u, uint64_t addr, uint32_t size, void *opaque)
{
    (void)u;
    (void)addr;
    (void)size;
    ++*(unsigned *)opaque;
}

Test(uc_behaviour, code_hook_added_after_translation_fires_only_after_remove_cache)
{
    /* inc eax; inc ebx; hlt */
    static const uint8_t code[] = {0x40, 0x43, 0xf4};
    load_code(code, sizeof code);
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_OK);
    unsigned calls = 0;
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)on_code_count, &calls, CODE + 1,
                             CODE + 1), UC_ERR_OK);
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_OK);
    cr_assert_eq(calls, 0, "a hook added after translation fired at once: Unicorn retranslates "
                 "on uc_hook_add now?");
    cr_assert_eq(uc_ctl_remove_cache(uc, CODE, CODE + sizeof code), UC_ERR_OK);
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_OK);
    cr_assert_eq(calls, 1);
}

struct stop_at {
    uint32_t addr;
    unsigned left;
};

static void on_block_stop(uc_engine *u, uint64_t addr, uint32_t size, void *opaque)
{
    struct stop_at *s = opaque;
    (void)size;
    if (addr == s->addr && --s->left == 0)
        uc_emu_stop(u);
}

/* A: inc eax; jmp B. B: inc ebx; jmp C. C: inc ecx; jmp D. D: inc edx; cmp edx, 32; jne A; hlt.
 * After the first round the four blocks are chained. */
static const uint8_t chain[] = {0x40, 0xeb, 0x00, 0x43, 0xeb, 0x00, 0x41, 0xeb, 0x00,
                                0x42, 0x83, 0xfa, 0x20, 0x75, 0xf1, 0xf4};

static void run_chain_stopping_at_b(bool code_hook)
{
    uc_hook h;
    unsigned never = 0;
    struct stop_at s = {CODE + 3, 5};        /* B, 5th time: the chain is running */
    if (code_hook)                           /* vmlab always has some (its site hooks) */
        cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)on_code_count, &never, 0x5000,
                                 0x5000), UC_ERR_OK);
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)on_block_stop, &s, 1, 0), UC_ERR_OK);
    uc_ctl_exits_enable(uc);
    load_code(chain, sizeof chain);
    cr_assert_eq(uc_emu_start(uc, CODE, 0, 0, 0), UC_ERR_OK);
    /* The CPU stopped in front of B: A ran 5 times, B only 4. */
    cr_assert_eq(rd32(UC_X86_REG_EAX), 5);
    cr_assert_eq(rd32(UC_X86_REG_EBX), 4);
    cr_assert_eq(never, 0);
}

Test(uc_behaviour, block_hook_stop_with_a_code_hook_installed_reports_the_chain_start_as_eip)
{
    run_chain_stopping_at_b(true);
    cr_assert_eq(rd32(UC_X86_REG_EIP), CODE, "EIP is 0x%x: the stale-EIP bug is fixed? "
                 "(emu/run.c's settle_stop can go)", rd32(UC_X86_REG_EIP));
}

Test(uc_behaviour, block_hook_stop_without_code_hooks_reports_the_stopped_block_as_eip)
{
    run_chain_stopping_at_b(false);
    cr_assert_eq(rd32(UC_X86_REG_EIP), CODE + 3);
}

Test(uc_behaviour, exit_address_inside_an_already_translated_block_is_run_past)
{
    /* A: inc eax; jmp B. B: inc ebx; inc ecx; inc edx; cmp edx, 5; jne A; hlt. */
    static const uint8_t code[] = {0x40, 0xeb, 0x00, 0x43, 0x41, 0x42, 0x83, 0xfa, 0x05,
                                   0x75, 0xf5, 0xf4};
    load_code(code, sizeof code);
    cr_assert_eq(run(CODE, CODE + sizeof code), UC_ERR_OK);
    wr32(UC_X86_REG_EDX, 0);
    /* The exit CODE + 5 (after inc ecx) lies inside B, translated by the first run. */
    cr_assert_eq(run(CODE, CODE + 5), UC_ERR_OK);
    cr_assert_eq(rd32(UC_X86_REG_EIP), CODE + sizeof code, "EIP 0x%x: mid-block exits are "
                 "honoured now?", rd32(UC_X86_REG_EIP));
    cr_assert_eq(rd32(UC_X86_REG_EDX), 5);
}

/* ---- segments ------------------------------------------------------------------------------ */

Test(uc_behaviour, data_segment_limit_is_not_enforced)
{
    wr32(UC_X86_REG_DS, 0x38);               /* limit 1 MiB */
    put32(0x200000, 0x12345678);
    wr32(UC_X86_REG_EBX, 0xcafe);
    /* mov eax, [0x200000]; mov [0x200004], ebx */
    static const uint8_t code[] = {0xa1, 0x00, 0x00, 0x20, 0x00,
                                   0x89, 0x1d, 0x04, 0x00, 0x20, 0x00};
    load_code(code, sizeof code);
    cr_assert_eq(run(CODE, CODE + sizeof code), UC_ERR_OK);
    cr_assert_eq(nseen, 0, "an access beyond the limit faulted (vector %u): limits enforced now?",
                 seen[0].vector);
    cr_assert_eq(rd32(UC_X86_REG_EAX), 0x12345678);
    cr_assert_eq(ram32(0x200004), 0xcafe);
}

/* ---- the TLB -------------------------------------------------------------------------------- */

#define PD 0x3000u
#define PT 0x4000u
#define LIN 0x10000u            /* maps frame A, then B */
#define FRAME_A 0x5000u
#define FRAME_B 0x6000u

/* Paging on, first 64 KiB identity-mapped, LIN -> frame A; the guest reads LIN once (the TLB now
 * holds it) and the host then points LIN's PTE at frame B. */
static void tlb_holding_a_stale_entry(void)
{
    put32(PD, PT | 7);
    for (uint32_t i = 0; i < 16; i++)
        put32(PT + i * 4, (i << 12) | 7);
    put32(PT + (LIN >> 12) * 4, FRAME_A | 7);
    put32(FRAME_A, 0xaaaaaaaa);
    put32(FRAME_B, 0xbbbbbbbb);
    uint64_t cr3 = PD, cr0 = 0;
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_CR3, &cr3), UC_ERR_OK);
    uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
    cr0 |= 1u << 31;
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_CR0, &cr0), UC_ERR_OK);
    static const uint8_t code[] = {0xa1, 0x00, 0x00, 0x01, 0x00};   /* mov eax, [LIN] */
    load_code(code, sizeof code);
    cr_assert_eq(run(CODE, CODE + sizeof code), UC_ERR_OK);
    cr_assert_eq(rd32(UC_X86_REG_EAX), 0xaaaaaaaa);
    put32(PT + (LIN >> 12) * 4, FRAME_B | 7);
}

/* What the guest reads at LIN now. */
static uint32_t guest_reads_lin(void)
{
    wr32(UC_X86_REG_EAX, 0);
    cr_assert_eq(run(CODE, CODE + 5), UC_ERR_OK);
    cr_assert_eq(nseen, 0);
    return rd32(UC_X86_REG_EAX);
}

Test(uc_behaviour, paging_maps_guest_linear_addresses_to_physical_memory)
{
    /* 2.0.1 walked the tables but then used the linear address as the physical one. LIN maps
     * frame A through a 4 KiB page, and 0x400000.. maps physical 0.. through a 4 MiB page. */
    tlb_holding_a_stale_entry();
    put32(PT + (LIN >> 12) * 4, FRAME_A | 7);
    put32(PD + 4, 0x83);                     /* PDE 1: 4 MiB page at physical 0 */
    uint64_t cr4 = 1u << 4, cr3 = PD;        /* PSE; the CR3 write flushes */
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_CR4, &cr4), UC_ERR_OK);
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_CR3, &cr3), UC_ERR_OK);
    wr32(UC_X86_REG_EBX, 0x600dcafe);
    /* mov [LIN+4], ebx; mov eax, [0x400000+FRAME_B] */
    static const uint8_t code[] = {0x89, 0x1d, 0x04, 0x00, 0x01, 0x00,
                                   0xa1, 0x00, 0x60, 0x40, 0x00};
    load_code(code, sizeof code);
    cr_assert_eq(run(CODE, CODE + sizeof code), UC_ERR_OK);
    cr_assert_eq(nseen, 0);
    cr_assert_eq(ram32(FRAME_A + 4), 0x600dcafe, "the store did not land in the mapped frame");
    cr_assert_eq(ram32(LIN + 4), 0, "the store landed at its linear address");
    cr_assert_eq(rd32(UC_X86_REG_EAX), 0xbbbbbbbb);
}

Test(uc_behaviour, tlb_keeps_a_translation_after_the_host_changes_its_pte)
{
    tlb_holding_a_stale_entry();
    cr_assert_eq(guest_reads_lin(), 0xaaaaaaaa);
}

Test(uc_behaviour, cr3_write_through_the_api_flushes_the_tlb)
{
    tlb_holding_a_stale_entry();
    uint64_t cr3 = PD;
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_CR3, &cr3), UC_ERR_OK);
    cr_assert_eq(guest_reads_lin(), 0xbbbbbbbb);
}

Test(uc_behaviour, ctl_flush_tlb_flushes_the_tlb)
{
    tlb_holding_a_stale_entry();
    cr_assert_eq(uc_ctl_flush_tlb(uc), UC_ERR_OK);
    cr_assert_eq(guest_reads_lin(), 0xbbbbbbbb);
}

Test(uc_behaviour, cr0_and_cr4_writes_through_the_api_keep_the_tlb)
{
    tlb_holding_a_stale_entry();
    uint64_t cr0 = 0, cr4 = 0;
    uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
    uc_reg_read(uc, UC_X86_REG_CR4, &cr4);
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_CR0, &cr0), UC_ERR_OK);
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_CR4, &cr4), UC_ERR_OK);
    cr_assert_eq(guest_reads_lin(), 0xaaaaaaaa);
}

Test(uc_behaviour, context_restore_keeps_the_tlb)
{
    tlb_holding_a_stale_entry();
    uc_context *ctx;
    cr_assert_eq(uc_context_alloc(uc, &ctx), UC_ERR_OK);
    cr_assert_eq(uc_context_save(uc, ctx), UC_ERR_OK);
    cr_assert_eq(uc_context_restore(uc, ctx), UC_ERR_OK);
    uc_context_free(ctx);
    cr_assert_eq(guest_reads_lin(), 0xaaaaaaaa);
}

/* ---- sensitive instructions that do not trap ------------------------------------------------ */

Test(uc_behaviour, popfd_at_cpl1_keeps_the_interrupt_flag)
{
    enter_ring(1);
    wr32(UC_X86_REG_EFLAGS, 0x2 | EFL_IF);   /* IOPL 0 < CPL 1 */
    static const uint8_t code[] = {0x6a, 0x02, 0x9d};   /* push 0x2; popfd */
    load_code(code, sizeof code);
    cr_assert_eq(run(CODE, CODE + sizeof code), UC_ERR_OK);
    cr_assert_eq(nseen, 0, "popfd faulted");
    cr_assert(rd32(UC_X86_REG_EFLAGS) & EFL_IF, "popfd cleared IF at CPL 1");
}

Test(uc_behaviour, iretd_at_cpl1_keeps_the_interrupt_flag)
{
    enter_ring(1);
    wr32(UC_X86_REG_EFLAGS, 0x2 | EFL_IF);
    /* push 0x2 (eflags); push 0x29 (cs); push CODE+10; iretd; then at CODE+10: nop */
    static const uint8_t code[] = {0x6a, 0x02, 0x6a, 0x29, 0x68, 0x0a, 0x20, 0x00, 0x00,
                                   0xcf, 0x90};
    load_code(code, sizeof code);
    cr_assert_eq(run(CODE, CODE + sizeof code), UC_ERR_OK);
    cr_assert_eq(nseen, 0, "iretd faulted");
    cr_assert_eq(rd32(UC_X86_REG_EIP), CODE + sizeof code);
    cr_assert(rd32(UC_X86_REG_EFLAGS) & EFL_IF, "iretd cleared IF at CPL 1");
}

/* sgdt [DATA]; sidt [DATA+8]; str eax; smsw ebx; lar ecx, edx; mov esi, cs; sldt edi */
static const uint8_t sensitive[] = {
    0x0f, 0x01, 0x05, 0x00, 0x90, 0x00, 0x00,
    0x0f, 0x01, 0x0d, 0x08, 0x90, 0x00, 0x00,
    0x0f, 0x00, 0xc8,
    0x0f, 0x01, 0xe3,
    0x0f, 0x02, 0xca,
    0x8c, 0xce,
    0x0f, 0x00, 0xc7,
};

static void sensitive_reads_show_the_real_state(int cpl)
{
    enter_ring(cpl);
    wr32(UC_X86_REG_EFLAGS, 0x2);
    wr32(UC_X86_REG_EDX, 0x23);              /* lar of the DPL-3 data descriptor */
    wr32(UC_X86_REG_EDI, 0xffffffffu);
    uint64_t cr0 = 0;
    uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
    load_code(sensitive, sizeof sensitive);
    cr_assert_eq(run(CODE, CODE + sizeof sensitive), UC_ERR_OK);
    cr_assert_eq(nseen, 0, "a sensitive instruction faulted at CPL %d (vector %u, EIP 0x%x)",
                 cpl, seen[0].vector, seen[0].eip);
    uint16_t limit;
    uint32_t base;
    memcpy(&limit, ram + DATA, 2);
    memcpy(&base, ram + DATA + 2, 4);
    cr_assert_eq(limit, sizeof gdt - 1);
    cr_assert_eq(base, GDT);
    memcpy(&limit, ram + DATA + 8, 2);
    memcpy(&base, ram + DATA + 10, 4);
    cr_assert_eq(limit, 0x7ff);
    cr_assert_eq(base, IDT);
    cr_assert_eq(rd32(UC_X86_REG_EAX) & 0xffff, 0x40, "str");
    cr_assert_eq(rd32(UC_X86_REG_EBX) & 0xffff, (uint32_t)cr0 & 0xffff, "smsw");
    cr_assert_eq(rd32(UC_X86_REG_ECX), 0x00c0f200, "lar");
    cr_assert_eq(rd32(UC_X86_REG_ESI) & 0xffff, cpl == 3 ? 0x1b : 0x29, "mov from cs");
    cr_assert_eq(rd32(UC_X86_REG_EDI), 0, "sldt");
}

Test(uc_behaviour, sgdt_sidt_str_smsw_lar_sldt_and_mov_from_cs_at_cpl3_show_the_real_values)
{
    sensitive_reads_show_the_real_state(3);
}

Test(uc_behaviour, sgdt_sidt_str_smsw_lar_sldt_and_mov_from_cs_at_cpl1_show_the_real_values)
{
    sensitive_reads_show_the_real_state(1);
}

/* ---- SYSENTER, and write protection of physical memory (emu/UNICORN.md 20, 21) --------------- */

Test(uc_behaviour, sysenter_with_its_msrs_set_does_nothing_but_advance_eip)
{
    /* sysenter; hlt -- with IA32_SYSENTER_CS/ESP/EIP pointing at a handler at CODE+0x100. */
    static const uint8_t code[] = {0x0f, 0x34, 0xf4};
    load_code(code, sizeof code);
    uc_x86_msr msr[] = {{0x174, 0x08}, {0x175, STACK - 0x100}, {0x176, CODE + 0x100}};
    for (int i = 0; i < 3; i++)
        cr_assert_eq(uc_reg_write(uc, UC_X86_REG_MSR, &msr[i]), UC_ERR_OK);
    uc_x86_msr back = {0x174, 0};
    cr_assert_eq(uc_reg_read(uc, UC_X86_REG_MSR, &back), UC_ERR_OK);
    cr_expect_eq(back.value, 0x08, "the first MSR reads back");
    enter_ring(3);
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_OK);
    /* Hardware would be at CODE+0x100 in ring 0; Unicorn 2.1.1 ran on to the hlt in ring 3
     * (which then faulted, #GP, at CPL 3). */
    cr_expect_eq(rd32(UC_X86_REG_CS) & 3, 3, "still ring 3: SYSENTER was not performed");
    cr_expect(nseen == 1 && seen[0].vector == 13 && seen[0].eip == CODE + 2,
              "the hlt after the sysenter ran (and faulted at CPL 3): %u seen", nseen);
}

static bool on_write_prot(uc_engine *u, uc_mem_type type, uint64_t addr, int size, int64_t value,
                          void *opaque)
{
    (void)u, (void)type, (void)size, (void)value;
    *(uint64_t *)opaque = addr;
    return true;
}

Test(uc_behaviour, a_handled_write_to_protected_memory_is_dropped)
{
    /* mov dword [0x5004], 0x12345678; hlt, with page 0x5000 read/execute only and a
     * UC_HOOK_MEM_WRITE_PROT hook that returns true ("handled"). */
    static const uint8_t code[] = {0xc7, 0x05, 0x04, 0x50, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12, 0xf4};
    load_code(code, sizeof code);
    uint64_t at = 0;
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE_PROT, (void *)on_write_prot, &at, 1, 0),
                 UC_ERR_OK);
    cr_assert_eq(uc_mem_protect(uc, 0x5000, 0x1000, UC_PROT_READ | UC_PROT_EXEC), UC_ERR_OK);
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_OK);
    cr_expect_eq(at, 0x5004, "the hook saw the (physical) address");
    cr_expect_eq(ram32(0x5004), 0, "the store did not happen");
}

/* ---- CR4.OSFXSR at reset (emu/UNICORN.md 22) --------------------------------------------------- */

Test(uc_behaviour, sse_runs_on_a_fresh_engine_whose_cr4_reads_0_until_cr4_is_written)
{
    /* ldmxcsr [0x5000]; hlt */
    static const uint8_t code[] = {0x0f, 0xae, 0x15, 0x00, 0x50, 0x00, 0x00, 0xf4};
    load_code(code, sizeof code);
    put32(0x5000, 0x1f80);
    cr_expect_eq(rd64(UC_X86_REG_CR4) & 0x200, 0, "CR4.OSFXSR reads 0");
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_OK);
    cr_expect_eq(nseen, 0, "yet ldmxcsr ran without #UD (%u exceptions)", nseen);
    uint64_t cr4 = 0;
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_CR4, &cr4), UC_ERR_OK);
    /* #UD without an invalid-instruction hook ends emulation (entry 10). */
    cr_expect_eq(run_to_hlt(CODE), UC_ERR_INSN_INVALID,
                 "after writing CR4 = 0, ldmxcsr is #UD as the SDM says");
}

/* ---- the virtual-TLB mode (emu/UNICORN.md 23) ----------------------------------------------- */

static unsigned nfills;

/* Identity translation of every page but LIN's, which the hook refuses. */
static bool fill_refusing_lin(uc_engine *u, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *e,
                              void *opaque)
{
    (void)u;
    (void)type;
    (void)opaque;
    nfills++;
    if (vaddr == LIN)
        return false;
    e->paddr = vaddr;
    e->perms = UC_PROT_ALL;
    return true;
}

/* Paging on (the first 64 KiB identity-mapped, LIN not present), the virtual TLB with the hook
 * above, and `inc ebx; mov eax, [LIN + 0x123]` at CODE. */
static void virtual_tlb_refusing_lin(void)
{
    put32(PD, PT | 7);
    for (uint32_t i = 0; i < 16; i++)
        put32(PT + i * 4, (i << 12) | 7);
    uint64_t cr3 = PD, cr0 = 0;
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_CR3, &cr3), UC_ERR_OK);
    uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
    cr0 |= 1u << 31;
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_CR0, &cr0), UC_ERR_OK);
    uc_hook h;
    cr_assert_eq(uc_ctl_tlb_mode(uc, UC_TLB_VIRTUAL), UC_ERR_OK);
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_TLB_FILL, (void *)fill_refusing_lin, NULL, 1, 0),
                 UC_ERR_OK);
    uc_ctl_flush_tlb(uc);
    static const uint8_t code[] = {0x43, 0xa1, 0x23, 0x01, 0x01, 0x00, 0xf4};
    load_code(code, sizeof code);
    wr32(UC_X86_REG_EBX, 0);
    nfills = 0;
}

Test(uc_behaviour, refused_fill_ends_the_run_with_exception_at_the_faulting_instruction)
{
    virtual_tlb_refusing_lin();
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_EXCEPTION);
    cr_assert_gt(nfills, 0, "the fill hook was never called");
    cr_assert_eq(nseen, 0, "a refused fill reached the interrupt hook");
    cr_assert_eq(rd32(UC_X86_REG_EIP), CODE + 1, "EIP is not the faulting instruction");
    cr_assert_eq(rd32(UC_X86_REG_EBX), 1, "the instruction before the fault did not run");
}

Test(uc_behaviour, after_a_refused_fill_the_cpu_walk_reports_the_exact_cr2)
{
    virtual_tlb_refusing_lin();
    cr_assert_eq(run_to_hlt(CODE), UC_ERR_EXCEPTION);
    cr_assert_eq(uc_ctl_tlb_mode(uc, UC_TLB_CPU), UC_ERR_OK);
    run_to_hlt(CODE + 1);
    cr_assert_eq(nseen, 1, "the CPU's own walk raised no exception");
    cr_assert_eq(seen[0].vector, 14);
    cr_assert_eq(seen[0].error, 0, "a not-present read from CPL 0 has error code 0");
    uint64_t cr2 = 0;
    uc_reg_read(uc, UC_X86_REG_CR2, &cr2);
    cr_assert_eq(cr2, LIN + 0x123, "CR2 is 0x%llx, not the faulting byte",
                 (unsigned long long)cr2);
}

static uint64_t unmapped_addr;

/* Identity translation of every page but LIN's, which goes to unmapped host-physical memory. */
static bool fill_lin_to_nowhere(uc_engine *u, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *e,
                                void *opaque)
{
    (void)u;
    (void)type;
    (void)opaque;
    e->paddr = vaddr == LIN ? 0x200000000ull : vaddr;
    e->perms = UC_PROT_ALL;
    return true;
}

static bool on_unmapped(uc_engine *u, uc_mem_type type, uint64_t addr, int size, int64_t value,
                        void *opaque)
{
    (void)u;
    (void)type;
    (void)size;
    (void)value;
    (void)opaque;
    unmapped_addr = addr;
    return false;
}

Test(uc_behaviour, unmapped_hook_gets_the_physical_address_a_fill_gave)
{
    virtual_tlb_refusing_lin();          /* paging, code; then the other fill hook below */
    uc_hook h, hu;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_TLB_FILL, (void *)fill_lin_to_nowhere, NULL, 1, 0),
                 UC_ERR_OK);
    cr_assert_eq(uc_hook_add(uc, &hu, UC_HOOK_MEM_UNMAPPED, (void *)on_unmapped, NULL, 1, 0),
                 UC_ERR_OK);
    uc_err e = run_to_hlt(CODE + 1);     /* mov eax, [LIN + 0x123] first */
    cr_assert_eq(e, UC_ERR_READ_UNMAPPED);
    cr_assert_eq(unmapped_addr, 0x200000000ull + 0x123, "the hook got 0x%llx",
                 (unsigned long long)unmapped_addr);
}

Test(uc_behaviour, a_second_store_through_one_tlb_entry_leaves_a_translation_stale)
{
    /* Frame A holds two translated blocks (LIN: mov eax, 1; hlt; LIN+0x100: mov eax, 5; hlt);
     * code at CODE rewrites both through A's identity alias: the first store (A+0) invalidates
     * the block it overwrites, the second (A+0x101, the other block's immediate) goes the fast
     * path. The TLB is flushed around the stores, as a kernel's address-space switch does. */
    tlb_holding_a_stale_entry();
    put32(PT + (LIN >> 12) * 4, FRAME_A | 7);
    static const uint8_t one[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0xf4};
    static const uint8_t five[] = {0xb8, 0x05, 0x00, 0x00, 0x00, 0xf4};
    static const uint8_t rewrite[] = {0xc6, 0x05, 0x00, 0x50, 0x00, 0x00, 0x90,   /* A+0 = nop */
                                      0xc6, 0x05, 0x01, 0x51, 0x00, 0x00, 0x07,   /* A+0x101 = 7 */
                                      0xf4};
    memcpy(ram + FRAME_A, one, sizeof one);
    memcpy(ram + FRAME_A + 0x100, five, sizeof five);
    memcpy(ram + CODE + 0x100, rewrite, sizeof rewrite);
    uc_ctl_flush_tlb(uc);
    cr_assert_eq(run_to_hlt(LIN), UC_ERR_OK);
    cr_assert_eq(run_to_hlt(LIN + 0x100), UC_ERR_OK);
    cr_assert_eq(rd32(UC_X86_REG_EAX), 5);
    uc_ctl_flush_tlb(uc);
    cr_assert_eq(run_to_hlt(CODE + 0x100), UC_ERR_OK);
    cr_assert_eq(ram[FRAME_A + 0x101], 7, "the second store did not land");
    uc_ctl_flush_tlb(uc);
    cr_assert_eq(run_to_hlt(LIN + 0x100), UC_ERR_OK);
    cr_assert_eq(rd32(UC_X86_REG_EAX), 5, "the second block was retranslated: Unicorn now "
                 "invalidates every translation a store through a dirty entry overwrites?");
    cr_assert_eq(uc_ctl_remove_cache(uc, LIN + 0x100, LIN + 0x106), UC_ERR_OK);
    cr_assert_eq(run_to_hlt(LIN + 0x100), UC_ERR_OK);
    cr_assert_eq(rd32(UC_X86_REG_EAX), 7);
}
