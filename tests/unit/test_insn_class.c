/*
 * test_insn_class.c — insn_classify() on instructions decoded by Capstone from their bytes, for
 * every class of emu/insn_class.def, plus ordinary instructions that must stay IC_NONE, the CR
 * number of control-register moves, the kinds of the .def list and insn_ends_block().
 *
 * Each table row is an encoding and the class it must get; a row names its instruction so a
 * failure says which one.
 */
#include <capstone/capstone.h>
#include <criterion/criterion.h>
#include <string.h>

#include "emu/insn_class.h"

static csh cs;

static void setup(void)
{
    cr_assert_eq(cs_open(CS_ARCH_X86, CS_MODE_32, &cs), CS_ERR_OK);
    cr_assert_eq(cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON), CS_ERR_OK);
}

static void teardown(void) { cs_close(&cs); }

TestSuite(insn_class, .init = setup, .fini = teardown);

struct row {
    const char *text;
    uint8_t bytes[8];
    size_t len;
    int cls;
    int cr;      /* expected CR number; -1 */
};

#define B(...) {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})

/* Decode exactly one instruction covering all of row->bytes, classify it. */
static int classify(const struct row *r, int *cr)
{
    cs_insn *insn;
    size_t n = cs_disasm(cs, r->bytes, r->len, 0x1000, 1, &insn);
    cr_assert_eq(n, 1, "%s: Capstone cannot decode it", r->text);
    cr_assert_eq(insn->size, r->len, "%s: decoded as %u bytes (%s %s)", r->text, insn->size,
                 insn->mnemonic, insn->op_str);
    int c = insn_classify(insn, cr);
    cs_free(insn, 1);
    return c;
}

static void check(const struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int cr = 99;
        int c = classify(&rows[i], &cr);
        cr_expect_eq(c, rows[i].cls, "%s: class %d (%s), want %d (%s)", rows[i].text, c,
                     c == IC_NONE ? "none" : insn_class_name[c], rows[i].cls,
                     rows[i].cls == IC_NONE ? "none" : insn_class_name[rows[i].cls]);
        cr_expect_eq(cr, rows[i].cr, "%s: cr %d, want %d", rows[i].text, cr, rows[i].cr);
    }
}

#define CHECK(rows) check(rows, sizeof rows / sizeof rows[0])

Test(insn_class, privileged_instructions_get_their_priv_class)
{
    static const struct row rows[] = {
        {"hlt", B(0xf4), IC_HLT, -1},
        {"lgdt [eax]", B(0x0f, 0x01, 0x10), IC_LGDT, -1},
        {"lidt [eax]", B(0x0f, 0x01, 0x18), IC_LIDT, -1},
        {"lldt ax", B(0x0f, 0x00, 0xd0), IC_LLDT, -1},
        {"ltr ax", B(0x0f, 0x00, 0xd8), IC_LTR, -1},
        {"invlpg [eax]", B(0x0f, 0x01, 0x38), IC_INVLPG, -1},
        {"wbinvd", B(0x0f, 0x09), IC_WBINVD, -1},
        {"invd", B(0x0f, 0x08), IC_INVD, -1},
        {"clts", B(0x0f, 0x06), IC_CLTS, -1},
        {"lmsw ax", B(0x0f, 0x01, 0xf0), IC_LMSW, -1},
        {"rdmsr", B(0x0f, 0x32), IC_RDMSR, -1},
        {"wrmsr", B(0x0f, 0x30), IC_WRMSR, -1},
    };
    CHECK(rows);
}

Test(insn_class, moves_to_and_from_control_registers_report_the_cr_number)
{
    static const struct row rows[] = {
        {"mov cr0, eax", B(0x0f, 0x22, 0xc0), IC_MOV_TO_CR, 0},
        {"mov cr2, edx", B(0x0f, 0x22, 0xd2), IC_MOV_TO_CR, 2},
        {"mov cr3, eax", B(0x0f, 0x22, 0xd8), IC_MOV_TO_CR, 3},
        {"mov cr4, ecx", B(0x0f, 0x22, 0xe1), IC_MOV_TO_CR, 4},
        {"mov eax, cr0", B(0x0f, 0x20, 0xc0), IC_MOV_FROM_CR, 0},
        {"mov ebx, cr2", B(0x0f, 0x20, 0xd3), IC_MOV_FROM_CR, 2},
        {"mov eax, cr3", B(0x0f, 0x20, 0xd8), IC_MOV_FROM_CR, 3},
        {"mov esi, cr4", B(0x0f, 0x20, 0xe6), IC_MOV_FROM_CR, 4},
    };
    CHECK(rows);
}

