/*
 * test_aggregate.c — the one aggregate across workloads (views workload_ratio and mode_aggregate,
 * analysis/aggregate.c): `vmlab stat` (text and JSON), the summary `vmlab compare` prints, and
 * `vmlab report`'s data all show the geometric mean of per-workload ratios to native, with its
 * name and workload count, on a hand-made database where summing cycles over workloads would give
 * the opposite order.
 *
 * Fixture: one model "aggtest" (stored directly: 1 cycle per instruction, nothing else priced),
 * every run n = 100, modeled cycles = measured-phase instructions:
 *
 *   workload   native     trap      bt         trap/native   bt/native
 *   big        100000   300000   200000           3.0          2.0
 *   small        1000     1100     5000           1.1          5.0
 *   sum        101000   301100   205000           2.98         2.03    <- bt ahead of trap
 *   geomean                                       sqrt(3.3)    sqrt(10)
 *                                                 = 1.816590   = 3.162278  <- trap ahead of bt
 *
 * Single tests add: a workload without a native run (orphan), one without a bt run (third:
 * native 1000, trap 4000), one whose native run has no modeled cycles (zero).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "analysis/aggregate.h"
#include "emu/commands.h"
#include "traces/tdb.h"

#include "support_db.h"

#define GEO_TRAP 1.8165902124584950 /* sqrt(3.0 * 1.1) */
#define GEO_BT 3.1622776601683795   /* sqrt(2.0 * 5.0) */
#define LABEL2 "geomean of per-workload ratios to native (2 workloads)"

static char dir[64], dbpath[128];

#define NO_RUN UINT64_MAX

/* The ok runs of `workload` (n = 100) in native, trap and bt, in that order: each with that many
 * instructions in its measured phase (all at CPL 0), or no run for NO_RUN. */
static void add_workload(const char *workload, uint64_t native, uint64_t trap, uint64_t bt)
{
    static const char *const mode[] = { "native", "trap", "bt" };
    const uint64_t insns[] = { native, trap, bt };
    char params[128];
    snprintf(params, sizeof params, "workload=%s n=100", workload);
    struct tdb *db = sdb_open(dbpath);
    for (int i = 0; i < 3; i++)
        if (insns[i] != NO_RUN)
            sdb_add_run(db, &(struct sdb_run){ .workload = workload, .params = params,
                                               .mode = mode[i], .insn_kernel = insns[i],
                                               .instructions = insns[i] });
    tdb_close(db);
}

static void exec_sql(struct tdb *db, const char *sql)
{
    char *msg = NULL;
    cr_assert_eq(sqlite3_exec(tdb_sqlite(db), sql, NULL, NULL, &msg), SQLITE_OK, "%s: %s", sql,
                 msg);
}

static void fixture(void)
{
    sdb_scratch("vmlab_aggregate", dir, sizeof dir, dbpath, sizeof dbpath);
    sdb_models_dir(dir); /* empty: only the stored model exists */
    struct tdb *db = sdb_open(dbpath);
    exec_sql(db, "INSERT INTO model(id, name, cpu, year, loaded_at)"
                 " VALUES (1, 'aggtest', 'test CPU', 2000, 'now');"
                 "INSERT INTO model_cost(model_id, mode, class, reason, cycles, per_unit)"
                 " VALUES (1, NULL, (SELECT id FROM event_class WHERE name = 'insn'), NULL, 1, 0)");
    tdb_close(db);
    add_workload("big", 100000, 300000, 200000);
    add_workload("small", 1000, 1100, 5000);
}

static void teardown(void) { sdb_remove(dir); }

TestSuite(aggregate, .init = fixture, .fini = teardown);

/* The first column of the first row of `sql`, as a double (NAN if no row or NULL). */
static double query_double(const char *sql)
{
    sqlite3 *db = sdb_open_ro(dbpath);
    double v = sdb_query(db, sql, NULL, NULL);
    sqlite3_close(db);
    return v;
}

static void assert_near(double got, double want)
{
    cr_assert(fabs(got - want) < 1e-9 * fmax(1, fabs(want)), "%.12g != %.12g", got, want);
}

static double aggregate_of(const char *mode, const char *column)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT %s FROM mode_aggregate WHERE model = 'aggtest'"
                              " AND mode = '%s'", column, mode);
    return query_double(sql);
}

