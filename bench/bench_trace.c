/*
 * bench_trace.c — `--trace full` end to end: event rows per second of a whole `vmlab run`.
 *
 * Issue 21 asks for at least 1 M rows/s on bt syscall, counted as the rows of the event table
 * divided by the wall time of the process that wrote them (start-up, emulation, the writer and
 * the final close all included). Each vmlab given runs
 *     vmlab run --mode bt --guest kernel.elf --cmdline "workload=syscall n=N" --trace full --db D
 * and the same with --trace counts (what the rows cost on top of the run itself), into a fresh
 * database in a temporary directory, all of them interleaved RUNS times; the medians are printed
 * with rows/s. Given two vmlab executables (say the build before a change and after it) both run
 * in the same interleaving, so their ratio is measured side by side, under the same load.
 *
 * usage: bench_trace [n [vmlab [vmlab2]]]   (defaults: 200000, the build tree's vmlab)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "bench_util.h"

#define RUNS 5
#define MAXV 2

/* Rows of the event table in db, -1 if it cannot be read. */
static long long event_rows(const char *db)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    long long n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT count(*) FROM event", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return n;
}

/* One run of `vmlab` into a fresh `db`: wall seconds, or -1 unless it ended with status 33. */
static double one(const char *vmlab, const char *kernel, const char *cmdline, const char *trace,
                  const char *db)
{
    char side[4200];
    unlink(db);
    snprintf(side, sizeof side, "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db);
    unlink(side);
    char *argv[] = {(char *)vmlab,   "run",           "--quiet", "--mode", "bt",
                    "--guest",       (char *)kernel,  "--cmdline", (char *)cmdline,
                    "--trace",       (char *)trace,   "--db",    (char *)db, NULL};
    double secs;
    return bench_spawn(argv, &secs) == 33 ? secs : -1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    const char *vm[MAXV] = {argc > 2 ? argv[2] : VMLAB_BUILD_DIR "/vmlab",
                            argc > 3 ? argv[3] : NULL};
    int nv = vm[1] ? 2 : 1;
    const char *kernel = VMLAB_BUILD_DIR "/guests/kernel.elf";
    char dir[] = "/tmp/bench_trace.XXXXXX", db[64], cmdline[64];
    if (n < 1 || !mkdtemp(dir)) {
        fprintf(stderr, "usage: bench_trace [n [vmlab [vmlab2]]] (n > 0; needs /tmp)\n");
        return 2;
    }
    snprintf(db, sizeof db, "%s/t.db", dir);
    snprintf(cmdline, sizeof cmdline, "workload=syscall n=%d", n);
    double full[MAXV][RUNS], counts[MAXV][RUNS];
    long long rows[MAXV] = {0};
    for (int r = 0; r < RUNS; r++)
        for (int v = 0; v < nv; v++) {
            full[v][r] = one(vm[v], kernel, cmdline, "full", db);
            long long got = event_rows(db);
            counts[v][r] = one(vm[v], kernel, cmdline, "counts", db);
            if (full[v][r] < 0 || counts[v][r] < 0 || got <= 0 || (r && got != rows[v])) {
                fprintf(stderr, "bench_trace: %s (%s) failed or wrote no rows\n", vm[v], cmdline);
                return 1;
            }
            rows[v] = got;
        }
    unlink(db);
    rmdir(dir);
    printf("bench_trace: vmlab run --mode bt, %s, median of %d interleaved runs\n", cmdline,
           RUNS);
    double first = 0;
    for (int v = 0; v < nv; v++) {
        double f = bench_median(full[v], RUNS), c = bench_median(counts[v], RUNS);
        printf("  %s\n    --trace full   %7.3f s  %lld event rows  %.2f M rows/s (bar: >= 1)\n"
               "    --trace counts %7.3f s  (the rows cost %.3f s: %.0f ns each)\n",
               vm[v], f, rows[v], rows[v] / f / 1e6, c, f - c, (f - c) / rows[v] * 1e9);
        if (v == 0)
            first = f;
        else
            printf("  rows/s, second / first: %.2fx\n", first / f);
    }
    return 0;
}
