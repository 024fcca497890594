/*
 * test_tdb.c — the trace database writer: schema creation and migration, lookup tables from the
 * .def lists, batching, and crash consistency (a writer child killed with SIGKILL); the journal
 * mode a finished database is left in and read-only opening (tdb_open_readonly: nothing written,
 * what a reader derives kept in its temp schema).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>

#include "emu/events.h"
#include "traces/tdb.h"
#include "traces/tdb_internal.h"

static char dir[64], dbpath[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/vmlab_tdb.XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/t.db", dir);
}

static void teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(tdb, .init = setup, .fini = teardown);

static long long query_int(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static const char *query_text(const char *sql, char *buf, size_t len)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    snprintf(buf, len, "%s", sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)
                                 ? (const char *)sqlite3_column_text(st, 0) : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf;
}

static struct tdb *open_db(void)
{
    char err[512];
    struct tdb *db = tdb_open(dbpath, err, sizeof err);
    cr_assert(db, "%s", err);
    return db;
}

static int64_t begin_run(struct tdb *db, const char *mode)
{
    struct tdb_run_info info = { .guest = "kernel.elf", .workload = "syscall",
                                 .params = "workload=syscall n=2000 extra=1", .mode = mode,
                                 .config = "ram=16M bucket=1000" };
    int64_t id;
    cr_assert_eq(tdb_run_begin(db, &info, &id), 0, "%s", tdb_error(db));
    return id;
}

Test(tdb, open_creates_the_current_schema)
{
    tdb_close(open_db());
    cr_assert_eq(query_int("PRAGMA user_version"), TDB_SCHEMA_VERSION);
    cr_assert_eq(query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN"
                           " ('run', 'run_phase', 'event_count', 'event', 'bucket', 'validation',"
                           " 'hypercall', 'event_class', 'vmx_exit_reason', 'xen_hypercall',"
                           " 'model', 'model_param', 'model_cost', 'translation')"), 14);
    cr_assert_gt(query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'view'"), 5);
    char buf[64];
    cr_assert_str_eq(query_text("PRAGMA journal_mode", buf, sizeof buf), "delete");
}

/* Writers share the database in WAL mode; the last to close leaves it one file in DELETE mode. */
Test(tdb, last_writer_to_close_leaves_rollback_journal_mode)
{
    struct tdb *a = open_db(), *b = open_db();
    char buf[64], wal[160];
    cr_assert_str_eq(query_text("PRAGMA journal_mode", buf, sizeof buf), "wal");
    tdb_close(a);
    cr_assert_str_eq(query_text("PRAGMA journal_mode", buf, sizeof buf), "wal");
    tdb_close(b);
    cr_assert_str_eq(query_text("PRAGMA journal_mode", buf, sizeof buf), "delete");
    snprintf(wal, sizeof wal, "%s-wal", dbpath);
    cr_assert_neq(access(wal, F_OK), 0, "%s left behind", wal);
}

/* The whole file, for comparing before and after a reader. */
static char *file_bytes(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    rewind(f);
    char *b = malloc((size_t)*len);
    cr_assert_eq(fread(b, 1, (size_t)*len, f), (size_t)*len);
    fclose(f);
    return b;
}

