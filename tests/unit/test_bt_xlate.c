/*
 * test_bt_xlate.c — the binary translator of emu/modes/bt_xlate.h.
 *
 * Most tests translate hand-assembled guest bytes at G = 0xc0100000 and look at the unit: its
 * bytes, map entries and exits. The ones about behaviour run the translation on a bare Unicorn
 * engine at CPL 0 (paging off, flat segments, 1 MiB of memory at 0): the unit at T = 0x10000, the
 * vcpu block at V = 0x8000, data at D = 0x20000, the stack below S = 0x30000, the indirect-branch
 * lookup table at I = 0x40000 (512 KiB), the port map at PM = 0xc0000 (64 KiB) and a landing pad
 * `int $0x82` at P = 0xd0000. An interrupt hook notes the `int n` that ends the run (a callout or
 * an exit stub) and stops the CPU; each run gets a fresh engine, since Unicorn mishandles a
 * second exception (emu/UNICORN.md). The port I/O tests add port hooks that note each access
 * (Unicorn's IN/OUT never fault: what lets a port through is the port map and, in vmlab, the
 * mode op io_allowed).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "emu/insn_class.h"
#include "emu/modes/bt_xlate.h"

#define G 0xc0100000u
#define T 0x10000u
#define V 0x8000u
#define D 0x20000u
#define S 0x30000u
#define I 0x40000u
#define P 0xd0000u
#define VEC 0x81
#define ARITH 0x0cd5u                /* CF PF AF ZF SF DF OF */
#define EFL_IF 0x0200u

static const struct bt_env env = {.vcpu_state = V, .callout_vector = VEC};
static uint8_t tcbuf[BT_TC_MAX];
static struct bt_unit u;

#define B(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static int xlate_with(const struct bt_env *e, const uint8_t *code, size_t len)
{
    u.tc = tcbuf;
    u.tc_cap = sizeof tcbuf;
    return bt_translate(e, code, len, G, T, &u);
}

static int xlate(const uint8_t *code, size_t len) { return xlate_with(&env, code, len); }

static void xlate_ok(const uint8_t *code, size_t len)
{
    int rc = xlate(code, len);
    cr_assert_eq(rc, 0, "bt_translate: %d", rc);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Where the rel32 field of exit i currently sends the CPU. */
static uint32_t exit_dest(unsigned i)
{
    const struct bt_exit *x = &u.exits[i];
    return T + x->rel32_off + 4 + le32(tcbuf + x->rel32_off);
}

/* ---- a bare engine ------------------------------------------------------------------------- */

static uc_engine *uc;

struct regs {
    uint32_t eax, ebx, ecx, edx, esi, edi, esp, eflags;
};

struct stop {
    uint32_t vector, eip;            /* the int n that ended the run; vector ~0u if none */
    uc_err err;
};

static struct stop last;

static void on_intr(uc_engine *e, uint32_t intno, void *opaque)
{
    last.vector = intno;
    uc_reg_read(e, UC_X86_REG_EIP, &last.eip);
    uc_emu_stop(e);
}

static void close_engine(void)
{
    if (uc)
        uc_close(uc);
    uc = NULL;
}

static void fresh_engine(void)
{
    close_engine();
    cr_assert_eq(uc_open(UC_ARCH_X86, UC_MODE_32, &uc), UC_ERR_OK);
    cr_assert_eq(uc_mem_map(uc, 0, 0x100000, UC_PROT_ALL), UC_ERR_OK);
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_intr, NULL, 1, 0), UC_ERR_OK);
}

static void wr(uint32_t addr, const void *p, size_t n)
{
    cr_assert_eq(uc_mem_write(uc, addr, p, n), UC_ERR_OK);
}

static uint32_t rd32(uint32_t addr)
{
    uint8_t b[4];
    cr_assert_eq(uc_mem_read(uc, addr, b, 4), UC_ERR_OK);
    return le32(b);
}

static uint16_t rd16(uint32_t addr) { return (uint16_t)rd32(addr); }

static const int reg_ids[] = {UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX,
                              UC_X86_REG_ESI, UC_X86_REG_EDI, UC_X86_REG_ESP,
                              UC_X86_REG_EFLAGS};

/* Run unit u (in tcbuf) on the current engine with vcpu block *v and registers *r (updated in
 * place); return how it stopped. run() first opens a fresh engine; a test that must write memory
 * before the run calls fresh_engine() and run_on() itself. */
static struct stop run_on(const struct bt_vcpu *v, struct regs *r)
{
    wr(T, tcbuf, u.tc_len);
    wr(V, v, sizeof *v);
    uint32_t *rv = &r->eax;
    for (unsigned i = 0; i < 8; i++)
        cr_assert_eq(uc_reg_write(uc, reg_ids[i], &rv[i]), UC_ERR_OK);
    last = (struct stop){.vector = ~0u};
    last.err = uc_emu_start(uc, T, T + BT_TC_MAX + 0x1000, 0, 1000);
    for (unsigned i = 0; i < 8; i++)
        uc_reg_read(uc, reg_ids[i], &rv[i]);
    return last;
}

static struct stop run(const struct bt_vcpu *v, struct regs *r)
{
    fresh_engine();
    return run_on(v, r);
}

/* The exit the run stopped at: its stub's `int` reported EIP after it. */
static const struct bt_map *stopped_at(struct stop s)
{
    cr_assert_eq(s.err, UC_ERR_OK, "run: %s", uc_strerror(s.err));
    cr_assert_eq(s.vector, VEC, "stopped by vector %#x", s.vector);
    const struct bt_map *e = bt_map_find(&u, s.eip - T - 2);
    cr_assert_not_null(e, "no map entry at TC offset %#x", s.eip - T - 2);
    return e;
}

static struct bt_vcpu vcpu_sample(void)
{
    return (struct bt_vcpu){
        .eflags = 0x0002 | EFL_IF, .cr = {0x80050033, 0, 0xdead0000, 0x00123000, 0x10},
        .gdt_base = 0xc0201000, .gdt_limit = 0x00ff, .idt_base = 0xc0202000,
        .idt_limit = 0x07ff, .ldtr = 0x0028, .tr = 0x0030,
        .sel = {0x0010, 0x0008, 0x0010, 0x0018, 0x0020, 0x0048}};
}

TestSuite(bt_xlate, .fini = close_engine);

/* ---- copying and relocating ---------------------------------------------------------------- */

Test(bt_xlate, ident_block_is_copied_byte_for_byte_and_maps_offsets_one_to_one)
{
    static const uint8_t code[] = {
        0x8b, 0x43, 0x04,                          /* mov eax, [ebx+4] */
        0x01, 0xc8,                                /* add eax, ecx */
        0x50,                                      /* push eax */
        0x5a,                                      /* pop edx */
        0x8d, 0x34, 0xbd, 0x08, 0, 0, 0,           /* lea esi, [edi*4+8] */
        0x31, 0xc0,                                /* xor eax, eax */
        0x89, 0x7c, 0x24, 0x08,                    /* mov [esp+8], edi */
        0x0f, 0xa2,                                /* cpuid */
    };
    static const uint8_t offs[] = {0, 3, 5, 6, 7, 14, 16, 20};
    xlate_ok(code, sizeof code);
    cr_assert_eq(u.ninsns, 8);
    cr_assert_eq(u.guest_len, sizeof code);
    cr_assert_eq(u.end, BT_END_BYTES);
    cr_assert_eq(memcmp(tcbuf, code, sizeof code), 0, "IDENT bytes differ");
    for (unsigned i = 0; i < 8; i++) {
        const struct bt_map *e = &u.map[i];
        cr_expect_eq(e->tc_off, offs[i], "entry %u at TC %u", i, e->tc_off);
        cr_expect_eq(e->guest_eip, G + offs[i]);
        cr_expect_eq(e->kind, BT_IDENT);
        cr_expect_eq(e->guest_len, (i < 7 ? offs[i + 1] : sizeof code) - offs[i]);
        cr_expect(e->before_effect);
    }
    cr_expect_eq(u.map[7].cls, IC_CPUID);
    cr_assert_eq(u.nexits, 1);
    cr_expect_eq(u.exits[0].target, G + sizeof code);
    cr_expect_eq(tcbuf[sizeof code], 0xe9, "fall-through jmp rel32");
    cr_expect_eq(u.exits[0].rel32_off, sizeof code + 1);
    cr_expect_eq(exit_dest(0), T + u.exits[0].stub_off);
    cr_expect_eq(tcbuf[u.exits[0].stub_off], 0xcd);
    cr_expect_eq(tcbuf[u.exits[0].stub_off + 1], VEC);
    cr_expect_eq(u.exits[0].stub_off + 2, u.tc_len);
}

