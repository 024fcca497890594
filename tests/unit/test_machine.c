/*
 * test_machine.c — whole runs of tiny hand-assembled guests on a 16 MiB machine in native mode:
 * how each run ends (isa-debug-exit, instruction limit, halt with interrupts off, triple fault),
 * the exact number of instructions retired, the privileged instructions and port I/O counted, and
 * that two runs of the same guest count the same.
 *
 * Each guest is a minimal Multiboot ELF written to a temporary file: one PT_LOAD at 1 MiB holding
 * the 12-byte Multiboot header and the code, which starts right after it (the entry point). The
 * machine is driven as `vmlab run` drives it: machine_create, loader_load_multiboot,
 * mode_native.setup, machine_run.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/loader.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"

#define KBASE 0x100000u
#define ENTRY (KBASE + 12)
#define SEG_OFF 96u
#define MB_MAGIC 0x1badb002u

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/vmlab-test-machine-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(machine, .init = setup, .fini = teardown);

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* Write a Multiboot ELF whose code (at ENTRY) is `code`; returns its path. */
static const char *write_guest(const char *name, const uint8_t *code, size_t len)
{
    static char path[PATH_MAX];
    uint8_t b[SEG_OFF + 12 + 512] = {0};
    cr_assert_leq(len, 512);
    Elf32_Ehdr *eh = (Elf32_Ehdr *)b;
    Elf32_Phdr *ph = (Elf32_Phdr *)(b + sizeof *eh);
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS32;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_386;
    eh->e_version = EV_CURRENT;
    eh->e_entry = ENTRY;
    eh->e_phoff = sizeof *eh;
    eh->e_ehsize = sizeof *eh;
    eh->e_phentsize = sizeof *ph;
    eh->e_phnum = 1;
    ph->p_type = PT_LOAD;
    ph->p_offset = SEG_OFF;
    ph->p_vaddr = ph->p_paddr = KBASE;
    ph->p_filesz = ph->p_memsz = 12 + (uint32_t)len;
    ph->p_flags = PF_R | PF_W | PF_X;
    put32(b + SEG_OFF, MB_MAGIC);
    put32(b + SEG_OFF + 4, 0);
    put32(b + SEG_OFF + 8, -MB_MAGIC);
    memcpy(b + SEG_OFF + 12, code, len);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, SEG_OFF + 12 + len, f), SEG_OFF + 12 + len);
    fclose(f);
    return path;
}

static void quiet(void *opaque, uint8_t byte) {}

static int run_status;   /* what machine_run() returned in the last boot() */

/* Boot `path` in native mode and run it to its end. */
static struct machine *boot(const char *path, uint64_t max_insns)
{
    struct machine_config cfg;
    char err[512] = "";
    machine_config_defaults(&cfg);
    cfg.ram_bytes = 16ull << 20;
    cfg.max_insns = max_insns;
    cfg.console = quiet;
    struct machine *m = machine_create(&cfg, err, sizeof err);
    cr_assert_not_null(m, "machine_create: %s", err);
    struct boot_info bi;
    cr_assert_eq(loader_load_multiboot(m, path, "", &bi, err, sizeof err), 0, "%s", err);
    m->mode = &mode_native;
    cr_assert_eq(mode_native.setup(m, &bi, err, sizeof err), 0, "%s", err);
    run_status = machine_run(m);
    mode_native.teardown(m);
    return m;
}

/* nop; jmp short +0; mov eax, 0x10; out 0xf4, eax; jmp $ — four instructions, then the exit. */
static const uint8_t exit_guest[] = {0x90, 0xeb, 0x00, 0xb8, 0x10, 0x00, 0x00, 0x00,
                                     0xe7, 0xf4, 0xeb, 0xfe};