Test(tdb, readonly_open_writes_nothing_and_keeps_models_in_temp)
{
    struct tdb *w = open_db();
    int64_t id = begin_run(w, "trap");
    struct tdb_count c = { 1, EV_EXIT, 28, "", 5, 0 };
    cr_assert_eq(tdb_add_counts(w, id, &c, 1), 0);
    struct tdb_run_end end = { .status = "ok", .exit_status = 33, .guest_exit = 16 };
    cr_assert_eq(tdb_run_finish(w, id, &end), 0);
    tdb_close(w);
    long len0, len1;
    char *before = file_bytes(dbpath, &len0), err[512];
    struct tdb *r = tdb_open_readonly(dbpath, err, sizeof err);
    cr_assert(r, "%s", err);
    sqlite3 *db = tdb_sqlite(r);
    /* A model as analysis/model.c stores one: into the unqualified tables, which are temp's. */
    cr_assert_eq(tdb_exec(db, "INSERT INTO model(name, cpu, loaded_at) VALUES ('m', 'c', 'now');"
                              "INSERT INTO model_cost(model_id, class, cycles)"
                              " SELECT id, 7, 100 FROM model WHERE name = 'm'", err, sizeof err),
                 0, "%s", err);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT sum(cycles) FROM priced_count WHERE model = 'm'",
                                    -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 500, "the temp views price with the temp model");
    sqlite3_finalize(st);
    /* The temp model tables have main's columns, in main's order. */
    static const char cols[] =
        "SELECT group_concat(name) FROM pragma_table_info(?1, ?2)";
    for (int i = 0; i < 3; i++) {
        const char *table = (const char *[]){ "model", "model_param", "model_cost" }[i];
        char have[2][512];
        for (int s = 0; s < 2; s++) {
            cr_assert_eq(sqlite3_prepare_v2(db, cols, -1, &st, NULL), SQLITE_OK);
            sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, s ? "temp" : "main", -1, SQLITE_STATIC);
            cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
            snprintf(have[s], sizeof have[s], "%s", (const char *)sqlite3_column_text(st, 0));
            sqlite3_finalize(st);
        }
        cr_assert_str_eq(have[1], have[0], "temp.%s differs from main.%s", table, table);
    }
    tdb_close(r);
    char *after = file_bytes(dbpath, &len1);
    cr_assert(len0 == len1 && memcmp(before, after, (size_t)len0) == 0, "the reader wrote");
    cr_assert_eq(query_int("SELECT count(*) FROM model WHERE name = 'm'"), 0);
    const char *side[] = { "-wal", "-shm", "-journal" };
    for (int i = 0; i < 3; i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", dbpath, side[i]);
        cr_assert_neq(access(p, F_OK), 0, "%s created", p);
    }
    free(before);
    free(after);
}