static void make_report(void)
{
    char out[160];
    snprintf(out, sizeof out, "%s/report", dir);
    char *argv[] = { "report", "--db", dbpath, "--model", "aggtest", "--out", out, NULL };
    static char msg[4096];
    cr_assert_eq(sdb_capture(cmd_report, argv, msg, sizeof msg), 0, "%s", msg);
}

static char *stat_output(const char *extra)
{
    static char out[65536];
    char *argv[] = { "stat", "--db", dbpath, "--model", "aggtest", (char *)extra, NULL };
    cr_assert_eq(sdb_capture(cmd_stat, argv, out, sizeof out), 0, "%s", out);
    return out;
}

/* The report's file `name` (sdb_read_file). */
static char *slurp(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/report/%s", dir, name);
    return sdb_read_file(path);
}

#define assert_has(text, want) cr_assert(strstr(text, want), "'%s' not in:\n%s", want, text)
#define assert_lacks(text, bad) cr_assert(!strstr(text, bad), "'%s' in:\n%s", bad, text)

Test(aggregate, view_gives_the_geomean_whose_order_sums_reverse)
{
    /* The fixture is what it claims: summed over workloads, bt is cheaper than trap... */
    double trap_sum = query_double("SELECT sum(measured_cycles) FROM op_cost"
                                   " WHERE model = 'aggtest' AND mode = 'trap'");
    double bt_sum = query_double("SELECT sum(measured_cycles) FROM op_cost"
                                 " WHERE model = 'aggtest' AND mode = 'bt'");
    cr_assert_gt(trap_sum, bt_sum);
    /* ...and the aggregate, the geometric mean of the per-workload ratios, says the opposite. */
    assert_near(aggregate_of("trap", "geomean_ratio"), GEO_TRAP);
    assert_near(aggregate_of("bt", "geomean_ratio"), GEO_BT);
    assert_near(aggregate_of("native", "geomean_ratio"), 1);
    assert_near(aggregate_of("trap", "workloads"), 2);
    assert_near(aggregate_of("bt", "excluded"), 0);
    assert_near(query_double("SELECT ratio FROM workload_ratio WHERE model = 'aggtest'"
                             " AND workload = 'small' AND mode = 'bt'"), 5);
}

Test(aggregate, stat_text_shows_the_named_geomean_not_sums)
{
    char *out = stat_output("--phase=measured");
    assert_has(out, "Per-mode aggregate, model aggtest: " LABEL2);
    assert_has(out, "          trap          2      1.82x\n");
    assert_has(out, "            bt          2      3.16x\n");
    assert_has(out, "        native          2      1.00x\n");
    assert_lacks(out, "2.98x"); /* the ratio of summed cycles */
    assert_lacks(out, "2.03x");
    assert_lacks(out, "Left out");
}

Test(aggregate, stat_json_carries_the_aggregate_with_its_name)
{
    char *out = stat_output("--json");
    assert_has(out, "\"aggregate\": {\"name\": \"geomean of per-workload ratios to native\","
                    " \"label\": \"" LABEL2 "\", \"model\": \"aggtest\", \"left_out\": \"\"");
    assert_has(out, "{\"mode\": \"trap\", \"workloads\": 2, \"geomean_ratio\": 1.816590,"
                    " \"excluded\": 0, \"without_native\": 0}");
    assert_has(out, "{\"mode\": \"bt\", \"workloads\": 2, \"geomean_ratio\": 3.162278,");
    assert_lacks(out, "relative_to_native");
    assert_lacks(out, "\"ratios\"");
}

Test(aggregate, stat_for_one_workload_shows_its_ratios)
{
    char *argv[] = { "stat", "--db", dbpath, "--model", "aggtest", "--workload", "small",
                     "--json", NULL };
    static char out[65536];
    cr_assert_eq(sdb_capture(cmd_stat, argv, out, sizeof out), 0, "%s", out);
    assert_has(out, "{\"mode\": \"bt\", \"run\": 6, \"cycles_per_op\": 50.000000,"
                    " \"loop_cycles_per_op\": null, \"ratio\": 5.000000, \"excluded\": null}");
    argv[7] = NULL;
    cr_assert_eq(sdb_capture(cmd_stat, argv, out, sizeof out), 0, "%s", out);
    assert_has(out, "Ratio to native, workload small, model aggtest");
    assert_has(out, "          trap      5           11.0      1.10x            -\n");
    assert_lacks(out, "Per-mode aggregate");
}