Test(bt_xlate, fall_through_exit_runs_to_a_stub_that_stands_for_the_next_guest_instruction)
{
    xlate_ok(B(0xb8, 0x05, 0, 0, 0, 0x83, 0xc0, 0x02));    /* mov eax, 5; add eax, 2 */
    struct bt_vcpu v = vcpu_sample();
    struct regs r = {.esp = S, .eflags = 2};
    const struct bt_map *e = stopped_at(run(&v, &r));
    cr_expect_eq(r.eax, 7);
    cr_expect_eq(e->kind, BT_EXIT);
    cr_expect_eq(e->guest_eip, G + 8);
    cr_expect(e->before_effect);
}

Test(bt_xlate, short_jcc_is_reemitted_as_rel32_with_taken_and_fall_through_exits)
{
    xlate_ok(B(0x83, 0xf8, 0x01, 0x74, 0x20));   /* cmp eax, 1; je +0x20 */
    cr_assert_eq(u.ninsns, 2);
    cr_assert_eq(u.end, BT_END_TRANSFER);
    cr_assert_eq(u.nexits, 2);
    cr_expect_eq(u.exits[0].target, G + 5 + 0x20);
    cr_expect_eq(u.exits[1].target, G + 5);
    cr_expect_eq(tcbuf[3], 0x0f);
    cr_expect_eq(tcbuf[4], 0x84, "je rel32");
    cr_expect_eq(bt_map_find(&u, 3)->kind, BT_JCC);
    cr_expect_eq(bt_map_find(&u, 3)->guest_eip, G + 3);
    for (unsigned i = 0; i < 2; i++)
        cr_expect_eq(exit_dest(i), T + u.exits[i].stub_off);

    struct bt_vcpu v = vcpu_sample();
    struct regs r = {.eax = 1, .esp = S, .eflags = 2};
    cr_expect_eq(stopped_at(run(&v, &r))->guest_eip, G + 5 + 0x20, "taken");
    r = (struct regs){.eax = 2, .esp = S, .eflags = 2};
    cr_expect_eq(stopped_at(run(&v, &r))->guest_eip, G + 5, "not taken");
}

Test(bt_xlate, near_jcc_and_jmp_keep_their_guest_targets)
{
    xlate_ok(B(0x0f, 0x85, 0x00, 0xff, 0xff, 0xff));   /* jne -0x100 */
    cr_expect_eq(u.exits[0].target, G + 6 - 0x100);
    cr_expect_eq(u.map[0].kind, BT_JCC);
    xlate_ok(B(0xe9, 0x00, 0x10, 0x00, 0x00));         /* jmp +0x1000 */
    cr_assert_eq(u.nexits, 1);
    cr_expect_eq(u.exits[0].target, G + 5 + 0x1000);
    cr_expect_eq(u.map[0].kind, BT_JMP);
    cr_expect_eq(u.end, BT_END_TRANSFER);
    struct bt_vcpu v = vcpu_sample();
    struct regs r = {.esp = S, .eflags = 2};
    cr_expect_eq(stopped_at(run(&v, &r))->guest_eip, G + 5 + 0x1000);
}

Test(bt_xlate, direct_call_pushes_the_guest_return_address_and_exits_to_the_callee)
{
    xlate_ok(B(0x90, 0xe8, 0x40, 0, 0, 0));      /* nop; call +0x40 */
    cr_assert_eq(u.ninsns, 2);
    cr_expect_eq(u.exits[0].target, G + 6 + 0x40);
    cr_expect_eq(bt_map_find(&u, 1)->kind, BT_CALL);
    struct bt_vcpu v = vcpu_sample();
    struct regs r = {.esp = S, .eflags = 2};
    const struct bt_map *e = stopped_at(run(&v, &r));
    cr_expect_eq(e->guest_eip, G + 6 + 0x40);
    cr_expect_eq(r.esp, S - 4);
    cr_expect_eq(rd32(S - 4), G + 6, "pushed %#x, not the guest return address", rd32(S - 4));
}

Test(bt_xlate, loop_and_jecxz_branch_to_their_guest_targets)
{
    xlate_ok(B(0xe2, 0xf0));                     /* loop -0x10 */
    cr_assert_eq(u.nexits, 2);
    struct bt_vcpu v = vcpu_sample();
    struct regs r = {.ecx = 2, .esp = S, .eflags = 2};
    cr_expect_eq(stopped_at(run(&v, &r))->guest_eip, G + 2 - 0x10, "ecx 2: taken");
    cr_expect_eq(r.ecx, 1);
    r = (struct regs){.ecx = 1, .esp = S, .eflags = 2};
    cr_expect_eq(stopped_at(run(&v, &r))->guest_eip, G + 2, "ecx 1: falls through");

    xlate_ok(B(0xe3, 0x10));                     /* jecxz +0x10 */
    r = (struct regs){.ecx = 0, .esp = S, .eflags = 2};
    cr_expect_eq(stopped_at(run(&v, &r))->guest_eip, G + 2 + 0x10, "ecx 0: taken");
}

Test(bt_xlate, chaining_aims_the_branch_at_the_target_translation_and_unchaining_undoes_it)
{
    xlate_ok(B(0xeb, 0x10));                     /* jmp +0x10 */
    uint32_t dest = T + 0x400;
    bt_chain(tcbuf, T, &u.exits[0], dest);
    cr_expect_eq(exit_dest(0), dest);
    fresh_engine();
    wr(dest, (const uint8_t[]){0xcd, 0x82}, 2);  /* the "target translation": int $0x82 */
    struct bt_vcpu v = vcpu_sample();
    struct regs r = {.esp = S, .eflags = 2};
    struct stop s = run_on(&v, &r);
    cr_expect_eq(s.vector, 0x82);
    cr_expect_eq(s.eip, dest + 2);
    bt_chain(tcbuf, T, &u.exits[0], T + u.exits[0].stub_off);
    cr_expect_eq(stopped_at(run(&v, &r))->guest_eip, G + 2 + 0x10);
}

/* ---- in-cache sequences -------------------------------------------------------------------- */

static const uint32_t flag_patterns[] = {0x0002, 0x0002 | ARITH, 0x0002 | 0x0041, 0x0002 | 0x0884};

Test(bt_xlate, cli_and_sti_change_only_the_virtual_if)
{
    static const uint8_t cli_sti[2] = {0xfa, 0xfb};
    for (int sti = 0; sti < 2; sti++) {
        xlate_ok(&cli_sti[sti], 1);
        cr_expect_eq(u.map[0].kind, BT_INCACHE);
        cr_expect_eq(u.map[0].cls, sti ? IC_STI : IC_CLI);
        for (unsigned i = 0; i < sizeof flag_patterns / sizeof flag_patterns[0]; i++) {
            struct bt_vcpu v = vcpu_sample();
            v.eflags = 0x3002 | 0x40 | (sti ? 0 : EFL_IF);
            struct regs r = {.eax = 0x1234, .esp = S, .eflags = flag_patterns[i] | EFL_IF};
            stopped_at(run(&v, &r));
            struct bt_vcpu after;
            cr_assert_eq(uc_mem_read(uc, V, &after, sizeof after), UC_ERR_OK);
            cr_expect_eq(after.eflags, 0x3002 | 0x40 | (sti ? EFL_IF : 0), "%s: vflags %#x",
                         sti ? "sti" : "cli", after.eflags);
            cr_expect_eq(r.eflags & (ARITH | EFL_IF), (flag_patterns[i] & ARITH) | EFL_IF,
                         "%s: real flags %#x, were %#x", sti ? "sti" : "cli", r.eflags,
                         flag_patterns[i] | EFL_IF);
            cr_expect_eq(r.esp, S);
            cr_expect_eq(r.eax, 0x1234);
        }
    }
}

