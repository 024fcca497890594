/*
 * cmd_report.c — `vmlab report`: the charts of a virtualization paper from a trace database,
 * collected into one index.html.
 *
 *   vmlab report --db FILE [--model M] --out DIR [--png]
 *
 * Every chart is made the same way: a query on the views of analysis/views.sql (latest successful
 * run of each workload and mode), pivoted into a table (rows x columns), written as a
 * whitespace-separated data file NAME.dat (first line: column headers, strings in double quotes,
 * "-" for missing), a gnuplot script NAME.gp beside it, and gnuplot run on the script in DIR to
 * draw NAME.svg (and NAME.png with --png). index.html shows each chart with its table and links.
 *
 *   summary       the per-mode aggregate under the chosen model: the geometric mean over
 *                 workloads of each workload's ratio to native, how many workloads it is over and
 *                 how many were left out (a table, no chart)
 *   overhead      modeled time per operation relative to native, per workload and mode (bars)
 *   monitor       monitor entries (VT-x exits, monitor traps, callouts, hypervisor traps, hypercalls) per operation by reason (stacked)
 *   nanobench     modeled cycles per operation, per workload and mode (log scale)
 *   generations   the per-mode aggregate under every CPU-generation model (lines)
 *   pv            hypercalls, batch elements, validations, entries validated per operation (pv)
 *   bt            callouts, in-cache emulations, lookup hits and misses, instructions translated
 *                 per operation (bt; log scale, zeros left out)
 *
 * All models in the models directory are loaded first, so the generations chart has every CPU.
 * The per-workload ratios (overhead) and the aggregate (summary, generations) are read from the
 * views workload_ratio and mode_aggregate, the same rows `vmlab stat` and `vmlab compare` print;
 * the aggregate is named, with its workload count, above each table that shows it
 * (analysis/aggregate.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>

#include "emu/cli.h"
#include "analysis/aggregate.h"
#include "analysis/analysis.h"
#include "analysis/model.h"
#include "analysis/provenance.h"
#include "analysis/report_modes.h"
#include "emu/commands.h"
#include "traces/tdb.h"

/* --- pivot tables ------------------------------------------------------------------------- */

struct pivot {
    char **rows, **cols;
    int nr, nc;
    double *v;  /* nr x nc, NAN = missing */
};

static int key_index(char ***keys, int *n, const char *key)
{
    for (int i = 0; i < *n; i++)
        if (strcmp((*keys)[i], key) == 0)
            return i;
    char **nk = realloc(*keys, (*n + 1) * sizeof *nk);
    if (!nk)
        return -1;
    *keys = nk;
    nk[*n] = strdup(key);
    return (*n)++;
}

static int pivot_add(struct pivot *p, const char *row, const char *col, double value)
{
    int oldr = p->nr, oldc = p->nc;
    int r = key_index(&p->rows, &p->nr, row), c = key_index(&p->cols, &p->nc, col);
    if (r < 0 || c < 0)
        return -ENOMEM;
    if (p->nr != oldr || p->nc != oldc) {
        double *nv = malloc((size_t)p->nr * p->nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        for (int i = 0; i < p->nr; i++)
            for (int j = 0; j < p->nc; j++)
                nv[i * p->nc + j] = i < oldr && j < oldc ? p->v[i * oldc + j] : NAN;
        free(p->v);
        p->v = nv;
    }
    p->v[r * p->nc + c] = value;
    return 0;
}

static void pivot_free(struct pivot *p)
{
    for (int i = 0; i < p->nr; i++)
        free(p->rows[i]);
    for (int i = 0; i < p->nc; i++)
        free(p->cols[i]);
    free(p->rows);
    free(p->cols);
    free(p->v);
}

/* Fill from a query returning (row, column, value) rows. */
static int pivot_query(struct pivot *p, sqlite3 *db, const char *sql, const char *model)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "vmlab report: %s\n", sqlite3_errmsg(db));
        return -EIO;
    }
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW)
        rc = pivot_add(p, (const char *)sqlite3_column_text(st, 0),
                       (const char *)sqlite3_column_text(st, 1),
                       sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN
                                                                 : sqlite3_column_double(st, 2));
    sqlite3_finalize(st);
    return rc;
}

static void fmt_value(char *buf, size_t len, double v, int zero_missing)
{
    if (isnan(v))
        snprintf(buf, len, "%s", zero_missing ? "0" : "-");
    else
        snprintf(buf, len, "%.6g", v);
}

