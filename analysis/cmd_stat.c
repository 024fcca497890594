/*
 * cmd_stat.c — `vmlab stat`: the events of recorded runs as a table shaped like
 * `perf kvm stat report`, priced under one cost model, plus per-mode totals.
 *
 *   vmlab stat --db FILE [--run ID,...] [--workload W,...] [--mode M,...] [--event CLASS,...]
 *              [--model M] [--phase P] [--sort KEY] [--all-events] [--by-qualifier]
 *              [--csv | --json]
 *
 * The database is only read (an_open_existing: read-only, the cost model loaded into the
 * connection's temp schema), so a user who may not write it or its directory can run this.
 *
 * Selection: --run, --workload and --mode each take a comma-separated list and combine (a run must
 * match every one given); without --run only successful runs count. Each value must be one the
 * database holds, else one line lists those it does. --event keeps the events of the given classes
 * (emu/event_classes.def names), like `perf kvm stat --event`.
 *
 * Text: runs are grouped by mode (all selected runs of a mode add up, as perf adds up VMs). The
 * table lists the events that cost cycles under the model: perf's samples are exits, and the
 * instruction classes a mode runs at no cost (natively, priv(push_seg) and its kind) would
 * otherwise make up most of Samples%; a "Not shown:" line counts them, --all-events lists them.
 * Columns: Samples (events counted), Samples% (of the listed events), Time% (of the group's
 * modeled cycles, instructions included), then the modeled cycles per event: one Cycles/event
 * column when every line's counter rows cost the same per event (fixed costs), else Min, Avg and
 * Max (Avg the line's cycles / samples, Min and Max over the counter rows that make it up: phases,
 * runs, qualifiers, which differ when count2 adds per-unit costs); and Per op (samples / the runs'
 * n) when the group is one workload's runs. Rows are ordered by --sort. A group's totals are those
 * of its event table (the Time% denominators), not a verdict on the mode: summed over workloads
 * they would weigh a mode by its costliest workloads. A binary translator's group ends with a
 * "Translated:" line.
 *
 * How the modes compare is read from the views (analysis/views.sql), never summed here: unless
 * the selection (by --run or --workload) is one workload's, the text ends with the per-mode
 * aggregate (mode_aggregate: the geometric mean over workloads of each workload's ratio to native,
 * printed by analysis/aggregate.c exactly as `vmlab compare` and `vmlab report` show it); else
 * with that workload's ratio to native per mode (workload_ratio). Both use the measured phase of
 * the newest ok run of each workload and mode, whatever --phase says.
 *
 * --csv and --json are long format, for pandas or R: one row per selected run and event (run,
 * workload, n, mode, model, phase, class, event, count, per_op = count / n, cycles), the same
 * filters and cost rule as the table, plus one row of class insn, event "(instructions)" per run,
 * so that a run's rows add up to its modeled cycles. --json puts the rows in "rows" and adds the
 * named per-mode aggregate ("aggregate") and, for one workload's selection, its ratios
 * ("ratios"). Giving both is an error.
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

/* --sort KEY: the order of the event rows (descending; ties and `event` by name). `time` is
 * `cycles` (Time% is a group's cycles over one denominator). */
static const struct { const char *name, *order; } sort_keys[] = {
    { "samples", "samples DESC, ev" }, { "cycles", "cycles DESC, ev" },
    { "time", "cycles DESC, ev" },     { "avg", "cycles / samples DESC, ev" },
    { "event", "ev" },
};

struct opts {
    const char *db, *model;
    char *runs, *workloads, *modes, *events; /* comma-separated lists, NULL: any */
    int phase;       /* -1: all phases */
    int by_qualifier, all_events;
    unsigned sort;   /* index into sort_keys */
    bool csv, json;
    enum out out;
};

struct group {
    char mode[64];
    char *ids;       /* JSON array of run ids, for json_each */
    int nruns;
    char workload[128];
    bool one_workload; /* every run of the group is of `workload` */
    double sum_n;    /* the runs' n added up (0 when one has none) */
    double instructions, insn_cycles, samples, event_cycles;
};

/* What the selection is made of, beyond the groups: every selected run id (JSON array) and,
 * when the runs are of one workload, its name. */
