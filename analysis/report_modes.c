/*
 * report_modes.c — the report's "What each mode's numbers include" (see report_modes.h).
 *
 * One query: the distinct (mode, class) pairs of the measured phase of the charted runs (view
 * latest_run), each with the class's description (table event_class) and the params of the cost
 * that prices the class for that mode under the model (model_cost.params: the mode's own row if
 * the model has one, else the row for every mode; a class priced per reason says so).
 */
#include "analysis/report_modes.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "analysis/analysis.h"

static const char *const query =
    "WITH used AS (SELECT DISTINCT r.mode, e.class FROM latest_run l"
    "              JOIN run r ON r.id = l.run_id"
    "              JOIN event_count e ON e.run_id = r.id AND e.phase = 1),"
    "     mdl AS (SELECT id FROM model WHERE name = ?1)"
    " SELECT u.mode, k.name, k.description,"
    "   coalesce((SELECT c.params FROM model_cost c, mdl WHERE c.model_id = mdl.id"
    "              AND c.class = u.class AND c.reason IS NULL"
    "              AND (c.mode = u.mode OR c.mode IS NULL)"
    "            ORDER BY c.mode IS NULL LIMIT 1), '[]'),"
    "   (SELECT count(*) FROM model_cost c, mdl WHERE c.model_id = mdl.id AND c.class = u.class"
    "     AND c.reason IS NOT NULL AND (c.mode = u.mode OR c.mode IS NULL))"
    " FROM used u JOIN event_class k ON k.id = u.class"
    " ORDER BY " AN_MODE_ORDER("u.mode") ", k.id";

/* A cost's params, JSON array ["a","b"], as "a + b"; an empty one as "0". */
static void params_text(const char *json, char *out, size_t len)
{
    size_t k = 0;
    for (const char *p = json; *p && k + 4 < len; p++) {
        if (*p == ',') {
            memcpy(out + k, " + ", 3);
            k += 3;
        } else if (*p != '[' && *p != ']' && *p != '"') {
            out[k++] = *p;
        }
    }
    out[k] = 0;
    if (!k)
        snprintf(out, len, "0");
}

int report_modes_html(struct sqlite3 *db, const char *model, FILE *f,
                      void (*text)(FILE *f, const char *s), char *err, unsigned errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, query, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "what each mode includes: %s", sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_text(st, 1, model, -1, SQLITE_TRANSIENT);
    fputs("<h2>What each mode's numbers include</h2>\n<p>The event classes the measured phase of "
          "each mode's runs recorded: each names the mechanism that happened (a VM exit exists "
          "only under VT-x; a ring-compression monitor takes traps and reflects them; the "
          "hypervisor takes traps, hypercalls and bounces), and the params of model <b>", f);
    text(f, model);
    fputs("</b> that price it. Every mode does the guest's port accesses: <code>io</code> where "
          "a device is touched, <code>ioemul</code> where a monitor's device model answers. "
          "Instructions are priced at the model's CPI in every mode.</p>\n<table>\n<tr><th>mode"
          "</th><th>class</th><th>what it is</th><th>priced as</th></tr>\n", f);
    char prev[64] = "";
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        fputs("<tr><td>", f);
        if (strcmp(prev, mode) != 0)
            text(f, mode);   /* the mode once, on its first row */
        snprintf(prev, sizeof prev, "%s", mode);
        fputs("</td><td>", f);
        text(f, (const char *)sqlite3_column_text(st, 1));
        fputs("</td><td style=\"text-align:left\">", f);
        text(f, (const char *)sqlite3_column_text(st, 2));
        fputs("</td><td style=\"text-align:left\">", f);
        char priced[256];
        params_text((const char *)sqlite3_column_text(st, 3), priced, sizeof priced);
        text(f, priced);
        if (sqlite3_column_int(st, 4) > 0)
            fputs(" (some reasons priced apart)", f);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n", f);
    int rc = sqlite3_finalize(st) == SQLITE_OK ? 0 : -EIO;
    if (rc)
        snprintf(err, errlen, "what each mode includes: %s", sqlite3_errmsg(db));
    return rc;
}
