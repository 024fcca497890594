/*
 * cmd_stat.c — `vmlab stat`: the events of recorded runs as a table shaped like
 * `perf kvm stat report`, priced under one cost model, plus per-mode totals.
 *
 *   vmlab stat --db FILE [--run ID | --workload W] [--model M] [--phase P] [--by-qualifier]
 *              [--csv | --json]
 *
 * Runs are grouped by mode (all selected runs of a mode add up, as perf adds up VMs): with --run
 * one run, with --workload that workload's successful runs, else every successful run. Columns:
 * Samples (events counted), Samples% (of the group's events), Time% (of the group's modeled
 * cycles, instructions included), and Min/Avg/Max modeled cycles per event. Avg is the group's
 * cycles / samples; Min and Max range over the counter rows that make up the line (phases, runs,
 * qualifiers), which differ when count2 adds per-unit costs. A group's totals are those of its
 * event table (the Time% denominators), not a verdict on the mode: summed over workloads they
 * would weigh a mode by its costliest workloads.
 *
 * How the modes compare is read from the views (analysis/views.sql), never summed here: without
 * --run or --workload the text ends with the per-mode aggregate (mode_aggregate: the geometric
 * mean over workloads of each workload's ratio to native, printed by analysis/aggregate.c exactly
 * as `vmlab compare` and `vmlab report` show it); with one, with that workload's ratio to native
 * per mode (workload_ratio). Both use the measured phase of the newest ok run of each workload and
 * mode, whatever --phase says.
 *
 * --csv prints one table: one line per event, then per mode an "(instructions)" and a "(total)"
 * line. --json prints the runs, and per mode its events, totals and what a binary translator
 * translated ("translation", null for the other modes); the text output ends such a mode with a
 * "Translated:" line. It then carries the named per-mode aggregate ("aggregate") and, with --run
 * or --workload, that workload's ratios ("ratios").
 */
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "emu/cli.h"
#include "analysis/aggregate.h"
#include "analysis/analysis.h"
#include "analysis/provenance.h"
#include "emu/commands.h"
#include "traces/tdb.h"

enum out { OUT_TEXT, OUT_CSV, OUT_JSON };

struct opts {
    const char *db, *model, *workload;
    long long run;   /* -1: not given */
    int phase;       /* -1: all phases */
    int by_qualifier;
    enum out out;
};

struct group {
    char mode[64];
    char ids[4096];  /* JSON array of run ids, for json_each */
    int nruns;
    double instructions, insn_cycles, samples, event_cycles;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vmlab stat --db FILE [--run ID | --workload W] [--model M] [--phase P]\n"
               "                  [--by-qualifier] [--csv | --json]\n"
               "  --db FILE   the trace database (vmlab run --db, vmlab compare --db)\n"
               "  --run ID    one run, by its id (default: every successful run)\n"
               "  --workload W  only workload W's runs (default: every workload)\n"
               "  --model M   cost model: a name in the models directory or a YAML file\n"
               "              (default " AN_DEFAULT_MODEL ")\n"
               "  --phase P   all (default), setup, measured, teardown, calibration or a number\n"
               "  --by-qualifier  one row per event qualifier (default: per event reason)\n"
               "  --csv, --json   machine-readable output (default: text tables)\n"
               "  --version   print vmlab's version\n");
}