struct selection {
    char *ids;
    char workload[128];
    int workloads;   /* distinct workloads among the selected runs */
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vmlab stat --db FILE [--run ID,...] [--workload W,...] [--mode M,...]\n"
        "                  [--event CLASS,...] [--model M] [--phase P] [--sort KEY]\n"
        "                  [--all-events] [--by-qualifier] [--csv | --json]\n"
        "  --db FILE       the trace database (vmlab run --db, vmlab compare --db); only read\n"
        "  --run ID,...    only these runs, by database id, whatever their status\n"
        "                  (default: every successful run)\n"
        "  --workload W,...  only these workloads' runs (default: every workload)\n"
        "  --mode M,...    only these modes' runs: native, trap, trap-classic, bt, pv\n"
        "                  (default: every mode); filters combine (--run 1 --workload syscall)\n"
        "  --event CLASS,...  only events of these classes, as `perf kvm stat --event`: exit,\n"
        "                  fault, io, priv, hypercall, montrap, ... or insn for the\n"
        "                  instructions row of --csv/--json (default: every class)\n"
        "  --model M       cost model: a name in the models directory or a YAML file\n"
        "                  (default " AN_DEFAULT_MODEL ", else the oldest model in the database)\n"
        "  --phase P       all (default), setup, measured, teardown, calibration or a number\n"
        "  --sort KEY      samples (default), cycles, time (= cycles), avg (cycles per event)\n"
        "                  or event (by name)\n"
        "  --all-events    also the events that cost nothing under the model, e.g. the\n"
        "                  instruction classes priv() natively (default: only events that cost\n"
        "                  cycles, which are what Samples%% is of)\n"
        "  --by-qualifier  one row per event qualifier (default: per event reason)\n"
        "  --csv, --json   long format, one row per run and event (run, workload, n, mode, model,\n"
        "                  phase, class, event, count, per_op, cycles) for pandas or R; --json\n"
        "                  adds the comparison of the modes (default: text tables)\n"
        "  --version       print vmlab's version\n");
}

/* A --run/--workload/--mode/--event value: the comma-separated list without blanks and empty
 * items (malloc'd; NULL and a message when it names nothing). */
