/*
 * tdb.c — the trace database writer (see tdb.h for the contract, tdb_schema.c for the tables).
 *
 * Every write is a short IMMEDIATE transaction on prepared statements. Rows that come one at a
 * time (events, buckets, validations, hypercalls, translations) are first copied into an
 * in-memory batch — structs plus a string arena, no allocation per row — and written together
 * when the batch fills (TDB_BATCH rows), at tdb_flush, tdb_run_finish and tdb_close. Holding rows
 * in memory rather than holding a write transaction open keeps the write lock free between
 * batches, so the other `vmlab run` processes of a `compare -j N` writing the same database never
 * wait longer than one batch (the busy timeout is TDB_BUSY_MS).
 *
 * A batch that fills is written by a worker thread (tdb_worker.h) while the emulator fills the
 * other of the two batches, so with `--trace full` SQLite's share of the time (a third of a bt
 * syscall run's) overlaps the emulation when the machine has a core free, instead of adding to it
 * (on a loaded machine, load 2.5, it measured 4.10 -> 3.76 s for 3.8 M rows, bench_trace).
 * Only one thread uses the connection at a time: every other call that touches it first waits
 * for the batch in flight (settle). Batches are written in order, so row ids are what a
 * synchronous writer would give. An error the worker meets is kept and reported by the next
 * buffered add, tdb_flush or tdb_run_finish; tdb_run_finish then records the run as failed.
 *
 * Crash consistency comes from SQLite: a batch is in the database whole or not at all, and the
 * run row says `running` until tdb_run_finish commits the totals and the final status together
 * with the last batch. A writer killed half-way leaves `running` rows whose pid is gone; any later
 * tdb_open marks them failed ("writer died").
 *
 *   tdb_open ── tdb_run_begin ── add_counts / add_phase / add_event ... ── tdb_run_finish ── close
 *                                 (events buffered; every TDB_BATCH rows the batch goes to the
 *                                  worker and the other one fills)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "traces/tdb.h"
#include "traces/tdb_batch.h"
#include "traces/tdb_internal.h"
#include "traces/tdb_worker.h"

#ifndef VMLAB_VERSION
#define VMLAB_VERSION "unknown"
#endif

/* TDB_BATCH: buffered rows that make a full batch. */
enum { TDB_BATCH = 1 << 16, TDB_BUSY_MS = 120 * 1000 };

enum stmt {
    ST_RUN_BEGIN,
    ST_COUNT,
    ST_PHASE,
    ST_EVENT,
    ST_BUCKET,
    ST_VALIDATION,
    ST_HYPERCALL,
    ST_TRANSLATION,
    ST_FINISH,
    ST_EVENT_MULTI, /* TDB_MULTI rows; its SQL is built at open */
    ST_COUNT_OF
};

static const char *const stmt_sql[ST_COUNT_OF] = {
    [ST_RUN_BEGIN] = "INSERT INTO run(guest, workload, n, params, mode, config, suite, status,"
                     " vmlab_version, host, pid, pid_start, started_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?,"
                     " strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    [ST_COUNT] = "INSERT INTO event_count VALUES (?, ?, ?, ?, ?, ?, ?)"
                 " ON CONFLICT DO UPDATE SET count = count + excluded.count,"
                 " count2 = count2 + excluded.count2",
    [ST_PHASE] = "INSERT OR REPLACE INTO run_phase VALUES (?, ?, ?, ?, ?, ?)",
    [ST_EVENT] = "INSERT INTO event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_BUCKET] = "INSERT INTO bucket VALUES (?, ?, ?, ?)"
                  " ON CONFLICT DO UPDATE SET count = count + excluded.count",
    [ST_VALIDATION] = "INSERT INTO validation VALUES (?, ?, ?, ?, ?, ?)",
    [ST_HYPERCALL] = "INSERT INTO hypercall VALUES (?, ?, ?, ?, ?)",
    [ST_TRANSLATION] = "INSERT INTO translation VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_FINISH] = "UPDATE run SET status = ?, exit_status = ?, guest_exit = ?, message = ?,"
                  " instructions = ?, insn_user = ?, insn_kernel = ?, wall_seconds = ?,"
                  " ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
};