static int parse_phase(const char *s)
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
    return *end == 0 && v >= 0 ? (int)v : -2;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },      { "run", required_argument, NULL, 'r' },
        { "workload", required_argument, NULL, 'w' }, { "model", required_argument, NULL, 'm' },
        { "phase", required_argument, NULL, 'p' },   { "by-qualifier", no_argument, NULL, 'q' },
        { "csv", no_argument, NULL, 'c' },           { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },          { 0 },
    };
    *o = (struct opts){ .run = -1, .phase = -1 };
    optind = 0;
    for (int c; (c = cli_getopt("stat", argc, argv, "", longopts)) != -1;) {
        char *end;
        switch (c) {
        case 'd': o->db = optarg; break;
        case 'w': o->workload = optarg; break;
        case 'm': o->model = optarg; break;
        case 'q': o->by_qualifier = 1; break;
        case 'c': o->out = OUT_CSV; break;
        case 'j': o->out = OUT_JSON; break;
        case 'h': usage(stdout); return 1;
        case CLI_VERSION: return 1;
        case 'r':
            o->run = strtoll(optarg, &end, 10);
            if (*end || o->run < 0) {
                fprintf(stderr, "vmlab stat: --run takes a run id, not '%s'\n", optarg);
                return -1;
            }
            break;
        case 'p':
            if ((o->phase = parse_phase(optarg)) < -1) {
                fprintf(stderr, "vmlab stat: unknown phase '%s'\n", optarg);
                return -1;
            }
            break;
        default: return -1;     /* cli_getopt printed the one-line error */
        }
    }
    if (optind < argc) {
        cli_error("stat", "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    if (!o->db) {
        cli_error("stat", "--db FILE is required (vmlab stat --help)");
        return -1;
    }
    if (o->run >= 0 && o->workload) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* The selected runs, in mode order; prints the run list in text mode. */
static int select_groups(sqlite3 *db, const struct opts *o, struct group **out, int *ngroups)
{
    sqlite3_stmt *st;
    const char *sql =
        "SELECT id, mode, n, workload, status, coalesce(instructions, 0) FROM run"
        " WHERE (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR workload = ?2)"
        " AND (?1 IS NOT NULL OR status = 'ok')"
        " ORDER BY" AN_MODE_ORDER("mode") ", id";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "vmlab stat: %s\n", sqlite3_errmsg(db));
        return -EIO;
    }
    if (o->run >= 0)
        sqlite3_bind_int64(st, 1, o->run);
    if (o->workload)
        sqlite3_bind_text(st, 2, o->workload, -1, SQLITE_STATIC);
    struct group *g = NULL;
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 1);
        if (n == 0 || strcmp(g[n - 1].mode, mode) != 0) {
            struct group *ng = realloc(g, (n + 1) * sizeof *g);
            if (!ng)
                break;
            g = ng;
            memset(&g[n], 0, sizeof *g);
            snprintf(g[n].mode, sizeof g[n].mode, "%s", mode);
            strcpy(g[n].ids, "[");
            n++;
        }
        struct group *cur = &g[n - 1];
        if (o->out == OUT_TEXT && n == 1 && cur->nruns == 0)
            printf("Runs in %s:\n\n", o->db);
        size_t len = strlen(cur->ids);
        snprintf(cur->ids + len, sizeof cur->ids - len, "%s%lld", cur->nruns ? "," : "",
                 (long long)sqlite3_column_int64(st, 0));
        cur->nruns++;
        if (o->out == OUT_TEXT)
            printf("  run %-4lld %-12s n=%-8s %-12s %-8s %llu instructions\n",
                   (long long)sqlite3_column_int64(st, 0), sqlite3_column_text(st, 3),
                   sqlite3_column_type(st, 2) == SQLITE_NULL ? "-"
                                                             : (const char *)sqlite3_column_text(st, 2),
                   mode, sqlite3_column_text(st, 4),
                   (unsigned long long)sqlite3_column_int64(st, 5));
    }
    sqlite3_finalize(st);
    for (int i = 0; i < n; i++)
        strcat(g[i].ids, "]");
    *out = g;
    *ngroups = n;
    return 0;
}

static int group_totals(sqlite3 *db, const char *model, int phase, struct group *g)
{
    sqlite3_stmt *st;
    const char *sql =
        "SELECT coalesce(sum(CASE WHEN ?3 < 0 OR phase = ?3 THEN instructions END), 0),"
        " coalesce(sum(CASE WHEN ?3 < 0 OR phase = ?3 THEN insn_cycles END), 0),"
        " coalesce(sum(CASE WHEN ?3 < 0 OR phase = ?3 THEN events END), 0),"
        " coalesce(sum(CASE WHEN ?3 < 0 OR phase = ?3 THEN event_cycles END), 0)"
        " FROM phase_cost WHERE model = ?1 AND run_id IN (SELECT value FROM json_each(?2))";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, g->ids, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, phase);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -EIO;
    if (rc == 0) {
        g->instructions = sqlite3_column_double(st, 0);
        g->insn_cycles = sqlite3_column_double(st, 1);
        g->samples = sqlite3_column_double(st, 2);
        g->event_cycles = sqlite3_column_double(st, 3);
    }
    sqlite3_finalize(st);
    return rc;
}

static void print_events_header(const struct group *g, const struct opts *o, const char *model)
{
    if (o->out == OUT_TEXT) {
        printf("\nAnalyze events for mode %s (run%s %.*s), model %s, %s:\n\n", g->mode,
               g->nruns > 1 ? "s" : "", (int)strlen(g->ids) - 2, g->ids + 1, model,
               o->phase < 0 ? "all phases" : o->phase == 1 ? "measured phase" : "one phase");
        printf("%28s %10s %9s %9s %12s %12s %12s\n\n", "Event", "Samples", "Samples%", "Time%",
               "Min Cycles", "Max Cycles", "Avg Cycles");
    } else if (o->out == OUT_JSON) {
        printf("%s\n    {\"mode\": ", g == NULL ? "" : "");
        an_json_str(stdout, g->mode);
        printf(", \"runs\": %s, \"events\": [", g->ids);
    }
}