static char *parse_list(const char *opt, const char *arg)
{
    char *out = malloc(strlen(arg) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = arg; *p; p++) {
        if (*p == ' ' || *p == '\t' || (*p == ',' && (o == out || o[-1] == ',')))
            continue;
        *o++ = *p;
    }
    if (o > out && o[-1] == ',')
        o--;
    *o = 0;
    if (!*out) {
        cli_error("stat", "%s needs a value ('%s' names nothing)", opt, arg);
        free(out);
        return NULL;
    }
    return out;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        { "db", required_argument, NULL, 'd' },      { "run", required_argument, NULL, 'r' },
        { "workload", required_argument, NULL, 'w' }, { "model", required_argument, NULL, 'm' },
        { "mode", required_argument, NULL, 'M' },    { "event", required_argument, NULL, 'e' },
        { "sort", required_argument, NULL, 's' },    { "all-events", no_argument, NULL, 'a' },
        { "phase", required_argument, NULL, 'p' },   { "by-qualifier", no_argument, NULL, 'q' },
        { "csv", no_argument, NULL, 'c' },           { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },          { 0 },
    };
    *o = (struct opts){ .phase = -1 };
    optind = 0;
    for (int c; (c = cli_getopt("stat", argc, argv, "", longopts)) != -1;) {
        char **list = NULL;
        const char *optname = "";
        switch (c) {
        case 'd': o->db = optarg; break;
        case 'm': o->model = optarg; break;
        case 'q': o->by_qualifier = 1; break;
        case 'a': o->all_events = 1; break;
        case 'c': o->csv = true; break;
        case 'j': o->json = true; break;
        case 'h': usage(stdout); return 1;
        case CLI_VERSION: return 1;
        case 'r': list = &o->runs, optname = "--run"; break;
        case 'w': list = &o->workloads, optname = "--workload"; break;
        case 'M': list = &o->modes, optname = "--mode"; break;
        case 'e': list = &o->events, optname = "--event"; break;
        case 's': {
            unsigned k = 0;
            while (k < sizeof sort_keys / sizeof sort_keys[0] && strcmp(sort_keys[k].name, optarg))
                k++;
            if (k == sizeof sort_keys / sizeof sort_keys[0]) {
                cli_error("stat", "--sort takes samples, cycles, time, avg or event, not '%s'",
                          optarg);
                return -1;
            }
            o->sort = k;
            break;
        }
        case 'p':
            if ((o->phase = an_parse_phase(optarg)) < -1) {
                cli_error("stat", "unknown phase '%s' (all, setup, measured, teardown, "
                                  "calibration or a number)", optarg);
                return -1;
            }
            break;
        default: return -1;     /* cli_getopt printed the one-line error */
        }
        if (list) {
            free(*list);
            if (!(*list = parse_list(optname, optarg)))
                return -1;
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
    if (o->csv && o->json) {
        cli_error("stat", "--csv and --json are exclusive: give one");
        return -1;
    }
    for (const char *p = o->runs; p && *p; p++)
        if ((*p < '0' || *p > '9') && *p != ',') {
            cli_error("stat", "--run takes run ids (numbers, comma-separated), not '%s'", o->runs);
            return -1;
        }
    o->out = o->csv ? OUT_CSV : o->json ? OUT_JSON : OUT_TEXT;
    return 0;
}

static void free_opts(struct opts *o)
{
    free(o->runs);
    free(o->workloads);
    free(o->modes);
    free(o->events);
}

/* SQL: whether column `col` is an item of the comma-separated list in parameter `p` (or `p` is
 * NULL). */
#define IN_LIST(p, col) " (" p " IS NULL OR instr(',' || " p " || ',', ',' || " col " || ','))"

/* Every item of `list` (NULL: nothing to check) must be a value of `sql`'s only column, else
 * one line naming the item and the values there are. */
static int check_list(sqlite3 *db, const char *what, const char *list, const char *sql,
                      const char *dbname)
{
    if (!list)
        return 0;
    char *known = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&known, &len);
    sqlite3_stmt *st;
    if (!f || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        if (f)
            fclose(f);
        free(known);
        fprintf(stderr, "vmlab stat: %s\n", sqlite3_errmsg(db));
        return -EIO;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(f, ",%s", (const char *)sqlite3_column_text(st, 0));
    fputc(',', f);  /* ",a,b,c," */
    sqlite3_finalize(st);
    fclose(f);
    int rc = 0;
    char item[256];
    for (const char *p = list; *p && rc == 0; p += strcspn(p, ","), p += *p == ',') {
        snprintf(item, sizeof item, ",%.*s,", (int)strcspn(p, ","), p);
        if (!known || !strstr(known, item)) {
            size_t kl = known ? strlen(known) : 0;
            int show = kl > 2 ? (int)kl - 2 : 4;
            cli_error("stat", "no %s %.*s in %s (known: %.*s%s)", what, (int)strlen(item) - 2,
                      item + 1, dbname, show > 200 ? 200 : show, kl > 2 ? known + 1 : "none",
                      show > 200 ? "..." : "");
            rc = -ENOENT;
        }
    }
    free(known);
    return rc;
}

/* Append `sep` and (unless negative) `id` to the malloc'd string *s (NULL: empty). */
static int append(char **s, const char *sep, long long id)
{
    size_t len = *s ? strlen(*s) : 0;
    char *ns = realloc(*s, len + strlen(sep) + 24);
    if (!ns)
        return -ENOMEM;
    if (id >= 0)
        sprintf(ns + len, "%s%lld", sep, id);
    else
        sprintf(ns + len, "%s", sep);
    *s = ns;
    return 0;
}

/* The selected runs, grouped by mode in mode order, and the whole selection; prints the run
 * list in text mode. */
static int select_groups(sqlite3 *db, const struct opts *o, struct group **out, int *ngroups,
                         struct selection *sel)
{
    sqlite3_stmt *st;
    const char *sql =
        "SELECT id, mode, n, workload, status, coalesce(instructions, 0) FROM run"
        " WHERE" IN_LIST("?1", "id") " AND" IN_LIST("?2", "workload") " AND" IN_LIST("?3", "mode")
        " AND (?1 IS NOT NULL OR status = 'ok')"
        " ORDER BY" AN_MODE_ORDER("mode") ", id";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "vmlab stat: %s\n", sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_text(st, 1, o->runs, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, o->workloads, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, o->modes, -1, SQLITE_STATIC);
    struct group *g = NULL;
    int n = 0;
    size_t all_len = 0;
    FILE *all = open_memstream(&sel->ids, &all_len);
    if (!all) {
        sqlite3_finalize(st);
        return -ENOMEM;
    }
    fputc('[', all);
    while (sqlite3_step(st) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        const char *mode = (const char *)sqlite3_column_text(st, 1);
        const char *wl = (const char *)sqlite3_column_text(st, 3);
        if (n == 0 || strcmp(g[n - 1].mode, mode) != 0) {
            struct group *ng = realloc(g, (n + 1) * sizeof *g);
            if (!ng)
                break;
            g = ng;
            memset(&g[n], 0, sizeof *g);
            snprintf(g[n].mode, sizeof g[n].mode, "%s", mode);
            snprintf(g[n].workload, sizeof g[n].workload, "%s", wl);
            g[n].one_workload = true;
            n++;
        }
        struct group *cur = &g[n - 1];
        if (o->out == OUT_TEXT && n == 1 && cur->nruns == 0)
            printf("Runs in %s:\n\n", o->db);
        if (sel->workloads == 0 || (sel->workloads == 1 && strcmp(sel->workload, wl))) {
            sel->workloads++;
            snprintf(sel->workload, sizeof sel->workload, "%s", wl);
        }
        if (append(&cur->ids, cur->nruns ? "," : "[", id))
            break;
        fprintf(all, "%s%lld", ftell(all) > 1 ? "," : "", id);
        cur->one_workload = cur->one_workload && strcmp(cur->workload, wl) == 0;
        bool has_n = sqlite3_column_type(st, 2) != SQLITE_NULL;
        cur->sum_n = (cur->nruns == 0 || cur->sum_n > 0) && has_n
                         ? cur->sum_n + sqlite3_column_double(st, 2) : 0;
        cur->nruns++;
        if (o->out == OUT_TEXT)
            printf("  run %-4lld %-12s n=%-8s %-12s %-8s %llu instructions\n", id, wl,
                   has_n ? (const char *)sqlite3_column_text(st, 2) : "-", mode,
                   sqlite3_column_text(st, 4), (unsigned long long)sqlite3_column_int64(st, 5));
    }
    sqlite3_finalize(st);
    fputc(']', all);
    fclose(all);
    for (int i = 0; i < n; i++)
        append(&g[i].ids, "]", -1);
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

/* One line of a group's event table. */
struct ev_row {
    char *ev, *cls;
    long long samples;
    double cycles, min, max;
};

/* The label of an event row: the view's event, with its qualifier under --by-qualifier. */
#define EV_LABEL "event || CASE WHEN ?4 AND qualifier <> '' THEN ' ' || qualifier ELSE '' END"

/* A group's event rows under --event and --sort, zero-cost ones included (the caller leaves them
 * out without --all-events); -errno on failure. */
static int load_events(sqlite3 *db, const struct group *g, const struct opts *o,
                       const char *model, struct ev_row **out, int *nrows)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT * FROM (SELECT " EV_LABEL " AS ev, min(class_name), sum(count) AS samples,"
             " sum(cycles) AS cycles, min(cycles / count), max(cycles / count)"
             " FROM priced_count WHERE model = ?1 AND run_id IN (SELECT value FROM json_each(?2))"
             " AND (?3 < 0 OR phase = ?3) AND count > 0 AND" IN_LIST("?5", "class_name")
             " GROUP BY ev) ORDER BY %s", sort_keys[o->sort].order);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "vmlab stat: %s\n", sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, g->ids, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, o->phase);
    sqlite3_bind_int(st, 4, o->by_qualifier);
    sqlite3_bind_text(st, 5, o->events, -1, SQLITE_STATIC);
    struct ev_row *r = NULL;
    int n = 0, rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        struct ev_row *nr = realloc(r, (n + 1) * sizeof *r);
        if (!nr) {
            rc = -ENOMEM;
            break;
        }
        r = nr;
        r[n] = (struct ev_row){ strdup((const char *)sqlite3_column_text(st, 0)),
                                strdup((const char *)sqlite3_column_text(st, 1)),
                                sqlite3_column_int64(st, 2), sqlite3_column_double(st, 3),
                                sqlite3_column_double(st, 4), sqlite3_column_double(st, 5) };
        n++;
    }
    sqlite3_finalize(st);
    *out = r;
    *nrows = n;
    return rc;
}