static int pivot_write(const struct pivot *p, const char *path, const char *corner,
                       int zero_missing)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "\"%s\"", corner);
    for (int j = 0; j < p->nc; j++)
        fprintf(f, " \"%s\"", p->cols[j]);
    fputc('\n', f);
    for (int i = 0; i < p->nr; i++) {
        fprintf(f, "\"%s\"", p->rows[i]);
        for (int j = 0; j < p->nc; j++) {
            char buf[32];
            fmt_value(buf, sizeof buf, p->v[i * p->nc + j], zero_missing);
            fprintf(f, " %s", buf);
        }
        fputc('\n', f);
    }
    return fclose(f) ? -errno : 0;
}

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

static void pivot_html(const struct pivot *p, FILE *f, const char *corner, int zero_missing)
{
    fputs("<table>\n<tr><th>", f);
    html_text(f, corner);
    fputs("</th>", f);
    for (int j = 0; j < p->nc; j++) {
        fputs("<th>", f);
        html_text(f, p->cols[j]);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
    for (int i = 0; i < p->nr; i++) {
        fputs("<tr><td>", f);
        html_text(f, p->rows[i]);
        fputs("</td>", f);
        for (int j = 0; j < p->nc; j++) {
            char buf[32];
            fmt_value(buf, sizeof buf, p->v[i * p->nc + j], zero_missing);
            fprintf(f, "<td>%s</td>", buf);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* --- charts ------------------------------------------------------------------------------- */

enum style { CLUSTERED, STACKED, LINES, TABLE /* no chart: the table and its data file */ };

/* Whose aggregate a chart shows, named in a caption above it. */
enum caption { NO_CAPTION, CAPTION_MODEL, CAPTION_EVERY_MODEL };

struct chart {
    const char *name, *title, *ylabel, *corner, *empty_note;
    enum style style;
    int logscale, zero_missing;
    const char *sql; /* (row, column, value); ?1 = the model */
    enum caption caption;
};

#define LATEST_ORDER " ORDER BY (SELECT min(l.run_id) FROM latest_run l WHERE l.workload = o.workload)"

static const struct chart charts[] = {
    { "summary", "Summary: " AN_AGGREGATE_NAME ", per mode", NULL, "mode",
      "no workload has both a native run and a run in another mode", TABLE, 0, 0,
      "WITH a AS MATERIALIZED (SELECT * FROM mode_aggregate WHERE model = ?1)"
      " SELECT mode, k, v FROM ("
      " SELECT mode, 1 AS o, 'vs native' AS k, geomean_ratio AS v FROM a"
      " UNION ALL SELECT mode, 2, 'workloads', workloads FROM a"
      " UNION ALL SELECT mode, 3, 'left out', excluded FROM a"
      " UNION ALL SELECT mode, 4, 'of which without a native run', without_native FROM a)"
      " ORDER BY" AN_MODE_ORDER("mode") ", o", CAPTION_MODEL },
    { "overhead", "Modeled time per operation relative to native",
      "time relative to native (log scale)",
      "workload", "no workload has both a native run and a run in another mode", CLUSTERED, 1, 0,
      "SELECT o.workload, o.mode, o.ratio FROM workload_ratio o"
      " WHERE o.model = ?1 AND o.ratio IS NOT NULL"
      LATEST_ORDER ", " AN_MODE_ORDER("o.mode"),
      NO_CAPTION },
    { "monitor", "Monitor entries per measured operation, by reason", "entries per operation",
      "workload/mode",
      "no VT-x exit, monitor trap, callout, hypervisor trap or hypercall in the measured phase of"
      " any run",
      STACKED, 0, 1,
      "SELECT o.workload || '/' || o.mode, o.event, o.per_op FROM monitor_per_op o"
      " WHERE o.per_op IS NOT NULL" LATEST_ORDER ", " AN_MODE_ORDER("o.mode") ", o.event",
      NO_CAPTION },
    { "nanobench", "Modeled cycles per operation", "cycles per operation (log scale)",
      "workload", "no run has a measured phase and n", CLUSTERED, 1, 0,
      "SELECT o.workload, o.mode, o.cycles_per_op FROM op_cost o"
      " WHERE o.model = ?1 AND o.cycles_per_op > 0" LATEST_ORDER ", " AN_MODE_ORDER("o.mode"),
      NO_CAPTION },
    { "generations", "Does the hardware catch up? Overhead per mode under each CPU model",
      AN_AGGREGATE_NAME, "model",
      "no workload has both a native run and a run in another mode", LINES, 0, 0,
      "SELECT g.model, g.mode, g.geomean_ratio FROM mode_aggregate g"
      " WHERE g.mode <> 'native' ORDER BY g.year, g.model, " AN_MODE_ORDER("g.mode"),
      CAPTION_EVERY_MODEL },
    { "pv", "Paravirtual guest: hypercalls and validations per operation", "per operation",
      "workload", "no pv runs", CLUSTERED, 0, 1,
      "SELECT workload, 'hypercalls', hypercalls_per_op FROM pv_per_op"
      " UNION ALL SELECT workload, 'batch elements', batch_elements_per_op FROM pv_per_op"
      " UNION ALL SELECT workload, 'validations', validations_per_op FROM pv_per_op"
      " UNION ALL SELECT workload, 'entries validated', entries_per_op FROM pv_per_op",
      NO_CAPTION },
    { "bt", "Binary translation: what leaves the translation cache and what stays, per operation",
      "per operation (log scale)", "workload", "no bt runs", CLUSTERED, 1, 0,
      "SELECT workload, k, v FROM ("
      " SELECT run_id, workload, 1 AS o, 'callouts' AS k, callouts_per_op AS v FROM bt_per_op"
      " UNION ALL SELECT run_id, workload, 2, 'in-cache emulations', incache_per_op FROM bt_per_op"
      " UNION ALL SELECT run_id, workload, 3, 'lookup hits', lookup_hits_per_op FROM bt_per_op"
      " UNION ALL SELECT run_id, workload, 4, 'lookup misses', lookup_misses_per_op FROM bt_per_op"
      " UNION ALL SELECT run_id, workload, 5, 'instructions translated', insns_translated_per_op"
      " FROM bt_per_op) WHERE v > 0 ORDER BY run_id, o",
      NO_CAPTION },
};

static int write_script(const struct chart *c, const struct pivot *p, const char *dir,
                        const char *model, int png)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gp", dir, c->name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "# %s.gp — drawn by `vmlab report` from %s.dat (run: gnuplot %s.gp)\n", c->name,
            c->name, c->name);
    /* Stacked charts have one bar per workload and mode: give their labels room. */
    const char *size = c->style == STACKED ? "1280,640" : "960,540";
    fprintf(f, "set terminal svg size %s dynamic noenhanced font 'sans,11'"
               " background rgb 'white'\n", size);
    fprintf(f, "set output '%s.svg'\n", c->name);
    fprintf(f, "set title '%s (model %s)'\n", c->title, model);
    fprintf(f, "set ylabel '%s'\nset datafile missing '-'\nset key outside right top\n"
               "set grid ytics\nset xtics rotate by %d\n",
            c->ylabel, c->style == STACKED ? -90 : -30);
    if (c->style == LINES) {
        fprintf(f, "set yrange [0:*]\nset offsets 0.3, 0.3, 0, 0\n");
        fprintf(f, "plot for [i=2:%d] '%s.dat' using 0:i:xtic(1) with linespoints lw 2"
                   " title columnheader(i)\n",
                p->nc + 1, c->name);
    } else {
        fprintf(f, "set style data histograms\nset style histogram %s\n"
                   "set style fill solid 0.85 border -1\nset boxwidth 0.9\n",
                c->style == STACKED ? "rowstacked" : "clustered gap 1");
        fprintf(f, c->logscale ? "set logscale y\nset yrange [*:*]\n" : "set yrange [0:*]\n");
        fprintf(f, "plot for [i=2:%d] '%s.dat' using i:xtic(1) title columnheader(i)\n",
                p->nc + 1, c->name);
    }
    if (png)
        fprintf(f, "set terminal pngcairo size %s noenhanced font 'sans,10'\n"
                   "set output '%s.png'\nreplot\n",
                size, c->name);
    return fclose(f) ? -errno : 0;
}

static int run_gnuplot(const char *dir, const char *name)
{
    char script[256];
    snprintf(script, sizeof script, "%s.gp", name);
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(127);
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        fprintf(stderr, "vmlab report: cannot run gnuplot: %s\n", strerror(errno));
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return -errno;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}

/* Name the aggregate a chart shows and how many workloads it is over, in a paragraph: the chosen
 * model's, with the workloads left out (CAPTION_MODEL), or every model's. */
static int html_caption(const struct chart *c, sqlite3 *db, const char *model, FILE *html)
{
    struct an_aggregate *a;
    char label[160], left[1024];
    int n = an_aggregate_load(db, c->caption == CAPTION_MODEL ? model : NULL, &a, "report");
    if (n < 0)
        return n;
    an_aggregate_label(a, n, label, sizeof label);
    an_aggregate_left_out(a, n, left, sizeof left);
    fputs("<p class=\"aggregate\">", html);
    html_text(html, label);
    fputs(c->caption == CAPTION_MODEL ? ", model " : ", under every model", html);
    html_text(html, c->caption == CAPTION_MODEL ? model : "");
    fputs(" (" AN_AGGREGATE_RATIO ").", html);
    if (*left && c->caption == CAPTION_MODEL) {
        fputs(" Left out: ", html);
        html_text(html, left);
        fputs(".", html);
    }
    fputs("</p>\n", html);
    free(a);
    return 0;
}

static int make_chart(const struct chart *c, sqlite3 *db, const char *dir, const char *model,
                      int png, FILE *html)
{
    struct pivot p = { 0 };
    char path[4096];
    int rc = pivot_query(&p, db, c->sql, model);
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/%s.dat", dir, c->name);
        rc = pivot_write(&p, path, c->corner, c->zero_missing);
        if (rc)
            fprintf(stderr, "vmlab report: %s: %s\n", path, strerror(-rc));
    }
    fprintf(html, "<h2>%s</h2>\n", c->title);
    if (rc == 0 && c->caption != NO_CAPTION)
        rc = html_caption(c, db, model, html);
    if (rc == 0 && p.nr > 0 && p.nc > 0 && c->style == TABLE) {
        pivot_html(&p, html, c->corner, c->zero_missing);
        fprintf(html, "<p class=\"files\">data: <a href=\"%s.dat\">%s.dat</a></p>\n", c->name,
                c->name);
    } else if (rc == 0 && p.nr > 0 && p.nc > 0) {
        rc = write_script(c, &p, dir, model, png);
        if (rc == 0 && (rc = run_gnuplot(dir, c->name)) != 0)
            fprintf(stderr, "vmlab report: gnuplot failed on %s/%s.gp\n", dir, c->name);
        fprintf(html, "<p><img src=\"%s.svg\" alt=\"%s\"></p>\n", c->name, c->title);
        pivot_html(&p, html, c->corner, c->zero_missing);
        fprintf(html, "<p class=\"files\">data: <a href=\"%s.dat\">%s.dat</a>, script: "
                      "<a href=\"%s.gp\">%s.gp</a>%s</p>\n",
                c->name, c->name, c->name, c->name, png ? ", PNG beside the SVG" : "");
    } else if (rc == 0) {
        fprintf(html, "<p class=\"empty\">No %s: %s (empty data file <a href=\"%s.dat\">"
                      "%s.dat</a>).</p>\n",
                c->style == TABLE ? "table" : "chart", c->empty_note, c->name, c->name);
    }
    pivot_free(&p);
    return rc;
}

/* --- index.html ---------------------------------------------------------------------------- */

static void html_runs(sqlite3 *db, FILE *f)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, workload, coalesce(n, ''), mode, status,"
                           " coalesce(instructions, ''), coalesce(message, ''),"
                           " id IN (SELECT run_id FROM latest_run) FROM run ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    fputs("<h2>Runs</h2>\n<table>\n<tr><th>run</th><th>workload</th><th>n</th><th>mode</th>"
          "<th>status</th><th>instructions</th><th>message</th><th>charted</th></tr>\n",
          f);
    while (sqlite3_step(st) == SQLITE_ROW) {
        fprintf(f, "<tr class=\"%s\">", sqlite3_column_text(st, 4));
        for (int i = 0; i < 7; i++) {
            fputs("<td>", f);
            html_text(f, (const char *)sqlite3_column_text(st, i));
            fputs("</td>", f);
        }
        fprintf(f, "<td>%s</td></tr>\n", sqlite3_column_int(st, 7) ? "yes" : "");
    }
    fputs("</table>\n", f);
    sqlite3_finalize(st);
}