Test(bt_xlate, pushf_pushes_the_virtual_if_and_iopl_and_leaves_the_real_flags_alone)
{
    xlate_ok(B(0x9c));
    for (unsigned i = 0; i < sizeof flag_patterns / sizeof flag_patterns[0]; i++) {
        struct bt_vcpu v = vcpu_sample();
        v.eflags = 0x1002;                       /* virtual IF clear, IOPL 1 */
        uint32_t real = flag_patterns[i] | EFL_IF;
        struct regs r = {.eax = 0xa5a5a5a5, .esp = S, .eflags = real};
        stopped_at(run(&v, &r));
        uint32_t pushed = rd32(S - 4);
        cr_expect_eq(pushed, (real & ~BT_EFLAGS_VIRT) | 0x1000, "pushed %#x for real %#x",
                     pushed, real);
        cr_expect_eq(pushed & EFL_IF, 0, "the guest sees its own IF");
        cr_expect_eq(r.eflags & (ARITH | EFL_IF), real & (ARITH | EFL_IF));
        cr_expect_eq(r.esp, S - 4);
        cr_expect_eq(r.eax, 0xa5a5a5a5);
    }
}

Test(bt_xlate, popf_loads_arithmetic_flags_for_real_and_if_into_the_virtual_flags)
{
    xlate_ok(B(0x9d));
    for (int vif = 0; vif < 2; vif++) {
        struct bt_vcpu v = vcpu_sample();
        v.eflags = 0x2002 | 0x80 | (vif ? 0 : EFL_IF);     /* 0x80: a bit popf must not touch */
        uint32_t popped = 0x0002 | 0x08d5 | (vif ? EFL_IF : 0);
        fresh_engine();
        wr(S - 4, &popped, 4);
        struct regs r = {.eax = 0x5a5a5a5a, .esp = S - 4, .eflags = 0x0002 | EFL_IF};
        stopped_at(run_on(&v, &r));
        struct bt_vcpu after;
        cr_assert_eq(uc_mem_read(uc, V, &after, sizeof after), UC_ERR_OK);
        cr_expect_eq(after.eflags, 0x0002 | 0x80 | (vif ? EFL_IF : 0), "vflags %#x",
                     after.eflags);
        cr_expect_eq(r.eflags & ARITH, popped & ARITH);
        cr_expect_eq(r.esp, S);
        cr_expect_eq(r.eax, 0x5a5a5a5a);
    }
}

Test(bt_xlate, descriptor_table_and_segment_reads_show_the_vcpu_block_not_the_real_registers)
{
    static const uint8_t code[] = {
        0x0f, 0x01, 0xe0,                          /* smsw eax */
        0x0f, 0x00, 0xc9,                          /* str ecx */
        0x8c, 0xca,                                /* mov edx, cs */
        0x0e,                                      /* push cs */
        0x16,                                      /* push ss */
        0x0f, 0x00, 0x03,                          /* sldt word ptr [ebx] */
        0x8c, 0x53, 0x02,                          /* mov word ptr [ebx+2], ss */
        0x0f, 0x01, 0x63, 0x04,                    /* smsw word ptr [ebx+4] */
        0x0f, 0x20, 0xde,                          /* mov esi, cr3 */
        0x66, 0x8c, 0xdf,                          /* mov di, ds */
        0x0f, 0x01, 0x43, 0x10,                    /* sgdt [ebx+0x10] */
        0x0f, 0x01, 0x4c, 0x24, 0xf8,              /* sidt [esp-8] */
    };
    xlate_ok(code, sizeof code);
    cr_assert_eq(u.ninsns, 12);
    cr_assert_eq(u.guest_len, sizeof code);
    struct bt_vcpu v = vcpu_sample();
    struct regs r = {.ebx = D, .edi = 0xffffffff, .esp = S, .eflags = 2};
    fresh_engine();
    wr(D + 0x16, (const uint8_t[]){0xee, 0xee}, 2);
    stopped_at(run_on(&v, &r));
    cr_expect_eq(r.eax, v.cr[0], "smsw r32: %#x", r.eax);
    cr_expect_eq(r.ecx, v.tr, "str: %#x", r.ecx);
    cr_expect_eq(r.edx, v.sel[1], "mov from cs: %#x", r.edx);
    cr_expect_eq(r.esp, S - 8);
    cr_expect_eq(rd32(S - 4), v.sel[1], "push cs: %#x", rd32(S - 4));
    cr_expect_eq(rd32(S - 8), v.sel[2], "push ss: %#x", rd32(S - 8));
    cr_expect_eq(rd16(D), v.ldtr, "sldt m16");
    cr_expect_eq(rd16(D + 2), v.sel[2], "mov m16, ss");
    cr_expect_eq(rd16(D + 4), (uint16_t)v.cr[0], "smsw m16");
    cr_expect_eq(r.esi, v.cr[3], "mov from cr3: %#x", r.esi);
    cr_expect_eq(r.edi, 0xffff0000u | v.sel[3], "mov r16, ds: %#x", r.edi);
    cr_expect_eq(rd16(D + 0x10), v.gdt_limit, "sgdt limit");
    cr_expect_eq(rd32(D + 0x12), v.gdt_base, "sgdt base");
    cr_expect_eq(rd16(D + 0x16), 0xeeee, "sgdt stores 6 bytes only");
    cr_expect_eq(rd16(S - 16), v.idt_limit, "sidt [esp-8] limit: %#x", rd16(S - 16));
    cr_expect_eq(rd32(S - 14), v.idt_base, "sidt [esp-8] base: %#x", rd32(S - 14));
}

Test(bt_xlate, sgdt_keeps_the_guest_segment_override)
{
    xlate_ok(B(0x64, 0x0f, 0x01, 0x00));         /* sgdt fs:[eax] */
    cr_expect_eq(u.map[0].kind, BT_INCACHE);
    int fs_stores = 0;
    for (size_t i = 0; i + 2 < u.tc_len; i++)
        fs_stores += tcbuf[i] == 0x64 && (tcbuf[i + 1] == 0x89 ||
                                          (tcbuf[i + 1] == 0x66 && tcbuf[i + 2] == 0x89));
    cr_expect_eq(fs_stores, 2, "both stores keep fs:");
}

Test(bt_xlate, sgdt_borrows_a_register_its_operand_does_not_use_and_gives_it_back)
{
    xlate_ok(B(0x0f, 0x01, 0x04, 0x08));         /* sgdt [eax+ecx] */
    struct bt_vcpu v = vcpu_sample();
    struct regs r = {.eax = D, .ecx = 0x20, .edx = 0x33333333, .ebx = 0x44444444,
                     .esi = 0x55, .edi = 0x66, .esp = S, .eflags = 0x0002 | ARITH};
    struct regs was = r;
    stopped_at(run(&v, &r));
    cr_expect_eq(rd16(D + 0x20), v.gdt_limit);
    cr_expect_eq(rd32(D + 0x22), v.gdt_base);
    cr_expect_eq(memcmp(&r, &was, sizeof r), 0, "registers or flags changed");
}

Test(bt_xlate, sgdt_straddling_esp_stores_what_the_guest_would)
{
    xlate_ok(B(0x0f, 0x01, 0x44, 0x24, 0xfe));   /* sgdt [esp-2] */
    struct bt_vcpu v = vcpu_sample();
    struct regs r = {.esp = S, .eflags = 2};
    stopped_at(run(&v, &r));
    cr_expect_eq(rd16(S - 2), v.gdt_limit);
    cr_expect_eq(rd32(S), v.gdt_base);
    cr_expect_eq(r.esp, S);
}

/* ---- callouts ------------------------------------------------------------------------------ */

struct callout_row {
    const char *text;
    uint8_t bytes[8];
    size_t len;
    int cls;
    int kind;
};