static void free_events(struct ev_row *r, int n)
{
    for (int i = 0; i < n; i++) {
        free(r[i].ev);
        free(r[i].cls);
    }
    free(r);
}

static const char *phase_label(int phase, char *buf, size_t len)
{
    static const char *const names[] = { "set-up", "measured", "tear-down", "calibration",
                                         "between" };
    if (phase < 0)
        return "all";
    if ((size_t)phase < sizeof names / sizeof names[0])
        return names[phase];
    snprintf(buf, len, "%d", phase);
    return buf;
}

/* A group's text table: the events that cost cycles (every event with --all-events), one
 * Cycles/event column when every row's events all cost the same (fixed costs) and Min/Avg/Max
 * otherwise, Per op when the group is one workload's runs; then its totals, and a line saying
 * what was left out. */
static int print_group_text(sqlite3 *db, const struct group *g, const struct opts *o,
                            const char *model)
{
    struct ev_row *r = NULL;
    int n = 0, rc = load_events(db, g, o, model, &r, &n);
    if (rc) {
        free_events(r, n);
        return rc;
    }
    long long shown = 0, hidden = 0;
    int nhidden = 0;
    bool vary = false;
    char classes[256] = "";
    for (int i = 0; i < n; i++) {
        if (!o->all_events && r[i].cycles <= 0) {
            hidden += r[i].samples;
            nhidden++;
            char item[40];
            snprintf(item, sizeof item, "%s()", r[i].cls);
            if (!strstr(classes, item) && strlen(classes) + strlen(item) + 3 < sizeof classes)
                snprintf(classes + strlen(classes), sizeof classes - strlen(classes), "%s%s",
                         *classes ? ", " : "", item);
            continue;
        }
        shown += r[i].samples;
        vary = vary || fabs(r[i].max - r[i].min) > 1e-9 * fabs(r[i].max);
    }
    bool per_op = g->one_workload && g->sum_n > 0;
    char pbuf[16];
    printf("\nAnalyze events for mode %s (run%s %.*s), model %s, %s phase%s, %s, sorted by %s:\n\n",
           g->mode, g->nruns > 1 ? "s" : "", (int)strlen(g->ids) - 2, g->ids + 1, model,
           phase_label(o->phase, pbuf, sizeof pbuf), o->phase < 0 ? "s" : "",
           o->all_events ? "every event" : "events that cost cycles", sort_keys[o->sort].name);
    printf("%28s %10s %9s %9s", "Event", "Samples", "Samples%", "Time%");
    if (vary)
        printf(" %12s %12s %12s", "Min Cycles", "Avg Cycles", "Max Cycles");
    else
        printf(" %12s", "Cycles/event");
    if (per_op)
        printf(" %10s", "Per op");
    printf("\n\n");
    double total = g->insn_cycles + g->event_cycles;
    for (int i = 0; i < n; i++) {
        if (!o->all_events && r[i].cycles <= 0)
            continue;
        double avg = r[i].samples ? r[i].cycles / (double)r[i].samples : 0;
        printf("%28s %10lld %8.2f%% %8.2f%%", r[i].ev, r[i].samples,
               shown > 0 ? 100.0 * (double)r[i].samples / (double)shown : 0,
               total > 0 ? 100.0 * r[i].cycles / total : 0);
        if (vary)
            printf(" %12.1f %12.1f %12.1f", r[i].min, avg, r[i].max);
        else
            printf(" %12.1f", avg);
        if (per_op)
            printf(" %10.3f", (double)r[i].samples / g->sum_n);
        putchar('\n');
    }
    if (n == nhidden)
        printf("%28s\n", "(none)");
    printf("\nTotal Samples:%lld, Total modeled cycles:%.0f (events %.2f%%, instructions "
           "%.2f%%, %.0f instructions)\n",
           shown, total, total > 0 ? 100 * g->event_cycles / total : 0,
           total > 0 ? 100 * g->insn_cycles / total : 0, g->instructions);
    if (nhidden)
        printf("Not shown: %d event%s that cost nothing under %s (%lld samples: %s); "
               "--all-events lists them\n", nhidden, nhidden > 1 ? "s" : "", model, hidden,
               classes);
    free_events(r, n);
    return 0;
}

