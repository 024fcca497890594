/*
 * bench_uc_hooks.c — what each kind of Unicorn hook costs, on a bare engine, side by side.
 *
 * vmlab's hot path is shaped by these numbers (emu/UNICORN.md, "Hook speeds"): it counts
 * instructions per translated block (one UC_HOOK_BLOCK call per block, never UC_HOOK_CODE on
 * everything), intercepts single instructions with address-ranged code hooks (free where they
 * are not), stops at exact instruction counts with a code hook on one block rather than
 * uc_emu_start's count, and never keeps a memory hook installed.
 *
 * Two hand-assembled guest loops run on a fresh 32-bit engine with 4 MiB of RAM, paging on (one
 * 4 MiB PSE page, identity), CPL 0:
 *   alu        add, xor, inc, dec, jnz: 5 instructions per iteration, no memory access
 *   loadstore  load, add, store, dec, jnz: 5 instructions per iteration, one page of data
 * each under: no hook; UC_HOOK_BLOCK on all code; UC_HOOK_CODE on all code; UC_HOOK_CODE on a
 * one-byte range never executed; UC_HOOK_CODE on the loop's first instruction alone, then with
 * 31 more code hooks on ranges never executed (a hooked instruction's dispatch walks every code
 * hook); UC_HOOK_MEM_WRITE on a page never written; no hook but uc_emu_start with an
 * instruction count. Each is run RUNS times, interleaved; the medians are
 * printed with their speed relative to no hook.
 *
 * usage: bench_uc_hooks [iterations]   (default 10,000,000: 50 M guest instructions per run)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "bench_util.h"

#define RUNS 3
#define RAM (4u << 20)
#define CODE 0x1000u
#define PD 0x2000u
#define DATA 0x100000u
#define UNUSED_PAGE 0x300000u

enum hook_kind {
    H_NONE, H_BLOCK, H_CODE_ALL, H_CODE_UNUSED, H_CODE_HEAD, H_CODE_HEAD_MANY, H_MEM_WRITE,
    H_COUNT, H_KINDS
};
static const char *const hook_name[H_KINDS] = {
    "no hook", "UC_HOOK_BLOCK, all code", "UC_HOOK_CODE, all code",
    "UC_HOOK_CODE, range never run", "UC_HOOK_CODE, loop head only",
    "... and 31 more on ranges never run", "UC_HOOK_MEM_WRITE, page never written",
    "uc_emu_start count=",
};
#define MANY_HOOKS 31

/* mov ecx, N; L: add eax, ecx; xor ebx, eax; inc edx; dec ecx; jnz L; hlt */
static const uint8_t alu[] = {0xb9, 0, 0, 0, 0, 0x01, 0xc8, 0x31, 0xc3, 0x42, 0x49, 0x75, 0xf8,
                              0xf4};
/* mov ecx, N; mov esi, DATA; L: mov eax, [esi]; add eax, ecx; mov [esi+4], eax; dec ecx; jnz L;
 * hlt */
static const uint8_t loadstore[] = {0xb9, 0, 0, 0, 0, 0xbe, 0x00, 0x00, 0x10, 0x00, 0x8b, 0x06,
                                    0x01, 0xc8, 0x89, 0x46, 0x04, 0x49, 0x75, 0xf6, 0xf4};

static void on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    (void)uc;
    (void)addr;
    *(uint64_t *)opaque += size;
}

static void on_code(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    (void)uc;
    (void)addr;
    *(uint64_t *)opaque += size;
}

static bool on_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
                   void *opaque)
{
    (void)uc;
    (void)type;
    (void)addr;
    (void)size;
    (void)value;
    ++*(uint64_t *)opaque;
    return true;
}

static void die(const char *what, uc_err e)
{
    fprintf(stderr, "bench_uc_hooks: %s: %s\n", what, uc_strerror(e));
    exit(1);
}

/* One run of `code` (its N patched to `iters`, its loop starting at byte `head`) under hook `k`;
 * wall seconds. */