#define R(...) {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})

Test(bt_xlate, privileged_and_complex_instructions_become_callouts_that_end_the_unit)
{
    static const struct callout_row rows[] = {
        {"hlt", R(0xf4), IC_HLT, BT_CALLOUT},
        {"lgdt [eax]", R(0x0f, 0x01, 0x10), IC_LGDT, BT_CALLOUT},
        {"lidt [eax]", R(0x0f, 0x01, 0x18), IC_LIDT, BT_CALLOUT},
        {"lldt ax", R(0x0f, 0x00, 0xd0), IC_LLDT, BT_CALLOUT},
        {"ltr ax", R(0x0f, 0x00, 0xd8), IC_LTR, BT_CALLOUT},
        {"mov cr3, eax", R(0x0f, 0x22, 0xd8), IC_MOV_TO_CR, BT_CALLOUT},
        {"mov eax, dr7", R(0x0f, 0x21, 0xf8), IC_MOV_DR, BT_CALLOUT},
        {"invlpg [eax]", R(0x0f, 0x01, 0x38), IC_INVLPG, BT_CALLOUT},
        {"clts", R(0x0f, 0x06), IC_CLTS, BT_CALLOUT},
        {"lmsw ax", R(0x0f, 0x01, 0xf0), IC_LMSW, BT_CALLOUT},
        {"wrmsr", R(0x0f, 0x30), IC_WRMSR, BT_CALLOUT},
        {"wbinvd", R(0x0f, 0x09), IC_WBINVD, BT_CALLOUT},
        {"in al, dx", R(0xec), IC_IN, BT_CALLOUT},    /* env has no port map (see port I/O) */
        {"out 0x80, al", R(0xe6, 0x80), IC_OUT, BT_CALLOUT},
        {"insb", R(0x6c), IC_INS, BT_CALLOUT},
        {"rep outsd", R(0xf3, 0x6f), IC_OUTS, BT_CALLOUT},
        {"iretd", R(0xcf), IC_IRET, BT_CALLOUT},
        {"int 0x80", R(0xcd, 0x80), IC_INT_N, BT_CALLOUT},
        {"int3", R(0xcc), IC_INT3, BT_CALLOUT},
        {"ljmp 0x08:0", R(0xea, 0, 0, 0, 0, 0x08, 0), IC_FAR_JMP, BT_CALLOUT},
        {"lcall [eax]", R(0xff, 0x18), IC_FAR_CALL, BT_CALLOUT},
        {"retf", R(0xcb), IC_FAR_RET, BT_CALLOUT},
        {"mov ds, ax", R(0x8e, 0xd8), IC_MOV_TO_SEG, BT_CALLOUT},
        {"pop ds", R(0x1f), IC_POP_SEG, BT_CALLOUT},
        {"lss esp, [eax]", R(0x0f, 0xb2, 0x20), IC_MOV_TO_SEG, BT_CALLOUT},
        {"lar eax, ecx", R(0x0f, 0x02, 0xc1), IC_LAR, BT_CALLOUT},
        {"lsl eax, ecx", R(0x0f, 0x03, 0xc1), IC_LSL, BT_CALLOUT},
        {"verr ax", R(0x0f, 0x00, 0xe0), IC_VERR, BT_CALLOUT},
        {"verw ax", R(0x0f, 0x00, 0xe8), IC_VERW, BT_CALLOUT},
        {"ud2", R(0x0f, 0x0b), IC_UD2, BT_CALLOUT},
        {"pushfw", R(0x66, 0x9c), IC_PUSHF, BT_CALLOUT},
        {"sysexit", R(0x0f, 0x35), IC_SYSEXIT, BT_CALLOUT},
        {"sysenter", R(0x0f, 0x34), IC_SYSENTER, BT_CALLOUT},
        {"ret", R(0xc3), IC_NONE, BT_INDIRECT},
        {"ret 8", R(0xc2, 0x08, 0x00), IC_NONE, BT_INDIRECT},
        {"jmp eax", R(0xff, 0xe0), IC_NONE, BT_INDIRECT},
        {"call [eax+4]", R(0xff, 0x50, 0x04), IC_NONE, BT_INDIRECT},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct callout_row *w = &rows[i];
        uint8_t code[16] = {0x90};                 /* nop; <insn>; nop */
        memcpy(code + 1, w->bytes, w->len);
        code[1 + w->len] = 0x90;
        int rc = xlate(code, w->len + 2);
        cr_assert_eq(rc, 0, "%s: %d", w->text, rc);
        cr_expect_eq(u.ninsns, 2, "%s: %u instructions", w->text, u.ninsns);
        cr_expect_eq(u.end, w->kind == BT_INDIRECT ? BT_END_TRANSFER : BT_END_CALLOUT, "%s",
                     w->text);
        cr_expect_eq(u.tc_len, 3, "%s: %zu TC bytes", w->text, u.tc_len);
        cr_expect(tcbuf[1] == 0xcd && tcbuf[2] == VEC, "%s: int $callout_vector", w->text);
        cr_expect_eq(u.nexits, 0, "%s", w->text);
        cr_expect_eq(u.next_eip, G + 1 + w->len, "%s", w->text);
        const struct bt_map *e = bt_map_find(&u, 1);
        cr_assert_not_null(e);
        cr_expect_eq(e->kind, w->kind, "%s: kind %s", w->text, bt_kind_name[e->kind]);
        cr_expect_eq(e->cls, w->cls, "%s: class %d", w->text, e->cls);
        cr_expect_eq(e->guest_eip, G + 1, "%s", w->text);
        cr_expect_eq(e->guest_len, w->len, "%s", w->text);
        cr_expect(e->before_effect, "%s", w->text);
    }
}

Test(bt_xlate, a_callout_reports_its_guest_instruction_to_the_monitor)
{
    xlate_ok(B(0xb8, 0x05, 0, 0, 0, 0xee, 0x90));    /* mov eax, 5; out dx, al; nop */
    struct bt_vcpu v = vcpu_sample();
    struct regs r = {.esp = S, .eflags = 2};
    const struct bt_map *e = stopped_at(run(&v, &r));
    cr_expect_eq(r.eax, 5);
    cr_expect_eq(e->kind, BT_CALLOUT);
    cr_expect_eq(e->cls, IC_OUT);
    cr_expect_eq(e->guest_eip, G + 5);
    cr_expect_eq(u.next_eip, G + 6);
}

/* ---- unit boundaries and errors ------------------------------------------------------------ */

Test(bt_xlate, unit_stops_after_twelve_instructions)
{
    uint8_t nops[20];
    memset(nops, 0x90, sizeof nops);
    xlate_ok(nops, sizeof nops);
    cr_expect_eq(u.ninsns, BT_UNIT_INSNS);
    cr_expect_eq(u.guest_len, 12);
    cr_expect_eq(u.end, BT_END_LIMIT);
    cr_assert_eq(u.nexits, 1);
    cr_expect_eq(u.exits[0].target, G + 12);
}

Test(bt_xlate, undecodable_bytes_give_einval_or_end_the_unit_before_them)
{
    cr_expect_eq(xlate(B(0x0f, 0x04, 0x90)), -EINVAL);
    cr_expect_eq(u.tc_len, 0);
    xlate_ok(B(0x90, 0x90, 0x0f, 0x04));
    cr_expect_eq(u.ninsns, 2);
    cr_expect_eq(u.end, BT_END_UNTRANSLATABLE);
    cr_expect_eq(u.next_eip, G + 2);
    cr_expect_eq(u.exits[0].target, G + 2);
}

Test(bt_xlate, unsupported_encodings_give_einval_and_truncated_ones_enodata)
{
    cr_expect_eq(xlate(B(0x66, 0xe9, 0x10, 0x00)), -EINVAL, "jmp rel16");
    xlate_ok(B(0x90, 0x66, 0xe9, 0x10, 0x00));
    cr_expect_eq(u.end, BT_END_UNTRANSLATABLE);
    cr_expect_eq(u.ninsns, 1);
    cr_expect_eq(u.tc_len, 1 + 5 + 2, "nop, fall-through jmp, stub: nothing of the jmp rel16");
    cr_expect_eq(xlate(B(0xb8, 0x01, 0x00)), -ENODATA, "mov eax, imm32 cut short");
    xlate_ok(B(0x90, 0xb8, 0x01));
    cr_expect_eq(u.end, BT_END_BYTES);
    cr_expect_eq(u.next_eip, G + 1);
}

