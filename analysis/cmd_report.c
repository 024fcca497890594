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
 *   monitor       monitor entries (VT-x exits, monitor traps, callouts, hypervisor traps, hypercalls) per operation by reason:
 *                 monitor.dat has every reason; the chart is one stacked panel per mode
 *                 (monitor_MODE.dat: the mode's five most frequent reasons, "other", the total
 *                 printed above each bar) and the outlier workloads (holes) are drawn apart
 *                 (monitor_outliers)
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
 * (analysis/aggregate.c), and stated in a sentence in the summary.
 *
 * For a reader (issue 20): every chart is a numbered <figure> whose caption (struct chart's
 * explain) says what it shows and what its numbers include; charts of ratios to native draw a
 * dashed native = 1 line instead of native's bars; table cells go through rt_number
 * (analysis/report_text.c), the data files keep %.6g; models are named with their CPU's year,
 * and the generations chart, which shows every model, names none in its title.
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
#include "analysis/report_text.h"
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

/* A value for a data file: full precision; "-" (gnuplot's missing) for NAN, or "0" where a
 * missing value means none (zero_missing); on a log scale, zero and below are missing too. */
static void fmt_value(char *buf, size_t len, double v, int zero_missing, int logscale)
{
    if (logscale && (isnan(v) || v <= 0))
        snprintf(buf, len, "-");
    else if (isnan(v))
        snprintf(buf, len, "%s", zero_missing ? "0" : "-");
    else
        snprintf(buf, len, "%.6g", v);
}

static int pivot_write(const struct pivot *p, const char *path, const char *corner,
                       int zero_missing, int logscale)
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
            fmt_value(buf, sizeof buf, p->v[i * p->nc + j], zero_missing, logscale);
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

/* The pivot as an HTML table, numbers formatted for a reader (rt_number); a column named `skip`
 * (NULL: none) is left out. */
