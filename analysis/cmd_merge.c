/*
 * cmd_merge.c — `vmlab merge OUT.db IN.db...`: one database from the databases of a sweep split
 * over machines (a Slurm job array, GNU parallel over ssh: each task ran `vmlab run` or a
 * `compare` shard into a database of its own), so that `stat` and `report` see every run.
 *
 * OUT is created when missing, else appended to. Every IN must be a vmlab trace database of this
 * vmlab's schema version (TDB_SCHEMA_VERSION), and so must an existing OUT: a mismatch is refused
 * with one line before anything is written, as is an IN whose event-class ids mean other classes
 * than OUT's (the counters would change meaning) or an IN that is OUT itself.
 *
 * Run ids are renumbered: the runs of each IN keep their order and get ids after OUT's largest
 * (new id = old id + OUT's max id at the time), and every row that refers to a run follows its
 * run. Which tables refer to a run is read from IN's schema, not listed here: every table with a
 * column run_id or a foreign key to run(id) (today run_phase, event_count, event, bucket,
 * validation, hypercall, translation), so a table added by a later schema version is carried
 * along without touching this file. Cost models (model, model_param, model_cost) are copied when
 * OUT has no model of the same name (with a new model id); a model OUT already has is kept as it
 * is. Lookup tables, views and meta are OUT's own (tdb_open writes them from this build).
 *
 * Each IN is attached and copied in one transaction: an IN is in OUT whole or not at all. One line
 * per IN on stdout says which ids its runs got. OUT is closed as every writer closes it (in
 * journal_mode=DELETE), readable by anyone who can read the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>

#include "emu/cli.h"
#include "emu/commands.h"
#include "traces/tdb.h"
#include "traces/tdb_internal.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vmlab merge OUT.db IN.db...\n"
               "  Copy every run of each IN.db (and every row that refers to it) into OUT.db,\n"
               "  renumbering run ids after OUT's largest; OUT.db is created when missing.\n"
               "  Cost models OUT lacks are copied too. Every database must have this vmlab's\n"
               "  schema version (%d).\n"
               "  --help      this text\n"
               "  --version   print vmlab's version\n", TDB_SCHEMA_VERSION);
}

/* The schema version of the database file at `path` (opened read-only), or -1 with a message in
 * err. */
static int file_schema_version(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    int v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
        v = tdb_schema_version_of(db);
    if (v < 0)
        snprintf(err, errlen, "%s", db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return v;
}

/* Whether two paths name the same file. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* A statement's first column as an integer (-1 when there is no row or it fails). */
static long long query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

/* `INSERT INTO main.T (cols) SELECT cols FROM src.T WHERE where`, with column `key` replaced by
 * `expr` in the SELECT. The column list is src.T's. 0 or -errno with a message in err. */
static int copy_table(sqlite3 *db, const char *table, const char *key, const char *expr,
                      const char *where, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1, 'src') ORDER BY cid", -1,
                           &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    char *cols = NULL, *sel = NULL;
    size_t clen = 0, slen = 0;
    FILE *c = open_memstream(&cols, &clen), *s = open_memstream(&sel, &slen);
    for (int i = 0; c && s && sqlite3_step(st) == SQLITE_ROW; i++) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        fprintf(c, "%s\"%s\"", i ? ", " : "", name);
        if (strcmp(name, key) == 0)
            fprintf(s, "%s%s", i ? ", " : "", expr);
        else
            fprintf(s, "%s\"%s\"", i ? ", " : "", name);
    }
    sqlite3_finalize(st);
    if (c)
        fclose(c);
    if (s)
        fclose(s);
    int rc = 0;
    char *sql = NULL;
    size_t len = 0;
    FILE *q = cols && sel ? open_memstream(&sql, &len) : NULL;
    if (!q) {
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
    } else {
        fprintf(q, "INSERT INTO main.\"%s\" (%s) SELECT %s FROM src.\"%s\" WHERE %s", table, cols,
                sel, table, where);
        fclose(q);
        char msg[512];
        rc = tdb_exec(db, sql, msg, sizeof msg);
        if (rc)
            snprintf(err, errlen, "copying %s: %s", table, msg);
    }
    free(sql);
    free(cols);
    free(sel);
    return rc;
}