Test(bt_xlate, too_small_a_buffer_gives_enospc)
{
    u.tc = tcbuf;
    u.tc_cap = 4;
    cr_expect_eq(bt_translate(&env, B(0x90, 0x90, 0x90, 0x90), G, T, &u), -ENOSPC);
}

/* ---- indirect branches: the in-cache lookup ------------------------------------------------ */

static const struct bt_env ib_env = {.vcpu_state = V, .callout_vector = VEC, .ibtc = I};

/* The unit's in-cache lookup (its counted hit path), NULL if it has none. */
static const struct bt_count *lookup_count(void)
{
    for (unsigned i = 0; i < u.ncounts; i++)
        if (u.counts[i].lookup)
            return &u.counts[i];
    return NULL;
}

static uint16_t lookup_hit(void) { return lookup_count() ? lookup_count()->tc_off : 0; }

static enum bt_ib lookup_kind(void)
{
    return lookup_count() ? (enum bt_ib)lookup_count()->cls : BT_IB_NONE;
}

static void xlate_ib(const uint8_t *code, size_t len)
{
    int rc = xlate_with(&ib_env, code, len);
    cr_assert_eq(rc, 0, "bt_translate: %d", rc);
}

static void ib_set(uint32_t guest_eip, uint32_t tc_addr)
{
    struct bt_ibtc_entry e = {.neg_guest_eip = -guest_eip, .tc_addr = tc_addr};
    wr(I + 8 * bt_ibtc_slot(guest_eip), &e, sizeof e);
}

/* A fresh engine with an empty lookup table (plus guest_eip -> P if guest_eip), the landing pad
 * and `ret_addr` on the guest stack at S - 4. */
static void ib_engine(uint32_t guest_eip, uint32_t ret_addr)
{
    fresh_engine();
    static struct bt_ibtc_entry empty[BT_IBTC_ENTRIES];
    for (uint32_t i = 0; i < BT_IBTC_ENTRIES; i++)
        empty[i] = (struct bt_ibtc_entry){.neg_guest_eip = -(i + 1), .tc_addr = 0};
    wr(I, empty, sizeof empty);
    if (guest_eip)
        ib_set(guest_eip, P);
    wr(P, (const uint8_t[]){0xcd, 0x82}, 2);
    wr(S - 4, &ret_addr, 4);
}

/* Registers that must come through the lookup unchanged. */
static struct regs ib_regs(uint32_t flags)
{
    return (struct regs){.eax = 0xaaaa0001, .ebx = 0xbbbb0002, .ecx = 0xcccc0003,
                         .edx = 0xdddd0004, .esi = 0x5151, .edi = 0xd1d1, .esp = S - 4,
                         .eflags = flags};
}

static void expect_regs_kept(const struct regs *r, uint32_t flags, const char *what)
{
    struct regs w = ib_regs(flags);
    cr_expect(r->eax == w.eax && r->ebx == w.ebx && r->ecx == w.ecx && r->edx == w.edx &&
              r->esi == w.esi && r->edi == w.edi, "%s: a general register changed", what);
    cr_expect_eq(r->eflags & ARITH, flags & ARITH, "%s: flags %#x, were %#x", what, r->eflags,
                 flags);
}

/* The run went to the translation the table named (the landing pad). */
static void expect_hit(struct stop s, const char *what)
{
    cr_assert_eq(s.err, UC_ERR_OK, "%s: %s", what, uc_strerror(s.err));
    cr_expect_eq(s.vector, 0x82, "%s: stopped by vector %#x at %#x, not at the landing pad",
                 what, s.vector, s.eip);
    cr_expect_eq(s.eip, P + 2, "%s", what);
}

/* The run left through the miss callout, at the guest state before the instruction. */
static void expect_miss(struct stop s, const char *what)
{
    const struct bt_map *e = stopped_at(s);
    cr_expect_eq(e->kind, BT_INDIRECT, "%s: %s", what, bt_kind_name[e->kind]);
    cr_expect_eq(e->guest_eip, G, "%s", what);
    cr_expect(e->before_effect && e->sp_undo == 0 && e->saved_reg == 0, "%s", what);
}

Test(bt_xlate, ret_hit_jumps_to_the_translation_with_the_guest_stack_as_after_ret)
{
    const uint32_t R = G + 0x345;
    const struct { const uint8_t *code; size_t len; uint32_t pop; } rets[] = {
        {B(0xc3), 4}, {B(0xc2, 0x08, 0x00), 12}, {B(0xf3, 0xc3), 4}};
    for (unsigned k = 0; k < 3; k++)
        for (unsigned i = 0; i < sizeof flag_patterns / sizeof flag_patterns[0]; i++) {
            xlate_ib(rets[k].code, rets[k].len);
            cr_expect_eq(lookup_kind(), BT_IB_RET);
            cr_expect_gt(lookup_hit(), 0);
            ib_engine(R, R);
            struct regs r = ib_regs(flag_patterns[i]);
            expect_hit(run_on(&(struct bt_vcpu){0}, &r), "ret");
            cr_expect_eq(r.esp, S - 4 + rets[k].pop, "ret form %u: ESP %#x", k, r.esp);
            expect_regs_kept(&r, flag_patterns[i], "ret");
        }
}

Test(bt_xlate, ret_miss_calls_out_at_the_guest_state_before_ret)
{
    xlate_ib(B(0xc3));
    ib_engine(G + 0x999, G + 0x345);         /* the table knows another EIP in another slot */
    struct regs r = ib_regs(0x0002 | ARITH);
    expect_miss(run_on(&(struct bt_vcpu){0}, &r), "ret");
    cr_expect_eq(r.esp, S - 4);
    cr_expect_eq(rd32(S - 4), G + 0x345, "the return address is still on the stack");
    expect_regs_kept(&r, 0x0002 | ARITH, "ret miss");
}

Test(bt_xlate, an_empty_slot_matches_no_target_not_even_zero)
{
    xlate_ib(B(0xc3));
    for (uint32_t target = 0; target < 2; target++) {
        ib_engine(0, target);
        struct regs r = ib_regs(2);
        expect_miss(run_on(&(struct bt_vcpu){0}, &r), "ret to an unknown 0 or 1");
    }
}

Test(bt_xlate, indirect_call_pushes_the_guest_return_address_and_jumps_to_the_translation)
{
    const uint32_t F = G + 0x777;
    /* call [esp+4]: the operand is read before anything is pushed, as natively */
    xlate_ib(B(0xff, 0x54, 0x24, 0x04));
    cr_expect_eq(lookup_kind(), BT_IB_CALL);
    ib_engine(F, 0x1111);
    wr(S, &F, 4);                             /* [esp + 4] with ESP = S - 4 */
    struct regs r = ib_regs(0x0002 | 0x0041);
    expect_hit(run_on(&(struct bt_vcpu){0}, &r), "call [esp+4]");
    cr_expect_eq(r.esp, S - 8);
    cr_expect_eq(rd32(S - 8), G + 4, "pushed %#x, want the guest return address", rd32(S - 8));
    expect_regs_kept(&r, 0x0002 | 0x0041, "call");

    /* call edx, missing: nothing pushed, the callout sees the guest's state */
    xlate_ib(B(0xff, 0xd2));
    ib_engine(F, 0x1111);
    r = ib_regs(2);
    expect_miss(run_on(&(struct bt_vcpu){0}, &r), "call edx");
    cr_expect_eq(r.esp, S - 4);
    expect_regs_kept(&r, 2, "call miss");
}

