/*
 * bench_site_dispatch.c — what one intercepted instruction costs on a bare Unicorn engine, as the
 * number of intercepted addresses grows: code hooks against exits.
 *
 * vmlab intercepts single instructions (its sites: I/O, CR writes, RDTSC, the holes and
 * privileged instructions a mode watches) with one address-ranged UC_HOOK_CODE each. Unicorn
 * 2.1.1 decides at translation time which instructions call a code hook. While the engine has
 * exactly one code hook, the translated instruction calls that hook's callback directly (its
 * "inline hook"); with two or more it calls the helper helper_uc_tracecode, which walks the list
 * of every code hook, checking each one's range, on every call: the cost of a hooked instruction
 * grows with the number of sites (issue 21 asks for it not to). Unicorn's
 * exits (uc_ctl_exits_enable + uc_ctl_set_exits) are looked up only when a block is translated
 * (a sorted tree): a block ends in front of an exit, uc_emu_start returns there, and the host
 * handles the instruction and starts the CPU again. That costs a return and a restart of
 * uc_emu_start instead of a helper call, whatever the number of exits.
 *
 * The third way keeps the code hooks (Unicorn still decides at translation time which
 * instructions call the helper) but replaces the helper's walk with a lookup: built with
 * Unicorn's static archive and -Wl,--wrap=helper_uc_tracecode (bench/CMakeLists.txt), every call
 * of the helper from translated code reaches __wrap_helper_uc_tracecode below, which finds a
 * code-hook call's address in an open-addressed table of the intercepted addresses and calls its
 * callback directly, and hands anything else to Unicorn's own helper. (The bare idea, relying on
 * the helper's signature and its hook index for code hooks, 2, in 2.1.1; the vmlab executable's
 * emu/link/uc_hook_table.c does the same and also honours everything else the walk does.)
 *
 * A hand-assembled loop (inc eax; nop; dec ecx; jnz) runs on a fresh engine (4 MiB of RAM, paging
 * off, CPL 0); the nop is the site. Per configuration, 1, 10, 100 and 1000 intercepted addresses,
 * all but the loop's nop on addresses never executed:
 *   code hooks   one UC_HOOK_CODE per address (the nop's counts its calls, then the nop runs);
 *   exits        one exit per address; at the nop's the host steps EIP over it (an emulation of
 *                an instruction with no effect) and calls uc_emu_start again;
 *   lookup       the code hooks, dispatched by the table (only when built with the archive).
 * Each configuration runs RUNS times, interleaved with a run with no interception at all; the
 * median time per intercepted execution (over the loop without interception) is printed.
 *
 * usage: bench_site_dispatch [iterations]   (default 200,000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicorn/unicorn.h>

#include "bench_util.h"

#define RUNS 3
#define RAM (4u << 20)
#define CODE 0x1000u
#define UNUSED 0x200000u /* intercepted addresses never executed start here */

/* mov ecx, N; L: inc eax; nop; dec ecx; jnz L; hlt */
static const uint8_t loop[] = {0xb9, 0, 0, 0, 0, 0x40, 0x90, 0x49, 0x75, 0xfb, 0xf4};
#define SITE (CODE + 6)

enum how { NONE, HOOKS, EXITS, LOOKUP };

#define TABLE 4096                  /* open-addressed, a power of two above the 1000 addresses */
static struct slot {
    uint64_t addr;                  /* 0: empty */
    uint64_t *calls;
} table[TABLE];
static uint64_t looked_up;          /* calls the table answered */

static unsigned slot_of(uint64_t addr)
{
    unsigned i = (unsigned)((addr * 0x9e3779b97f4a7c15ull) >> 52) & (TABLE - 1);
    while (table[i].addr && table[i].addr != addr)
        i = (i + 1) & (TABLE - 1);
    return i;
}

static void on_site(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    (void)uc;
    (void)addr;
    (void)size;
    ++*(uint64_t *)opaque;
}

#ifdef BENCH_WRAPPED_HELPER
#define CODE_HOOK_IDX 2             /* Unicorn 2.1.1's UC_HOOK_CODE_IDX (uc_priv.h) */
#define HOOK_IDX_MASK 0x3f          /* the low 6 bits; the rest are flags */
void __real_helper_uc_tracecode(int32_t size, int index, void *handle, int64_t address);
void __wrap_helper_uc_tracecode(int32_t size, int index, void *handle, int64_t address);

void __wrap_helper_uc_tracecode(int32_t size, int index, void *handle, int64_t address)
{
    if (size > 0 && (index & HOOK_IDX_MASK) == CODE_HOOK_IDX) {
        struct slot *s = &table[slot_of((uint64_t)address)];
        if (s->addr == (uint64_t)address) {
            looked_up++;
            on_site(handle, (uint64_t)address, (uint32_t)size, s->calls);
            return;
        }
    }
    __real_helper_uc_tracecode(size, index, handle, address);
}
#endif

static void die(const char *what, uc_err e)
{
    fprintf(stderr, "bench_site_dispatch: %s: %s\n", what, uc_strerror(e));
    exit(1);
}