static void html_models(sqlite3 *db, FILE *f, const char *model)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT name, cpu, coalesce(year, ''), coalesce(file, '')"
                               " FROM model ORDER BY year, name",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    fputs("<h2>Cost models</h2>\n<table>\n<tr><th>model</th><th>CPU</th><th>year</th>"
          "<th>file</th></tr>\n",
          f);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        fprintf(f, "<tr%s>", strcmp(name, model) == 0 ? " class=\"current\"" : "");
        for (int i = 0; i < 4; i++) {
            fputs("<td>", f);
            html_text(f, (const char *)sqlite3_column_text(st, i));
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
    sqlite3_finalize(st);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vmlab report --db FILE [--model M] --out DIR [--png]\n"
               "  --db FILE   the trace database (vmlab compare --db)\n"
               "  --model M   cost model: a name in the models directory or a YAML file\n"
               "              (default " AN_DEFAULT_MODEL ")\n"
               "  --out DIR   where index.html, the charts and their data go (created)\n"
               "  --png       also draw each chart as PNG (default: SVG only)\n"
               "  --version   print vmlab's version\n");
}

int cmd_report(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },  { "model", required_argument, NULL, 'm' },
        { "out", required_argument, NULL, 'o' }, { "png", no_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },      { 0 },
    };
    const char *dbpath = NULL, *spec = NULL, *dir = NULL;
    int png = 0;
    optind = 0;
    for (int c; (c = cli_getopt("report", argc, argv, "", longopts)) != -1;) {
        switch (c) {
        case 'd': dbpath = optarg; break;
        case 'm': spec = optarg; break;
        case 'o': dir = optarg; break;
        case 'p': png = 1; break;
        case 'h': usage(stdout); return 0;
        case CLI_VERSION: return 0;
        default: return 2;      /* cli_getopt printed the one-line error */
        }
    }
    if (optind < argc) {
        cli_error("report", "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (!dbpath || !dir) {
        cli_error("report", "%s is required (vmlab report --help)", !dbpath ? "--db FILE" : "--out DIR");
        return 2;
    }
    struct tdb *t = an_open_existing(dbpath, "report");
    if (!t)
        return 2;
    sqlite3 *db = tdb_sqlite(t);
    char model[128], err[512];
    int rc = model_load_all(db, err, sizeof err);
    if (rc < 0 && rc != -ENOENT)
        fprintf(stderr, "vmlab report: %s\n", err);
    if (an_pick_model(db, spec, model, sizeof model, "report")) {
        tdb_close(t);
        return 2;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "vmlab report: %s: %s\n", dir, strerror(errno));
        tdb_close(t);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/index.html", dir);
    FILE *html = fopen(path, "w");
    if (!html) {
        fprintf(stderr, "vmlab report: %s: %s\n", path, strerror(errno));
        tdb_close(t);
        return 2;
    }
    fprintf(html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n"
                  "<title>vmlab report</title>\n<style>\n"
                  "body { font-family: sans-serif; max-width: 1000px; margin: 2em auto; }\n"
                  "table { border-collapse: collapse; margin: 1em 0; }\n"
                  "td, th { border: 1px solid #bbb; padding: 2px 8px; text-align: right; }\n"
                  "td:first-child, th:first-child { text-align: left; }\n"
                  "tr.failed td, tr.running td { color: #a00; }\n"
                  "tr.current td { font-weight: bold; }\n"
                  "img { max-width: 100%%; }\n.empty { color: #777; }\n"
                  "</style></head><body>\n<h1>vmlab report</h1>\n<p>Database <code>");
    html_text(html, dbpath);
    fprintf(html, "</code>, cost model <b>");
    html_text(html, model);
    fprintf(html, "</b>. Counts are the emulator's; cycles are modeled (count x cycles per "
                  "event from the model, plus instructions x CPI). Per-operation figures use "
                  "the measured phase of the newest successful run of each workload and mode, net of "
                  "the loop's own cost where the workload runs its loop again with an empty body "
                  "(the calibration phase).</p>\n");
    rc = 0;
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++)
        if (make_chart(&charts[i], db, dir, model, png, html))
            rc = 1;
    if (report_modes_html(db, model, html, html_text, err, sizeof err)) {
        fprintf(stderr, "vmlab report: %s\n", err);
        rc = 1;
    }
    html_runs(db, html);
    html_models(db, html, model);
    if (prov_html(db, model, html, html_text, err, sizeof err)) {
        fprintf(stderr, "vmlab report: %s\n", err);
        rc = 1;
    }
    fputs("</body></html>\n", html);
    if (fclose(html)) {
        fprintf(stderr, "vmlab report: %s: %s\n", path, strerror(errno));
        rc = 1;
    }
    tdb_close(t);
    if (rc == 0)
        printf("vmlab report: %s/index.html\n", dir);
    return rc;
}