Test(aggregate, compare_summary_prints_the_same_table)
{
    /* `vmlab compare` ends with an_aggregate_load + an_aggregate_print for its default model. */
    struct tdb *db = sdb_open(dbpath);
    struct an_aggregate *a;
    int n = an_aggregate_load(tdb_sqlite(db), "aggtest", &a, "test");
    cr_assert_eq(n, 3);
    cr_assert_str_eq(a[1].mode, "trap");
    cr_assert_str_eq(a[2].mode, "bt");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    an_aggregate_print(f, a, n, "aggtest");
    fclose(f);
    assert_has(text, "Per-mode aggregate, model aggtest: " LABEL2);
    assert_has(text, "          trap          2      1.82x\n");
    assert_has(text, "            bt          2      3.16x\n");
    free(text);
    free(a);
    tdb_close(db);
}

Test(aggregate, report_data_shows_the_named_geomean)
{
    make_report();
    char *d = slurp("summary.dat");
    assert_has(d, "\"mode\" \"vs native\" \"workloads\" \"left out\""
                  " \"of which without a native run\"\n");
    assert_has(d, "\"trap\" 1.81659 2 0 0\n\"bt\" 3.16228 2 0 0\n");
    assert_has(slurp("generations.dat"), "\"model\" \"trap\" \"bt\"\n\"aggtest\" 1.81659 3.16228\n");
    assert_has(slurp("overhead.dat"), "\"small\" 1 1.1 5\n");
    char *html = slurp("index.html");
    assert_has(html, LABEL2 ", model aggtest (each workload's ratio: ");
    assert_has(html, LABEL2 ", under every model (");
    assert_lacks(html, "Left out");
}

Test(aggregate, workload_without_native_is_left_out_and_counted)
{
    add_workload("orphan", NO_RUN, 9000, 1000);
    assert_near(aggregate_of("trap", "geomean_ratio"), GEO_TRAP);
    assert_near(aggregate_of("bt", "geomean_ratio"), GEO_BT);
    assert_near(aggregate_of("trap", "workloads"), 2);
    assert_near(aggregate_of("trap", "without_native"), 1);
    assert_near(aggregate_of("bt", "excluded"), 1);
    char *out = stat_output(NULL);
    assert_has(out, LABEL2);
    assert_has(out, "Left out: trap 1 workload without a native run;"
                    " bt 1 workload without a native run\n");
    out = stat_output("--json");
    assert_has(out, "{\"mode\": \"bt\", \"workloads\": 2, \"geomean_ratio\": 3.162278,"
                    " \"excluded\": 1, \"without_native\": 1}");
    make_report();
    assert_has(slurp("summary.dat"), "\"bt\" 3.16228 2 1 1\n");
    assert_has(slurp("index.html"), "Left out: trap 1 workload without a native run;"
                                    " bt 1 workload without a native run.");
}

Test(aggregate, missing_mode_is_averaged_over_the_workloads_it_has)
{
    add_workload("third", 1000, 4000, NO_RUN);
    assert_near(aggregate_of("trap", "geomean_ratio"), cbrt(3.0 * 1.1 * 4.0));
    assert_near(aggregate_of("trap", "workloads"), 3);
    assert_near(aggregate_of("bt", "geomean_ratio"), GEO_BT);
    assert_near(aggregate_of("bt", "workloads"), 2);
    char *out = stat_output(NULL);
    assert_has(out, "geomean of per-workload ratios to native (2-3 workloads)");
    assert_has(out, "          trap          3      2.36x\n");
    assert_has(out, "            bt          2      3.16x\n");
    assert_lacks(out, "Left out");
}

Test(aggregate, zero_cycle_native_is_left_out)
{
    add_workload("zero", 0, 500, NO_RUN);
    assert_near(query_double("SELECT excluded = 'native run has no modeled cycles per operation'"
                             " FROM workload_ratio WHERE workload = 'zero' AND mode = 'trap'"), 1);
    assert_near(aggregate_of("trap", "geomean_ratio"), GEO_TRAP);
    assert_near(aggregate_of("trap", "excluded"), 1);
    assert_near(aggregate_of("trap", "without_native"), 0);
    assert_near(aggregate_of("native", "workloads"), 2);
    char *out = stat_output(NULL);
    assert_has(out, "Left out: native 1 workload with no modeled cycles per operation;"
                    " trap 1 workload with no modeled cycles per operation\n");
}
