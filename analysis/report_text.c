/*
 * report_text.c — numbers and model names as `vmlab report` shows them (see report_text.h).
 *
 * Issue 20: the report's tables printed raw %g values (7.26901e+06, 0.00774525) and named cost
 * models without the year of their CPU. Everything a reader sees in index.html is formatted here;
 * the data files keep full precision.
 */
#include "analysis/report_text.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sqlite3.h>

/* An integer-valued magnitude with thousands separators, sign in front. */
static void with_separators(char *buf, size_t len, double v)
{
    char digits[64];
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t n = strlen(digits), k = 0;
    char out[96];
    if (v < 0 && strcmp(digits, "0") != 0)
        out[k++] = '-';
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[k++] = ',';
        out[k++] = digits[i];
    }
    out[k] = 0;
    snprintf(buf, len, "%s", out);
}

void rt_number(char *buf, size_t len, double v)
{
    if (isnan(v)) {
        snprintf(buf, len, "-");
        return;
    }
    if (fabs(v) < 1e-9) {
        snprintf(buf, len, "0");
        return;
    }
    if (fabs(v) >= 99.95) {
        with_separators(buf, len, round(v));
        return;
    }
    /* Three significant digits in fixed notation: decimals = 2 - floor(log10|v|). */
    int decimals = 2 - (int)floor(log10(fabs(v)));
    if (decimals < 0)
        decimals = 0;
    if (decimals > 10)
        decimals = 10;
    snprintf(buf, len, "%.*f", decimals, v);
    if (strchr(buf, '.')) {
        size_t n = strlen(buf);
        while (n > 0 && buf[n - 1] == '0')
            buf[--n] = 0;
        if (n > 0 && buf[n - 1] == '.')
            buf[--n] = 0;
    }
}

/* The model's cpu and year columns, or 0 when it is not in the table. */
static int model_row(sqlite3 *db, const char *name, char *cpu, size_t cpulen, int *year)
{
    sqlite3_stmt *st;
    *year = 0;
    cpu[0] = 0;
    if (sqlite3_prepare_v2(db, "SELECT cpu, year FROM model WHERE name = ?1", -1, &st, NULL)
        != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(cpu, cpulen, "%s",
                 sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
        *year = sqlite3_column_type(st, 1) == SQLITE_NULL ? 0 : sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
    return found;
}

void rt_model_label(sqlite3 *db, const char *name, char *buf, size_t len)
{
    char cpu[256];
    int year;
    if (model_row(db, name, cpu, sizeof cpu, &year) && year > 0)
        snprintf(buf, len, "%s (%d)", name, year);
    else
        snprintf(buf, len, "%s", name);
}

void rt_model_cpu(sqlite3 *db, const char *name, char *buf, size_t len)
{
    char cpu[256];
    int year;
    if (!model_row(db, name, cpu, sizeof cpu, &year))
        snprintf(buf, len, "%s", name);
    else if (year > 0)
        snprintf(buf, len, "%s: %s, %d", name, cpu, year);
    else
        snprintf(buf, len, "%s: %s", name, cpu);
}