/* Intercept SITE and n - 1 addresses never executed, the `how` way. */
static void intercept(uc_engine *uc, enum how how, unsigned n, uint64_t *calls)
{
    uc_hook h;
    uc_err e = UC_ERR_OK;
    memset(table, 0, sizeof table);
    if (how == HOOKS || how == LOOKUP) {
        for (unsigned i = 1; i < n && !e; i++)
            e = uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)on_site, calls, UNUSED + 16 * i,
                            UNUSED + 16 * i);
        if (!e)
            e = uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)on_site, calls, SITE, SITE);
        for (unsigned i = 0; how == LOOKUP && i < n; i++) {
            uint64_t a = i ? UNUSED + 16 * i : SITE;
            table[slot_of(a)] = (struct slot){a, calls};
        }
    } else if (how == EXITS) {
        uint64_t *at = malloc(n * sizeof *at);
        if (!at) {
            fprintf(stderr, "bench_site_dispatch: out of memory\n");
            exit(1);
        }
        at[0] = SITE;
        for (unsigned i = 1; i < n; i++)
            at[i] = UNUSED + 16 * i;
        e = uc_ctl_exits_enable(uc);
        if (!e)
            e = uc_ctl_set_exits(uc, at, n);
        free(at);
    }
    if (e)
        die("intercepting", e);
}

/* One run of `iters` loop iterations; wall seconds. With exits, each stop at the site is one
 * intercepted execution: EIP steps over the nop and the CPU starts again. */
static double run_once(uint32_t iters, enum how how, unsigned n)
{
    uc_engine *uc;
    uc_err e = uc_open(UC_ARCH_X86, UC_MODE_32, &uc);
    if (e)
        die("uc_open", e);
    uint8_t *ram = calloc(1, RAM);
    if (!ram || (e = uc_mem_map_ptr(uc, 0, RAM, UC_PROT_ALL, ram)))
        die("mapping RAM", ram ? e : UC_ERR_NOMEM);
    memcpy(ram + CODE, loop, sizeof loop);
    memcpy(ram + CODE + 1, &iters, 4);
    uint64_t calls = 0, stops = 0;
    looked_up = 0;
    intercept(uc, how, n, &calls);
    uint64_t eip = CODE;
    double t0 = bench_now();
    for (;;) {
        if ((e = uc_emu_start(uc, eip, 0, 0, 0)))
            die("uc_emu_start", e);
        uc_reg_read(uc, UC_X86_REG_EIP, &eip);
        if (how != EXITS || eip != SITE)
            break;
        stops++;
        eip = SITE + 1;
    }
    double t = bench_now() - t0;
    uint32_t ecx = 1;
    uc_reg_read(uc, UC_X86_REG_ECX, &ecx);
    uint64_t seen = how == EXITS ? stops : calls;
    /* With a single code hook Unicorn calls it directly, without its helper (see the header). */
    if (ecx != 0 || (how != NONE && seen != iters) ||
        (how == LOOKUP && n > 1 && looked_up != iters)) {
        fprintf(stderr, "bench_site_dispatch: wrong run (ecx %u, %llu interceptions)\n", ecx,
                (unsigned long long)seen);
        exit(1);
    }
    uc_close(uc);
    free(ram);
    return t;
}

int main(int argc, char **argv)
{
    uint32_t iters = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 200000u;
    if (iters == 0) {
        fprintf(stderr, "usage: bench_site_dispatch [iterations]\n");
        return 2;
    }
    static const unsigned counts[] = {1, 10, 100, 1000};
    enum { NC = sizeof counts / sizeof counts[0] };
#ifdef BENCH_WRAPPED_HELPER
    const int lookup = 1;
#else
    const int lookup = 0;
#endif
    double none[RUNS * NC], hooks[NC][RUNS], exits[NC][RUNS], table_t[NC][RUNS];
    for (int r = 0; r < RUNS; r++)
        for (unsigned c = 0; c < NC; c++) {
            none[r * NC + c] = run_once(iters, NONE, 0);
            hooks[c][r] = run_once(iters, HOOKS, counts[c]);
            exits[c][r] = run_once(iters, EXITS, counts[c]);
            table_t[c][r] = lookup ? run_once(iters, LOOKUP, counts[c]) : 0;
        }
    double base = bench_median(none, RUNS * NC);
    unsigned v = uc_version(NULL, NULL);
    printf("bench_site_dispatch: Unicorn %u.%u.%u, %u intercepted executions per run, median of "
           "%d runs\n  no interception: %.3f s (%.1f ns per loop iteration)\n"
           "  %-10s %22s %22s %22s\n", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, iters,
           RUNS, base, base / iters * 1e9, "addresses", "code hooks", "exits",
           lookup ? "lookup (wrapped)" : "lookup (not built)");
    for (unsigned c = 0; c < NC; c++) {
        double h = bench_median(hooks[c], RUNS), x = bench_median(exits[c], RUNS);
        printf("  %-10u %12.0f ns/site %12.0f ns/site", counts[c], (h - base) / iters * 1e9,
               (x - base) / iters * 1e9);
        if (lookup)
            printf(" %12.0f ns/site", (bench_median(table_t[c], RUNS) - base) / iters * 1e9);
        printf("\n");
    }
    return 0;
}
