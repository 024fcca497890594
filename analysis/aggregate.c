/*
 * aggregate.c — reading, naming and printing the aggregate across workloads (see aggregate.h).
 *
 * The number itself comes from the view mode_aggregate (analysis/views.sql): the geometric mean,
 * per cost model and mode, of each workload's ratio to native. What is here turns its rows into a
 * label that says what the number is and how many workloads it is over, a note on the workloads
 * left out, and the text table `vmlab stat` and `vmlab compare` print.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "analysis/aggregate.h"
#include "analysis/analysis.h"

static void read_row(sqlite3_stmt *st, struct an_aggregate *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->mode, sizeof a->mode, "%s", (const char *)sqlite3_column_text(st, 0));
    a->workloads = sqlite3_column_int(st, 1);
    a->geomean = sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 2);
    a->excluded = sqlite3_column_int(st, 3);
    a->without_native = sqlite3_column_int(st, 4);
    a->absent = sqlite3_column_int(st, 5) != 0;
}

int an_aggregate_load(sqlite3 *db, const char *model, struct an_aggregate **out, const char *cmd)
{
    static const char sql[] =
        "SELECT g.mode, g.workloads, g.geomean_ratio, g.excluded, g.without_native,"
        "       g.mode = 'trap-ept' AND instr(coalesce(k.features, ''), 'ept') = 0"
        " FROM mode_aggregate g LEFT JOIN model k ON k.name = g.model"
        " WHERE ?1 IS NULL OR g.model = ?1"
        " ORDER BY g.year, g.model," AN_MODE_ORDER("g.mode");
    sqlite3_stmt *st;
    *out = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "vmlab %s: %s\n", cmd, sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct an_aggregate *grown = realloc(*out, (size_t)(n + 1) * sizeof **out);
        if (!grown)
            break;
        *out = grown;
        read_row(st, &grown[n++]);
    }
    if (rc != SQLITE_DONE) {
        fprintf(stderr, "vmlab %s: %s\n", cmd, rc == SQLITE_ROW ? "out of memory"
                                                                 : sqlite3_errmsg(db));
        n = -EIO;
    }
    sqlite3_finalize(st);
    return n;
}

void an_aggregate_label(const struct an_aggregate *a, int n, char *buf, size_t len)
{
    int lo = n ? a[0].workloads : 0, hi = lo;
    for (int i = 1; i < n; i++) {
        lo = a[i].workloads < lo ? a[i].workloads : lo;
        hi = a[i].workloads > hi ? a[i].workloads : hi;
    }
    if (hi == 0)
        snprintf(buf, len, "%s (no workloads)", AN_AGGREGATE_NAME);
    else if (lo == hi)
        snprintf(buf, len, "%s (%d workload%s)", AN_AGGREGATE_NAME, hi, hi == 1 ? "" : "s");
    else
        snprintf(buf, len, "%s (%d-%d workloads)", AN_AGGREGATE_NAME, lo, hi);
}

/* Append printf-style text to buf, which holds *used characters; stops at the end of buf. */
static void appendf(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    if (*used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    *used = k < 0 ? *used : *used + (size_t)k < len ? *used + (size_t)k : len - 1;
}

void an_aggregate_left_out(const struct an_aggregate *a, int n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        int other = a[i].excluded - a[i].without_native;
        if (a[i].excluded == 0)
            continue;
        appendf(buf, len, &used, "%s%s", used ? "; " : "", a[i].mode);
        if (a[i].without_native)
            appendf(buf, len, &used, " %d workload%s without a native run", a[i].without_native,
                    a[i].without_native == 1 ? "" : "s");
        if (other)
            appendf(buf, len, &used, "%s %d workload%s with no modeled cycles per operation",
                    a[i].without_native ? "," : "", other, other == 1 ? "" : "s");
    }
}

void an_aggregate_print(FILE *f, const struct an_aggregate *a, int n, const char *model)
{
    char label[160], left[1024];
    an_aggregate_label(a, n, label, sizeof label);
    fprintf(f, "Per-mode aggregate, model %s: %s\n(" AN_AGGREGATE_RATIO ")\n\n", model, label);
    fprintf(f, "%14s %10s %10s\n", "Mode", "Workloads", "vs native");
    for (int i = 0; i < n; i++) {
        char ratio[32] = "-";
        if (!isnan(a[i].geomean))
            snprintf(ratio, sizeof ratio, "%.2fx", a[i].geomean);
        fprintf(f, "%14s %10d %10s%s\n", a[i].mode, a[i].workloads, ratio,
                a[i].absent ? "  (no EPT on this CPU)" : "");
    }
    an_aggregate_left_out(a, n, left, sizeof left);
    if (*left)
        fprintf(f, "Left out: %s\n", left);
}
