/*
 * tdb.h — the trace database writer: the only way the emulator writes to SQLite.
 *
 * One run is one process writing one run row and its data. The life of a run row:
 *
 *     tdb_run_begin()           tdb_run_end(ok)
 *   ------------------> running ----------------> ok
 *                          |   tdb_run_end(failed)
 *                          +--------------------> failed
 *                          |   (process killed)
 *                          +--> stays `running`; readers see pid gone -> "running-but-dead",
 *                               tdb_open() of a writer marks such rows failed.
 *
 * The emulator aggregates counts in memory and hands them over in batches; the writer keeps
 * prepared statements and wraps each batch in one transaction, so a reader never sees half a batch,
 * and per-event rows (--trace full) stream at > 1M rows/s: a full batch is written by a thread of
 * the writer's own while the next one fills. Functions return 0 or a negative errno and, on
 * error, leave a one-line message in tdb_error().
 */
#ifndef VMLAB_TDB_H
#define VMLAB_TDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tdb;

struct tdb_run_info {
    const char *guest;         /* path of the guest ELF as given */
    const char *workload;      /* workload name (from the guest command line), "" if none */
    const char *params;        /* the full guest command line */
    const char *mode;          /* native, trap, trap-classic, bt, pv */
    const char *config;        /* machine configuration, "key=value ..." (ram, ips, limits, ...) */
    const char *suite;         /* suite name when run by `compare`, NULL otherwise */
};

struct tdb_run_end {
    const char *status;        /* "ok" or "failed" */
    int exit_status;           /* vmlab's process exit status */
    int guest_exit;            /* value written to isa-debug-exit, -1 if none */
    const char *message;       /* one-line reason for a failure, NULL when ok */
    uint64_t instructions;     /* total retired */
    uint64_t insn_user;        /* at CPL 3 */
    uint64_t insn_kernel;      /* at CPL 0..2 */
    double wall_seconds;
};

/* One aggregated counter: how many events of (class, reason, qualifier) happened in `phase`, and
 * a second quantity whose meaning depends on the class (e.g. instructions translated, entries
 * validated, batch elements; 0 if none). */
struct tdb_count {
    uint32_t phase;
    int ev_class;              /* enum ev_class (emu/event_classes.def) */
    int64_t reason;
    const char *qualifier;     /* "" if none */
    uint64_t count;
    uint64_t count2;
};

/* One event, recorded only with --trace full. */
struct tdb_event {
    uint64_t icount;           /* instructions retired before the event */
    uint32_t phase;
    int ev_class;
    int64_t reason;
    const char *qualifier;
    uint32_t eip;
    int cpl;
    const char *detail;        /* free text, may be NULL */
};

/* Open (creating or migrating the schema) the database at `path`. NULL on failure with a one-line
 * message in errbuf. */
struct tdb *tdb_open(const char *path, char *errbuf, unsigned errlen);
/* Close `db`: a writer flushes its buffers and, when no other connection has the database open,
 * leaves it in journal_mode=DELETE (one file, readable without write access); tdb_open puts it
 * back in WAL mode for the next writer. */
void tdb_close(struct tdb *db);
const char *tdb_error(const struct tdb *db);

/* Insert a run row with status `running`, start time, vmlab version and this process's pid. */
int tdb_run_begin(struct tdb *db, const struct tdb_run_info *info, int64_t *run_id);

/* The value of `key=` among the space-separated words of a guest command line (params may be
 * NULL), copied into buf (cut to its len bytes); 0, or -1 with buf "" when no word has the key. */
int tdb_param(const char *params, const char *key, char *buf, size_t len);

/* Append aggregated counters (one transaction). */
int tdb_add_counts(struct tdb *db, int64_t run_id, const struct tdb_count *c, unsigned n);

/* Per-phase instruction totals. */
int tdb_add_phase(struct tdb *db, int64_t run_id, uint32_t phase, uint64_t insn_user,
                  uint64_t insn_kernel, uint64_t first_icount, uint64_t last_icount);

/* Per-event rows (buffered; written in batches, in the background, and at tdb_run_finish). This
 * and the other buffered adds below return their own error or one a background batch met. */
int tdb_add_event(struct tdb *db, int64_t run_id, const struct tdb_event *ev);

/* Time series: `count` events of class `ev_class` in instruction bucket `bucket` (bucket width is
 * recorded in the run's config). */
int tdb_add_bucket(struct tdb *db, int64_t run_id, uint64_t bucket, int ev_class, uint64_t count);

/* Page-table validation (PV) and hypercall batch rows. */
int tdb_add_validation(struct tdb *db, int64_t run_id, uint64_t icount, uint32_t frame, int level,
                       unsigned entries, const char *outcome);
int tdb_add_hypercall(struct tdb *db, int64_t run_id, uint64_t icount, int nr, unsigned batch,
                      int result);

/* A binary translator's translation row: guest code read (where, bytes, instructions) and TC
 * code written (where, bytes); a trampoline is one instruction run on its own. */
struct tdb_translation {
    uint32_t guest_eip, guest_bytes, insns, tc_addr, tc_bytes;
    bool trampoline;
};
int tdb_add_translation(struct tdb *db, int64_t run_id, uint64_t icount, uint32_t phase,
                        const struct tdb_translation *u);

/* Flush buffered rows and set the run's final status and totals (one transaction). If a batch
 * written in the background failed and no add reported it yet, the run is recorded as failed with
 * that batch's error as its message, and the error is returned. */
int tdb_run_finish(struct tdb *db, int64_t run_id, const struct tdb_run_end *end);

/* Write buffered rows now (one transaction). Buffers are flushed by themselves when full, at
 * tdb_run_finish and at tdb_close; this is for callers that want a checkpoint. */
int tdb_flush(struct tdb *db);

/* --- Readers (stat, report, compare, tests) -------------------------------------------------
 * Readers that may write (compare's summary, tests) open the database with tdb_open (it creates
 * or migrates the schema, refreshes the lookup tables and views, and marks the runs of dead
 * writers failed); `stat` and `report` use tdb_open_readonly. Both query through the SQLite
 * handle. The schema is described in traces/tdb_schema.c and analysis/schema.md. */
#define TDB_SCHEMA_VERSION 6

/* Open the existing database at `path` for reading only (`stat`, `report`): the file is never
 * written (SQLITE_OPEN_READONLY; a database a writer left in WAL mode with an empty log is opened
 * immutable=1, since its -shm could not be created without write access), so it works for a user
 * who can read the file but write neither it nor its directory. Lookups, cost models and views
 * live in the connection's temp schema (in memory), shadowing the stored ones: models loaded
 * with analysis/model.h go there and vanish at tdb_close. Runs of dead writers stay `running`.
 * A database of an older schema is migrated first (as tdb_open does) when this process may write
 * it, else refused; a newer one is refused. NULL on failure with a one-line message in errbuf.
 * Only tdb_sqlite and tdb_close apply to the handle. */
struct tdb *tdb_open_readonly(const char *path, char *errbuf, unsigned errlen);

struct sqlite3;
/* The connection, once no batch is being written in the background (this waits for one). */
struct sqlite3 *tdb_sqlite(struct tdb *db);

/* Whether the writer recorded in a `running` run row is still alive: 1 alive (or on another host,
 * where this cannot be told), 0 gone. `pid_start` is the process start time from /proc (clock
 * ticks since boot), so a reused pid is not mistaken for the writer. The same test is available in
 * SQL on connections opened by tdb_open as vmlab_writer_alive(host, pid, pid_start). */
int tdb_writer_alive(const char *host, int64_t pid, int64_t pid_start);

#endif