struct tdb {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT_OF];
    struct tdb_batch batch[2];
    struct tdb_batch *fill;      /* the batch rows are added to; the other may be in flight */
    struct tdb_batch_stmts bst;  /* the statements of t->st a batch is written with */
    struct tdb_worker *worker;   /* writes full batches; NULL until the first one */
    int async_rc;                /* an error the worker met, not yet reported (0: none) */
    bool readonly;   /* opened by tdb_open_readonly: nothing prepared, nothing written */
    char err[512];
    char werr[512];  /* the worker's first error message (written by the worker only) */
};

static int set_err(struct tdb *t, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
    return rc;
}

static int sql_err(struct tdb *t, const char *what)
{
    return set_err(t, -EIO, "%s: %s", what, sqlite3_errmsg(t->db));
}

const char *tdb_error(const struct tdb *t)
{
    return t ? t->err : "no database";
}

/* Start time of process `pid` in clock ticks since boot (field 22 of /proc/PID/stat), -1 if
 * there is no such process. */
static int64_t proc_start_time(int64_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    char *p = strrchr(buf, ')'); /* the command name may contain spaces */
    if (!p)
        return -1;
    long long start = -1;
    /* after ")": state(3) ... starttime is field 22, i.e. the 20th field after the name */
    int field = 2;
    for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " "))
        if (++field == 22) {
            start = atoll(tok);
            break;
        }
    return start;
}

static void host_name(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0)
        snprintf(buf, len, "unknown");
    buf[len - 1] = 0;
}

int tdb_writer_alive(const char *host, int64_t pid, int64_t pid_start)
{
    char me[256];
    host_name(me, sizeof me);
    if (!host || strcmp(host, me) != 0)
        return 1;
    int64_t start = proc_start_time(pid);
    return start >= 0 && start == pid_start;
}

static void sql_writer_alive(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    sqlite3_result_int(ctx, tdb_writer_alive((const char *)sqlite3_value_text(argv[0]),
                                             sqlite3_value_int64(argv[1]),
                                             sqlite3_value_int64(argv[2])));
}

