/*
 * bench_native.c — native mode against raw Unicorn, side by side, on the same guest code.
 *
 * Each guest (bench/guests/compute.S: bench_mixed, 10-instruction blocks; bench_tight,
 * 3-instruction blocks, the worst case for per-block counting) is loaded by vmlab's Multiboot
 * loader; a copy of that RAM image is then run
 *   (a) on a bare Unicorn engine with no hook at all (the upper bound), and
 *   (b) on a vmlab machine in native mode (block counting, timer deadlines, I/O hooks, ...),
 * alternately, 3 times each; the medians and their ratio are printed. The brief's bar is
 * native >= 0.5x raw.
 *
 * The cost of native mode is almost entirely Unicorn's block-hook call itself (an empty block
 * hook on raw Unicorn measures the same), so the ratio depends on block length.
 *
 * usage: bench_native [guest.elf ...]   (default: the build tree's bench_mixed and bench_tight)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_util.h"
#include "emu/loader.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"

#define RUNS 3

static void quiet_sink(void *opaque, uint8_t b) { (void)opaque; (void)b; }

static void empty_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    (void)uc;
    (void)addr;
    *(uint64_t *)opaque += size;
}

/* A machine with `elf` loaded (exits on failure). */
static struct machine *load(const char *elf, uint64_t ram, struct boot_info *bi)
{
    struct machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.ram_bytes = ram;
    cfg.console = quiet_sink;
    char err[256];
    struct machine *m = machine_create(&cfg, err, sizeof err);
    if (!m || loader_load_multiboot(m, elf, "", bi, err, sizeof err) < 0) {
        fprintf(stderr, "bench_native: %s\n", err);
        exit(1);
    }
    return m;
}

/* Raw Unicorn; with `hooked`, one block hook that does nothing but add (the floor of any exact
 * per-block counting on Unicorn). */
static double run_raw(const char *elf, uint64_t ram, bool hooked)
{
    struct boot_info bi;
    char err[256];
    struct machine *m = load(elf, ram, &bi);
    uint8_t *mem = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(mem, m->ram, 2u << 20);
    machine_destroy(m);
    uc_engine *uc;
    uc_open(UC_ARCH_X86, UC_MODE_32, &uc);
    uc_mem_map_ptr(uc, 0, ram, UC_PROT_ALL, mem);
    if (loader_enter_uc(uc, &bi, err, sizeof err) < 0) {
        fprintf(stderr, "bench_native: %s\n", err);
        exit(1);
    }
    uc_hook h;
    uint64_t bytes = 0;
    if (hooked)
        uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)empty_hook, &bytes, 1, 0);
    double t0 = bench_now();
    uc_err e = uc_emu_start(uc, bi.entry, 0, 0, 0);   /* ends at the guest's hlt */
    double t = bench_now() - t0;
    if (e != UC_ERR_OK) {
        fprintf(stderr, "bench_native: raw unicorn: %s\n", uc_strerror(e));
        exit(1);
    }
    uc_close(uc);
    munmap(mem, ram);
    return t;
}

static double run_native(const char *elf, uint64_t ram, uint64_t *insns)
{
    struct boot_info bi;
    char err[256];
    struct machine *m = load(elf, ram, &bi);
    m->mode = &mode_native;
    if (m->mode->setup(m, &bi, err, sizeof err) < 0) {
        fprintf(stderr, "bench_native: %s\n", err);
        exit(1);
    }
    double t0 = bench_now();
    machine_run(m);
    double t = bench_now() - t0;
    if (m->end != END_GUEST_EXIT) {
        fprintf(stderr, "bench_native: native run failed: %s\n", m->message);
        exit(1);
    }
    *insns = machine_retired(m);
    machine_destroy(m);
    return t;
}

static void bench_one(const char *elf)
{
    uint64_t ram = 64ull << 20, insns = 0;
    double raw[RUNS], hk[RUNS], nat[RUNS];
    for (int i = 0; i < RUNS; i++) {
        raw[i] = run_raw(elf, ram, false);
        hk[i] = run_raw(elf, ram, true);
        nat[i] = run_native(elf, ram, &insns);
    }
    double r = bench_median(raw, RUNS), h = bench_median(hk, RUNS), n = bench_median(nat, RUNS);
    printf("bench_native: %s, %llu instructions, median of %d runs each\n", elf,
           (unsigned long long)insns, RUNS);
    printf("  raw unicorn (no hooks)   %8.3f s  %7.1f M instructions/s\n", r, insns / r / 1e6);
    printf("  raw + empty block hook   %8.3f s  %7.1f M instructions/s  (%.2fx raw)\n", h,
           insns / h / 1e6, r / h);
    printf("  vmlab native             %8.3f s  %7.1f M instructions/s\n", n, insns / n / 1e6);
    printf("  native / raw speed       %8.2fx  (bar: >= 0.50x); native / empty-hook speed %.2fx\n",
           r / n, h / n);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            bench_one(argv[i]);
    } else {
        bench_one(VMLAB_BUILD_DIR "/bench/guests/bench_mixed.elf");
        bench_one(VMLAB_BUILD_DIR "/bench/guests/bench_tight.elf");
    }
    return 0;
}