Test(machine, guest_writing_0x10_to_debug_exit_ends_with_status_33)
{
    struct machine *m = boot(write_guest("exit.elf", exit_guest, sizeof exit_guest), 0);
    cr_assert_eq(m->end, END_GUEST_EXIT, "ended with %d: %s", m->end, m->message);
    cr_assert_eq(m->exit_status, 33);
    cr_assert_eq(m->guest_exit, 0x10);
    machine_destroy(m);
}

Test(machine, machine_run_returns_the_exit_status)
{
    struct machine *m = boot(write_guest("exit.elf", exit_guest, sizeof exit_guest), 0);
    cr_assert_eq(run_status, 33);
    machine_destroy(m);
}

Test(machine, exit_guest_retires_exactly_its_four_instructions_at_cpl_0)
{
    struct machine *m = boot(write_guest("exit.elf", exit_guest, sizeof exit_guest), 0);
    cr_assert_eq(m->end, END_GUEST_EXIT, "%s", m->message);
    cr_assert_eq(machine_retired(m), 4);
    cr_assert_eq(m->insn_cpl[0], 4);
    cr_assert_eq(m->insn_cpl[3], 0);
    cr_assert_eq(ev_count(&m->ev, 0, EV_INSN, 0, ""), 4);
    machine_destroy(m);
}

Test(machine, exit_guest_records_one_4_byte_write_to_port_0xf4)
{
    struct machine *m = boot(write_guest("exit.elf", exit_guest, sizeof exit_guest), 0);
    cr_assert_eq(ev_count(&m->ev, 0, EV_IO, 0xf4, "out4"), 1);
    cr_assert_eq(ev_class_total(&m->ev, EV_IO), 1);
    cr_assert_eq(ev_count(&m->ev, 0, EV_PRIV, IC_OUT, NULL), 1);
    cr_assert_eq(ev_class_total(&m->ev, EV_FAULT), 0);
    machine_destroy(m);
}

/* mov ecx, LOOPS; l: cli; dec ecx; jnz l; mov eax, 0x10; out 0xf4, eax; jmp $
 * = 1 + 3 * LOOPS + 2 instructions retired, LOOPS cli. */
#define LOOPS 1000
static const uint8_t loop_guest[] = {0xb9, LOOPS & 0xff, LOOPS >> 8, 0x00, 0x00, 0xfa, 0x49,
                                     0x75, 0xfc, 0xb8, 0x10, 0x00, 0x00, 0x00, 0xe7, 0xf4,
                                     0xeb, 0xfe};

Test(machine, loop_guest_retires_exactly_its_instructions_and_counts_each_cli)
{
    struct machine *m = boot(write_guest("loop.elf", loop_guest, sizeof loop_guest), 0);
    cr_assert_eq(m->end, END_GUEST_EXIT, "%s", m->message);
    cr_assert_eq(machine_retired(m), 1 + 3 * LOOPS + 2);
    cr_assert_eq(ev_count(&m->ev, 0, EV_PRIV, IC_CLI, "cli"), LOOPS);
    cr_assert_eq(ev_count(&m->ev, 0, EV_PRIV, IC_OUT, "out"), 1);
    machine_destroy(m);
}

Test(machine, same_guest_run_twice_counts_the_same)
{
    const char *p = write_guest("loop.elf", loop_guest, sizeof loop_guest);
    struct machine *a = boot(p, 0);
    struct machine *b = boot(p, 0);
    cr_assert_eq(a->end, END_GUEST_EXIT, "%s", a->message);
    cr_assert_eq(a->end, b->end);
    cr_assert_eq(machine_retired(a), machine_retired(b));
    for (int c = 0; c < 4; c++)
        cr_assert_eq(a->insn_cpl[c], b->insn_cpl[c], "cpl %d", c);
    cr_assert_eq(a->time, b->time);
    cr_assert_eq(a->ev.total, b->ev.total);
    machine_destroy(a);
    machine_destroy(b);
}