Test(bt_xlate, indirect_jmp_through_register_and_memory_reaches_the_translation)
{
    ib_engine(0, 0);
    /* jmp edx: EDX is the target */
    xlate_ib(B(0xff, 0xe2));
    cr_expect_eq(lookup_kind(), BT_IB_JMP);
    ib_set(0xdddd0004, P);
    struct regs r = ib_regs(0x0002 | 0x0884);
    expect_hit(run_on(&(struct bt_vcpu){0}, &r), "jmp edx");
    cr_expect_eq(r.esp, S - 4);
    expect_regs_kept(&r, 0x0002 | 0x0884, "jmp edx");
}

Test(bt_xlate, switch_table_jmp_reads_its_target_with_the_guest_registers)
{
    const uint32_t target = G + 0x40;
    xlate_ib(B(0xff, 0x24, 0x8d, 0x00, 0x00, 0x02, 0x00));      /* jmp [ecx*4 + D] */
    ib_engine(target, 0);
    struct regs r = ib_regs(2);
    r.ecx = 3;
    wr(D + 12, &target, 4);
    expect_hit(run_on(&(struct bt_vcpu){0}, &r), "jmp [ecx*4+D]");
    cr_expect_eq(r.ecx, 3);
    cr_expect_eq(r.esp, S - 4);
}

Test(bt_xlate, the_lookup_steps_that_can_fault_say_how_many_bytes_to_rewind)
{
    xlate_ib(B(0xff, 0x50, 0x04));   /* call [eax+4] */
    unsigned pushes = 0;
    for (unsigned i = 0; i < u.nmap && u.map[i].before_effect; i++) {
        const struct bt_map *e = &u.map[i];
        cr_expect_eq(e->kind, BT_INDIRECT);
        cr_expect_eq(e->guest_eip, G);
        cr_expect_eq(e->sp_undo, 4 * pushes, "entry %u: sp_undo %u after %u pushes", i,
                     e->sp_undo, pushes);
        pushes++;
    }
    cr_expect_eq(pushes, 5, "push $ret, eax, ecx, edx, then the operand load");
    cr_expect_not(u.map[pushes].before_effect, "the index and compare are not boundaries");
    const struct bt_map *hit = bt_map_find(&u, lookup_hit());
    cr_assert_not_null(hit);
    cr_expect_not(hit->before_effect, "no interrupt may be taken inside the lookup");
}

Test(bt_xlate, far_and_16_bit_indirect_transfers_stay_callouts)
{
    const struct { const uint8_t *code; size_t len; } rows[] = {
        {B(0x66, 0xc3)}, {B(0xff, 0xe4)}, {B(0xff, 0x28)}, {B(0x67, 0xff, 0x27)}};
    for (unsigned i = 0; i < 4; i++) {
        xlate_ib(rows[i].code, rows[i].len);
        cr_expect_eq(lookup_kind(), BT_IB_NONE, "form %u", i);
        cr_expect_eq(u.tc_len, 2, "form %u: %zu TC bytes, want the callout alone", i, u.tc_len);
    }
}

/* ---- segment loads through the selector map ------------------------------------------------ */

#define M 0xe0000u                   /* the selector map: 65536 uint16_t, up to 0x100000 */
#define GDT 0x9000u                  /* a GDT: 0x08 flat code, 0x10 and 0x18 flat data */

static const struct bt_env seg_env = {.vcpu_state = V, .callout_vector = VEC, .selmap = M};

/* A fresh engine with a GDT, an empty selector map but guest 0x23 -> real 0x10 and guest
 * 0x2b -> real 0x18, and `on_stack` at S - 4. */
static void seg_engine(uint32_t on_stack)
{
    fresh_engine();
    static const uint64_t gdt[4] = {0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull,
                                    0x00cf93000000ffffull};
    wr(GDT, gdt, sizeof gdt);
    uc_x86_mmr gdtr = {.base = GDT, .limit = sizeof gdt - 1};
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr), UC_ERR_OK);
    /* A real 32-bit stack segment: the engine's initial SS has no descriptor, and the CPU takes
     * it for a 16-bit one as soon as a segment load recomputes its mode. */
    uint32_t ss = 0x10;
    cr_assert_eq(uc_reg_write(uc, UC_X86_REG_SS, &ss), UC_ERR_OK);
    static uint16_t map[BT_SELMAP_ENTRIES];
    memset(map, 0, sizeof map);
    map[0x23] = 0x10 + 1;
    map[0x2b] = 0x18 + 1;
    wr(M, map, sizeof map);
    wr(S - 4, &on_stack, 4);
}

static uint16_t sreg(int id)
{
    uint32_t v = 0;
    uc_reg_read(uc, id, &v);
    return (uint16_t)v;
}

static void xlate_seg(const uint8_t *code, size_t len)
{
    int rc = xlate_with(&seg_env, code, len);
    cr_assert_eq(rc, 0, "bt_translate: %d", rc);
}

Test(bt_xlate, pop_ds_loads_the_real_selector_the_map_names_and_shows_the_guest_its_own)
{
    xlate_seg(B(0x1f, 0x90));                     /* pop ds; nop */
    cr_assert_eq(u.ninsns, 2, "the unit goes on after the segment load");
    cr_assert_eq(u.ncounts, 1);
    cr_expect_eq(u.counts[0].cls, IC_POP_SEG);
    cr_expect_not(u.counts[0].lookup);
    for (unsigned i = 0; i < sizeof flag_patterns / sizeof flag_patterns[0]; i++) {
        seg_engine(0x23);
        struct regs r = {.ecx = 0x12345678, .esp = S - 4, .eflags = flag_patterns[i]};
        struct bt_vcpu v = vcpu_sample();
        const struct bt_map *e = stopped_at(run_on(&v, &r));
        cr_expect_eq(e->kind, BT_EXIT, "ran to the unit's end");
        cr_expect_eq(e->guest_eip, G + 2);
        cr_expect_eq(sreg(UC_X86_REG_DS), 0x10, "DS %#x, want the real 0x10", sreg(UC_X86_REG_DS));
        cr_expect_eq(rd32(V + offsetof(struct bt_vcpu, sel) + 4 * 3), 0x23, "V.sel[DS]");
        cr_expect_eq(r.esp, S);
        cr_expect_eq(r.ecx, 0x12345678, "ECX %#x", r.ecx);
        cr_expect_eq(r.eflags & ARITH, flag_patterns[i] & ARITH);
    }
}

Test(bt_xlate, a_selector_the_map_does_not_know_calls_out_with_nothing_changed)
{
    xlate_seg(B(0x1f, 0x90));                     /* pop ds; nop */
    seg_engine(0x33);
    struct regs r = {.ecx = 0x0badf00d, .esp = S - 4, .eflags = 2};
    struct bt_vcpu v = vcpu_sample();
    uint16_t ds = sreg(UC_X86_REG_DS);
    const struct bt_map *e = stopped_at(run_on(&v, &r));
    cr_expect_eq(e->kind, BT_CALLOUT);
    cr_expect_eq(e->cls, IC_POP_SEG);
    cr_expect_eq(e->guest_eip, G);
    cr_expect(e->before_effect && e->sp_undo == 0);
    cr_expect_eq(r.esp, S - 4);
    cr_expect_eq(r.ecx, 0x0badf00d);
    cr_expect_eq(sreg(UC_X86_REG_DS), ds);
}

Test(bt_xlate, mov_to_es_from_a_register_or_the_stack_goes_through_the_map)
{
    xlate_seg(B(0x8e, 0xc0, 0x90));               /* mov es, ax; nop */
    seg_engine(0);
    struct regs r = {.eax = 0xffff002b, .esp = S - 4, .eflags = 2};
    struct bt_vcpu v = vcpu_sample();
    stopped_at(run_on(&v, &r));
    cr_expect_eq(sreg(UC_X86_REG_ES), 0x18);
    cr_expect_eq(r.eax, 0xffff002b);
    cr_expect_eq(rd32(V + offsetof(struct bt_vcpu, sel)), 0x2b, "V.sel[ES]");

    xlate_seg(B(0x8e, 0x44, 0x24, 0x00, 0x90));   /* mov es, [esp]; nop */
    seg_engine(0x23);
    r = (struct regs){.esp = S - 4, .eflags = 2};
    stopped_at(run_on(&v, &r));
    cr_expect_eq(sreg(UC_X86_REG_ES), 0x10, "the operand is read at the guest's ESP");
    cr_expect_eq(r.esp, S - 4);
}

