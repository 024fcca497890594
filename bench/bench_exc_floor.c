/*
 * bench_exc_floor.c — the least an exception can cost a program that uses Unicorn as its CPU.
 *
 * Unicorn never vectors through the IDT (emu/UNICORN.md, 4): an exception or `int n` leaves the
 * translated code (QEMU's cpu_loop_exit, a longjmp), calls the UC_HOOK_INTR callback, and the
 * host must do the delivery. Whatever vmlab does in its delivery, its native mode cannot take an
 * exception for less than Unicorn's own round trip. This program measures that round trip on a
 * bare engine (static archive, as the vmlab executable links it), against the same loop without
 * the exception, side by side:
 *
 *   no exception      L: nop; nop; dec ecx; jnz L
 *   int, hook only    L: int 0x80; dec ecx; jnz L — the hook returns and Unicorn goes on after
 *                     the int (no delivery at all: strictly less than any delivery)
 *   int, redirect     the same, the hook writing EIP (to the next instruction: a delivery's
 *                     last step, which restarts Unicorn's loop at the new EIP)
 *   int, stop+start   the same, the hook stopping the CPU and the host starting it again at the
 *                     next instruction (vmlab's exit loop: every event leaves uc_emu_start)
 *
 * 32-bit protected mode at CPL 0, flat segments, paging off. Medians of RUNS interleaved runs;
 * each exception's cost is the difference to the loop without it, per iteration. QEMU itself
 * delivers through the IDT inside its loop: bench_qemu's syscall row is the comparison (README,
 * "Speed").
 *
 * usage: bench_exc_floor [iterations]   (default 1,000,000)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unicorn/unicorn.h>

#include "bench_util.h"

#define RUNS 5
#define CODE 0x1000u
#define RAM (1u << 20)

enum variant { V_NONE, V_HOOK, V_REDIRECT, V_STOP, V_COUNT };
static const char *const variant_name[V_COUNT] = {
    "no exception", "int, hook only", "int, redirect (EIP write)", "int, stop + start",
};

/* mov ecx, N; L: <2 bytes>; dec ecx; jnz L; hlt */
static uint8_t loop_code[] = {0xb9, 0, 0, 0, 0, 0x90, 0x90, 0x49, 0x75, 0xfb, 0xf4};

struct ctx {
    enum variant v;
    uint64_t ints;
};

static void on_intr(uc_engine *uc, uint32_t intno, void *opaque)
{
    (void)intno;
    struct ctx *c = opaque;
    c->ints++;
    if (c->v == V_REDIRECT) {
        uint32_t eip = 0;
        uc_reg_read(uc, UC_X86_REG_EIP, &eip);
        uc_reg_write(uc, UC_X86_REG_EIP, &eip);
    } else if (c->v == V_STOP) {
        uc_emu_stop(uc);
    }
}

static double run(enum variant v, uint32_t iters)
{
    uc_engine *uc;
    if (uc_open(UC_ARCH_X86, UC_MODE_32, &uc) != UC_ERR_OK) {
        fprintf(stderr, "bench_exc_floor: uc_open failed\n");
        exit(1);
    }
    uc_mem_map(uc, 0, RAM, UC_PROT_ALL);
    uint8_t code[sizeof loop_code];
    for (unsigned i = 0; i < sizeof code; i++)
        code[i] = loop_code[i];
    code[1] = (uint8_t)iters;
    code[2] = (uint8_t)(iters >> 8);
    code[3] = (uint8_t)(iters >> 16);
    code[4] = (uint8_t)(iters >> 24);
    if (v != V_NONE) {
        code[5] = 0xcd;            /* int 0x80 */
        code[6] = 0x80;
    }
    uc_mem_write(uc, CODE, code, sizeof code);
    struct ctx c = {.v = v};
    uc_hook h;
    uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_intr, &c, 1, 0);
    uint32_t esp = 0x80000;
    uc_reg_write(uc, UC_X86_REG_ESP, &esp);
    uint64_t end = CODE + sizeof code;
    double t0 = bench_now();
    uint64_t pc = CODE;
    for (;;) {
        if (uc_emu_start(uc, pc, end, 0, 0) != UC_ERR_OK)
            break;
        uc_reg_read(uc, UC_X86_REG_EIP, &pc);
        if (pc >= end - 1)
            break;
    }
    double t = bench_now() - t0;
    uc_close(uc);
    if (v != V_NONE && c.ints != iters) {
        fprintf(stderr, "bench_exc_floor: %s took %llu interrupts, not %u\n", variant_name[v],
                (unsigned long long)c.ints, iters);
        exit(1);
    }
    return t;
}

int main(int argc, char **argv)
{
    uint32_t iters = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1000000u;
    double t[V_COUNT][RUNS];
    for (int r = 0; r < RUNS; r++)
        for (int v = 0; v < V_COUNT; v++)
            t[v][r] = run((enum variant)v, iters);
    double med[V_COUNT];
    for (int v = 0; v < V_COUNT; v++)
        med[v] = bench_median(t[v], RUNS);
    printf("bench_exc_floor: Unicorn %d.%d.%d, %u iterations, median of %d interleaved runs\n",
           UC_API_MAJOR, UC_API_MINOR, UC_API_PATCH, iters, RUNS);
    for (int v = 0; v < V_COUNT; v++) {
        printf("  %-28s %7.3f s", variant_name[v], med[v]);
        if (v != V_NONE)
            printf("   %6.0f ns per exception", (med[v] - med[V_NONE]) / iters * 1e9);
        printf("\n");
    }
    return 0;
}