static int print_events(sqlite3 *db, const struct group *g, const struct opts *o,
                        const char *model)
{
    sqlite3_stmt *st;
    const char *sql =
        "SELECT event || CASE WHEN ?4 AND qualifier <> '' THEN ' ' || qualifier ELSE '' END AS ev,"
        " sum(count), sum(cycles), min(cycles / count), max(cycles / count)"
        " FROM priced_count WHERE model = ?1 AND run_id IN (SELECT value FROM json_each(?2))"
        " AND (?3 < 0 OR phase = ?3) AND count > 0"
        " GROUP BY ev ORDER BY 2 DESC, 1";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "vmlab stat: %s\n", sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, g->ids, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, o->phase);
    sqlite3_bind_int(st, 4, o->by_qualifier);
    double total = g->insn_cycles + g->event_cycles;
    int first = 1;
    print_events_header(g, o, model);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *ev = (const char *)sqlite3_column_text(st, 0);
        long long samples = sqlite3_column_int64(st, 1);
        double cycles = sqlite3_column_double(st, 2);
        double mn = sqlite3_column_double(st, 3), mx = sqlite3_column_double(st, 4);
        double spct = g->samples > 0 ? 100.0 * samples / g->samples : 0;
        double tpct = total > 0 ? 100.0 * cycles / total : 0;
        double avg = samples ? cycles / samples : 0;
        if (o->out == OUT_TEXT) {
            printf("%28s %10lld %8.2f%% %8.2f%% %12.1f %12.1f %12.1f\n", ev, samples, spct, tpct,
                   mn, mx, avg);
        } else if (o->out == OUT_CSV) {
            an_csv_str(stdout, g->mode);
            putchar(',');
            an_csv_str(stdout, ev);
            printf(",%lld,%.4f,%.4f,%.2f,%.2f,%.2f,%.1f\n", samples, spct, tpct, mn, avg, mx,
                   cycles);
        } else {
            printf("%s\n      {\"event\": ", first ? "" : ",");
            an_json_str(stdout, ev);
            printf(", \"samples\": %lld, \"samples_pct\": %.4f, \"time_pct\": %.4f,"
                   " \"min_cycles\": %.2f, \"avg_cycles\": %.2f, \"max_cycles\": %.2f,"
                   " \"cycles\": %.1f}",
                   samples, spct, tpct, mn, avg, mx, cycles);
        }
        first = 0;
    }
    sqlite3_finalize(st);
    return 0;
}

static void print_group_footer(const struct group *g, const struct opts *o)
{
    double total = g->insn_cycles + g->event_cycles;
    if (o->out == OUT_TEXT) {
        printf("\nTotal Samples:%.0f, Total modeled cycles:%.0f (events %.2f%%, instructions "
               "%.2f%%, %.0f instructions)\n",
               g->samples, total, total > 0 ? 100 * g->event_cycles / total : 0,
               total > 0 ? 100 * g->insn_cycles / total : 0, g->instructions);
    } else if (o->out == OUT_CSV) {
        double cpi = g->instructions > 0 ? g->insn_cycles / g->instructions : 0;
        an_csv_str(stdout, g->mode);
        printf(",(instructions),%.0f,,%.4f,%.2f,%.2f,%.2f,%.1f\n", g->instructions,
               total > 0 ? 100 * g->insn_cycles / total : 0, cpi, cpi, cpi, g->insn_cycles);
        an_csv_str(stdout, g->mode);
        printf(",(total),%.0f,100.0000,100.0000,,,,%.1f\n", g->samples, total);
    } else {
        printf("\n    ], \"totals\": {\"instructions\": %.0f, \"instruction_cycles\": %.1f,"
               " \"samples\": %.0f, \"event_cycles\": %.1f, \"cycles\": %.1f}",
               g->instructions, g->insn_cycles, g->samples, g->event_cycles, total);
    }
}

/* What a binary translator translated in the group's runs (table translation): a text line, or
 * in JSON the group's "translation" member (null without translations), which closes the group
 * object print_group_footer left open. */