/* Runs left `running` by a writer that is gone are marked failed. */
static int mark_dead_runs(struct tdb *t)
{
    static const char sql[] =
        "UPDATE run SET status = 'failed', message = 'writer process ' || pid || ' died',"
        " ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
        " WHERE status = 'running' AND NOT vmlab_writer_alive(host, pid, pid_start)";
    sqlite3_stmt *st;
    /* Cheap read first, so a clean database costs no write lock. */
    if (sqlite3_prepare_v2(t->db,
                           "SELECT count(*) FROM run WHERE status = 'running'"
                           " AND NOT vmlab_writer_alive(host, pid, pid_start)",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_err(t, "checking for dead writers");
    int dead = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return dead ? tdb_exec(t->db, sql, t->err, sizeof t->err) : 0;
}

static int configure(struct tdb *t)
{
    sqlite3_busy_timeout(t->db, TDB_BUSY_MS);
    sqlite3_create_function(t->db, "vmlab_writer_alive", 3, SQLITE_UTF8, NULL, sql_writer_alive,
                            NULL, NULL);
    /* page_size only takes effect on a new database; 16 KiB pages ingest ~30% faster than 4 KiB */
    int rc = tdb_exec(t->db,
                      "PRAGMA page_size = 16384;"
                      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                      "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
                      t->err, sizeof t->err);
    if (rc)
        return rc;
    rc = tdb_schema_migrate(t->db, TDB_SCHEMA_VERSION, t->err, sizeof t->err);
    if (rc == 0)
        rc = tdb_schema_refresh_derived(t->db, t->err, sizeof t->err);
    if (rc == 0)
        rc = mark_dead_runs(t);
    char multi[32 + TDB_MULTI * 32] = "INSERT INTO event VALUES ";
    for (int r = 0; r < TDB_MULTI; r++)
        strcat(multi, r ? ", (?, ?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (int i = 0; rc == 0 && i < ST_COUNT_OF; i++)
        if (sqlite3_prepare_v3(t->db, i == ST_EVENT_MULTI ? multi : stmt_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &t->st[i], NULL) != SQLITE_OK)
            rc = sql_err(t, "preparing statements");
    t->bst = (struct tdb_batch_stmts){t->st[ST_EVENT],      t->st[ST_EVENT_MULTI],
                                      t->st[ST_BUCKET],     t->st[ST_VALIDATION],
                                      t->st[ST_HYPERCALL],  t->st[ST_TRANSLATION]};
    return rc;
}

struct tdb *tdb_open(const char *path, char *errbuf, unsigned errlen)
{
    struct tdb *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(errbuf, errlen, "%s: out of memory", path);
        return NULL;
    }
    t->fill = &t->batch[0];
    /* One thread at a time uses the connection (the worker only between a submit and the next
     * settle): the per-connection mutex is not needed (~10% of ingest time). */
    int rc = sqlite3_open_v2(path, &t->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        set_err(t, -EIO, "%s", t->db ? sqlite3_errmsg(t->db) : sqlite3_errstr(rc));
    else
        rc = configure(t);
    if (rc) {
        snprintf(errbuf, errlen, "%s: %s", path, t->err);
        tdb_close(t);
        return NULL;
    }
    return t;
}

/* `path` as an SQLite URI with `query` ("file:PATH?QUERY"), every byte a URI could misread
 * percent-encoded; 0, or -ENAMETOOLONG. */
static int file_uri(const char *path, const char *query, char *out, size_t len)
{
    size_t o = (size_t)snprintf(out, len, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p && o + 4 < len; p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7f)
            o += (size_t)snprintf(out + o, len - o, "%%%02X", *p);
        else
            out[o++] = (char)*p;
    }
    out[o < len ? o : len - 1] = 0;
    int n = snprintf(out + o, len - o, "?%s", query);
    return n < 0 || (size_t)n >= len - o ? -ENAMETOOLONG : 0;
}

/* Whether `path`'s write-ahead log exists and holds frames (a writer is running, or died). */
static bool wal_has_frames(const char *path)
{
    char wal[4096];
    struct stat sb;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &sb) == 0 && sb.st_size > 0;
}

/* Whether this process may write `path` and create files beside it (its -journal). */
static bool writable_here(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        slash[slash == dir ? 1 : 0] = 0;
    return access(path, W_OK) == 0 && access(dir, W_OK | X_OK) == 0;
}

/* Open `path` read-only: with SQLITE_OPEN_READONLY, else (a database left in WAL mode whose -shm
 * cannot be created here) as immutable when its log holds nothing. The schema version, or -errno
 * with a message in t->err. */
static int open_ro_connection(struct tdb *t, const char *path)
{
    int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
    char uri[4200];
    for (int immutable = 0; immutable < 2; immutable++) {
        if (file_uri(path, immutable ? "mode=ro&immutable=1" : "mode=ro", uri, sizeof uri))
            return set_err(t, -ENAMETOOLONG, "path too long");
        int rc = sqlite3_open_v2(uri, &t->db, flags, NULL);
        int version = rc == SQLITE_OK ? tdb_schema_version_of(t->db) : -EIO;
        if (version >= 0)
            return version;
        set_err(t, -EIO, "%s", t->db ? sqlite3_errmsg(t->db) : sqlite3_errstr(rc));
        sqlite3_close(t->db);
        t->db = NULL;
        if (wal_has_frames(path))
            return set_err(t, -EACCES,
                           "%s (the database is in WAL mode with a non-empty %s-wal, being "
                           "written or left by a writer that died: read it when the writer is "
                           "done, or have its owner run `sqlite3 %s 'PRAGMA journal_mode=DELETE'`)",
                           t->err, path, path);
        /* No log to miss: the file alone is the database (no writer has it open in WAL mode
         * here), which is what immutable=1 asks SQLite to assume. */
    }
    return -EIO;
}

struct tdb *tdb_open_readonly(const char *path, char *errbuf, unsigned errlen)
{
    struct tdb *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(errbuf, errlen, "%s: out of memory", path);
        return NULL;
    }
    t->readonly = true;
    int version = open_ro_connection(t, path), rc = version < 0 ? version : 0;
    if (rc == 0 && version < TDB_SCHEMA_VERSION && version > 0 && writable_here(path)) {
        /* An older vmlab's database this user may write: migrate it as a writer would, once. */
        sqlite3_close(t->db);
        t->db = NULL;
        struct tdb *w = tdb_open(path, errbuf, errlen);
        if (!w) {
            free(t);
            return NULL;
        }
        tdb_close(w);
        version = open_ro_connection(t, path);
        rc = version < 0 ? version : 0;
    }
    if (rc == 0 && version == 0)
        rc = set_err(t, -EPROTO, "not a vmlab trace database (no schema version)");
    else if (rc == 0 && version > TDB_SCHEMA_VERSION)
        rc = set_err(t, -EPROTO, "database schema version %d is newer than this vmlab's (%d)",
                     version, TDB_SCHEMA_VERSION);
    else if (rc == 0 && version < TDB_SCHEMA_VERSION)
        rc = set_err(t, -EPROTO,
                     "database schema version %d is older than this vmlab's (%d) and cannot be "
                     "migrated read-only: open it once as a user who can write it and its "
                     "directory", version, TDB_SCHEMA_VERSION);
    if (rc == 0) {
        sqlite3_busy_timeout(t->db, TDB_BUSY_MS);
        sqlite3_create_function(t->db, "vmlab_writer_alive", 3, SQLITE_UTF8, NULL,
                                sql_writer_alive, NULL, NULL);
        rc = tdb_exec(t->db, "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;", t->err,
                      sizeof t->err);
    }
    if (rc == 0)
        rc = tdb_schema_temp_derived(t->db, t->err, sizeof t->err);
    if (rc) {
        snprintf(errbuf, errlen, "%s: %s", path, t->err);
        tdb_close(t);
        return NULL;
    }
    return t;
}

