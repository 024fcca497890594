/*
 * bench_sites.c — does a hooked instruction cost more when there are more sites? trap-classic
 * ctxsw with today's site hooks and with ten times as many, through Unicorn's walk and through
 * vmlab's code-hook table.
 *
 * Issue 21: "the cost per hooked instruction must not grow with the number of sites: measured on
 * trap-classic ctxsw with today's site count and with ten times as many". vmlab hooks each site
 * (an instruction a mode or the machine must see before it runs) with its own address-ranged
 * UC_HOOK_CODE, installed when the site's block is first decoded (emu/run.c). Unicorn 2.1.1's
 * code-hook helper walks every code hook on each hooked instruction; the vmlab executable answers
 * those calls from a table instead (emu/link/uc_hook_table.c), and this benchmark is linked the
 * same way, so it can run both: uc_hook_table_use(false) hands every call to Unicorn's walk. The
 * ten-times case is made by adding, before the run, nine dummy code hooks per site on addresses
 * the guest never executes: the list is ten times as long, the guest and its sites are the same.
 *
 * The kernel runs in-process (machine_create, loader, the mode's setup, machine_run). One untimed
 * run with the walk learns N0, the code hooks vmlab installs, and E, the hooked instructions
 * executed (the walk's calls); then the four configurations (walk or table, N0 or 10 x N0 code
 * hooks) alternate RUNS times, and the medians give the time of each and the extra time per
 * hooked instruction that ten times the hooks cost, (T10 - T1) / E.
 *
 * usage: bench_sites [n [mode]]   (defaults: ctxsw n=10000, trap-classic)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "emu/link/uc_hook_table.h"
#include "emu/loader.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"

#define RUNS 5
#define DUMMY_BASE 0x3f000000u /* linear addresses the guest kernel never executes */

static void dummy(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    (void)uc;
    (void)addr;
    (void)size;
    ++*(unsigned long long *)opaque;
}

static void quiet(void *opaque, uint8_t b)
{
    (void)opaque;
    (void)b;
}

/* One run of the kernel under `mode` with `dummies` extra code hooks, the table on or off; wall
 * seconds of machine_run, and the table's counts at the end in *st. */
static double run(const char *mode, const char *cmdline, unsigned long dummies, bool table,
                  struct uc_hook_table_stats *st)
{
    unsigned long long dummy_calls = 0;
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
        if (uc_hook_add(m->uc, &h, UC_HOOK_CODE, (void *)dummy, &dummy_calls, a, a) != UC_ERR_OK) {
            fprintf(stderr, "bench_sites: cannot add a dummy hook\n");
            exit(1);
        }
    }
    uc_hook_table_use(table);
    double t0 = bench_now();
    machine_run(m);
    double t = bench_now() - t0;
    if (m->end != END_GUEST_EXIT || m->guest_exit != 0x10 || dummy_calls) {
        fprintf(stderr, "bench_sites: %s under %s failed: %s\n", cmdline, mode,
                dummy_calls ? "a dummy hook fired" : m->message);
        exit(1);
    }
    uc_hook_table_stats(m->uc, st);
    m->mode->teardown(m);
    machine_destroy(m);
    return t;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    const char *mode = argc > 2 ? argv[2] : "trap-classic";
    char cmdline[64];
    snprintf(cmdline, sizeof cmdline, "workload=ctxsw n=%d", n);
    struct uc_hook_table_stats st;
    run(mode, cmdline, 0, false, &st);
    unsigned long n0 = (unsigned long)(st.exact + st.ranges);
    unsigned long long e = st.walked;
    if (!e) {
        fprintf(stderr, "bench_sites: no code-hook calls counted (built without the table?)\n");
        return 1;
    }
    double t[2][2][RUNS];
    for (int r = 0; r < RUNS; r++)
        for (int table = 0; table < 2; table++)
            for (int ten = 0; ten < 2; ten++)
                t[table][ten][r] = run(mode, cmdline, ten ? 9 * n0 : 0, table, &st);
    printf("bench_sites: %s under %s, median of %d interleaved runs (machine_run only), %llu "
           "hooked instructions executed\n", cmdline, mode, RUNS, e);
    for (int table = 0; table < 2; table++) {
        double a = bench_median(t[table][0], RUNS), b = bench_median(t[table][1], RUNS);
        printf("  %-22s %4lu code hooks %7.3f s   %5lu code hooks %7.3f s (%.2fx): %+6.0f ns per "
               "hooked instruction\n", table ? "vmlab's table" : "Unicorn's walk", n0, a, 10 * n0,
               b, b / a, (b - a) / (double)e * 1e9);
    }
    return 0;
}