static void print_translation(sqlite3 *db, const struct group *g, const struct opts *o)
{
    sqlite3_stmt *st;
    const char *sql =
        "SELECT sum(kind = 'unit'), sum(kind = 'trampoline'), sum(insns), sum(guest_bytes),"
        " sum(tc_bytes) FROM translation WHERE run_id IN (SELECT value FROM json_each(?1))"
        " AND (?2 < 0 OR phase = ?2)";
    long long v[5];
    bool have = false;
    if (o->out != OUT_CSV && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, g->ids, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, o->phase);
        have = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
        for (int i = 0; have && i < 5; i++)
            v[i] = sqlite3_column_int64(st, i);
        sqlite3_finalize(st);
    }
    double ratio = have && v[3] > 0 ? (double)v[4] / (double)v[3] : 0;
    if (o->out == OUT_TEXT && have)
        printf("Translated: %lld units and %lld trampolines, %lld guest instructions, %lld guest "
               "bytes in, %lld TC bytes out (%.2fx)\n", v[0], v[1], v[2], v[3], v[4], ratio);
    if (o->out != OUT_JSON)
        return;
    if (have)
        printf(", \"translation\": {\"units\": %lld, \"trampolines\": %lld, \"insns\": %lld,"
               " \"guest_bytes\": %lld, \"tc_bytes\": %lld, \"expansion\": %.4f}}", v[0], v[1],
               v[2], v[3], v[4], ratio);
    else
        printf(", \"translation\": null}");
}

/* The workload --run or --workload selects, into buf; false when neither is given. */
static bool selected_workload(sqlite3 *db, const struct opts *o, char *buf, size_t len)
{
    sqlite3_stmt *st;
    *buf = 0;
    if (o->workload)
        snprintf(buf, len, "%s", o->workload);
    else if (o->run >= 0 &&
             sqlite3_prepare_v2(db, "SELECT workload FROM run WHERE id = ?", -1, &st, NULL) ==
                 SQLITE_OK) {
        sqlite3_bind_int64(st, 1, o->run);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    return *buf != 0;
}

static void json_number(double v)
{
    if (isnan(v))
        printf("null");
    else
        printf("%.6f", v);
}

static double column_or_nan(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

/* One workload's ratio to native per mode (view workload_ratio): a text table, or the JSON
 * member "ratios". */
static int print_ratios(sqlite3 *db, const struct opts *o, const char *model, const char *wl)
{
    static const char sql[] =
        "SELECT mode, run_id, cycles_per_op, ratio, excluded, loop_cycles_per_op"
        " FROM workload_ratio WHERE model = ?1 AND workload = ?2 ORDER BY" AN_MODE_ORDER("mode");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "vmlab stat: %s\n", sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, wl, -1, SQLITE_STATIC);
    if (o->out == OUT_TEXT)
        printf("\nRatio to native, workload %s, model %s (modeled cycles per operation of the "
               "newest ok run, measured phase, net of the loop's own cost where the workload "
               "calibrates it):\n\n%14s %6s %14s %10s %12s\n", wl, model, "Mode", "Run",
               "Cycles/op", "vs native", "Loop/op");
    else
        printf(", \"ratios\": [");
    int i = 0;
    for (; sqlite3_step(st) == SQLITE_ROW; i++) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        const char *why = (const char *)sqlite3_column_text(st, 4);
        double op = column_or_nan(st, 2), ratio = column_or_nan(st, 3);
        double loop = column_or_nan(st, 5);
        long long run = sqlite3_column_int64(st, 1);
        if (o->out == OUT_TEXT) {
            char ops[32] = "-", rel[32] = "-", lop[32] = "-";
            if (!isnan(op))
                snprintf(ops, sizeof ops, "%.1f", op);
            if (!isnan(ratio))
                snprintf(rel, sizeof rel, "%.2fx", ratio);
            if (!isnan(loop))
                snprintf(lop, sizeof lop, "%.1f", loop);
            printf("%14s %6lld %14s %10s %12s%s%s%s\n", mode, run, ops, rel, lop,
                   why ? " (" : "", why ? why : "", why ? ")" : "");
            continue;
        }
        printf("%s\n  {\"mode\": ", i ? "," : "");
        an_json_str(stdout, mode);
        printf(", \"run\": %lld, \"cycles_per_op\": ", run);
        json_number(op);
        printf(", \"loop_cycles_per_op\": ");
        json_number(loop);
        printf(", \"ratio\": ");
        json_number(ratio);
        printf(", \"excluded\": ");
        if (why)
            an_json_str(stdout, why);
        else
            printf("null");
        printf("}");
    }
    if (o->out == OUT_JSON)
        printf("]");
    else if (i == 0)
        printf("%14s (no ok run of workload %s)\n", "-", wl);
    sqlite3_finalize(st);
    return 0;
}