Test(machine, timer_guest_run_twice_counts_the_same_instructions_and_interrupts)
{
    /* A real guest with PIT interrupts (tests/guests/timer.S; every build makes it). */
    const char *p = VMLAB_BUILD_DIR "/tests/guests/timer.elf";
    cr_assert_eq(access(p, R_OK), 0, "%s is not built", p);
    struct machine *a = boot(p, 0);
    struct machine *b = boot(p, 0);
    cr_assert_eq(a->end, END_GUEST_EXIT, "%s", a->message);
    cr_assert_eq(a->exit_status, 33);
    cr_assert_eq(machine_retired(a), machine_retired(b));
    for (int c = 0; c < 4; c++)
        cr_assert_eq(a->insn_cpl[c], b->insn_cpl[c], "cpl %d", c);
    cr_assert_eq(a->time, b->time);
    cr_assert_eq(ev_class_total(&a->ev, EV_INTERRUPT), 10);
    cr_assert_eq(ev_class_total(&b->ev, EV_INTERRUPT), 10);
    machine_destroy(a);
    machine_destroy(b);
}

Test(machine, endless_loop_stops_at_the_instruction_limit)
{
    static const uint8_t spin[] = {0xeb, 0xfe};   /* jmp $ */
    struct machine *m = boot(write_guest("spin.elf", spin, sizeof spin), 100000);
    cr_assert_eq(m->end, END_LIMIT, "ended with %d: %s", m->end, m->message);
    cr_assert_eq(m->exit_status, EXIT_STATUS_LIMIT);
    cr_assert(strstr(m->message, "instruction limit"), "%s", m->message);
    cr_assert_eq(machine_retired(m), 100000);
    machine_destroy(m);
}

Test(machine, instruction_limit_falling_inside_a_block_is_exact)
{
    /* l: nop; nop; nop; nop; jmp l — 5-instruction blocks; the limit 1003 is mid-block. */
    static const uint8_t spin5[] = {0x90, 0x90, 0x90, 0x90, 0xeb, 0xfa};
    struct machine *m = boot(write_guest("spin5.elf", spin5, sizeof spin5), 1003);
    cr_assert_eq(m->end, END_LIMIT, "%s", m->message);
    cr_assert_eq(machine_retired(m), 1003);
    machine_destroy(m);
}

Test(machine, cli_then_hlt_is_a_guest_failure_with_interrupts_disabled)
{
    static const uint8_t code[] = {0xfa, 0xf4, 0xeb, 0xfe};   /* cli; hlt; jmp $ */
    struct machine *m = boot(write_guest("clihlt.elf", code, sizeof code), 0);
    cr_assert_eq(m->end, END_GUEST_FAILURE, "ended with %d: %s", m->end, m->message);
    cr_assert_eq(m->exit_status, EXIT_STATUS_GUEST_FAILURE);
    cr_assert(strstr(m->message, "interrupts disabled"), "%s", m->message);
    cr_assert(strstr(m->message, "0x0010000d"), "the message names the hlt: %s", m->message);
    cr_assert_eq(machine_retired(m), 2);
    machine_destroy(m);
}

Test(machine, int3_with_an_empty_idt_is_a_triple_fault)
{
    /* lidt [idtr]; int3; jmp $; idtr: limit 0, base 0 */
    uint32_t idtr = ENTRY + 10;
    uint8_t code[16] = {0x0f, 0x01, 0x1d, 0, 0, 0, 0, 0xcc, 0xeb, 0xfe};
    put32(code + 3, idtr);
    struct machine *m = boot(write_guest("triple.elf", code, sizeof code), 0);
    cr_assert_eq(m->end, END_GUEST_FAILURE, "ended with %d: %s", m->end, m->message);
    cr_assert_eq(m->exit_status, EXIT_STATUS_GUEST_FAILURE);
    cr_assert(strstr(m->message, "triple fault"), "%s", m->message);
    cr_assert_eq(machine_retired(m), 2, "lidt and int3 retire, nothing after");
    machine_destroy(m);
}