static void pivot_html(const struct pivot *p, FILE *f, const char *corner, int zero_missing,
                       const char *skip)
{
    fputs("<table>\n<tr><th>", f);
    html_text(f, corner);
    fputs("</th>", f);
    for (int j = 0; j < p->nc; j++) {
        if (skip && strcmp(p->cols[j], skip) == 0)
            continue;
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
            if (skip && strcmp(p->cols[j], skip) == 0)
                continue;
            char buf[48];
            double v = p->v[i * p->nc + j];
            rt_number(buf, sizeof buf, isnan(v) && zero_missing ? 0 : v);
            fprintf(f, "<td>%s</td>", buf);
        }
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* --- charts ------------------------------------------------------------------------------- */

/* MONITOR: the monitor entries, one stacked panel per mode plus the outliers' own chart
 * (make_monitor). TABLE: no chart, the table and its data file. */
enum style { CLUSTERED, STACKED, LINES, TABLE, MONITOR };

/* Whose aggregate a chart shows, named in a caption above it. */
enum caption { NO_CAPTION, CAPTION_MODEL, CAPTION_EVERY_MODEL };

struct chart {
    const char *name, *title, *ylabel, *corner, *empty_note;
    enum style style;
    int logscale, zero_missing;
    int ratio; /* values are ratios to native: a native = 1 line, native's own bars not drawn */
    const char *sql; /* (row, column, value); ?1 = the model */
    enum caption caption;
    /* What the chart shows and what its numbers include, two or three sentences under it as a
     * paper's figure caption; "%M" stands for the chosen model with its year. */
    const char *explain;
};

#define LATEST_ORDER " ORDER BY (SELECT min(l.run_id) FROM latest_run l WHERE l.workload = o.workload)"

/* What every modeled time in the report is; said in the captions that show one. */
#define PRICED                                                                                   \
    "Modeled time is each event the emulator counted priced at the model's cycles for its "     \
    "mechanism, plus the instructions at the model's CPI, in the measured phase of the newest "   \
    "successful run of each workload and mode, net of the loop's own cost where the workload "    \
    "has a calibration phase."

/* Workloads drawn in a monitor chart of their own: holes runs each sensitive unprivileged
 * instruction once per operation, thousands of monitor entries (2,245 VT-x exits per operation
 * under trap in the default suite), which would flatten every other workload's bars. */
static const char *const outlier_workloads[] = { "holes" };

static const struct chart charts[] = {
    { "summary", "Summary: " AN_AGGREGATE_NAME ", per mode", NULL, "mode",
      "no workload has both a native run and a run in another mode", TABLE, 0, 0, 0,
      "WITH a AS MATERIALIZED (SELECT * FROM mode_aggregate WHERE model = ?1)"
      " SELECT mode, k, v FROM ("
      " SELECT mode, 1 AS o, 'vs native' AS k, geomean_ratio AS v FROM a"
      " UNION ALL SELECT mode, 2, 'workloads', workloads FROM a"
      " UNION ALL SELECT mode, 3, 'left out', excluded FROM a"
      " UNION ALL SELECT mode, 4, 'of which without a native run', without_native FROM a)"
      " ORDER BY" AN_MODE_ORDER("mode") ", o", CAPTION_MODEL,
      "The report's one aggregate: for each mode, the geometric mean over workloads of each "
      "workload's modeled time per operation divided by its native time, under model %M (native "
      "is 1 by definition). A workload without a native run, or without modeled cycles, is left "
      "out of the mean and counted in the last two columns." },
    { "overhead", "Modeled time per operation relative to native",
      "time relative to native (log scale)",
      "workload", "no workload has both a native run and a run in another mode", CLUSTERED, 1, 0,
      1,
      "SELECT o.workload, o.mode, o.ratio FROM workload_ratio o"
      " WHERE o.model = ?1 AND o.ratio IS NOT NULL"
      LATEST_ORDER ", " AN_MODE_ORDER("o.mode"),
      NO_CAPTION,
      "Each bar is one workload's modeled time per operation in one mode divided by the same "
      "workload's native time, under model %M, on a log scale: the dashed line is native = 1, "
      "a bar at 10 is ten times native's time, one below the line is faster than native. "
      PRICED },
    { "monitor", "Monitor entries per measured operation, by reason", "entries per operation",
      "workload/mode",
      "no VT-x exit, monitor trap, callout, hypervisor trap or hypercall in the measured phase of"
      " any run",
      MONITOR, 0, 1, 0,
      "SELECT o.workload || '/' || o.mode, o.event, o.per_op FROM monitor_per_op o"
      " WHERE o.per_op IS NOT NULL" LATEST_ORDER ", " AN_MODE_ORDER("o.mode") ", o.event",
      NO_CAPTION,
      "How often the guest left for the monitor per operation, one panel per mode: VT-x exits "
      "(trap), monitor traps (trap-classic, bt), callouts from the translation cache (bt), "
      "hypervisor traps and hypercalls (pv), stacked by reason, the mode's five most frequent "
      "reasons by name and the rest as \"other\"; native has no monitor and no panel. These "
      "are counts, not modeled time: all entries of the measured phase of the newest run divided "
      "by n, not net of the calibration loop, so they include the one port write per run that "
      "ends the phase (1/n per operation)." },
    { "nanobench", "Modeled cycles per operation", "cycles per operation (log scale)",
      "workload", "no run has a measured phase and n", CLUSTERED, 1, 0, 0,
      "SELECT o.workload, o.mode, o.cycles_per_op FROM op_cost o"
      " WHERE o.model = ?1 AND o.cycles_per_op > 0" LATEST_ORDER ", " AN_MODE_ORDER("o.mode"),
      NO_CAPTION,
      "The absolute numbers behind the ratios above: modeled cycles per operation of each "
      "workload in each mode under model %M, on a log scale. " PRICED },
    { "generations", "Does the hardware catch up? The aggregate per mode under each cost model",
      AN_AGGREGATE_NAME, "model",
      "no workload has both a native run and a run in another mode", LINES, 0, 0, 1,
      "SELECT g.model, g.mode, CASE WHEN g.mode = 'trap-ept' AND instr(k.features, 'ept') = 0"
      " THEN NULL ELSE g.geomean_ratio END FROM mode_aggregate g"
      " JOIN model k ON k.name = g.model"
      " WHERE g.mode <> 'native' ORDER BY g.year, g.model, " AN_MODE_ORDER("g.mode"),
      CAPTION_EVERY_MODEL,
      "The summary's aggregate (geometric mean over workloads of the ratio to native) under "
      "every cost model, oldest CPU first; the dashed line is native = 1. The runs are the same "
      "for every model: the counts do not change, only the price of each mechanism does, so a "
      "falling line is hardware making that mode's mechanisms cheaper. VT-x is drawn as the "
      "hypervisors of each generation ran it: trap (shadow paging) on every CPU, trap-ept "
      "(nested paging) from the first with EPT (a model's features), where both existed; "
      "trap-ept is priced with the TLB flushed by every VM exit before VPID and kept after." },
    { "pv", "Paravirtual guest: hypercalls and validations per operation",
      "per operation (log scale)", "workload", "no pv runs", CLUSTERED, 1, 1, 0,
      "SELECT workload, 'hypercalls', hypercalls_per_op FROM pv_per_op"
      " UNION ALL SELECT workload, 'batch elements', batch_elements_per_op FROM pv_per_op"
      " UNION ALL SELECT workload, 'validations', validations_per_op FROM pv_per_op"
      " UNION ALL SELECT workload, 'entries validated', entries_per_op FROM pv_per_op",
      NO_CAPTION,
      "What the paravirtual guest asked of the hypervisor per operation: hypercalls, the "
      "elements of their batches (one multicall or mmu_update carries several), page-table "
      "pages validated and the entries those validations checked, on a log scale (no bar: none). "
      "Counts of the measured phase of the newest pv run divided by n, not net of the "
      "calibration loop." },
    { "bt", "Binary translation: what leaves the translation cache and what stays, per operation",
      "per operation (log scale)", "workload", "no bt runs", CLUSTERED, 1, 1, 0,
      "SELECT workload, k, v FROM ("
      " SELECT run_id, workload, 1 AS o, 'callouts' AS k, callouts_per_op AS v FROM bt_per_op"
      " UNION ALL SELECT run_id, workload, 2, 'in-cache emulations', incache_per_op FROM bt_per_op"
      " UNION ALL SELECT run_id, workload, 3, 'lookup hits', lookup_hits_per_op FROM bt_per_op"
      " UNION ALL SELECT run_id, workload, 4, 'lookup misses', lookup_misses_per_op FROM bt_per_op"
      " UNION ALL SELECT run_id, workload, 5, 'instructions translated', insns_translated_per_op"
      " FROM bt_per_op) WHERE v > 0 ORDER BY run_id, o",
      NO_CAPTION,
      "What the binary translator did per operation: callouts (leaving the translation cache "
      "for the monitor, the expensive path), privileged instructions emulated inside the cache, "
      "indirect-branch lookups that hit or missed, and guest instructions translated, on a log "
      "scale (no bar: none). Counts of the measured phase of the newest bt run divided by n, "
      "not net of the calibration loop." },
};

/* Colour-blind-safe colours (Okabe & Ito) for up to seven named series; "other" is grey. */
static const char *const palette[] = { "#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                       "#56B4E9", "#D55E00", "#F0E442" };
#define OTHER_COLOUR "#999999"

/* gnuplot single-quoted string: a quote is doubled. */
static void gp_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* The dashed native = 1 reference line of a ratio chart, labelled on the plot. */
static void gp_native_line(FILE *f)
{
    fputs("set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead front"
          " lw 2 dt 2 lc rgb 'black'\n"
          "set label 1 'native = 1' at graph 1, first 1 offset 1, 0 left front"
          " textcolor rgb 'black'\n",
          f);
}

#define MANY_ROWS 16     /* a chart with more rows (workloads) gets upright labels */

/* The plotting commands of chart c (everything but terminal and output). */
static void gp_body(const struct chart *c, const struct pivot *p, sqlite3 *db,
                    const char *model_label, FILE *f)
{
    fputs("set title ", f);
    char title[512];
    if (c->caption == CAPTION_EVERY_MODEL)
        snprintf(title, sizeof title, "%s", c->title); /* every model: the axis names them */
    else
        snprintf(title, sizeof title, "%s, model %s", c->title, model_label);
    gp_quoted(f, title);
    fprintf(f, "\nset ylabel '%s'\nset datafile missing '-'\nset key outside right top\n"
               "set grid ytics\n",
            c->ylabel);
    if (c->ratio)
        gp_native_line(f);
    if (c->style == LINES) {
        /* Rows are cost models: each tic names the model and its year. */
        fputs("set xtics (", f);
        for (int i = 0; i < p->nr; i++) {
            char lab[160];
            rt_model_label(db, p->rows[i], lab, sizeof lab);
            char *paren = strstr(lab, " (");
            if (paren)
                *paren = '\n'; /* "p4-prescott\n(2005)" */
            fprintf(f, "%s\"", i ? ", " : "");
            for (const char *s = lab; *s; s++)
                fputs(*s == '\n' ? "\\n" : (char[]){ *s, 0 }, f);
            fprintf(f, "\" %d", i);
        }
        fputs(")\nset xlabel 'cost model (year of its CPU)' offset 0, -1\nset bmargin 5\n", f);
        fprintf(f, "set yrange [0:*]\nset offsets 0.3, 0.3, 0, 0\n");
        fprintf(f, "plot for [i=2:%d] '%s.dat' using 0:i with linespoints lw 2"
                   " title columnheader(i)\n",
                p->nc + 1, c->name);
        return;
    }
    /* Many workloads: upright labels, which cannot overlap (slanted ones did, 38 workloads). */
    fprintf(f, p->nr > MANY_ROWS ? "set xtics rotate by 90 right\n" : "set xtics rotate by -30\n");
    fprintf(f, "set style data histograms\nset style histogram %s\n"
               "set style fill solid 0.85 border -1\nset boxwidth 0.9\n",
            c->style == STACKED ? "rowstacked" : "clustered gap 1");
    fprintf(f, c->logscale ? "set logscale y\nset yrange [*:*]\n" : "set yrange [0:*]\n");
    double min = INFINITY;
    for (int i = 0; i < p->nr * p->nc; i++)
        min = p->v[i] < min ? p->v[i] : min;
    if (c->logscale && min >= 1)
        fputs("set format y '%.0s%c'\n", f); /* 1, 10, 100, 1k ... 10M, not 1e+07 */
    /* A ratio chart leaves native's column (all 1) to the reference line. */
    int first = c->ratio && p->nc > 0 && strcmp(p->cols[0], "native") == 0 ? 3 : 2;
    /* One series per column with a value to draw (on a log scale, above 0): a column with
     * none would only make gnuplot warn. Colours stay with their column. */
    int drawn = 0;
    for (int j = first - 2; j < p->nc; j++) {
        int any = 0;
        for (int i = 0; i < p->nr; i++) {
            double v = p->v[i * p->nc + j];
            any |= !isnan(v) && (!c->logscale || v > 0);
        }
        if (!any)
            continue;
        fprintf(f, "%s '%s.dat' using %d%s title columnheader(%d) lc rgb '%s'",
                drawn ? ", \\\n    " : "plot", c->name, j + 2, drawn ? "" : ":xtic(1)", j + 2,
                palette[(j - (first - 2)) % (sizeof palette / sizeof palette[0])]);
        drawn++;
    }
    fputs(drawn ? "\n" : "plot 1/0 notitle\n", f);
}

/* Write NAME.gp: the body once for the SVG, once more for the PNG (a multiplot cannot replot).
 * `body` writes the plotting commands. */
static int write_script(const char *name, const char *dir, const char *size, int png,
                        void (*body)(void *ctx, FILE *f), void *ctx)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gp", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "# %s.gp — drawn by `vmlab report` from its data files (run: gnuplot %s.gp)\n",
            name, name);
    fprintf(f, "set terminal svg size %s dynamic noenhanced font 'sans,11'"
               " background rgb 'white'\nset output '%s.svg'\n",
            size, name);
    body(ctx, f);
    if (png) {
        fprintf(f, "\nreset\nset terminal pngcairo size %s noenhanced font 'sans,10'\n"
                   "set output '%s.png'\n",
                size, name);
        body(ctx, f);
    }
    return fclose(f) ? -errno : 0;
}