Test(insn_class, moves_to_and_from_debug_registers_are_mov_dr_without_cr)
{
    static const struct row rows[] = {
        {"mov dr0, eax", B(0x0f, 0x23, 0xc0), IC_MOV_DR, -1},
        {"mov dr7, ebx", B(0x0f, 0x23, 0xfb), IC_MOV_DR, -1},
        {"mov eax, dr6", B(0x0f, 0x21, 0xf0), IC_MOV_DR, -1},
    };
    CHECK(rows);
}

Test(insn_class, iopl_sensitive_instructions_get_their_iopl_class)
{
    static const struct row rows[] = {
        {"cli", B(0xfa), IC_CLI, -1},
        {"sti", B(0xfb), IC_STI, -1},
        {"in al, 0x80", B(0xe4, 0x80), IC_IN, -1},
        {"in eax, 0x60", B(0xe5, 0x60), IC_IN, -1},
        {"in al, dx", B(0xec), IC_IN, -1},
        {"in ax, dx", B(0x66, 0xed), IC_IN, -1},
        {"out 0xf4, eax", B(0xe7, 0xf4), IC_OUT, -1},
        {"out dx, al", B(0xee), IC_OUT, -1},
        {"out dx, eax", B(0xef), IC_OUT, -1},
        {"insb", B(0x6c), IC_INS, -1},
        {"insw", B(0x66, 0x6d), IC_INS, -1},
        {"insd", B(0x6d), IC_INS, -1},
        {"rep insb", B(0xf3, 0x6c), IC_INS, -1},
        {"outsb", B(0x6e), IC_OUTS, -1},
        {"outsd", B(0x6f), IC_OUTS, -1},
        {"rep outsw", B(0xf3, 0x66, 0x6f), IC_OUTS, -1},
    };
    CHECK(rows);
}

Test(insn_class, sensitive_unprivileged_instructions_get_their_sens_class)
{
    static const struct row rows[] = {
        {"sgdt [eax]", B(0x0f, 0x01, 0x00), IC_SGDT, -1},
        {"sidt [eax]", B(0x0f, 0x01, 0x08), IC_SIDT, -1},
        {"sldt eax", B(0x0f, 0x00, 0xc0), IC_SLDT, -1},
        {"smsw eax", B(0x0f, 0x01, 0xe0), IC_SMSW, -1},
        {"str eax", B(0x0f, 0x00, 0xc8), IC_STR, -1},
        {"pushfd", B(0x9c), IC_PUSHF, -1},
        {"pushf", B(0x66, 0x9c), IC_PUSHF, -1},
        {"popfd", B(0x9d), IC_POPF, -1},
        {"popf", B(0x66, 0x9d), IC_POPF, -1},
        {"lar eax, eax", B(0x0f, 0x02, 0xc0), IC_LAR, -1},
        {"lsl eax, eax", B(0x0f, 0x03, 0xc0), IC_LSL, -1},
        {"verr ax", B(0x0f, 0x00, 0xe0), IC_VERR, -1},
        {"verw ax", B(0x0f, 0x00, 0xe8), IC_VERW, -1},
    };
    CHECK(rows);
}

Test(insn_class, segment_register_pushes_pops_and_moves_are_classified)
{
    static const struct row rows[] = {
        {"push es", B(0x06), IC_PUSH_SEG, -1},
        {"push cs", B(0x0e), IC_PUSH_SEG, -1},
        {"push ss", B(0x16), IC_PUSH_SEG, -1},
        {"push ds", B(0x1e), IC_PUSH_SEG, -1},
        {"push fs", B(0x0f, 0xa0), IC_PUSH_SEG, -1},
        {"push gs", B(0x0f, 0xa8), IC_PUSH_SEG, -1},
        {"pop es", B(0x07), IC_POP_SEG, -1},
        {"pop ss", B(0x17), IC_POP_SEG, -1},
        {"pop ds", B(0x1f), IC_POP_SEG, -1},
        {"pop fs", B(0x0f, 0xa1), IC_POP_SEG, -1},
        {"pop gs", B(0x0f, 0xa9), IC_POP_SEG, -1},
        {"mov eax, cs", B(0x8c, 0xc8), IC_MOV_FROM_SEG, -1},
        {"mov eax, ss", B(0x8c, 0xd0), IC_MOV_FROM_SEG, -1},
        {"mov [eax], ds", B(0x8c, 0x18), IC_MOV_FROM_SEG, -1},
        {"mov ds, eax", B(0x8e, 0xd8), IC_MOV_TO_SEG, -1},
        {"mov ss, eax", B(0x8e, 0xd0), IC_MOV_TO_SEG, -1},
        {"mov ds, [eax]", B(0x8e, 0x18), IC_MOV_TO_SEG, -1},
    };
    CHECK(rows);
}