static int step(struct tdb *t, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sql_err(t, what);
}

static int begin(struct tdb *t)
{
    return tdb_exec(t->db, "BEGIN IMMEDIATE", t->err, sizeof t->err);
}

static int end(struct tdb *t, int rc)
{
    if (rc == 0)
        return tdb_exec(t->db, "COMMIT", t->err, sizeof t->err);
    char ignore[8];
    tdb_exec(t->db, "ROLLBACK", ignore, sizeof ignore);
    return rc;
}

/* The worker's job: one full batch in one transaction. Its first error message goes to t->werr,
 * which only the worker writes and the caller reads once the error is reported. */
static int commit_job(void *ctx, void *arg)
{
    struct tdb *t = ctx;
    char err[sizeof t->err];
    int rc = tdb_batch_commit(arg, t->db, &t->bst, err, sizeof err);
    if (rc && !t->werr[0])
        memcpy(t->werr, err, sizeof err);
    return rc;
}

/* Keep a worker's error (the first) for the next call that reports one. */
static void keep_async(struct tdb *t, int rc)
{
    if (rc && !t->async_rc) {
        t->async_rc = rc;
        snprintf(t->err, sizeof t->err, "%s", t->werr);
    }
}

/* Wait for the batch in flight, if any: after this the connection is the caller's. */
static void settle(struct tdb *t)
{
    keep_async(t, tdb_worker_wait(t->worker));
}

/* The kept worker error, now reported (0 if none). */
static int take_async(struct tdb *t)
{
    int rc = t->async_rc;
    t->async_rc = 0;
    return rc;
}

struct sqlite3 *tdb_sqlite(struct tdb *t)
{
    settle(t);
    return t->db;
}

int tdb_flush(struct tdb *t)
{
    settle(t);
    int rc = tdb_batch_rows(t->fill) ? tdb_batch_commit(t->fill, t->db, &t->bst, t->err,
                                                         sizeof t->err)
                                     : 0;
    int arc = take_async(t);
    return arc ? arc : rc;
}

/* The fill batch is full: hand it to the worker and fill the other one (the worker, if it was
 * writing that one, is done with it once the submit returns). Without a worker (out of memory)
 * the batch is written here. */
static int hand_over(struct tdb *t)
{
    if (!t->worker && !(t->worker = tdb_worker_new(commit_job, t)))
        return tdb_flush(t);
    struct tdb_batch *full = t->fill;
    keep_async(t, tdb_worker_submit(t->worker, full));
    t->fill = full == &t->batch[0] ? &t->batch[1] : &t->batch[0];
    return take_async(t);
}

static int maybe_flush(struct tdb *t)
{
    return tdb_batch_rows(t->fill) >= TDB_BATCH || tdb_batch_bytes(t->fill) >= (size_t)64 << 20
               ? hand_over(t)
               : 0;
}

