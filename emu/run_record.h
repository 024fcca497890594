/*
 * run_record.h — the bridge between one run and the trace database.
 *
 * `vmlab run` opens the database and inserts the run row (status running) before the guest
 * starts, so a run killed half-way is visible as such; with full tracing it streams every event
 * from the funnel to the database; at the end it writes the aggregated counts, the per-phase
 * instruction totals and the time series, then the final status, in the writer's transactions.
 * Without a database path every call is a no-op.
 */
#ifndef VMLAB_RUN_RECORD_H
#define VMLAB_RUN_RECORD_H

#include <stdbool.h>
#include <stdint.h>

struct machine;
struct tdb;

struct run_record_info {
    const char *guest, *cmdline, *mode, *suite;
    bool full;
    uint64_t ram_mib, ips, max_insns, bucket, window;
    double timeout;
};

struct run_record {
    struct tdb *db;          /* NULL: not recording */
    int64_t run_id;
    bool full;
    uint64_t bucket;
    int sink_error;          /* first error from streaming events, 0 if none */
};

/* Open `path` (NULL: no recording) and insert the run row. 0, or -1 with errbuf set. */
int run_record_open(struct run_record *r, const char *path, const struct run_record_info *info,
                    char *errbuf, unsigned errlen);

/* Connect the machine's event funnel to the database (full tracing). */
void run_record_attach(struct run_record *r, struct machine *m);

/* Write counts, phases and series of `m` (may be NULL if the machine never ran) and finish the
 * run row with `status` ("ok"/"failed"), exit status and message. Closes the database.
 * 0, or -1 with errbuf set. */
int run_record_close(struct run_record *r, struct machine *m, const char *status, int exit_status,
                     const char *message, double wall_seconds, char *errbuf, unsigned errlen);

#endif