struct chart_ctx {
    const struct chart *c;
    const struct pivot *p;
    sqlite3 *db;
    const char *model_label;
};

static void chart_body(void *ctx, FILE *f)
{
    struct chart_ctx *x = ctx;
    gp_body(x->c, x->p, x->db, x->model_label, f);
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

/* The aggregate stated in one sentence, its values read from mode_aggregate through
 * an_aggregate_load (never recomputed here): "Under model X (2005), ... is 8.16 for trap, ...". */
static int html_aggregate_sentence(sqlite3 *db, const char *model, const char *model_label,
                                   FILE *html)
{
    struct an_aggregate *a;
    int n = an_aggregate_load(db, model, &a, "report");
    if (n < 0)
        return n;
    int shown = 0, total = 0;
    for (int i = 0; i < n; i++)
        if (strcmp(a[i].mode, "native") != 0 && !isnan(a[i].geomean))
            total++;
    if (total > 0) {
        char label[160];
        an_aggregate_label(a, n, label, sizeof label);
        fputs("<p class=\"stated\"><b>Under model ", html);
        html_text(html, model_label);
        fputs(", the " AN_AGGREGATE_NAME " is ", html);
        for (int i = 0; i < n; i++) {
            if (strcmp(a[i].mode, "native") == 0 || isnan(a[i].geomean))
                continue;
            char v[48];
            rt_number(v, sizeof v, a[i].geomean);
            fprintf(html, "%s%s for ", shown == 0 ? "" : shown == total - 1 ? " and " : ", ", v);
            html_text(html, a[i].mode);
            shown++;
        }
        fprintf(html, "</b> (native = 1; %s.</p>\n", strstr(label, "(") ? strstr(label, "(") + 1 : "");
    }
    free(a);
    return 0;
}

/* Write the caption text of a chart into html, "%M" replaced by the model with its year. */
static void html_explain(FILE *html, const char *text, const char *model_label)
{
    for (const char *s = text; *s; s++) {
        if (s[0] == '%' && s[1] == 'M') {
            html_text(html, model_label);
            s++;
        } else {
            html_text(html, (char[]){ *s, 0 });
        }
    }
}

/* A figure: the chart, then its numbered caption (the chart's title and explanation). */
static void html_figure(FILE *html, const char *name, const char *alt, int *fig,
                        const char *caption_title, const char *explain, const char *model_label)
{
    fprintf(html, "<figure id=\"fig-%s\">\n<img src=\"%s.svg\" alt=\"", name, name);
    html_text(html, alt);
    fprintf(html, "\">\n<figcaption class=\"explain\"><b>Figure %d.</b> ", ++*fig);
    html_text(html, caption_title);
    fputs(". ", html);
    html_explain(html, explain, model_label);
    fputs("</figcaption>\n</figure>\n", html);
}

/* --- the monitor chart -------------------------------------------------------------------- */

static int is_outlier(const char *workload)
{
    for (size_t i = 0; i < sizeof outlier_workloads / sizeof outlier_workloads[0]; i++)
        if (strcmp(workload, outlier_workloads[i]) == 0)
            return 1;
    return 0;
}

/* Split "workload/mode" at its last '/'. */
static void split_row(const char *row, char *workload, size_t wl, const char *out_mode[1])
{
    const char *slash = strrchr(row, '/');
    size_t n = slash ? (size_t)(slash - row) : strlen(row);
    snprintf(workload, wl, "%.*s", (int)n, row);
    *out_mode = slash ? slash + 1 : "";
}

#define TOP_REASONS 5

/* The row of `all` for workload wl in mode m, or -1. */
static int find_row(const struct pivot *all, const char *wl, const char *m)
{
    for (int i = 0; i < all->nr; i++) {
        char w[256];
        const char *rm;
        split_row(all->rows[i], w, sizeof w, &rm);
        if (strcmp(w, wl) == 0 && strcmp(rm, m) == 0)
            return i;
    }
    return -1;
}

/* From the wide pivot `all` (rows "workload/mode", one column per reason), the rows of one panel
 * into `out`: with a mode, every workload of `all` but the outliers, in `all`'s order (0 where
 * the workload had no entry in that mode, so that every panel has the same bars), rows named
 * by workload; with mode NULL, the outliers' rows in every mode (named by mode, the workload in
 * front when there are several outliers). Columns: the panel's TOP_REASONS most frequent reasons
 * (by their sum over the panel's rows), largest first, then "other" for the rest (a single
 * leftover reason keeps its name), then "total". Returns how many of the panel's rows had
 * entries (0: leave the panel out), or -ENOMEM. */
static int monitor_panel(const struct pivot *all, const char *mode, struct pivot *out)
{
    int *rowsel = calloc((size_t)all->nr + 1, sizeof *rowsel); /* row of `all` per panel row */
    char **labels = calloc((size_t)all->nr + 1, sizeof *labels);
    double *sum = calloc((size_t)all->nc + 1, sizeof *sum);
    int *order = calloc((size_t)all->nc + 1, sizeof *order);
    int rc = rowsel && sum && order && labels ? 0 : -ENOMEM;
    int nrows = 0, nsel = 0;
    for (int i = 0; rc == 0 && i < all->nr; i++) {
        char wl[256], label[300];
        const char *m;
        split_row(all->rows[i], wl, sizeof wl, &m);
        if (mode) {
            if (is_outlier(wl))
                continue;
            int seen = 0;
            for (int k = 0; k < nrows; k++)
                seen |= strcmp(labels[k], wl) == 0;
            if (seen)
                continue;
            snprintf(label, sizeof label, "%s", wl);
            rowsel[nrows] = find_row(all, wl, mode);
        } else {
            if (!is_outlier(wl))
                continue;
            if (sizeof outlier_workloads / sizeof outlier_workloads[0] > 1)
                snprintf(label, sizeof label, "%s/%s", wl, m);
            else
                snprintf(label, sizeof label, "%s", m);
            rowsel[nrows] = i;
        }
        if (!(labels[nrows] = strdup(label)))
            rc = -ENOMEM;
        nrows++;
    }
    for (int r = 0; rc == 0 && r < nrows; r++) {
        int i = rowsel[r];
        nsel += i >= 0;
        for (int j = 0; i >= 0 && j < all->nc; j++)
            if (!isnan(all->v[i * all->nc + j]))
                sum[j] += all->v[i * all->nc + j];
    }
    int nz = 0; /* reasons with any entry in the panel, largest sum first */
    for (int j = 0; rc == 0 && j < all->nc; j++)
        if (sum[j] > 0) {
            int k = nz++;
            while (k > 0 && sum[order[k - 1]] < sum[j]) {
                order[k] = order[k - 1];
                k--;
            }
            order[k] = j;
        }
    int named = nz <= TOP_REASONS + 1 ? nz : TOP_REASONS;
    for (int r = 0; rc == 0 && nz > 0 && r < nrows; r++) {
        int i = rowsel[r];
        double other = 0, total = 0;
        for (int k = 0; k < nz; k++) {
            double v = i < 0 ? 0 : all->v[i * all->nc + order[k]];
            v = isnan(v) ? 0 : v;
            total += v;
            if (k < named)
                rc = rc ? rc : pivot_add(out, labels[r], all->cols[order[k]], v);
            else
                other += v;
        }
        if (rc == 0 && named < nz)
            rc = pivot_add(out, labels[r], "other", other);
        if (rc == 0)
            rc = pivot_add(out, labels[r], "total", total);
    }
    for (int r = 0; labels && r < nrows; r++)
        free(labels[r]);
    free(labels);
    free(rowsel);
    free(sum);
    free(order);
    return rc == 0 ? (nz > 0 ? nsel : 0) : rc;
}

/* The words for the mechanisms a panel's reasons belong to ("VT-x exits", "monitor traps"...),
 * from the class in front of each reason, e.g. exit(CR_ACCESS). */
static void panel_mechanisms(const struct pivot *p, char *buf, size_t len)
{
    static const char *const names[][2] = {
        { "exit", "VT-x exits" },         { "montrap", "monitor traps" },
        { "callout", "callouts" },        { "hvtrap", "hypervisor traps" },
        { "hypercall", "hypercalls" },
    };
    size_t used = 0;
    buf[0] = 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        for (int j = 0; j < p->nc; j++) {
            size_t n = strlen(names[k][0]);
            if (strncmp(p->cols[j], names[k][0], n) == 0 && p->cols[j][n] == '(') {
                int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", names[k][1]);
                used += w > 0 && (size_t)w < len - used ? (size_t)w : 0;
                break;
            }
        }
}

struct monitor_ctx {
    int npanels;
    char (*names)[64];       /* data file of each panel, without .dat */
    char (*titles)[256];     /* each panel's title */
    struct pivot *panels;
    const char *xlabel;
};

static void monitor_body(void *ctx, FILE *f)
{
    struct monitor_ctx *x = ctx;
    fputs("set datafile missing '-'\nset style data histograms\nset style histogram rowstacked\n"
          "set style fill solid 0.9 border -1\nset boxwidth 0.75\nset grid ytics\n"
          "set key outside right top autotitle columnhead\nset yrange [0:*]\n"
          "set ylabel 'entries per operation'\n",
          f);
    /* The same plot area in every panel, whatever the width of its key. */
    fputs("set lmargin at screen 0.08\nset rmargin at screen 0.74\nset offsets 0, 0, graph 0.12, 0\n", f);
    if (x->npanels > 1)
        fprintf(f, "set multiplot layout %d,1\n", x->npanels);
    for (int k = 0; k < x->npanels; k++) {
        const struct pivot *p = &x->panels[k];
        fputs("set title ", f);
        gp_quoted(f, x->titles[k]);
        fprintf(f, "\nset xtics rotate by -30\n");
        if (x->xlabel)
            fprintf(f, "set xlabel '%s'\n", x->xlabel);
        fprintf(f, "pal = '");
        for (int j = 0; j < p->nc; j++)
            fprintf(f, "%s%s", j ? " " : "",
                    strcmp(p->cols[j], "other") == 0 ? OTHER_COLOUR : palette[j % 7]);
        /* The last column is the total: not a series, the label above each bar, so that the
         * small bars beside a tall one still say how many entries they are. */
        fprintf(f, "'\nplot for [i=2:%d] '%s.dat' using i:xtic(1) title columnheader(i)"
                   " lc rgb word(pal, i - 1), \\\n  '%s.dat' using 0:%d:(column(%d) == 0 ? '' :"
                   " column(%d) >= 100 ? sprintf('%%.0f', column(%d)) : sprintf('%%.2g',"
                   " column(%d))) with labels rotate by 90 left offset 0, 0.4 font ',8'"
                   " notitle\n",
                p->nc, x->names[k], x->names[k], p->nc + 1, p->nc + 1, p->nc + 1, p->nc + 1,
                p->nc + 1);
    }
    if (x->npanels > 1)
        fputs("unset multiplot\n", f);
}

/* Draw the panels of one monitor chart `name` (their data files written here), then its figure
 * and tables in html. */
static int monitor_figure(const char *name, struct monitor_ctx *x, const char *dir, int png,
                          FILE *html, int *fig, const char *title, const char *explain,
                          const char *model_label, const char *corner)
{
    int rc = 0;
    char path[4096];
    for (int k = 0; rc == 0 && k < x->npanels; k++) {
        snprintf(path, sizeof path, "%s/%s.dat", dir, x->names[k]);
        rc = pivot_write(&x->panels[k], path, corner, 1, 0);
        if (rc)
            fprintf(stderr, "vmlab report: %s: %s\n", path, strerror(-rc));
    }
    char size[32];
    snprintf(size, sizeof size, "1000,%d", x->npanels > 1 ? 330 * x->npanels + 40 : 480);
    if (rc == 0)
        rc = write_script(name, dir, size, png, monitor_body, x);
    if (rc == 0 && (rc = run_gnuplot(dir, name)) != 0)
        fprintf(stderr, "vmlab report: gnuplot failed on %s/%s.gp\n", dir, name);
    html_figure(html, name, title, fig, title, explain, model_label);
    for (int k = 0; k < x->npanels; k++) {
        fputs("<details><summary>", html);
        html_text(html, x->titles[k]);
        fprintf(html, ": the numbers (<a href=\"%s.dat\">%s.dat</a>)</summary>\n", x->names[k],
                x->names[k]);
        pivot_html(&x->panels[k], html, corner, 1, NULL);
        fputs("</details>\n", html);
    }
    return rc;
}

/* The monitor chart: all reasons in NAME.dat (one row per workload and mode); a multiplot with
 * one stacked panel per mode (NAME_MODE.dat: top reasons plus other), the outlier workloads in a
 * chart of their own (NAME_outliers), and a table of each workload's entries per operation in
 * every mode (all reasons). */
static int make_monitor(const struct chart *c, const struct pivot *all, sqlite3 *db,
                        const char *dir, const char *model_label, int png, FILE *html, int *fig)
{
    (void)db;
    const char *modes[16];
    int nmodes = 0, rc = 0;
    for (int i = 0; i < all->nr && nmodes < 16; i++) {
        char wl[256];
        const char *m;
        split_row(all->rows[i], wl, sizeof wl, &m);
        int seen = 0;
        for (int k = 0; k < nmodes; k++)
            seen |= strcmp(modes[k], m) == 0;
        if (!seen)
            modes[nmodes++] = m;
    }
    struct pivot panels[17] = { { 0 } };
    char names[17][64], titles[17][256];
    struct monitor_ctx x = { 0, names, titles, panels, NULL };
    for (int k = 0; rc >= 0 && k < nmodes; k++) {
        struct pivot *p = &panels[x.npanels];
        rc = monitor_panel(all, modes[k], p);
        if (rc > 0) {
            char mech[128];
            panel_mechanisms(p, mech, sizeof mech);
            snprintf(names[x.npanels], sizeof names[0], "%s_%s", c->name, modes[k]);
            snprintf(titles[x.npanels], sizeof titles[0], "%s: %s", modes[k], mech);
            x.npanels++;
        } else {
            pivot_free(p);
            memset(p, 0, sizeof *p);
        }
    }
    if (rc >= 0 && x.npanels > 0)
        rc = monitor_figure(c->name, &x, dir, png, html, fig, c->title, c->explain, model_label,
                            "workload");
    /* The outliers on their own. */
    struct pivot out = { 0 };
    int nout = rc >= 0 ? monitor_panel(all, NULL, &out) : 0;
    if (rc >= 0 && nout > 0) {
        char oname[64], otitle[256], explain[1024], list[256] = "";
        for (size_t i = 0; i < sizeof outlier_workloads / sizeof outlier_workloads[0]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     outlier_workloads[i]);
        snprintf(oname, sizeof oname, "%s_outliers", c->name);
        snprintf(otitle, sizeof otitle, "Monitor entries per operation of %s, by reason", list);
        double peak = 0;
        for (int i = 0; i < out.nr; i++) {
            double s = 0;
            for (int j = 0; j < out.nc; j++)
                if (strcmp(out.cols[j], "total") != 0)
                    s += isnan(out.v[i * out.nc + j]) ? 0 : out.v[i * out.nc + j];
            peak = s > peak ? s : peak;
        }
        char peaks[48];
        rt_number(peaks, sizeof peaks, peak);
        snprintf(explain, sizeof explain,
                 "The same counts for %s, one bar per mode: it runs every sensitive "
                 "unprivileged instruction once per operation, up to %s monitor entries per "
                 "operation here, so it is drawn apart rather than flattening the bars of the "
                 "figure above. Reasons as above: the five most frequent of these bars by name, "
                 "the rest as \"other\".",
                 list, peaks);
        snprintf(names[0], sizeof names[0], "%s", oname);
        snprintf(titles[0], sizeof titles[0], "%s", otitle);
        struct monitor_ctx y = { 1, names, titles, &out, "mode" };
        rc = monitor_figure(oname, &y, dir, png, html, fig, otitle, explain, model_label, "mode");
    }
    pivot_free(&out);
    for (int k = 0; k < 17; k++)
        pivot_free(&panels[k]);
    /* Every workload's entries per operation in every mode, all reasons together. */
    struct pivot tot = { 0 };
    for (int i = 0; rc >= 0 && i < all->nr; i++) {
        char wl[256];
        const char *m;
        split_row(all->rows[i], wl, sizeof wl, &m);
        double s = 0;
        for (int j = 0; j < all->nc; j++)
            s += isnan(all->v[i * all->nc + j]) ? 0 : all->v[i * all->nc + j];
        rc = pivot_add(&tot, wl, m, s);
    }
    if (rc >= 0 && tot.nr > 0) {
        fputs("<p class=\"tablehead\">Monitor entries per operation, all reasons together "
              "(every reason of every run: <a href=\"monitor.dat\">monitor.dat</a>):</p>\n",
              html);
        pivot_html(&tot, html, "workload", 1, NULL);
    }
    pivot_free(&tot);
    return rc < 0 ? rc : 0;
}

static int make_chart(const struct chart *c, sqlite3 *db, const char *dir, const char *model,
                      int png, FILE *html, int *fig)
{
    struct pivot p = { 0 };
    char path[4096], model_label[160];
    rt_model_label(db, model, model_label, sizeof model_label);
    int rc = pivot_query(&p, db, c->sql, model);
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/%s.dat", dir, c->name);
        rc = pivot_write(&p, path, c->corner, c->zero_missing, c->logscale);
        if (rc)
            fprintf(stderr, "vmlab report: %s: %s\n", path, strerror(-rc));
    }
    fprintf(html, "<h2>%s</h2>\n", c->title);
    if (rc == 0 && c->caption != NO_CAPTION)
        rc = html_caption(c, db, model, html);
    if (rc == 0 && p.nr > 0 && p.nc > 0 && c->style == TABLE) {
        if (c->caption == CAPTION_MODEL)
            rc = html_aggregate_sentence(db, model, model_label, html);
        fputs("<p class=\"explain\">", html);
        html_explain(html, c->explain, model_label);
        fputs("</p>\n", html);
        pivot_html(&p, html, c->corner, c->zero_missing, NULL);
        fprintf(html, "<p class=\"files\">data: <a href=\"%s.dat\">%s.dat</a></p>\n", c->name,
                c->name);
    } else if (rc == 0 && p.nr > 0 && p.nc > 0 && c->style == MONITOR) {
        rc = make_monitor(c, &p, db, dir, model_label, png, html, fig);
        fprintf(html, "<p class=\"files\">data: <a href=\"%s.dat\">%s.dat</a> (every reason), "
                      "scripts: <a href=\"%s.gp\">%s.gp</a>%s</p>\n",
                c->name, c->name, c->name, c->name, png ? ", PNG beside the SVG" : "");
    } else if (rc == 0 && p.nr > 0 && p.nc > 0) {
        char explain[2048];
        const char *text = c->explain;
        if (c->style == LINES) { /* name every model with its CPU and year */
            size_t used = (size_t)snprintf(explain, sizeof explain, "%s The models: ", text);
            for (int i = 0; i < p.nr && used < sizeof explain; i++) {
                char cpu[320];
                rt_model_cpu(db, p.rows[i], cpu, sizeof cpu);
                used += (size_t)snprintf(explain + used, sizeof explain - used, "%s%s",
                                         i ? "; " : "", cpu);
            }
            if (used < sizeof explain - 1)
                snprintf(explain + used, sizeof explain - used, ".");
            text = explain;
        }
        struct chart_ctx x = { c, &p, db, model_label };
        /* Upright labels (MANY_ROWS) take more height; not more width: the page scales a
         * wider chart down, and its text with it. */
        char size[32];
        snprintf(size, sizeof size, "%d,%d", c->style == STACKED ? 1280 : 960,
                 (c->style == STACKED ? 640 : 540) +
                     (c->style != LINES && p.nr > MANY_ROWS ? 80 : 0));
        rc = write_script(c->name, dir, size, png, chart_body, &x);
        if (rc == 0 && (rc = run_gnuplot(dir, c->name)) != 0)
            fprintf(stderr, "vmlab report: gnuplot failed on %s/%s.gp\n", dir, c->name);
        html_figure(html, c->name, c->title, fig, c->title, text, model_label);
        pivot_html(&p, html, c->corner, c->zero_missing,
                   c->ratio && c->style != LINES ? "native" : NULL);
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
            if ((i == 2 || i == 5) && sqlite3_column_type(st, i) == SQLITE_INTEGER) {
                char num[48]; /* n and instructions with thousands separators */
                rt_number(num, sizeof num, sqlite3_column_double(st, i));
                fputs(num, f);
            } else {
                html_text(f, (const char *)sqlite3_column_text(st, i));
            }
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
                  "figure { margin: 1.5em 0; }\n"
                  "figcaption { margin-top: 0.5em; line-height: 1.4; }\n"
                  "p.stated { font-size: 1.1em; }\n"
                  "details { margin: 0.3em 0; }\n"
                  "</style></head><body>\n<h1>vmlab report</h1>\n<p>Database <code>");
    html_text(html, dbpath);
    fprintf(html, "</code>, cost model <b>");
    html_text(html, model);
    char cpu[320];
    rt_model_cpu(db, model, cpu, sizeof cpu);
    fprintf(html, "</b> (");
    html_text(html, strchr(cpu, ':') ? strchr(cpu, ':') + 2 : cpu);
    fprintf(html, "). Counts are the emulator's; cycles are modeled (count x cycles per "
                  "event from the model, plus instructions x CPI). Per-operation figures use "
                  "the measured phase of the newest successful run of each workload and mode, net of "
                  "the loop's own cost where the workload runs its loop again with an empty body "
                  "(the calibration phase).</p>\n");
    rc = 0;
    int fig = 0; /* figures are numbered as in a paper */
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++)
        if (make_chart(&charts[i], db, dir, model, png, html, &fig))
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
