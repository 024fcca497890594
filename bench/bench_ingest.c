/*
 * bench_ingest.c — how fast the trace writer stores per-event rows (`--trace full`).
 *
 * Writes N events (default 2,000,000) of a realistic mix (exits with CR/port/vector qualifiers,
 * one in 16 with a detail string) through tdb_add_event into a fresh database in a temporary
 * directory, then tdb_run_finish, and prints rows/s for the whole path (buffering, batched
 * transactions, final flush). The target is >= 1,000,000 rows/s; the exit status is 1 below it.
 *
 *   bench_ingest [N] [DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "traces/tdb.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/bench_ingest.%d.db", dir, (int)getpid());

    struct tdb *db = tdb_open(path, err, sizeof err);
    if (!db) {
        fprintf(stderr, "bench_ingest: %s\n", err);
        return 2;
    }
    struct tdb_run_info info = { .guest = "bench", .workload = "bench", .params = "n=1",
                                 .mode = "trap", .config = "" };
    int64_t run;
    if (tdb_run_begin(db, &info, &run)) {
        fprintf(stderr, "bench_ingest: %s\n", tdb_error(db));
        return 2;
    }
    static const char *const quals[] = { "cr3 write", "cr0 read", "0x3f8 out b", "vector 14",
                                         "", "hlt", "cpuid", "invlpg" };
    static const int reasons[] = { 28, 28, 30, 0, 1, 12, 10, 14 };
    double t0 = bench_now();
    for (long i = 0; i < n; i++) {
        struct tdb_event ev = {
            .icount = (uint64_t)i * 37,
            .phase = 1,
            .ev_class = 7, /* exit */
            .reason = reasons[i & 7],
            .qualifier = quals[i & 7],
            .eip = 0xc0100000u + (uint32_t)(i & 0xffff),
            .cpl = (i & 3) ? 0 : 3,
            .detail = (i & 15) == 0 ? "cr3 0x00123000 -> 0x00456000" : NULL,
        };
        if (tdb_add_event(db, run, &ev)) {
            fprintf(stderr, "bench_ingest: %s\n", tdb_error(db));
            return 2;
        }
    }
    struct tdb_run_end end = { .status = "ok", .exit_status = 33, .guest_exit = 16 };
    if (tdb_run_finish(db, run, &end)) {
        fprintf(stderr, "bench_ingest: %s\n", tdb_error(db));
        return 2;
    }
    double secs = bench_now() - t0;
    tdb_close(db);
    double rate = n / secs;
    printf("bench_ingest: %ld event rows in %.3f s: %.0f rows/s (target >= 1000000) %s\n", n, secs,
           rate, rate >= 1e6 ? "ok" : "BELOW TARGET");
    unlink(path);
    char side[4200];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return rate >= 1e6 ? 0 : 1;
}
