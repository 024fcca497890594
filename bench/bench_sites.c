/*
 * bench_sites.c — does a hooked instruction cost more when there are more sites? trap-classic
 * ctxsw with today's site hooks and with ten times as many.
 *
 * Issue 21: "the cost per hooked instruction must not grow with the number of sites: measured on
 * trap-classic ctxsw with today's site count and with ten times as many". vmlab hooks each site
 * (an instruction a mode or the machine must see before it runs) with its own address-ranged
 * UC_HOOK_CODE, installed when the site's block is first decoded (emu/run.c). Unicorn 2.1.1's
 * code-hook helper walks every code hook on each hooked instruction, so the ten-times case is
 * made by adding, before the run, nine dummy code hooks per site on addresses the guest never
 * executes: the list is ten times as long, the guest and its sites are the same.
 *
 * The kernel runs in-process (machine_create, loader, the mode's setup, machine_run). This file
 * defines uc_hook_add, so the vmlab code linked into it reaches Unicorn's through here: each code
 * hook vmlab adds is counted (N0, the sites of a run) and its callback wrapped to count the
 * hooked instructions executed (E); the dummies must never fire. One untimed run learns N0; then
 * runs with N0 and with 10 x N0 code hooks alternate RUNS times, and the medians give the extra
 * time per hooked instruction, (T10 - T1) / E, and per hook walked, / (9 x N0). (E also counts
 * the few calls of the timer-tail hook, a code hook of its own.)
 *
 * usage: bench_sites [n [mode]]   (defaults: ctxsw n=20000, trap-classic)
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "emu/loader.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"

#define RUNS 5
#define DUMMY_BASE 0x3f000000u /* linear addresses the guest kernel never executes */

static unsigned long code_hooks;    /* code hooks vmlab added in the current run */
static unsigned long long calls;    /* their callbacks' calls */
static unsigned long long dummy_calls;

struct wrapped {
    void (*cb)(uc_engine *, uint64_t, uint32_t, void *);
    void *opaque;
};

static void counted(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    struct wrapped *w = opaque;
    calls++;
    w->cb(uc, addr, size, w->opaque);
}

static void dummy(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    (void)uc;
    (void)addr;
    (void)size;
    (void)opaque;
    dummy_calls++;
}

/* Unicorn's, reached through this one by everything linked into this executable. */
uc_err uc_hook_add(uc_engine *uc, uc_hook *hh, int type, void *callback, void *user_data,
                   uint64_t begin, uint64_t end, ...)
{
    static uc_err (*real)(uc_engine *, uc_hook *, int, void *, void *, uint64_t, uint64_t, ...);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "uc_hook_add");
    va_list ap;
    va_start(ap, end);
    int extra = type == UC_HOOK_INSN ? va_arg(ap, int) : 0;
    va_end(ap);
    if (type == UC_HOOK_CODE && callback != (void *)dummy) {
        struct wrapped *w = malloc(sizeof *w); /* freed with the process: a benchmark */
        if (!w)
            return UC_ERR_NOMEM;
        *w = (struct wrapped){callback, user_data};
        code_hooks++;
        return real(uc, hh, type, (void *)counted, w, begin, end);
    }
    return real(uc, hh, type, callback, user_data, begin, end, extra);
}

static void quiet(void *opaque, uint8_t b)
{
    (void)opaque;
    (void)b;
}

/* One run of the kernel under `mode` with `dummies` extra code hooks; wall seconds of
 * machine_run. */
static double run(const char *mode, const char *cmdline, unsigned long dummies)
{
    struct machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.console = quiet;
    cfg.cmdline = cmdline;
    char err[256];
    struct boot_info bi;
    struct machine *m = machine_create(&cfg, err, sizeof err);
    if (!m || loader_load(m, VMLAB_BUILD_DIR "/guests/kernel.elf", NULL, cmdline, &bi, err,
                          sizeof err) < 0) {
        fprintf(stderr, "bench_sites: %s\n", err);
        exit(1);
    }
    m->mode = mode_find(mode);
    if (!m->mode || m->mode->setup(m, &bi, err, sizeof err) < 0) {
        fprintf(stderr, "bench_sites: mode %s: %s\n", mode, m->mode ? err : "unknown");
        exit(1);
    }
    for (unsigned long i = 0; i < dummies; i++) {
        uc_hook h;
        uint64_t a = DUMMY_BASE + 16 * i;
        if (uc_hook_add(m->uc, &h, UC_HOOK_CODE, (void *)dummy, NULL, a, a) != UC_ERR_OK) {
            fprintf(stderr, "bench_sites: cannot add a dummy hook\n");
            exit(1);
        }
    }
    code_hooks = 0;
    calls = 0;
    double t0 = bench_now();
    machine_run(m);
    double t = bench_now() - t0;
    if (m->end != END_GUEST_EXIT || m->guest_exit != 0x10 || dummy_calls) {
        fprintf(stderr, "bench_sites: %s under %s failed: %s\n", cmdline, mode,
                dummy_calls ? "a dummy hook fired" : m->message);
        exit(1);
    }
    m->mode->teardown(m);
    machine_destroy(m);
    return t;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    const char *mode = argc > 2 ? argv[2] : "trap-classic";
    char cmdline[64];
    snprintf(cmdline, sizeof cmdline, "workload=ctxsw n=%d", n);
    run(mode, cmdline, 0);
    unsigned long n0 = code_hooks;
    unsigned long long e = calls;
    double t1[RUNS], t10[RUNS];
    for (int r = 0; r < RUNS; r++) {
        t1[r] = run(mode, cmdline, 0);
        t10[r] = run(mode, cmdline, 9 * n0);
    }
    double a = bench_median(t1, RUNS), b = bench_median(t10, RUNS);
    printf("bench_sites: %s under %s, median of %d interleaved runs (machine_run only)\n"
           "  %lu site hooks: %.3f s;  %lu code hooks (9 dummies per site): %.3f s (%.2fx)\n"
           "  %llu hooked instructions executed: %.0f ns more each with ten times the hooks, "
           "%.2f ns per hook walked\n",
           cmdline, mode, RUNS, n0, a, 10 * n0, b, b / a, e, (b - a) / (double)e * 1e9,
           (b - a) / (double)e / (9.0 * (double)n0) * 1e9);
    return 0;
}