Test(insn_class, far_transfers_and_interrupt_instructions_are_classified)
{
    static const struct row rows[] = {
        {"lcall 0x08:0x12345678", B(0x9a, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00), IC_FAR_CALL, -1},
        {"lcall [eax]", B(0xff, 0x18), IC_FAR_CALL, -1},
        {"ljmp 0x08:0x12345678", B(0xea, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00), IC_FAR_JMP, -1},
        {"ljmp [eax]", B(0xff, 0x28), IC_FAR_JMP, -1},
        {"retf", B(0xcb), IC_FAR_RET, -1},
        {"retf 8", B(0xca, 0x08, 0x00), IC_FAR_RET, -1},
        {"int 0x80", B(0xcd, 0x80), IC_INT_N, -1},
        {"int 3 (long form)", B(0xcd, 0x03), IC_INT_N, -1},
        {"iretd", B(0xcf), IC_IRET, -1},
        {"iret", B(0x66, 0xcf), IC_IRET, -1},
    };
    CHECK(rows);
}

Test(insn_class, other_intercepted_instructions_get_their_class)
{
    static const struct row rows[] = {
        {"int3", B(0xcc), IC_INT3, -1},
        {"into", B(0xce), IC_INTO, -1},
        {"cpuid", B(0x0f, 0xa2), IC_CPUID, -1},
        {"rdtsc", B(0x0f, 0x31), IC_RDTSC, -1},
        {"rdpmc", B(0x0f, 0x33), IC_RDPMC, -1},
        {"ud2", B(0x0f, 0x0b), IC_UD2, -1},
    };
    CHECK(rows);
}

Test(insn_class, ordinary_instructions_are_none)
{
    static const struct row rows[] = {
        {"mov eax, ebx", B(0x89, 0xd8), IC_NONE, -1},
        {"mov eax, [ebx+4]", B(0x8b, 0x43, 0x04), IC_NONE, -1},
        {"mov eax, 0x10", B(0xb8, 0x10, 0x00, 0x00, 0x00), IC_NONE, -1},
        {"add eax, ebx", B(0x01, 0xd8), IC_NONE, -1},
        {"push eax", B(0x50), IC_NONE, -1},
        {"push 0x10", B(0x6a, 0x10), IC_NONE, -1},
        {"push [eax]", B(0xff, 0x30), IC_NONE, -1},
        {"pop eax", B(0x58), IC_NONE, -1},
        {"pop [eax]", B(0x8f, 0x00), IC_NONE, -1},
        {"jmp $", B(0xeb, 0xfe), IC_NONE, -1},
        {"jmp eax", B(0xff, 0xe0), IC_NONE, -1},
        {"call rel32", B(0xe8, 0x00, 0x00, 0x00, 0x00), IC_NONE, -1},
        {"ret", B(0xc3), IC_NONE, -1},
        {"nop", B(0x90), IC_NONE, -1},
        {"pause", B(0xf3, 0x90), IC_NONE, -1},
        {"sahf", B(0x9e), IC_NONE, -1},
        {"rep movsb", B(0xf3, 0xa4), IC_NONE, -1},
    };
    CHECK(rows);
}

