/*
 * support_db.h — what the unit tests that build a trace database by hand and ask vmlab about it
 * (test_model.c, test_views.c, test_aggregate.c, test_report.c) share.
 *
 * Such a test works in a scratch directory of its own (sdb_scratch) that holds its database t.db
 * and whatever model files and reports it writes. Its fixture opens the database (sdb_open), adds
 * finished runs with their counters (sdb_add_run; sdb_run_begin and sdb_run_finish for a run put
 * together by hand), stores a cost model (sdb_load_model, from a file sdb_write_file wrote, or
 * points vmlab at a models directory of its own with sdb_models_dir) and closes the database; the
 * fixture's .fini removes the directory (sdb_remove). The tests then read the views (sdb_open_ro,
 * sdb_query), or run a vmlab subcommand in this process with its standard output captured
 * (sdb_capture) and read what it printed or wrote (sdb_read_file).
 *
 * Every function asserts (Criterion's cr_assert) rather than return an error: a failure fails the
 * test that called it, with the path, the SQL or the database's error in the message. Criterion
 * runs each test in a process of its own, so a static buffer below serves one test only.
 */
#ifndef VMLAB_TESTS_SUPPORT_DB_H
#define VMLAB_TESTS_SUPPORT_DB_H

#include <stddef.h>
#include <stdint.h>

#include "traces/tdb.h"

struct sqlite3;

/* Make a fresh directory /tmp/PREFIX.XXXXXX and put its name in dir (dirlen bytes); when dbpath
 * is not NULL, put the path of the database in it, DIR/t.db, in dbpath (dblen bytes). */
void sdb_scratch(const char *prefix, char *dir, size_t dirlen, char *dbpath, size_t dblen);

/* Remove `dir` and everything below it. */
void sdb_remove(const char *dir);

/* Make the empty directory DIR/models and set VMLAB_MODELS to it, so that vmlab loads the models
 * the test writes there and none of the shipped ones. */
void sdb_models_dir(const char *dir);

/* Write `text` to the file at `path`, replacing it. */
void sdb_write_file(const char *path, const char *text);

/* The text of the file at `path` (its first 65535 bytes), in a static buffer that the next call
 * overwrites. */
char *sdb_read_file(const char *path);

/* The database at `dbpath`, opened (created, or migrated, as tdb_open does) for writing. */
struct tdb *sdb_open(const char *dbpath);

/* Parse the cost model at `path` and store it in `db`. */
void sdb_load_model(struct tdb *db, const char *path);

/* Begin a run of guest "kernel.elf" with this workload, guest command line (params), mode and
 * machine configuration (config may be NULL); its id. */
int64_t sdb_run_begin(struct tdb *db, const char *workload, const char *params, const char *mode,
                      const char *config);

/* Finish run `id` with `status`: "ok" (vmlab's exit status 33) or "failed" (4); the guest wrote 16
 * to isa-debug-exit and `instructions` were retired in all (0: not recorded). */
void sdb_run_finish(struct tdb *db, int64_t id, const char *status, uint64_t instructions);

/* A finished, ok run as sdb_add_run adds it: the run (as sdb_run_begin), its counters, one
 * measured phase (phase 1, icounts 0 to insn_user + insn_kernel) and its end (as sdb_run_finish,
 * with `instructions`). */
struct sdb_run {
    const char *workload, *params, *mode, *config;
    const struct tdb_count *counts;  /* ncounts counters; NULL when ncounts is 0 */
    unsigned ncounts;
    uint64_t insn_user, insn_kernel; /* the measured phase's instructions at CPL 3 and CPL 0..2 */
    uint64_t instructions;
};

/* .counts and .ncounts of a struct sdb_run, from an array of struct tdb_count. */
#define SDB_COUNTS(array) .counts = (array), .ncounts = sizeof(array) / sizeof (array)[0]

/* Add `run` to `db`; its id. */
int64_t sdb_add_run(struct tdb *db, const struct sdb_run *run);

/* The database at `dbpath`, opened read-only with SQLite alone (no tdb_open: nothing is migrated
 * or refreshed); the caller closes it with sqlite3_close. */
struct sqlite3 *sdb_open_ro(const char *dbpath);

/* The first column of the first row of `sql` with ?1 bound to p1 and ?2 to p2 (NULL binds NULL; a
 * statement without them ignores them), as a double: NAN when there is no row or it is NULL. */
double sdb_query(struct sqlite3 *db, const char *sql, const char *p1, const char *p2);

/* Run the vmlab subcommand `cmd` (cmd_stat, cmd_report, ...) with the NULL-terminated `argv`
 * (argv[0] the subcommand's name) and its standard output sent to a temporary file; then, unless
 * `out` is NULL, put what it printed in out (len bytes, cut to len - 1 and NUL-terminated). Its
 * return value: the exit status. */
int sdb_capture(int (*cmd)(int, char **), char **argv, char *out, size_t len);

#endif
