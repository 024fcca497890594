/*
 * provenance.c — the carried and estimated numbers behind a priced figure; see provenance.h.
 *
 * Both readers query run_unsourced (analysis/views.sql): per run, phase and model, the params that
 * priced its events or instructions and are not published for the model's CPU. A derived param
 * never appears there: its parts do.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

#include "analysis/provenance.h"

static int db_error(sqlite3 *db, char *err, unsigned errlen)
{
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    return -EIO;
}

/* One group of the line: "carries a, b from m" or "estimates c, d", joined to the previous ones. */
static void line_group(FILE *f, int first, const char *kind, const char *from, const char *params)
{
    fputs(first ? " " : "; ", f);
    if (strcmp(kind, "carried") == 0)
        fprintf(f, "carries %s from %s", params, from);
    else
        fprintf(f, "estimates %s", params);
}

int prov_print_line(sqlite3 *db, const char *model, const char *run_ids, int phase, FILE *f,
                    char *err, unsigned errlen)
{
    static const char sql[] =
        "SELECT kind, coalesce(carried_from, ''), group_concat(param, ', ') FROM ("
        "  SELECT DISTINCT kind, carried_from, param FROM run_unsourced"
        "  WHERE model = ?1 AND (?3 < 0 OR phase = ?3)"
        "  AND run_id IN (SELECT value FROM json_tree(?2) WHERE type = 'integer')"
        "  ORDER BY kind, carried_from, param)"
        " GROUP BY kind, carried_from ORDER BY kind, carried_from";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(db, err, errlen);
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, run_ids, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, phase);
    int n = 0, rc;
    fprintf(f, "Model %s", model);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        line_group(f, n++ == 0, (const char *)sqlite3_column_text(st, 0),
                   (const char *)sqlite3_column_text(st, 1),
                   (const char *)sqlite3_column_text(st, 2));
    fputs(n ? " (not published for its CPU: models/REFERENCES.md, view model_unsourced)\n"
            : ": every number used is published for its CPU\n", f);
    rc = rc == SQLITE_DONE ? 0 : db_error(db, err, errlen);
    sqlite3_finalize(st);
    return rc;
}

static void html_cell(FILE *f, void (*text)(FILE *, const char *), const char *s)
{
    fputs("<td>", f);
    text(f, s ? s : "");
    fputs("</td>", f);
}

int prov_html(sqlite3 *db, const char *model, FILE *f, void (*text)(FILE *, const char *),
              char *err, unsigned errlen)
{
    static const char sql[] =
        "SELECT DISTINCT u.param, printf('%g', u.value), u.carried_from || ' [' || u.source || ']',"
        " u.estimate, u.kind FROM run_unsourced u JOIN latest_run l ON l.run_id = u.run_id"
        " WHERE u.model = ?1 AND u.phase = 1 ORDER BY 5, 3, 1";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(db, err, errlen);
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    fputs("<h2>Numbers not published for this CPU</h2>\n<p>", f);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        fputs("Every number of model <b>", f);
        text(f, model);
        fputs("</b> that priced the charted runs was measured on its CPU.</p>\n", f);
    } else {
        fputs("The params of model <b>", f);
        text(f, model);
        fputs("</b> that priced the charted runs without a figure measured on its CPU: carried "
              "from the nearest generation with one, or estimated (sources: "
              "models/REFERENCES.md).</p>\n<table>\n<tr><th>param</th><th>cycles</th>"
              "<th>carried from [source]</th><th>estimate: why</th></tr>\n", f);
        for (; rc == SQLITE_ROW; rc = sqlite3_step(st)) {
            fputs("<tr>", f);
            for (int i = 0; i < 4; i++)
                html_cell(f, text, (const char *)sqlite3_column_text(st, i));
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    rc = rc == SQLITE_DONE ? 0 : db_error(db, err, errlen);
    sqlite3_finalize(st);
    return rc;
}