/* --csv and --json: the long format, one row per selected run and event (and one `insn` row
 * per run for its instructions), in mode order, then by run, then by --sort. */
static int print_long(sqlite3 *db, const struct selection *sel, const struct opts *o,
                      const char *model)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT * FROM ("
             " SELECT r.id, r.workload, r.n, r.mode, min(pc.class_name) AS cls, " EV_LABEL " AS ev,"
             "  sum(pc.count) AS samples, sum(pc.cycles) AS cycles"
             " FROM priced_count pc JOIN run r ON r.id = pc.run_id"
             " WHERE pc.model = ?1 AND pc.run_id IN (SELECT value FROM json_each(?2))"
             " AND (?3 < 0 OR pc.phase = ?3) AND pc.count > 0 AND" IN_LIST("?5", "pc.class_name")
             " GROUP BY r.id, ev HAVING ?6 OR sum(pc.cycles) > 0"
             " UNION ALL"
             " SELECT r.id, r.workload, r.n, r.mode, 'insn', '(instructions)',"
             "  sum(p.instructions), sum(p.insn_cycles)"
             " FROM phase_cost p JOIN run r ON r.id = p.run_id"
             " WHERE p.model = ?1 AND p.run_id IN (SELECT value FROM json_each(?2))"
             " AND (?3 < 0 OR p.phase = ?3) AND" IN_LIST("?5", "'insn'")
             " GROUP BY r.id HAVING sum(p.instructions) > 0 AND (?6 OR sum(p.insn_cycles) > 0))"
             " ORDER BY" AN_MODE_ORDER("mode") ", id, %s", sort_keys[o->sort].order);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "vmlab stat: %s\n", sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, sel->ids, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, o->phase);
    sqlite3_bind_int(st, 4, o->by_qualifier);
    sqlite3_bind_text(st, 5, o->events, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, o->all_events);
    char pbuf[16];
    const char *phase = phase_label(o->phase, pbuf, sizeof pbuf);
    if (o->out == OUT_CSV)
        printf("run,workload,n,mode,model,phase,class,event,count,per_op,cycles\n");
    else
        printf(", \"rows\": [");
    for (int i = 0; sqlite3_step(st) == SQLITE_ROW; i++) {
        const char *col[8];
        for (int c = 0; c < 8; c++)
            col[c] = (const char *)sqlite3_column_text(st, c);
        bool has_n = sqlite3_column_type(st, 2) != SQLITE_NULL && sqlite3_column_double(st, 2) > 0;
        double per_op = has_n ? sqlite3_column_double(st, 6) / sqlite3_column_double(st, 2) : 0;
        if (o->out == OUT_CSV) {
            printf("%s,", col[0]);
            an_csv_str(stdout, col[1]);
            printf(",%s,", col[2] ? col[2] : "");
            an_csv_str(stdout, col[3]);
            putchar(',');
            an_csv_str(stdout, model);
            printf(",%s,%s,", phase, col[4]);
            an_csv_str(stdout, col[5]);
            printf(",%s,", col[6]);
            if (has_n)
                printf("%.6g", per_op);
            printf(",%.1f\n", sqlite3_column_double(st, 7));
            continue;
        }
        printf("%s\n  {\"run\": %s, \"workload\": ", i ? "," : "", col[0]);
        an_json_str(stdout, col[1]);
        printf(", \"n\": %s, \"mode\": ", col[2] ? col[2] : "null");
        an_json_str(stdout, col[3]);
        printf(", \"model\": ");
        an_json_str(stdout, model);
        printf(", \"phase\": \"%s\", \"class\": \"%s\", \"event\": ", phase, col[4]);
        an_json_str(stdout, col[5]);
        printf(", \"count\": %s, \"per_op\": ", col[6]);
        if (has_n)
            printf("%.6g", per_op);
        else
            printf("null");
        printf(", \"cycles\": %.1f}", sqlite3_column_double(st, 7));
    }
    sqlite3_finalize(st);
    if (o->out == OUT_JSON)
        printf("\n]");
    return 0;
}