/* Copy src's runs after OUT's and every row that refers to them; the first and last new ids. */
static int copy_runs(sqlite3 *db, long long *first, long long *last, long long *nruns, char *err,
                     size_t errlen)
{
    long long offset = query_int(db, "SELECT coalesce(max(id), 0) FROM main.run");
    *nruns = query_int(db, "SELECT count(*) FROM src.run");
    *first = offset + query_int(db, "SELECT coalesce(min(id), 0) FROM src.run");
    *last = offset + query_int(db, "SELECT coalesce(max(id), 0) FROM src.run");
    char expr[192];
    snprintf(expr, sizeof expr, "\"id\" + %lld", offset);
    int rc = copy_table(db, "run", "id", expr, "1", err, errlen);
    /* Every table of src that refers to a run: by a column run_id or a foreign key to run. */
    static const char refs[] =
        "SELECT m.name, 'run_id' FROM src.sqlite_schema m"
        " WHERE m.type = 'table' AND m.name <> 'run' AND EXISTS (SELECT 1 FROM"
        "  pragma_table_info(m.name, 'src') p WHERE p.name = 'run_id')"
        " UNION SELECT m.name, f.\"from\" FROM src.sqlite_schema m,"
        "  pragma_foreign_key_list(m.name, 'src') f"
        " WHERE m.type = 'table' AND f.\"table\" = 'run'";
    sqlite3_stmt *st;
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(db, refs, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -EIO;
    }
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        char table[128], col[128];
        snprintf(table, sizeof table, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(col, sizeof col, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(expr, sizeof expr, "\"%s\" + %lld", col, offset);
        rc = copy_table(db, table, col, expr, "1", err, errlen);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Copy the models of src that OUT lacks (by name), each under a new model id. */
static int copy_models(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, name FROM src.model WHERE name NOT IN"
                           " (SELECT name FROM main.model) ORDER BY id", -1, &st, NULL)) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -EIO;
    }
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        long long old = sqlite3_column_int64(st, 0);
        long long id = query_int(db, "SELECT coalesce(max(id), 0) + 1 FROM main.model");
        char expr[32], where[64];
        snprintf(expr, sizeof expr, "%lld", id);
        snprintf(where, sizeof where, "\"id\" = %lld", old);
        rc = copy_table(db, "model", "id", expr, where, err, errlen);
        snprintf(where, sizeof where, "\"model_id\" = %lld", old);
        if (rc == 0)
            rc = copy_table(db, "model_param", "model_id", expr, where, err, errlen);
        if (rc == 0)
            rc = copy_table(db, "model_cost", "model_id", expr, where, err, errlen);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Event classes whose ids mean different classes in src and OUT: 0, or -EPROTO with a message. */
static int check_classes(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT s.id, s.name, m.name FROM src.event_class s"
                           " LEFT JOIN main.event_class m ON m.id = s.id"
                           " WHERE m.name IS NOT s.name LIMIT 1", -1, &st, NULL)) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -EIO;
    }
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(err, errlen, "event class %d is '%s' there but '%s' here",
                 sqlite3_column_int(st, 0), (const char *)sqlite3_column_text(st, 1),
                 sqlite3_column_type(st, 2) == SQLITE_NULL
                     ? "(none)" : (const char *)sqlite3_column_text(st, 2));
        rc = -EPROTO;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Attach `path` as src, check it, copy it in one transaction, detach. */
static int merge_one(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    char msg[512];
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "ATTACH ?1 AS src", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
    if (rc)
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    if (rc)
        return rc;
    long long first = 0, last = 0, nruns = 0;
    rc = check_classes(db, err, errlen);
    if (rc == 0 && (rc = tdb_exec(db, "BEGIN IMMEDIATE", msg, sizeof msg)))
        snprintf(err, errlen, "%s", msg);
    if (rc == 0) {
        rc = copy_runs(db, &first, &last, &nruns, err, errlen);
        if (rc == 0)
            rc = copy_models(db, err, errlen);
        if (rc == 0 && (rc = tdb_exec(db, "COMMIT", msg, sizeof msg)))
            snprintf(err, errlen, "%s", msg);
        if (rc)
            tdb_exec(db, "ROLLBACK", msg, sizeof msg);
    }
    tdb_exec(db, "DETACH src", msg, sizeof msg);
    if (rc == 0 && nruns > 0)
        printf("merge: %s: %lld runs, ids %lld-%lld\n", path, nruns, first, last);
    else if (rc == 0)
        printf("merge: %s: no runs\n", path);
    return rc;
}

int cmd_merge(int argc, char **argv)
{
    static const struct option longopts[] = { { "help", no_argument, NULL, 'h' }, { 0 } };
    optind = 0;
    for (int c; (c = cli_getopt("merge", argc, argv, "", longopts)) != -1;) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c == CLI_VERSION)
            return 0;
        return 2; /* cli_getopt printed the one-line error */
    }
    if (argc - optind < 2) {
        cli_error("merge", "needs OUT.db and at least one IN.db (vmlab merge --help)");
        return 2;
    }
    const char *out = argv[optind];
    char err[768];
    struct stat sb;
    /* Every version first, so that a mismatch is refused before anything is written. */
    if (stat(out, &sb) == 0) {
        int v = file_schema_version(out, err, sizeof err);
        if (v < 0) {
            cli_error("merge", "%s: %s", out, err);
            return 2;
        }
        if (v != TDB_SCHEMA_VERSION) {
            cli_error("merge", "%s: schema version %d, this vmlab's is %d (merge databases of "
                               "one vmlab version)", out, v, TDB_SCHEMA_VERSION);
            return 2;
        }
    }
    for (int i = optind + 1; i < argc; i++) {
        if (same_file(argv[i], out)) {
            cli_error("merge", "%s is OUT.db itself", argv[i]);
            return 2;
        }
        if (stat(argv[i], &sb) != 0) {
            cli_error("merge", "%s: %s", argv[i], strerror(errno));
            return 2;
        }
        int v = file_schema_version(argv[i], err, sizeof err);
        if (v < 0) {
            cli_error("merge", "%s: %s", argv[i], err);
            return 2;
        }
        if (v != TDB_SCHEMA_VERSION) {
            cli_error("merge", "%s: schema version %d, this vmlab's is %d (merge databases of "
                               "one vmlab version)", argv[i], v, TDB_SCHEMA_VERSION);
            return 2;
        }
    }
    struct tdb *t = tdb_open(out, err, sizeof err);
    if (!t) {
        cli_error("merge", "%s", err);
        return 2;
    }
    int rc = 0;
    for (int i = optind + 1; rc == 0 && i < argc; i++)
        if ((rc = merge_one(tdb_sqlite(t), argv[i], err, sizeof err)))
            cli_error("merge", "%s: %s (%s unchanged by it)", argv[i], err, out);
    tdb_close(t);
    return rc ? 1 : 0;
}