/* A guest whose handler for `vector` steps over the 2-byte instruction op0 op1 that raised it:
 * lidt; mov esp, 0x90000; op0 op1 (ECX = 0 at entry); mov eax, 0x10; out 0xf4, eax; jmp $
 * handler (gate `vector`): add dword [esp], 2; iretd.  It must end with the debug exit, count
 * one fault of that vector and retire 2 + 2 (handler) + 2 = 6 instructions: not the fault. */
static void assert_handled_fault_not_retired(const char *name, uint8_t op0, uint8_t op1,
                                             unsigned vector)
{
    uint8_t code[96] = {0x0f, 0x01, 0x1d, 0, 0, 0, 0, 0xbc, 0x00, 0x00, 0x09, 0x00, op0, op1,
                        0xb8, 0x10, 0x00, 0x00, 0x00, 0xe7, 0xf4, 0xeb, 0xfe,
                        0x83, 0x04, 0x24, 0x02, 0xcf};
    uint32_t handler = ENTRY + 23, idtr = ENTRY + 32, idt = ENTRY + 40;
    cr_assert_lt(vector, 7u, "the IDT has gates 0..6");
    put32(code + 3, idtr);
    code[32] = 7 * 8 - 1;
    put32(code + 34, idt);
    put32(code + 40 + vector * 8, (0x08u << 16) | (handler & 0xffff));
    put32(code + 40 + vector * 8 + 4, (handler & 0xffff0000u) | 0x8e00u);
    struct machine *m = boot(write_guest(name, code, sizeof code), 0);
    cr_assert_eq(m->end, END_GUEST_EXIT, "%s", m->message);
    cr_assert_eq(ev_count(&m->ev, 0, EV_FAULT, vector, NULL), 1);
    cr_assert_eq(machine_retired(m), 6, "got %llu", (unsigned long long)machine_retired(m));
    machine_destroy(m);
}

Test(machine, divide_error_handled_by_the_guest_is_not_retired_and_the_rest_counts_exactly)
{
    assert_handled_fault_not_retired("de.elf", 0xf7, 0xf1, 0);   /* div ecx */
}

Test(machine, undefined_instruction_with_an_empty_idt_is_a_triple_fault)
{
    uint32_t idtr = ENTRY + 11;
    uint8_t code[20] = {0x0f, 0x01, 0x1d, 0, 0, 0, 0, 0x0f, 0x0b, 0xeb, 0xfe};   /* ud2 */
    put32(code + 3, idtr);
    struct machine *m = boot(write_guest("ud2.elf", code, sizeof code), 0);
    cr_assert_eq(m->end, END_GUEST_FAILURE, "ended with %d: %s", m->end, m->message);
    cr_assert(strstr(m->message, "triple fault"), "%s", m->message);
    cr_assert_eq(machine_retired(m), 1, "ud2 faults: only lidt retires, got %llu: %s",
                 (unsigned long long)machine_retired(m), m->message);
    machine_destroy(m);
}

Test(machine, ud2_as_the_first_instruction_retires_nothing)
{
    /* ud2; jmp $ (IDT limit 0xffff at 0) */
    static const uint8_t code[] = {0x0f, 0x0b, 0xeb, 0xfe};
    struct machine *m = boot(write_guest("ud2first.elf", code, sizeof code), 0);
    cr_assert_eq(machine_retired(m), 0, "got %llu: %s", (unsigned long long)machine_retired(m),
                 m->message);
    cr_assert_eq(ev_count(&m->ev, 0, EV_PRIV, IC_UD2, NULL), 0, "ud2 counted %llu times",
                 (unsigned long long)ev_count(&m->ev, 0, EV_PRIV, IC_UD2, NULL));
    machine_destroy(m);
}

Test(machine, ud2_handled_by_the_guest_is_not_retired_and_the_rest_counts_exactly)
{
    assert_handled_fault_not_retired("ud2h.elf", 0x0f, 0x0b, 6);   /* ud2 */
}
