/*
 * support_db.c — the trace-database fixtures' helpers (support_db.h).
 */
#include "support_db.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "analysis/model.h"

void sdb_scratch(const char *prefix, char *dir, size_t dirlen, char *dbpath, size_t dblen)
{
    snprintf(dir, dirlen, "/tmp/%s.XXXXXX", prefix);
    cr_assert(mkdtemp(dir), "mkdtemp %s", dir);
    if (dbpath)
        snprintf(dbpath, dblen, "%s/t.db", dir);
}

void sdb_remove(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

void sdb_models_dir(const char *dir)
{
    char path[160];
    snprintf(path, sizeof path, "%s/models", dir);
    cr_assert_eq(mkdir(path, 0777), 0, "mkdir %s", path);
    setenv("VMLAB_MODELS", path, 1);
}

void sdb_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

char *sdb_read_file(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    cr_assert(f, "%s missing", path);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

struct tdb *sdb_open(const char *dbpath)
{
    char err[512];
    struct tdb *db = tdb_open(dbpath, err, sizeof err);
    cr_assert(db, "%s", err);
    return db;
}

void sdb_load_model(struct tdb *db, const char *path)
{
    struct model *m;
    char err[512];
    cr_assert_eq(model_parse(path, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(model_store(tdb_sqlite(db), m, err, sizeof err), 0, "%s", err);
    model_free(m);
}

int64_t sdb_run_begin(struct tdb *db, const char *workload, const char *params, const char *mode,
                      const char *config)
{
    struct tdb_run_info info = { .guest = "kernel.elf", .workload = workload, .params = params,
                                 .mode = mode, .config = config };
    int64_t id;
    cr_assert_eq(tdb_run_begin(db, &info, &id), 0, "%s", tdb_error(db));
    return id;
}

void sdb_run_finish(struct tdb *db, int64_t id, const char *status, uint64_t instructions)
{
    struct tdb_run_end end = { .status = status, .exit_status = strcmp(status, "ok") ? 4 : 33,
                               .guest_exit = 16, .instructions = instructions };
    cr_assert_eq(tdb_run_finish(db, id, &end), 0, "%s", tdb_error(db));
}

int64_t sdb_add_run(struct tdb *db, const struct sdb_run *run)
{
    int64_t id = sdb_run_begin(db, run->workload, run->params, run->mode, run->config);
    if (run->ncounts)
        cr_assert_eq(tdb_add_counts(db, id, run->counts, run->ncounts), 0, "%s", tdb_error(db));
    cr_assert_eq(tdb_add_phase(db, id, 1, run->insn_user, run->insn_kernel, 0,
                               run->insn_user + run->insn_kernel), 0, "%s", tdb_error(db));
    sdb_run_finish(db, id, "ok", run->instructions);
    return id;
}

sqlite3 *sdb_open_ro(const char *dbpath)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "%s",
                 dbpath);
    return db;
}

double sdb_query(sqlite3 *db, const char *sql, const char *p1, const char *p2)
{
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p2, -1, SQLITE_STATIC);
    double v = NAN;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

int sdb_capture(int (*cmd)(int, char **), char **argv, char *out, size_t len)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    FILE *f = tmpfile();
    cr_assert(f, "tmpfile");
    fflush(stdout);
    int saved = dup(1);
    dup2(fileno(f), 1);
    int rc = cmd(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    if (out) {
        rewind(f);
        size_t n = fread(out, 1, len - 1, f);
        out[n] = 0;
    }
    fclose(f);
    return rc;
}