void tdb_close(struct tdb *t)
{
    if (!t)
        return;
    if (t->db && !t->readonly)
        tdb_flush(t);
    tdb_worker_free(t->worker);
    for (int i = 0; i < ST_COUNT_OF; i++)
        sqlite3_finalize(t->st[i]);
    if (t->db && !t->readonly) {
        /* Leave a finished database in rollback-journal mode, so that reading it needs no -shm
         * and no write access. Changing out of WAL needs every other connection gone: while
         * another writer (a compare child, compare itself) still has it open this fails at once
         * (no busy wait) and the last one to close switches. */
        sqlite3_busy_timeout(t->db, 0);
        sqlite3_exec(t->db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    }
    sqlite3_close(t->db);
    tdb_batch_free(&t->batch[0]);
    tdb_batch_free(&t->batch[1]);
    free(t);
}

int tdb_param(const char *params, const char *key, char *buf, size_t len)
{
    size_t klen = strlen(key);
    buf[0] = 0;
    for (const char *p = params; p && *p;) {
        while (*p == ' ')
            p++;
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            p += klen + 1;
            size_t n = strcspn(p, " ");
            if (n >= len)
                n = len - 1;
            memcpy(buf, p, n);
            buf[n] = 0;
            return 0;
        }
        p += strcspn(p, " ");
    }
    return -1;
}

/* The number `n=` of a guest command line, -1 if none. */
static long long param_n(const char *params)
{
    char v[32], *endp;
    if (tdb_param(params, "n", v, sizeof v) < 0)
        return -1;
    long long n = strtoll(v, &endp, 0);
    return endp > v && *endp == 0 ? n : -1;
}

static void bind_text_or_null(sqlite3_stmt *st, int col, const char *s)
{
    if (s)
        sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, col);
}

int tdb_run_begin(struct tdb *t, const struct tdb_run_info *info, int64_t *run_id)
{
    if (!info->guest || !info->mode)
        return set_err(t, -EINVAL, "run_begin: guest and mode are required");
    char host[256];
    host_name(host, sizeof host);
    settle(t);
    sqlite3_stmt *st = t->st[ST_RUN_BEGIN];
    long long n = param_n(info->params);
    sqlite3_bind_text(st, 1, info->guest, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, info->workload ? info->workload : "", -1, SQLITE_TRANSIENT);
    if (n >= 0)
        sqlite3_bind_int64(st, 3, n);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, info->params ? info->params : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, info->mode, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, info->config ? info->config : "", -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 7, info->suite);
    sqlite3_bind_text(st, 8, VMLAB_VERSION, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 10, getpid());
    sqlite3_bind_int64(st, 11, proc_start_time(getpid()));
    int rc = begin(t);
    if (rc == 0) {
        rc = step(t, st, "inserting run");
        if (rc == 0)
            *run_id = sqlite3_last_insert_rowid(t->db);
        rc = end(t, rc);
    }
    sqlite3_clear_bindings(st);
    return rc;
}

int tdb_add_counts(struct tdb *t, int64_t run_id, const struct tdb_count *c, unsigned n)
{
    settle(t);
    int rc = begin(t);
    sqlite3_stmt *st = t->st[ST_COUNT];
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        if (c[i].ev_class < 0 || (unsigned)c[i].ev_class >= tdb_class_count) {
            rc = set_err(t, -EINVAL, "add_counts: event class %d out of range", c[i].ev_class);
            break;
        }
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int(st, 2, (int)c[i].phase);
        sqlite3_bind_int(st, 3, c[i].ev_class);
        sqlite3_bind_int64(st, 4, c[i].reason);
        sqlite3_bind_text(st, 5, c[i].qualifier ? c[i].qualifier : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, (int64_t)c[i].count);
        sqlite3_bind_int64(st, 7, (int64_t)c[i].count2);
        rc = step(t, st, "writing counts");
    }
    return end(t, rc);
}

int tdb_add_phase(struct tdb *t, int64_t run_id, uint32_t phase, uint64_t insn_user,
                  uint64_t insn_kernel, uint64_t first_icount, uint64_t last_icount)
{
    settle(t);
    sqlite3_stmt *st = t->st[ST_PHASE];
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int(st, 2, (int)phase);
    sqlite3_bind_int64(st, 3, (int64_t)insn_user);
    sqlite3_bind_int64(st, 4, (int64_t)insn_kernel);
    sqlite3_bind_int64(st, 5, (int64_t)first_icount);
    sqlite3_bind_int64(st, 6, (int64_t)last_icount);
    int rc = begin(t);
    return rc ? rc : end(t, step(t, st, "writing phase"));
}