/* The kinds as insn_class.def documents them, written out independently of the list. */
Test(insn_class, each_class_has_the_kind_and_name_of_the_def_list)
{
    static const struct { int cls; enum insn_kind kind; const char *name; } want[] = {
        {IC_HLT, IK_PRIV, "hlt"}, {IC_LGDT, IK_PRIV, "lgdt"}, {IC_LIDT, IK_PRIV, "lidt"},
        {IC_LLDT, IK_PRIV, "lldt"}, {IC_LTR, IK_PRIV, "ltr"},
        {IC_MOV_TO_CR, IK_PRIV, "mov_to_cr"}, {IC_MOV_FROM_CR, IK_PRIV, "mov_from_cr"},
        {IC_MOV_DR, IK_PRIV, "mov_dr"}, {IC_INVLPG, IK_PRIV, "invlpg"},
        {IC_WBINVD, IK_PRIV, "wbinvd"}, {IC_INVD, IK_PRIV, "invd"}, {IC_CLTS, IK_PRIV, "clts"},
        {IC_LMSW, IK_PRIV, "lmsw"}, {IC_RDMSR, IK_PRIV, "rdmsr"}, {IC_WRMSR, IK_PRIV, "wrmsr"},
        {IC_CLI, IK_IOPL, "cli"}, {IC_STI, IK_IOPL, "sti"}, {IC_IN, IK_IOPL, "in"},
        {IC_OUT, IK_IOPL, "out"}, {IC_INS, IK_IOPL, "ins"}, {IC_OUTS, IK_IOPL, "outs"},
        {IC_SGDT, IK_SENS, "sgdt"}, {IC_SIDT, IK_SENS, "sidt"}, {IC_SLDT, IK_SENS, "sldt"},
        {IC_SMSW, IK_SENS, "smsw"}, {IC_STR, IK_SENS, "str"}, {IC_PUSHF, IK_SENS, "pushf"},
        {IC_POPF, IK_SENS, "popf"}, {IC_LAR, IK_SENS, "lar"}, {IC_LSL, IK_SENS, "lsl"},
        {IC_VERR, IK_SENS, "verr"}, {IC_VERW, IK_SENS, "verw"},
        {IC_PUSH_SEG, IK_SENS, "push_seg"}, {IC_POP_SEG, IK_SENS, "pop_seg"},
        {IC_MOV_FROM_SEG, IK_SENS, "mov_from_seg"}, {IC_MOV_TO_SEG, IK_SENS, "mov_to_seg"},
        {IC_FAR_CALL, IK_SENS, "far_call"}, {IC_FAR_JMP, IK_SENS, "far_jmp"},
        {IC_FAR_RET, IK_SENS, "far_ret"}, {IC_INT_N, IK_SENS, "int_n"},
        {IC_IRET, IK_SENS, "iret"}, {IC_INT3, IK_OTHER, "int3"}, {IC_INTO, IK_OTHER, "into"},
        {IC_CPUID, IK_OTHER, "cpuid"}, {IC_RDTSC, IK_OTHER, "rdtsc"},
        {IC_RDPMC, IK_OTHER, "rdpmc"}, {IC_UD2, IK_OTHER, "ud2"},
        {IC_UNDEFINED, IK_OTHER, "undefined"}, {IC_SYSENTER, IK_OTHER, "sysenter"},
        {IC_SYSEXIT, IK_PRIV, "sysexit"},
    };
    cr_assert_eq(sizeof want / sizeof want[0], IC_COUNT, "the .def list gained or lost a class");
    for (size_t i = 0; i < IC_COUNT; i++) {
        cr_expect_eq(insn_class_kind[want[i].cls], want[i].kind, "%s", want[i].name);
        cr_expect_str_eq(insn_class_name[want[i].cls], want[i].name);
    }
}

/* A row whose class does not matter. */
#define E(text, ...) {text, B(__VA_ARGS__), IC_NONE, -1}

static int ends(const uint8_t *bytes, size_t len)
{
    cs_insn *insn;
    cr_assert_eq(cs_disasm(cs, bytes, len, 0x1000, 1, &insn), 1);
    int e = insn_ends_block(insn);
    cs_free(insn, 1);
    return e;
}

Test(insn_class, control_transfers_and_hlt_end_a_block_but_plain_instructions_do_not)
{
    static const struct row stop[] = {
        E("jmp $", 0xeb, 0xfe), E("jnz +0", 0x75, 0x00), E("call rel32", 0xe8, 0, 0, 0, 0),
        E("ret", 0xc3), E("int 0x80", 0xcd, 0x80), E("iretd", 0xcf), E("hlt", 0xf4),
        E("ljmp", 0xea, 0, 0, 0, 0, 0x08, 0), E("jmp eax", 0xff, 0xe0),
    };
    static const struct row go[] = {
        E("mov eax, ebx", 0x89, 0xd8), E("cli", 0xfa), E("out dx, al", 0xee),
        E("mov cr3, eax", 0x0f, 0x22, 0xd8), E("push eax", 0x50),
    };
    for (size_t i = 0; i < sizeof stop / sizeof stop[0]; i++)
        cr_expect(ends(stop[i].bytes, stop[i].len), "%s must end a block", stop[i].text);
    for (size_t i = 0; i < sizeof go / sizeof go[0]; i++)
        cr_expect_not(ends(go[i].bytes, go[i].len), "%s must not end a block", go[i].text);
}