Test(tdb, readonly_open_refuses_what_it_cannot_read)
{
    char err[512];
    cr_assert_null(tdb_open_readonly(dbpath, err, sizeof err)); /* no file */
    sqlite3 *raw;
    cr_assert_eq(sqlite3_open(dbpath, &raw), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(raw, "CREATE TABLE x(a)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    cr_assert_null(tdb_open_readonly(dbpath, err, sizeof err));
    cr_assert(strstr(err, "not a vmlab trace database"), "%s", err);
    unlink(dbpath);
    tdb_close(open_db());
    cr_assert_eq(sqlite3_open(dbpath, &raw), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    cr_assert_null(tdb_open_readonly(dbpath, err, sizeof err));
    cr_assert(strstr(err, "schema version 99 is newer"), "%s", err);
}

Test(tdb, lookup_tables_come_from_the_def_lists)
{
    tdb_close(open_db());
    cr_assert_eq(query_int("SELECT count(*) FROM event_class"), EV_CLASS_COUNT);
    char buf[64];
    cr_assert_str_eq(query_text("SELECT name FROM event_class WHERE id = 7", buf, sizeof buf),
                     ev_class_name[EV_EXIT]);
    cr_assert_str_eq(query_text("SELECT name FROM vmx_exit_reason WHERE nr = 28", buf, sizeof buf),
                     "CR_ACCESS");
    cr_assert_str_eq(query_text("SELECT name FROM xen_hypercall WHERE nr = 26", buf, sizeof buf),
                     "mmuext_op");
    int vmx = 0, xen = 0;
#define VMX_EXIT(n, name) vmx++;
#include "emu/vmx_exits.def"
#undef VMX_EXIT
#define XEN_HYPERCALL(n, name) xen++;
#include "emu/xen_hypercalls.def"
#undef XEN_HYPERCALL
    cr_assert_eq(query_int("SELECT count(*) FROM vmx_exit_reason"), vmx);
    cr_assert_eq(query_int("SELECT count(*) FROM xen_hypercall"), xen);
    int cli = -1, insns = 0;
#define INSN_CLASS(id, name, kind) if (strcmp(name, "cli") == 0) cli = insns; insns++;
#include "emu/insn_class.def"
#undef INSN_CLASS
    cr_assert_eq(query_int("SELECT count(*) FROM insn_class"), insns);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT name FROM insn_class WHERE nr = %d", cli);
    cr_assert_str_eq(query_text(sql, buf, sizeof buf), "cli");
}

Test(tdb, version_1_database_migrates_keeping_its_rows)
{
    sqlite3 *raw;
    char err[256];
    cr_assert_eq(sqlite3_open(dbpath, &raw), SQLITE_OK);
    cr_assert_eq(tdb_schema_migrate(raw, 1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sqlite3_exec(raw,
                              "INSERT INTO run(guest, mode, status, vmlab_version, host, pid,"
                              " pid_start, started_at) VALUES ('old.elf', 'native', 'ok', '0.0',"
                              " 'h', 1, 1, 'then')",
                              NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    cr_assert_eq(query_int("PRAGMA user_version"), 1);
    cr_assert_eq(query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'model'"), 0);

    tdb_close(open_db());
    cr_assert_eq(query_int("PRAGMA user_version"), TDB_SCHEMA_VERSION);
    cr_assert_eq(query_int("SELECT count(*) FROM sqlite_schema WHERE name = 'model'"), 1);
    char buf[64];
    cr_assert_str_eq(query_text("SELECT guest FROM run", buf, sizeof buf), "old.elf");
}

Test(tdb, version_4_models_gain_provenance_columns_keeping_their_rows)
{
    sqlite3 *raw;
    char err[256];
    cr_assert_eq(sqlite3_open(dbpath, &raw), SQLITE_OK);
    cr_assert_eq(tdb_schema_migrate(raw, 4, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sqlite3_exec(raw,
                              "INSERT INTO model(name, cpu, loaded_at) VALUES ('old', 'c', 'then');"
                              "INSERT INTO model_param VALUES (1, 'exit', 4340);"
                              "INSERT INTO model_cost(model_id, class, cycles) VALUES (1, 7, 4340);",
                              NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(raw));
    sqlite3_close(raw);
    cr_assert_eq(query_int("SELECT count(*) FROM pragma_table_info('model_param')"
                           " WHERE name = 'carried_from'"), 0);

    tdb_close(open_db());
    cr_assert_eq(query_int("SELECT count(*) FROM pragma_table_info('model_param') WHERE name IN"
                           " ('source', 'source_where', 'carried_from', 'estimate',"
                           " 'derived_from')"), 5);
    cr_assert_eq(query_int("SELECT value FROM model_param WHERE source IS NULL"
                           " AND estimate IS NULL AND name = 'exit'"), 4340);
    char buf[64];
    cr_assert_str_eq(query_text("SELECT params FROM model_cost", buf, sizeof buf), "[]");
    cr_assert_eq(query_int("SELECT count(*) FROM model_provenance WHERE kind IS NULL"), 1);
}

Test(tdb, newer_schema_is_refused_with_a_message)
{
    sqlite3 *raw;
    cr_assert_eq(sqlite3_open(dbpath, &raw), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    char err[512];
    cr_assert_null(tdb_open(dbpath, err, sizeof err));
    cr_assert(strstr(err, "newer"), "%s", err);
    cr_assert(strstr(err, dbpath), "%s", err);
}

Test(tdb, reordered_event_classes_are_refused)
{
    tdb_close(open_db());
    sqlite3 *raw;
    cr_assert_eq(sqlite3_open(dbpath, &raw), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(raw, "UPDATE event_class SET name = 'renamed' WHERE id = 3;"
                                   "DELETE FROM meta WHERE key = 'derived'",
                              NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    char err[512];
    cr_assert_null(tdb_open(dbpath, err, sizeof err));
    cr_assert(strstr(err, "event class 3 is 'renamed'"), "%s", err);
}

Test(tdb, run_row_lifecycle_running_to_ok)
{
    struct tdb *db = open_db();
    int64_t id = begin_run(db, "native");
    char buf[128];
    cr_assert_str_eq(query_text("SELECT status FROM run", buf, sizeof buf), "running");
    cr_assert_eq(query_int("SELECT n FROM run"), 2000);
    cr_assert_eq(query_int("SELECT pid FROM run"), getpid());
    struct tdb_run_end end = { .status = "ok", .exit_status = 33, .guest_exit = 16,
                               .instructions = 1000, .insn_user = 400, .insn_kernel = 600,
                               .wall_seconds = 0.5 };
    cr_assert_eq(tdb_run_finish(db, id, &end), 0, "%s", tdb_error(db));
    tdb_close(db);
    cr_assert_str_eq(query_text("SELECT status FROM run", buf, sizeof buf), "ok");
    cr_assert_eq(query_int("SELECT insn_user + insn_kernel FROM run"), 1000);
    cr_assert_eq(query_int("SELECT ended_at IS NOT NULL FROM run"), 1);
}

Test(tdb, bad_arguments_give_errno_and_message)
{
    struct tdb *db = open_db();
    int64_t id = begin_run(db, "native");
    struct tdb_count c = { 1, 999, 0, "", 1, 0 };
    cr_assert_lt(tdb_add_counts(db, id, &c, 1), 0);
    cr_assert(strstr(tdb_error(db), "class 999"), "%s", tdb_error(db));
    struct tdb_run_end end = { .status = "maybe" };
    cr_assert_lt(tdb_run_finish(db, id, &end), 0);
    cr_assert(strstr(tdb_error(db), "status"), "%s", tdb_error(db));
    end.status = "ok";
    cr_assert_lt(tdb_run_finish(db, id + 100, &end), 0);
    tdb_close(db);
}

Test(tdb, counts_with_the_same_key_add_up)
{
    struct tdb *db = open_db();
    int64_t id = begin_run(db, "trap");
    struct tdb_count c[] = { { 1, EV_EXIT, 28, "cr3 write", 10, 1 },
                             { 1, EV_EXIT, 28, "cr3 write", 5, 2 },
                             { 1, EV_EXIT, 28, NULL, 7, 0 } };
    cr_assert_eq(tdb_add_counts(db, id, c, 3), 0, "%s", tdb_error(db));
    cr_assert_eq(tdb_add_bucket(db, id, 3, EV_EXIT, 4), 0);
    cr_assert_eq(tdb_add_bucket(db, id, 3, EV_EXIT, 6), 0);
    tdb_close(db);
    cr_assert_eq(query_int("SELECT count FROM event_count WHERE qualifier = 'cr3 write'"), 15);
    cr_assert_eq(query_int("SELECT count2 FROM event_count WHERE qualifier = 'cr3 write'"), 3);
    cr_assert_eq(query_int("SELECT count FROM event_count WHERE qualifier = ''"), 7);
    cr_assert_eq(query_int("SELECT count FROM bucket WHERE bucket = 3"), 10);
}

Test(tdb, events_are_buffered_and_written_in_batches)
{
    struct tdb *db = open_db();
    int64_t id = begin_run(db, "trap");
    struct tdb_event ev = { .phase = 1, .ev_class = EV_EXIT, .reason = 30, .qualifier = "out",
                            .eip = 0xc0001000, .cpl = 0 };
    for (int i = 0; i < 1000; i++) {
        ev.icount = (uint64_t)i;
        ev.detail = i == 7 ? "port 0x3f8" : NULL;
        cr_assert_eq(tdb_add_event(db, id, &ev), 0);
    }
    cr_assert_eq(tdb_add_validation(db, id, 5, 0x1234, 1, 1024, "ok"), 0);
    cr_assert_eq(tdb_add_hypercall(db, id, 6, 1, 16, 0), 0);
    struct tdb_translation tr = {.guest_eip = 0xc0100000, .guest_bytes = 23, .insns = 7,
                                 .tc_addr = 0xffc0c000, .tc_bytes = 41};
    cr_assert_eq(tdb_add_translation(db, id, 8, 1, &tr), 0);
    tr.trampoline = true;
    cr_assert_eq(tdb_add_translation(db, id, 9, 2, &tr), 0);
    /* below the batch size nothing is written yet: a reader sees no half batch */
    cr_assert_eq(query_int("SELECT count(*) FROM event"), 0);
    cr_assert_eq(tdb_flush(db), 0, "%s", tdb_error(db));
    cr_assert_eq(query_int("SELECT count(*) FROM event"), 1000);
    cr_assert_eq(query_int("SELECT count(*) FROM validation WHERE entries = 1024"), 1);
    cr_assert_eq(query_int("SELECT batch FROM hypercall"), 16);
    cr_assert_eq(query_int("SELECT count(*) FROM translation WHERE guest_eip = 3222274048 AND"
                           " guest_bytes = 23 AND insns = 7 AND tc_addr = 4290822144 AND"
                           " tc_bytes = 41 AND ((kind = 'unit' AND phase = 1 AND icount = 8) OR"
                           " (kind = 'trampoline' AND phase = 2 AND icount = 9))"), 2);
    cr_assert_eq(query_int("SELECT units * 100 + trampolines FROM translation_summary"
                           " WHERE phase = 1"), 100);
    char buf[64];
    cr_assert_str_eq(query_text("SELECT detail FROM event WHERE icount = 7", buf, sizeof buf),
                     "port 0x3f8");
    cr_assert_eq(query_int("SELECT count(*) FROM event WHERE detail IS NULL"), 999);
    /* a full batch (65536 rows) is written without being asked, by the writer's worker thread:
     * once it is done (any later use of the connection waits for it) the database holds that
     * batch whole, and the rows added after it are still buffered */
    for (int i = 0; i < 70000; i++) {
        ev.icount = (uint64_t)i;
        cr_assert_eq(tdb_add_event(db, id, &ev), 0);
    }
    cr_assert_not_null(tdb_sqlite(db));
    cr_assert_eq(query_int("SELECT count(*) FROM event"), 1000 + 65536);
    struct tdb_run_end end = { .status = "ok", .exit_status = 33, .guest_exit = 16 };
    cr_assert_eq(tdb_run_finish(db, id, &end), 0);
    tdb_close(db);
    cr_assert_eq(query_int("SELECT count(*) FROM event"), 71000);
    cr_assert_eq(query_int("SELECT max(eip) FROM event"), 0xc0001000);
}

Test(tdb, a_batch_the_worker_cannot_write_makes_the_run_failed)
{
    struct tdb *db = open_db();
    int64_t id = begin_run(db, "bt");
    /* the database refuses one row, so the full batch holding it cannot be committed */
    cr_assert_eq(sqlite3_exec(tdb_sqlite(db),
                              "CREATE TEMP TRIGGER refuse BEFORE INSERT ON main.event"
                              " WHEN NEW.icount = 4242 BEGIN SELECT RAISE(ABORT, 'refused'); END",
                              NULL, NULL, NULL), SQLITE_OK);
    struct tdb_event ev = { .phase = 1, .ev_class = EV_EXIT, .reason = 30, .qualifier = "out" };
    for (int i = 0; i < 65536 + 10; i++) {
        ev.icount = (uint64_t)i;
        tdb_add_event(db, id, &ev);   /* the error may be reported here or at the finish */
    }
    struct tdb_run_end end = { .status = "ok", .exit_status = 33, .guest_exit = 16 };
    cr_assert_neq(tdb_run_finish(db, id, &end), 0);
    cr_assert(strstr(tdb_error(db), "refused"), "%s", tdb_error(db));
    tdb_close(db);
    char buf[160];
    cr_assert_str_eq(query_text("SELECT status FROM run", buf, sizeof buf), "failed");
    cr_assert(strstr(query_text("SELECT message FROM run", buf, sizeof buf), "refused"), "%s", buf);
    cr_assert_eq(query_int("SELECT count(*) FROM event"), 10);
}

/* A child that opens the database, starts a run, then writes events (and counts) until killed. */
static pid_t spawn_writer(int ready_fd)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        char err[512];
        struct tdb *db = tdb_open(dbpath, err, sizeof err);
        int64_t id;
        struct tdb_run_info info = { .guest = "g", .workload = "w", .params = "n=1",
                                     .mode = "native" };
        if (!db || tdb_run_begin(db, &info, &id))
            _exit(1);
        struct tdb_event ev = { .phase = 1, .ev_class = EV_EXIT, .reason = 28, .qualifier = "q" };
        struct tdb_count c = { 1, EV_EXIT, 28, "q", 1, 0 };
        for (uint64_t i = 0;; i++) {
            ev.icount = i;
            tdb_add_event(db, id, &ev);
            if (i % 1000 == 0)
                tdb_add_counts(db, id, &c, 1);
            if (i == 200000 && write(ready_fd, "r", 1) != 1)
                _exit(1);
        }
    }
    return pid;
}

Test(tdb, killed_writer_leaves_a_clean_database_with_the_run_failed)
{
    tdb_close(open_db());
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = spawn_writer(p[1]);
    char c;
    cr_assert_eq(read(p[0], &c, 1), 1, "writer did not start");
    usleep(50 * 1000); /* let it get into the middle of a batch */
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status));

    char buf[64];
    cr_assert_str_eq(query_text("PRAGMA integrity_check", buf, sizeof buf), "ok");
    cr_assert_str_eq(query_text("SELECT status FROM run", buf, sizeof buf), "running");
    long long pid_db = query_int("SELECT pid FROM run"), start = query_int("SELECT pid_start FROM run");
    query_text("SELECT host FROM run", buf, sizeof buf);
    cr_assert_eq(tdb_writer_alive(buf, pid_db, start), 0, "dead writer reported alive");
    /* whole batches only: the event rows are a multiple of the batch size */
    cr_assert_eq(query_int("SELECT count(*) % 65536 FROM event"), 0);
    cr_assert_gt(query_int("SELECT count(*) FROM event"), 0);

    tdb_close(open_db()); /* the next writer marks it failed */
    cr_assert_str_eq(query_text("SELECT status FROM run", buf, sizeof buf), "failed");
    cr_assert(strstr(query_text("SELECT message FROM run", buf, sizeof buf), "died"), "%s", buf);
}

Test(tdb, live_writer_of_another_process_is_left_running)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = spawn_writer(p[1]);
    char c;
    cr_assert_eq(read(p[0], &c, 1), 1);
    tdb_close(open_db());
    char buf[64];
    cr_assert_str_eq(query_text("SELECT status FROM run", buf, sizeof buf), "running");
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

Test(tdb, concurrent_writers_share_one_database)
{
    tdb_close(open_db());
    enum { WRITERS = 3, EVENTS = 150000 };
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        cr_assert_geq(pids[w], 0);
        if (pids[w] == 0) {
            char err[512];
            struct tdb *db = tdb_open(dbpath, err, sizeof err);
            int64_t id;
            struct tdb_run_info info = { .guest = "g", .workload = "w", .params = "n=1",
                                         .mode = "trap" };
            if (!db || tdb_run_begin(db, &info, &id))
                _exit(1);
            struct tdb_event ev = { .phase = 1, .ev_class = EV_EXIT, .reason = 28, .qualifier = "q" };
            struct tdb_count c = { 1, EV_EXIT, 28, "q", 1, 0 };
            for (uint64_t i = 0; i < EVENTS; i++) {
                ev.icount = i;
                if (tdb_add_event(db, id, &ev) || (i % 1000 == 0 && tdb_add_counts(db, id, &c, 1)))
                    _exit(2);
            }
            struct tdb_run_end end = { .status = "ok", .exit_status = 33, .guest_exit = 16 };
            if (tdb_run_finish(db, id, &end))
                _exit(3);
            tdb_close(db);
            _exit(0);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int status;
        waitpid(pids[w], &status, 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed", w);
    }
    cr_assert_eq(query_int("SELECT count(*) FROM run WHERE status = 'ok'"), WRITERS);
    cr_assert_eq(query_int("SELECT count(*) FROM event"), (long long)WRITERS * EVENTS);
    cr_assert_eq(query_int("SELECT sum(count) FROM event_count"), WRITERS * (EVENTS / 1000));
}