/* What a binary translator translated in the group's runs (table translation): a text line,
 * nothing for the other modes. */
static void print_translation(sqlite3 *db, const struct group *g, const struct opts *o)
{
    sqlite3_stmt *st;
    const char *sql =
        "SELECT sum(kind = 'unit'), sum(kind = 'trampoline'), sum(insns), sum(guest_bytes),"
        " sum(tc_bytes) FROM translation WHERE run_id IN (SELECT value FROM json_each(?1))"
        " AND (?2 < 0 OR phase = ?2)";
    long long v[5];
    bool have = false;
    if (o->out == OUT_TEXT && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, g->ids, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, o->phase);
        have = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
        for (int i = 0; have && i < 5; i++)
            v[i] = sqlite3_column_int64(st, i);
        sqlite3_finalize(st);
    }
    if (have)
        printf("Translated: %lld units and %lld trampolines, %lld guest instructions, %lld guest "
               "bytes in, %lld TC bytes out (%.2fx)\n", v[0], v[1], v[2], v[3], v[4],
               v[3] > 0 ? (double)v[4] / (double)v[3] : 0);
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
        "SELECT w.mode, w.run_id, w.cycles_per_op, w.ratio, w.excluded, w.loop_cycles_per_op,"
        "       w.mode = 'trap-ept' AND instr(coalesce(k.features, ''), 'ept') = 0"
        " FROM workload_ratio w LEFT JOIN model k ON k.name = w.model"
        " WHERE w.model = ?1 AND w.workload = ?2 ORDER BY" AN_MODE_ORDER("w.mode");
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
            bool absent = sqlite3_column_int(st, 6) != 0;
            printf("%14s %6lld %14s %10s %12s%s%s%s%s\n", mode, run, ops, rel, lop,
                   why ? " (" : "", why ? why : "", why ? ")" : "",
                   absent ? "  (no EPT on this CPU)" : "");
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
static int print_comparison(sqlite3 *db, const struct opts *o, const struct selection *sel,
                            const char *model)
{
    bool one = (o->workloads || o->runs) && sel->workloads == 1;
    const char *wl = sel->workload;
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
    if (rc) {
        free_opts(&o);
        return rc > 0 ? 0 : 2;
    }
    struct tdb *t = an_open_existing(o.db, "stat");
    if (!t) {
        free_opts(&o);
        return 2;
    }
    sqlite3 *db = tdb_sqlite(t);
    char model[128];
    struct group *g = NULL;
    struct selection sel = { 0 };
    int ng = 0;
    if (check_list(db, "run", o.runs, "SELECT id FROM run ORDER BY id", o.db) ||
        check_list(db, "workload", o.workloads, "SELECT DISTINCT workload FROM run ORDER BY 1",
                   o.db) ||
        check_list(db, "mode", o.modes, "SELECT DISTINCT mode FROM run ORDER BY 1", o.db) ||
        check_list(db, "event class", o.events,
                   "SELECT name FROM event_class ORDER BY name", "this vmlab") ||
        an_pick_model(db, o.model, model, sizeof model, "stat")) {
        tdb_close(t);
        free_opts(&o);
        return 2;
    }
    if (select_groups(db, &o, &g, &ng, &sel) || ng == 0) {
        fprintf(stderr, "vmlab stat: no %sruns match%s\n", o.runs ? "" : "successful ",
                o.runs || o.workloads || o.modes ? " the selection" : "");
        rc = 1;
    }
    for (int i = 0; rc == 0 && i < ng; i++) {
        if (group_totals(db, model, o.phase, &g[i])) {
            fprintf(stderr, "vmlab stat: %s\n", sqlite3_errmsg(db));
            rc = 1;
        }
    }
    if (rc == 0 && o.out == OUT_JSON) {
        char pbuf[16];
        printf("{\"database\": ");
        an_json_str(stdout, o.db);
        printf(", \"model\": ");
        an_json_str(stdout, model);
        printf(", \"phase\": \"%s\", \"all_events\": %s", phase_label(o.phase, pbuf, sizeof pbuf),
               o.all_events ? "true" : "false");
    }
    for (int i = 0; rc == 0 && o.out == OUT_TEXT && i < ng; i++) {
        rc = print_group_text(db, &g[i], &o, model);
        print_translation(db, &g[i], &o);
    }
    if (rc == 0 && o.out != OUT_TEXT)
        rc = print_long(db, &sel, &o, model);
    if (rc == 0 && print_comparison(db, &o, &sel, model))
        rc = 1;
    if (rc == 0 && o.out == OUT_TEXT && print_unsourced(db, g, ng, &o, model))
        rc = 1;
    if (rc == 0 && o.out == OUT_JSON)
        printf("}\n");
    for (int i = 0; i < ng; i++)
        free(g[i].ids);
    free(g);
    free(sel.ids);
    free_opts(&o);
    tdb_close(t);
    return rc ? 1 : 0;
}
