/*
 * bench_modes.c — the same guest kernel workloads in every mode, side by side: host wall time of
 * each mode relative to native.
 *
 * For each workload below, each mode runs `vmlab run` on the build tree's kernel, the modes
 * interleaved (native, trap, trap-ept, trap-classic, bt, pv, native, ...) RUNS times; the median
 * wall time of the whole process (start-up included, a few milliseconds) and its ratio to
 * native's median are printed, then the geometric mean of the ratios per mode. (forkwait runs 200
 * forks: each is a 256-page parent's whole page-table work since issue 12, about 160k guest
 * instructions.) The counts the runs record are the modes' business; this measures only how long
 * a user waits for them.
 *
 * usage: bench_modes [vmlab [kernel.elf]]   (default: the build tree's)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define RUNS 3

static const char *const modes[] = {"native", "trap", "trap-ept", "trap-classic", "bt", "pv"};
#define NMODES (sizeof modes / sizeof modes[0])

static const struct {
    const char *workload;
    int n;
} loads[] = {
    {"syscall", 20000}, {"callret", 200000}, {"ctxsw", 5000}, {"forkwait", 200},
    {"pgfault", 2000},  {"mmap", 2000},      {"compute", 200},
};
#define NLOADS (sizeof loads / sizeof loads[0])

/* One `vmlab run`: its wall time in seconds, or -1 if it did not exit with the guest's success
 * status (33). */
static double run(const char *vmlab, const char *kernel, const char *mode, const char *cmdline)
{
    char *argv[] = {(char *)vmlab, "run",   "--quiet",       "--mode",           (char *)mode,
                    "--guest",     (char *)kernel, "--cmdline", (char *)cmdline, NULL};
    double secs;
    return bench_spawn(argv, &secs) == 33 ? secs : -1;
}

int main(int argc, char **argv)
{
    const char *vmlab = argc > 1 ? argv[1] : VMLAB_BUILD_DIR "/vmlab";
    const char *kernel = argc > 2 ? argv[2] : VMLAB_BUILD_DIR "/guests/kernel.elf";
    double logsum[NMODES] = {0};
    printf("bench_modes: wall time per run (median of %d, interleaved), relative to native\n\n",
           RUNS);
    printf("%-10s %8s", "workload", "n");
    for (unsigned k = 0; k < NMODES; k++)
        printf(" %15s", modes[k]);
    printf("\n");
    for (unsigned w = 0; w < NLOADS; w++) {
        char cmdline[96];
        snprintf(cmdline, sizeof cmdline, "workload=%s n=%d", loads[w].workload, loads[w].n);
        double t[NMODES][RUNS], med[NMODES];
        for (int r = 0; r < RUNS; r++)
            for (unsigned k = 0; k < NMODES; k++)
                if ((t[k][r] = run(vmlab, kernel, modes[k], cmdline)) < 0) {
                    fprintf(stderr, "bench_modes: %s under %s failed (%s)\n", cmdline, modes[k],
                            vmlab);
                    return 1;
                }
        printf("%-10s %8d", loads[w].workload, loads[w].n);
        for (unsigned k = 0; k < NMODES; k++)
            med[k] = bench_median(t[k], RUNS);
        for (unsigned k = 0; k < NMODES; k++) {
            printf("  %6.3fs %5.2fx", med[k], med[k] / med[0]);
            logsum[k] += log(med[k] / med[0]);
        }
        printf("\n");
    }
    printf("%-19s", "geometric mean");
    for (unsigned k = 0; k < NMODES; k++)
        printf(" %14.2fx", exp(logsum[k] / NLOADS));
    printf("\n");
    return 0;
}