Test(bt_xlate, loads_of_ss_and_cs_stay_callouts)
{
    xlate_seg(B(0x17));                           /* pop ss */
    cr_expect_eq(u.map[0].kind, BT_CALLOUT);
    xlate_seg(B(0x8e, 0xd0));                     /* mov ss, ax */
    cr_expect_eq(u.map[0].kind, BT_CALLOUT);
}

/* ---- port I/O through the port map -------------------------------------------------------- */

#define PM 0xc0000u                  /* the port map: 65536 bytes, up to P */

static const struct bt_env io_env = {.vcpu_state = V, .callout_vector = VEC, .portmap = PM};

/* What the engine's port hooks saw: the accesses, in order. */
static struct io_seen {
    unsigned n;
    struct {
        uint32_t port, value;
        int size;
        bool in;
    } a[4];
} io;

static uint32_t on_in(uc_engine *e, uint32_t port, int size, void *opaque)
{
    if (io.n < 4)
        io.a[io.n++] = (typeof(io.a[0])){.port = port, .size = size, .in = true};
    return 0xffffffffu;                          /* what the POST port reads */
}

static void on_out(uc_engine *e, uint32_t port, int size, uint32_t value, void *opaque)
{
    if (io.n < 4)
        io.a[io.n++] = (typeof(io.a[0])){.port = port, .value = value, .size = size};
}

/* A fresh engine with port hooks and a port map that lets 0x80, 0xe0..0xe3 and 0xf4..0xf7
 * through, as the monitor's does. */
static void io_engine(void)
{
    fresh_engine();
    uc_hook h;
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)on_in, NULL, 1, 0, UC_X86_INS_IN),
                 UC_ERR_OK);
    cr_assert_eq(uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)on_out, NULL, 1, 0, UC_X86_INS_OUT),
                 UC_ERR_OK);
    static uint8_t map[BT_PORTMAP_ENTRIES];
    memset(map, 0, sizeof map);
    map[0x80] = 1;
    memset(map + 0xe0, 1, 4);
    memset(map + 0xf4, 1, 4);
    wr(PM, map, sizeof map);
    memset(&io, 0, sizeof io);
}

static void xlate_io(const uint8_t *code, size_t len)
{
    int rc = xlate_with(&io_env, code, len);
    cr_assert_eq(rc, 0, "bt_translate: %d", rc);
}

/* The map entry of the TC's copy of the guest's in/out: the instruction after the counted one
 * (movl V.scratch, %ecx: 6 bytes). What the monitor checks before it lets the access through. */
static const struct bt_map *io_copy(void)
{
    cr_assert_eq(u.ncounts, 1);
    return bt_map_find(&u, u.counts[0].tc_off + 6u);
}

Test(bt_xlate, in_from_the_post_port_runs_in_the_cache_and_is_counted_there)
{
    xlate_io(B(0xec, 0x90));                     /* in al, dx; nop */
    cr_expect_eq(u.ninsns, 2, "the unit goes on after the in");
    cr_expect_eq(u.end, BT_END_BYTES);
    cr_assert_eq(u.ncounts, 1);
    cr_expect_not(u.counts[0].lookup);
    cr_expect_eq(u.counts[0].cls, IC_IN);
    const struct bt_map *c = io_copy();
    cr_assert_not_null(c);
    cr_expect_eq(c->kind, BT_INCACHE);
    cr_expect_eq(c->cls, IC_IN);
    cr_expect_eq(c->guest_eip, G);
    cr_expect(c->before_effect && c->saved_reg == 0 && c->sp_undo == 0,
              "at the copy the guest state is as before the in");
    cr_expect_eq(tcbuf[c->tc_off], 0xec, "the guest's own in");
    for (unsigned i = 0; i < sizeof flag_patterns / sizeof flag_patterns[0]; i++) {
        io_engine();
        struct regs r = {.eax = 0x12345600, .ecx = 0x0badf00d, .edx = 0xffff0080, .esp = S,
                         .eflags = flag_patterns[i]};
        struct regs was = r;
        struct bt_vcpu v = vcpu_sample();
        const struct bt_map *e = stopped_at(run_on(&v, &r));
        cr_expect_eq(e->kind, BT_EXIT, "ran to the unit's end, no callout");
        cr_expect_eq(e->guest_eip, G + 2);
        cr_assert_eq(io.n, 1, "%u port accesses", io.n);
        cr_expect(io.a[0].in && io.a[0].port == 0x80 && io.a[0].size == 1);
        cr_expect_eq(r.eax, 0x123456ff, "AL %#x", r.eax);
        was.eax = r.eax;
        cr_expect_eq(memcmp(&r, &was, sizeof r), 0, "ECX %#x or the flags %#x changed", r.ecx,
                     r.eflags);
    }
}

Test(bt_xlate, in_from_the_uart_calls_out_with_nothing_changed_and_the_unit_goes_on)
{
    xlate_io(B(0xec, 0x90));                     /* in al, dx; nop */
    io_engine();
    struct regs r = {.eax = 0x55, .ecx = 0x0badf00d, .edx = 0x3fd, .esp = S,
                     .eflags = 0x0002 | ARITH};
    struct regs was = r;
    struct bt_vcpu v = vcpu_sample();
    const struct bt_map *e = stopped_at(run_on(&v, &r));
    cr_expect_eq(e->kind, BT_CALLOUT);
    cr_expect_eq(e->cls, IC_IN);
    cr_expect_eq(e->guest_eip, G);
    cr_expect_eq(e->guest_len, 1);
    cr_expect(e->before_effect && e->saved_reg == 0 && e->sp_undo == 0);
    cr_expect_eq(io.n, 0, "the port was not touched");
    cr_expect_eq(memcmp(&r, &was, sizeof r), 0, "registers or flags changed");
    cr_expect_eq(u.ninsns, 2);
    const struct bt_map *next = bt_map_find(&u, (uint32_t)(e->tc_off + 2));
    cr_assert_not_null(next);
    cr_expect_eq(next->guest_eip, G + 1, "the nop follows in the unit");
    cr_expect(next->before_effect && next->saved_reg == 0, "a clean boundary to resume at");
}

struct io_row {
    const char *text;
    uint8_t bytes[4];
    size_t len;
    uint32_t edx;
    uint32_t port;
    int size;
    bool in;
    bool incache;
};

