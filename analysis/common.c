/*
 * common.c — helpers shared by the reading commands; see analysis.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>

#include "analysis/analysis.h"
#include "analysis/model.h"
#include "traces/tdb.h"

struct tdb *an_open_existing(const char *path, const char *cmd)
{
    struct stat sb;
    if (!path) {
        fprintf(stderr, "vmlab %s: --db FILE is required\n", cmd);
        return NULL;
    }
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "vmlab %s: %s: %s\n", cmd, path, strerror(errno));
        return NULL;
    }
    char err[512];
    struct tdb *db = tdb_open_readonly(path, err, sizeof err);
    if (!db)
        fprintf(stderr, "vmlab %s: %s\n", cmd, err);
    return db;
}

static int model_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM model WHERE name = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return found;
}

int an_default_model(sqlite3 *db, char *name, unsigned namelen)
{
    if (model_exists(db, AN_DEFAULT_MODEL)) {
        snprintf(name, namelen, "%s", AN_DEFAULT_MODEL);
        return 0;
    }
    sqlite3_stmt *st;
    int rc = -ENOENT;
    if (sqlite3_prepare_v2(db, "SELECT name FROM model ORDER BY year, name LIMIT 1", -1, &st,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            snprintf(name, namelen, "%s", (const char *)sqlite3_column_text(st, 0));
            rc = 0;
        }
        sqlite3_finalize(st);
    }
    return rc;
}

int an_pick_model(sqlite3 *db, const char *spec, char *name, unsigned namelen, const char *cmd)
{
    char err[512];
    int rc;
    if (spec) {
        rc = model_ensure(db, spec, name, namelen, err, sizeof err);
        if (rc)
            fprintf(stderr, "vmlab %s: %s\n", cmd, err);
        return rc;
    }
    rc = model_load_all(db, err, sizeof err);
    if (rc < 0 && rc != -ENOENT) {
        fprintf(stderr, "vmlab %s: %s\n", cmd, err);
        return rc;
    }
    rc = an_default_model(db, name, namelen);
    if (rc)
        fprintf(stderr, "vmlab %s: no cost model in the database and none in %s (use --model FILE)\n",
                cmd, model_dir());
    return rc;
}

void an_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void an_csv_str(FILE *f, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int an_parse_phase(const char *s)
{
    if (strcmp(s, "all") == 0)
        return -1;
    if (strcmp(s, "setup") == 0 || strcmp(s, "set-up") == 0)
        return 0;
    if (strcmp(s, "measured") == 0)
        return 1;
    if (strcmp(s, "teardown") == 0 || strcmp(s, "tear-down") == 0)
        return 2;
    if (strcmp(s, "calibration") == 0)
        return 3;
    char *end;
    long v = strtol(s, &end, 10);
    return *s && *end == 0 && v >= 0 ? (int)v : -2;
}