static double run_once(const uint8_t *code, size_t len, uint32_t head, uint32_t iters,
                       enum hook_kind k)
{
    uc_engine *uc;
    uc_err e = uc_open(UC_ARCH_X86, UC_MODE_32, &uc);
    if (e)
        die("uc_open", e);
    uint8_t *ram = calloc(1, RAM);
    if (!ram) {
        fprintf(stderr, "bench_uc_hooks: out of memory\n");
        exit(1);
    }
    if ((e = uc_mem_map_ptr(uc, 0, RAM, UC_PROT_ALL, ram)))
        die("uc_mem_map_ptr", e);
    memcpy(ram + CODE, code, len);
    memcpy(ram + CODE + 1, &iters, 4);
    uint32_t pde = 0x83;                     /* 4 MiB page at 0: present, writable, PS */
    memcpy(ram + PD, &pde, 4);
    uint64_t cr4 = 1u << 4, cr3 = PD, cr0 = 0;
    uc_reg_write(uc, UC_X86_REG_CR4, &cr4);
    uc_reg_write(uc, UC_X86_REG_CR3, &cr3);
    uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
    cr0 |= 1u << 31;
    uc_reg_write(uc, UC_X86_REG_CR0, &cr0);
    uc_hook h;
    uint64_t seen = 0, count = 0;
    e = UC_ERR_OK;
    switch (k) {
    case H_BLOCK:
        e = uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)on_block, &seen, 1, 0);
        break;
    case H_CODE_ALL:
        e = uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)on_code, &seen, 1, 0);
        break;
    case H_CODE_UNUSED:
        e = uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)on_code, &seen, UNUSED_PAGE, UNUSED_PAGE);
        break;
    case H_CODE_HEAD_MANY:
        for (uint32_t i = 0; i < MANY_HOOKS && !e; i++)
            e = uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)on_code, &seen, UNUSED_PAGE + i,
                            UNUSED_PAGE + i);
        /* fall through */
    case H_CODE_HEAD:
        if (!e)
            e = uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)on_code, &seen, CODE + head,
                            CODE + head);
        break;
    case H_MEM_WRITE:
        e = uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE, (void *)on_mem, &seen, UNUSED_PAGE,
                        UNUSED_PAGE + 0xfff);
        break;
    case H_COUNT:
        count = 5ull * iters + 3;            /* more than the loop retires: it ends at hlt */
        break;
    default:
        break;
    }
    if (e)
        die("uc_hook_add", e);
    uc_ctl_exits_enable(uc);
    double t0 = bench_now();
    e = uc_emu_start(uc, CODE, 0, 0, count);
    double t = bench_now() - t0;
    if (e)
        die("uc_emu_start", e);
    uint32_t ecx = 1;
    uc_reg_read(uc, UC_X86_REG_ECX, &ecx);
    if (ecx != 0) {
        fprintf(stderr, "bench_uc_hooks: the loop stopped early (ecx %u)\n", ecx);
        exit(1);
    }
    uc_close(uc);
    free(ram);
    return t;
}

static void bench(const char *name, const uint8_t *code, size_t len, uint32_t head,
                  uint32_t iters)
{
    double t[H_KINDS][RUNS];
    for (int r = 0; r < RUNS; r++)
        for (int k = 0; k < H_KINDS; k++)
            t[k][r] = run_once(code, len, head, iters, (enum hook_kind)k);
    double insns = 5.0 * iters + 3, base = 0;
    printf("bench_uc_hooks: %s loop, %.0f M guest instructions, median of %d runs\n", name,
           insns / 1e6, RUNS);
    for (int k = 0; k < H_KINDS; k++) {
        double m = bench_median(t[k], RUNS);
        if (k == H_NONE)
            base = m;
        printf("  %-38s %8.3f s  %7.1f M instructions/s  %5.2fx\n", hook_name[k], m,
               insns / m / 1e6, base / m);
    }
}

int main(int argc, char **argv)
{
    uint32_t iters = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 10000000u;
    if (iters == 0) {
        fprintf(stderr, "usage: bench_uc_hooks [iterations]\n");
        return 2;
    }
    unsigned v = uc_version(NULL, NULL);
    printf("bench_uc_hooks: Unicorn %u.%u.%u\n", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff);
    bench("alu", alu, sizeof alu, 5, iters);
    bench("loadstore", loadstore, sizeof loadstore, 10, iters);
    return 0;
}