int tdb_add_event(struct tdb *t, int64_t run_id, const struct tdb_event *ev)
{
    struct tdb_batch *b = t->fill;
    struct ev_row *e = vec_push(&b->events);
    if (!e)
        return set_err(t, -ENOMEM, "add_event: out of memory");
    e->run_id = run_id;
    e->icount = ev->icount;
    e->phase = ev->phase;
    e->ev_class = ev->ev_class;
    e->reason = ev->reason;
    e->qual = tdb_batch_str(b, ev->qualifier ? ev->qualifier : "");
    e->eip = ev->eip;
    e->cpl = ev->cpl;
    e->detail = tdb_batch_str(b, ev->detail);
    if (e->qual == TDB_STR_NOMEM || e->detail == TDB_STR_NOMEM) {
        b->events.n--;
        return set_err(t, -ENOMEM, "add_event: out of memory");
    }
    return maybe_flush(t);
}

int tdb_add_bucket(struct tdb *t, int64_t run_id, uint64_t bucket, int ev_class, uint64_t count)
{
    struct bucket_row *b = vec_push(&t->fill->buckets);
    if (!b)
        return set_err(t, -ENOMEM, "add_bucket: out of memory");
    *b = (struct bucket_row){ run_id, bucket, count, ev_class };
    return maybe_flush(t);
}

int tdb_add_validation(struct tdb *t, int64_t run_id, uint64_t icount, uint32_t frame, int level,
                       unsigned entries, const char *outcome)
{
    struct tdb_batch *b = t->fill;
    struct validation_row *v = vec_push(&b->validations);
    if (!v)
        return set_err(t, -ENOMEM, "add_validation: out of memory");
    *v = (struct validation_row){ run_id, icount, frame, entries,
                                  tdb_batch_str(b, outcome ? outcome : ""), level };
    if (v->outcome == TDB_STR_NOMEM) {
        b->validations.n--;
        return set_err(t, -ENOMEM, "add_validation: out of memory");
    }
    return maybe_flush(t);
}

int tdb_add_hypercall(struct tdb *t, int64_t run_id, uint64_t icount, int nr, unsigned batch,
                      int result)
{
    struct hypercall_row *h = vec_push(&t->fill->hypercalls);
    if (!h)
        return set_err(t, -ENOMEM, "add_hypercall: out of memory");
    *h = (struct hypercall_row){ run_id, icount, nr, result, batch };
    return maybe_flush(t);
}

int tdb_add_translation(struct tdb *t, int64_t run_id, uint64_t icount, uint32_t phase,
                        const struct tdb_translation *u)
{
    struct translation_row *r = vec_push(&t->fill->translations);
    if (!r)
        return set_err(t, -ENOMEM, "add_translation: out of memory");
    *r = (struct translation_row){ run_id, icount, phase, *u };
    return maybe_flush(t);
}

int tdb_run_finish(struct tdb *t, int64_t run_id, const struct tdb_run_end *e)
{
    if (!e->status || (strcmp(e->status, "ok") && strcmp(e->status, "failed")))
        return set_err(t, -EINVAL, "run_finish: status must be \"ok\" or \"failed\"");
    settle(t);
    int arc = take_async(t);
    char lost[sizeof t->err];
    snprintf(lost, sizeof lost, "%s", t->err);
    int rc = begin(t);
    if (rc)
        return rc;
    rc = tdb_batch_write(t->fill, t->db, &t->bst, t->err, sizeof t->err);
    tdb_batch_clear(t->fill);
    sqlite3_stmt *st = t->st[ST_FINISH];
    /* A batch the worker could not write is rows this run lacks: the run failed. */
    sqlite3_bind_text(st, 1, arc ? "failed" : e->status, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, e->exit_status);
    if (e->guest_exit >= 0)
        sqlite3_bind_int(st, 3, e->guest_exit);
    else
        sqlite3_bind_null(st, 3);
    bind_text_or_null(st, 4, arc ? lost : e->message);
    sqlite3_bind_int64(st, 5, (int64_t)e->instructions);
    sqlite3_bind_int64(st, 6, (int64_t)e->insn_user);
    sqlite3_bind_int64(st, 7, (int64_t)e->insn_kernel);
    sqlite3_bind_double(st, 8, e->wall_seconds);
    sqlite3_bind_int64(st, 9, run_id);
    if (rc == 0)
        rc = step(t, st, "finishing run");
    if (rc == 0 && sqlite3_changes(t->db) != 1)
        rc = set_err(t, -ENOENT, "run_finish: no run %lld", (long long)run_id);
    sqlite3_clear_bindings(st);
    rc = end(t, rc);
    if (arc && rc == 0)
        snprintf(t->err, sizeof t->err, "%s", lost);
    return arc ? arc : rc;
}