/* The JSON member "aggregate": the rows of mode_aggregate for the model, with their name. */
static void print_aggregate_json(const struct an_aggregate *a, int n, const char *model)
{
    char label[160], left[1024];
    an_aggregate_label(a, n, label, sizeof label);
    an_aggregate_left_out(a, n, left, sizeof left);
    printf(",\n\"aggregate\": {\"name\": ");
    an_json_str(stdout, AN_AGGREGATE_NAME);
    printf(", \"label\": ");
    an_json_str(stdout, label);
    printf(", \"model\": ");
    an_json_str(stdout, model);
    printf(", \"left_out\": ");
    an_json_str(stdout, left);
    printf(", \"modes\": [");
    for (int i = 0; i < n; i++) {
        printf("%s\n  {\"mode\": ", i ? "," : "");
        an_json_str(stdout, a[i].mode);
        printf(", \"workloads\": %d, \"geomean_ratio\": ", a[i].workloads);
        json_number(a[i].geomean);
        printf(", \"excluded\": %d, \"without_native\": %d}", a[i].excluded,
               a[i].without_native);
    }
    printf("]}");
}

/* How the modes compare (text and JSON; nothing for CSV): the selected workload's ratios, and in
 * JSON or without a selection, the per-mode aggregate. */
static int print_comparison(sqlite3 *db, const struct opts *o, const char *model)
{
    char wl[256];
    bool one = selected_workload(db, o, wl, sizeof wl);
    if (o->out == OUT_CSV)
        return 0;
    if (one && print_ratios(db, o, model, wl))
        return -EIO;
    if (one && o->out == OUT_TEXT)
        return 0;
    struct an_aggregate *a;
    int n = an_aggregate_load(db, model, &a, "stat");
    if (n >= 0 && o->out == OUT_TEXT) {
        putchar('\n');
        an_aggregate_print(stdout, a, n, model);
    } else if (n >= 0) {
        print_aggregate_json(a, n, model);
    }
    free(a);
    return n < 0 ? -EIO : 0;
}

/* After the text output: one line naming the carried and estimated numbers of the model that
 * priced the selected runs (analysis/provenance.h). */
static int print_unsourced(sqlite3 *db, const struct group *g, int n, const struct opts *o,
                           const char *model)
{
    char *ids = NULL, err[256];
    size_t len = 0;
    FILE *f = open_memstream(&ids, &len);
    if (!f)
        return -ENOMEM;
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? "," : "[", g[i].ids);
    fputc(']', f);
    int rc = fclose(f) ? -ENOMEM : 0;
    putchar('\n');
    if (rc == 0 && (rc = prov_print_line(db, model, ids, o->phase, stdout, err, sizeof err)))
        fprintf(stderr, "vmlab stat: %s\n", err);
    free(ids);
    return rc;
}

int cmd_stat(int argc, char **argv)
{
    struct opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : 2;
    struct tdb *t = an_open_existing(o.db, "stat");
    if (!t)
        return 2;
    sqlite3 *db = tdb_sqlite(t);
    char model[128];
    struct group *g = NULL;
    int ng = 0;
    if (an_pick_model(db, o.model, model, sizeof model, "stat")) {
        tdb_close(t);
        return 2;
    }
    if (select_groups(db, &o, &g, &ng) || ng == 0) {
        fprintf(stderr, "vmlab stat: no %sruns match\n", o.run >= 0 ? "" : "successful ");
        free(g);
        tdb_close(t);
        return 1;
    }
    for (int i = 0; i < ng; i++) {
        if (group_totals(db, model, o.phase, &g[i])) {
            fprintf(stderr, "vmlab stat: %s\n", sqlite3_errmsg(db));
            rc = 1;
        }
    }
    if (o.out == OUT_CSV)
        printf("mode,event,samples,samples_pct,time_pct,min_cycles,avg_cycles,max_cycles,"
               "cycles\n");
    if (o.out == OUT_JSON) {
        printf("{\"database\": ");
        an_json_str(stdout, o.db);
        printf(", \"model\": ");
        an_json_str(stdout, model);
        printf(", \"phase\": %d, \"modes\": [", o.phase);
    }
    for (int i = 0; rc == 0 && i < ng; i++) {
        if (o.out == OUT_JSON && i)
            putchar(',');
        rc = print_events(db, &g[i], &o, model);
        print_group_footer(&g[i], &o);
        print_translation(db, &g[i], &o);
    }
    if (o.out == OUT_JSON)
        printf("\n]");
    if (rc == 0 && print_comparison(db, &o, model))
        rc = 1;
    if (rc == 0 && o.out == OUT_TEXT && print_unsourced(db, g, ng, &o, model))
        rc = 1;
    if (o.out == OUT_JSON)
        printf("}\n");
    free(g);
    tdb_close(t);
    return rc ? 1 : 0;
}