Test(bt_xlate, every_plain_in_and_out_form_runs_in_the_cache_for_a_register_port_only)
{
    static const struct io_row rows[] = {
        {"in al, 0x80", R(0xe4, 0x80), 0, 0x80, 1, true, true},
        {"in eax, dx", R(0xed), 0xe0, 0xe0, 4, true, true},
        {"in ax, dx", R(0x66, 0xed), 0xe2, 0xe2, 2, true, true},
        {"out 0xe0, al", R(0xe6, 0xe0), 0, 0xe0, 1, false, true},
        {"out dx, eax", R(0xef), 0xe0, 0xe0, 4, false, true},
        {"out dx, ax", R(0x66, 0xef), 0xf4, 0xf4, 2, false, true},
        {"out 0xf7, eax", R(0xe7, 0xf7), 0, 0xf7, 4, false, true},
        {"out dx, al (0x3f8)", R(0xee), 0x3f8, 0x3f8, 1, false, false},
        {"out 0x20, al", R(0xe6, 0x20), 0, 0x20, 1, false, false},
        {"in al, 0x81", R(0xe4, 0x81), 0, 0x81, 1, true, false},
        {"in al, dx (0x10080)", R(0xec), 0x10080, 0x80, 1, true, true},
        {"out dx, al (0xe080)", R(0xee), 0xe080, 0xe080, 1, false, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct io_row *w = &rows[i];
        uint8_t code[8];
        memcpy(code, w->bytes, w->len);
        code[w->len] = 0x90;
        xlate_io(code, w->len + 1);
        cr_expect_eq(u.ninsns, 2, "%s: the unit goes on", w->text);
        cr_assert_eq(u.ncounts, 1, "%s", w->text);
        cr_expect_eq(u.counts[0].cls, w->in ? IC_IN : IC_OUT, "%s", w->text);
        io_engine();
        struct regs r = {.eax = 0x11223344, .ecx = 7, .edx = w->edx, .esp = S, .eflags = 2};
        struct bt_vcpu v = vcpu_sample();
        const struct bt_map *e = stopped_at(run_on(&v, &r));
        cr_expect_eq(e->kind, w->incache ? BT_EXIT : BT_CALLOUT, "%s: stopped at %s", w->text,
                     bt_kind_name[e->kind]);
        cr_expect_eq(r.ecx, 7, "%s: ECX %#x", w->text, r.ecx);
        cr_expect_eq(io.n, w->incache ? 1u : 0u, "%s: %u port accesses", w->text, io.n);
        if (!w->incache || io.n != 1)
            continue;
        cr_expect_eq(io.a[0].port, w->port, "%s: port %#x", w->text, io.a[0].port);
        cr_expect_eq(io.a[0].size, w->size, "%s: size %d", w->text, io.a[0].size);
        cr_expect_eq(io.a[0].in, w->in, "%s", w->text);
        uint32_t mask = w->size == 4 ? ~0u : (1u << 8 * w->size) - 1;
        if (!w->in)
            cr_expect_eq(io.a[0].value, 0x11223344u & mask, "%s: value %#x", w->text,
                         io.a[0].value);
    }
}

Test(bt_xlate, string_io_and_prefixed_forms_stay_callouts_that_end_the_unit)
{
    static const struct callout_row rows[] = {
        {"insb", R(0x6c), IC_INS, BT_CALLOUT},
        {"rep outsd", R(0xf3, 0x6f), IC_OUTS, BT_CALLOUT},
        {"in al, dx (cs:)", R(0x2e, 0xec), IC_IN, BT_CALLOUT},
        {"rep in al, dx", R(0xf3, 0xec), IC_IN, BT_CALLOUT},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct callout_row *w = &rows[i];
        uint8_t code[8];
        memcpy(code, w->bytes, w->len);
        code[w->len] = 0x90;
        xlate_io(code, w->len + 1);
        cr_expect_eq(u.ninsns, 1, "%s: %u instructions", w->text, u.ninsns);
        cr_expect_eq(u.end, BT_END_CALLOUT, "%s", w->text);
        cr_expect_eq(u.map[0].kind, BT_CALLOUT, "%s", w->text);
        cr_expect_eq(u.map[0].cls, w->cls, "%s", w->text);
        cr_expect_eq(u.ncounts, 0, "%s", w->text);
    }
}

Test(bt_xlate, every_step_of_an_in_cache_in_says_what_to_rewind)
{
    xlate_io(B(0xec));                           /* in al, dx */
    const struct bt_map *c = io_copy();
    cr_assert_not_null(c);
    const struct bt_map *e = u.map;
    cr_expect(e->kind == BT_INCACHE && e->before_effect && e->saved_reg == 0,
              "the sequence starts at a clean boundary");
    for (e++; e < c; e++)
        cr_expect(e->before_effect && e->saved_reg == 1 + 1,
                  "TC %u: ECX held in V.scratch, nothing else changed", e->tc_off);
    cr_expect(c->before_effect && c->saved_reg == 0, "the copy: ECX given back");
    cr_expect(!e[1].before_effect && e[1].kind == BT_INCACHE, "after the copy the in has run");
    cr_expect(e[2].before_effect && e[2].saved_reg == 1 + 1, "the miss path holds ECX");
    cr_expect(e[3].kind == BT_CALLOUT && e[3].saved_reg == 0 && e[3].before_effect,
              "the callout sees the guest state before the in");
    for (e = u.map; e <= &u.map[3 + (c - u.map)]; e++) {
        cr_expect_eq(e->guest_eip, G);
        cr_expect_eq(e->sp_undo, 0, "TC %u: nothing pushed", e->tc_off);
    }
}

/* ---- the map ------------------------------------------------------------------------------- */

Test(bt_xlate, every_tc_offset_maps_back_to_its_guest_instruction)
{
    static const uint8_t code[] = {
        0xb8, 0x01, 0, 0, 0,                       /* 0  mov eax, 1 */
        0xfa,                                      /* 5  cli */
        0x9c,                                      /* 6  pushf */
        0x0f, 0x01, 0x03,                          /* 7  sgdt [ebx] */
        0x9d,                                      /* 10 popf */
        0x83, 0xc0, 0x02,                          /* 11 add eax, 2 */
        0x75, 0xf0,                                /* 14 jne -0x10 */
    };
    static const uint32_t starts[] = {0, 5, 6, 7, 10, 11, 14};
    xlate_ok(code, sizeof code);
    cr_assert_eq(u.ninsns, 7);
    cr_assert_eq(u.map[0].tc_off, 0);
    for (unsigned i = 1; i < u.nmap; i++)
        cr_assert_gt(u.map[i].tc_off, u.map[i - 1].tc_off, "entries in TC order");
    unsigned k = 0;                              /* guest instruction being walked */
    for (uint32_t o = 0; o < u.tc_len; o++) {
        const struct bt_map *e = bt_map_find(&u, o);
        cr_assert_not_null(e, "TC offset %u unmapped", o);
        if (e->kind == BT_EXIT) {
            cr_expect(e->guest_eip == G + 16 || e->guest_eip == G + 16 - 0x10,
                      "exit at %u stands for %#x", o, e->guest_eip);
            continue;
        }
        if (e->guest_eip != G + starts[k]) {
            k++;
            cr_assert_lt(k, 7);
            cr_assert_eq(e->guest_eip, G + starts[k], "TC offset %u: %#x, want %#x", o,
                         e->guest_eip, G + starts[k]);
            cr_expect_eq(e->tc_off, o, "a guest instruction starts a new entry");
            cr_expect(e->before_effect && e->sp_undo == 0, "its first byte is before any effect");
        }
        cr_expect_eq(e->guest_len, (k < 6 ? starts[k + 1] : sizeof code) - starts[k]);
    }
    cr_expect_eq(k, 6, "all seven guest instructions seen");
    cr_expect_null(bt_map_find(&u, (uint32_t)u.tc_len));
}

Test(bt_xlate, a_fault_inside_sgdt_maps_to_the_guest_instruction_with_what_to_rewind)
{
    xlate_ok(B(0x90, 0x0f, 0x01, 0x03));         /* nop; sgdt [ebx] */
    struct bt_vcpu v = vcpu_sample();
    struct regs r = {.eax = 0x11111111, .ebx = 0x200000, .esp = S, .eflags = 2};  /* unmapped */
    struct stop s = run(&v, &r);
    cr_assert_eq(s.err, UC_ERR_WRITE_UNMAPPED, "run: %s", uc_strerror(s.err));
    uint32_t eip;
    uc_reg_read(uc, UC_X86_REG_EIP, &eip);
    const struct bt_map *e = bt_map_find(&u, eip - T);
    cr_assert_not_null(e, "fault at TC offset %#x unmapped", eip - T);
    cr_expect_eq(e->guest_eip, G + 1);
    cr_expect_eq(e->kind, BT_INCACHE);
    cr_expect_eq(e->cls, IC_SGDT);
    cr_expect(e->before_effect);
    cr_expect_eq(r.esp + e->sp_undo, S, "ESP %#x + %u is not the guest's", r.esp, e->sp_undo);
    cr_assert_eq(e->saved_reg, 1, "EAX borrowed (the operand uses EBX)");
    cr_expect_eq(rd32(V + offsetof(struct bt_vcpu, scratch)), 0x11111111, "EAX to restore");
}

Test(bt_xlate, every_kind_has_a_name)
{
    for (int k = 0; k < BT_KIND_COUNT; k++)
        cr_expect(bt_kind_name[k] && bt_kind_name[k][0], "kind %d", k);
}
