/*
 * test_views.c — the pricing views, the cost-model loader and `vmlab stat`, on a small hand-built
 * database whose answers are worked out by hand below.
 *
 * Fixture (workload syscall, n = 100; measured phase 1 has 2000 instructions in every run):
 *   run 1 native: softint(0x80) x100, priv(cli) x200
 *   run 2 trap:   the same + exit(CR_ACCESS) x50 "cr3 write" + exit(IO_INSTRUCTION) x10;
 *                 phase 0: 100 instructions, exit(CR_ACCESS) x7 "cr0 write"
 *   run 3 pv:     softint x100, hypercall(mmu_update) x20 (60 batch elements),
 *                 validation(L1) x4 (4096 entries)
 *   run 4 trap, workload other, failed (must not be charted)
 * Model "test": insn 1, softint 242, priv 60, exit 1000 (IO_INSTRUCTION 3000), hypercall 300,
 *   validation 200 + 20 per entry; mode pv overrides softint to 100.
 * So per operation (phase 1 / 100):
 *   native (2000 + 100*242 + 200*60) / 100                          = 382
 *   trap   (38200 + 50*1000 + 10*3000) / 100                        = 1182   (3.094241 x native)
 *   pv     (2000 + 100*100 + 20*300 + 4*200 + 4096*20) / 100        = 1007.2 (2.636649 x native)
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "analysis/model.h"
#include "emu/commands.h"
#include "emu/events.h"
#include "traces/tdb.h"
#include "vmlab_sql.h"

#include "support_db.h"

static char dir[64], dbpath[128], modelpath[128];

static const char model_yaml[] =
    "name: test\n"
    "cpu: test CPU\n"
    "year: 2000\n"
    "params:\n"
    "  cpi: { cycles: 1, estimate: fixture }\n"
    "  syscall: { cycles: 242, estimate: fixture }\n"
    "  pv_syscall: { cycles: 100, estimate: fixture }\n"
    "  cli: { cycles: 60, estimate: fixture }\n"
    "  exit_base: { cycles: 600, estimate: fixture }\n"
    "  exit_rest: { cycles: 400, estimate: fixture }\n"
    "  io_exit: { cycles: 3000, estimate: fixture }\n"
    "  hcall: { cycles: 300, estimate: fixture }\n"
    "  vcall: { cycles: 200, estimate: fixture }\n"
    "  ventry: { cycles: 20, estimate: fixture }\n"
    "costs:\n"
    "  insn: cpi\n"
    "  softint: syscall\n"
    "  priv: cli\n"
    "  exit: { cycles: [exit_base, exit_rest], reasons: { IO_INSTRUCTION: io_exit } }\n"
    "  hypercall: hcall\n"
    "  validation: { cycles: vcall, per_unit: ventry }\n"
    "modes:\n"
    "  pv: { softint: pv_syscall }\n";

static void fixture(void)
{
    sdb_scratch("vmlab_views", dir, sizeof dir, dbpath, sizeof dbpath);
    snprintf(modelpath, sizeof modelpath, "%s/test.yaml", dir);
    sdb_write_file(modelpath, model_yaml);
    struct tdb *db = sdb_open(dbpath);

    const char *p = "workload=syscall n=100";
    int64_t r1 = sdb_run_begin(db, "syscall", p, "native", "ram=16M");
    struct tdb_count c1[] = { { 1, EV_SOFTINT, 0x80, "", 100, 0 }, { 1, EV_PRIV, 3, "cli", 200, 0 } };
    cr_assert_eq(tdb_add_counts(db, r1, c1, 2), 0);
    cr_assert_eq(tdb_add_phase(db, r1, 1, 1000, 1000, 0, 2000), 0);
    sdb_run_finish(db, r1, "ok", 2000);

    int64_t r2 = sdb_run_begin(db, "syscall", p, "trap", "ram=16M");
    struct tdb_count c2[] = { { 1, EV_SOFTINT, 0x80, "", 100, 0 },
                              { 1, EV_PRIV, 3, "cli", 200, 0 },
                              { 1, EV_EXIT, 28, "cr3 write", 50, 0 },
                              { 1, EV_EXIT, 30, "0x3f8 out b", 10, 0 },
                              { 0, EV_EXIT, 28, "cr0 write", 7, 0 } };
    cr_assert_eq(tdb_add_counts(db, r2, c2, 5), 0);
    cr_assert_eq(tdb_add_phase(db, r2, 0, 0, 100, 0, 100), 0);
    cr_assert_eq(tdb_add_phase(db, r2, 1, 1000, 1000, 100, 2100), 0);
    sdb_run_finish(db, r2, "ok", 2000);

    int64_t r3 = sdb_run_begin(db, "syscall", p, "pv", "ram=16M");
    struct tdb_count c3[] = { { 1, EV_SOFTINT, 0x80, "", 100, 0 },
                              { 1, EV_HYPERCALL, 1, "", 20, 60 },
                              { 1, EV_VALIDATION, 1, "ok", 4, 4096 } };
    cr_assert_eq(tdb_add_counts(db, r3, c3, 3), 0);
    cr_assert_eq(tdb_add_phase(db, r3, 1, 1000, 1000, 0, 2000), 0);
    sdb_run_finish(db, r3, "ok", 2000);

    int64_t r4 = sdb_run_begin(db, "other", "workload=other n=5", "trap", "ram=16M");
    cr_assert_eq(tdb_add_phase(db, r4, 1, 10, 10, 0, 20), 0);
    sdb_run_finish(db, r4, "failed", 2000);

    sdb_load_model(db, modelpath);
    tdb_close(db);
}

static void teardown(void) { sdb_remove(dir); }

TestSuite(views, .init = fixture, .fini = teardown);

/* The first column of the first row of `sql`, as a double (NAN if no row or NULL). */
static double query_double(sqlite3 *db, const char *sql)
{
    return sdb_query(db, sql, NULL, NULL);
}

static void assert_near(double got, double want)
{
    cr_assert(fabs(got - want) < 1e-6 * fmax(1, fabs(want)), "%.9g != %.9g", got, want);
}

Test(views, op_cost_prices_measured_phase_per_operation)
{
    sqlite3 *db = sdb_open_ro(dbpath);
    assert_near(query_double(db, "SELECT cycles_per_op FROM op_cost WHERE model = 'test'"
                                 " AND mode = 'native'"), 382);
    assert_near(query_double(db, "SELECT cycles_per_op FROM op_cost WHERE model = 'test'"
                                 " AND mode = 'trap'"), 1182);
    assert_near(query_double(db, "SELECT relative_to_native FROM op_cost WHERE model = 'test'"
                                 " AND mode = 'trap'"), 118200.0 / 38200.0);
    sqlite3_close(db);
}

Test(views, mode_override_and_per_unit_costs_apply_to_pv)
{
    sqlite3 *db = sdb_open_ro(dbpath);
    assert_near(query_double(db, "SELECT cycles_per_op FROM op_cost WHERE model = 'test'"
                                 " AND mode = 'pv'"), 1007.2);
    assert_near(query_double(db, "SELECT entries_per_op FROM pv_per_op"), 40.96);
    assert_near(query_double(db, "SELECT batch_elements_per_op FROM pv_per_op"), 0.6);
    sqlite3_close(db);
}

Test(views, kvm_stat_gives_samples_and_time_shares)
{
    sqlite3 *db = sdb_open_ro(dbpath);
    /* run 2, all phases: 367 events; 125300 cycles = 118200 + 100 insns + 7 * 1000 */
    assert_near(query_double(db, "SELECT samples FROM kvm_stat WHERE run_id = 2"
                                 " AND event = 'exit(CR_ACCESS)'"), 57);
    assert_near(query_double(db, "SELECT samples_pct FROM kvm_stat WHERE run_id = 2"
                                 " AND event = 'exit(CR_ACCESS)'"), 100.0 * 57 / 367);
    assert_near(query_double(db, "SELECT time_pct FROM kvm_stat WHERE run_id = 2"
                                 " AND event = 'exit(IO_INSTRUCTION)'"), 100.0 * 30000 / 125300);
    assert_near(query_double(db, "SELECT avg_cycles FROM kvm_stat WHERE run_id = 2"
                                 " AND event = 'softint(0x80)'"), 242);
    sqlite3_close(db);
}

Test(views, failed_runs_are_not_latest)
{
    sqlite3 *db = sdb_open_ro(dbpath);
    assert_near(query_double(db, "SELECT count(*) FROM latest_run"), 3);
    assert_near(query_double(db, "SELECT count(*) FROM op_cost WHERE workload = 'other'"), 0);
    sqlite3_close(db);
}

Test(views, monitor_entries_per_operation_by_reason)
{
    sqlite3 *db = sdb_open_ro(dbpath);
    assert_near(query_double(db, "SELECT per_op FROM monitor_per_op WHERE mode = 'trap'"
                                 " AND event = 'exit(CR_ACCESS)'"), 0.5);
    assert_near(query_double(db, "SELECT per_op FROM monitor_per_op WHERE mode = 'pv'"
                                 " AND event = 'hypercall(mmu_update)'"), 0.2);
    assert_near(query_double(db, "SELECT count(*) FROM monitor_per_op WHERE mode = 'native'"), 0);
    sqlite3_close(db);
}

Test(views, one_run_is_priced_under_every_loaded_model)
{
    char err[512];
    struct tdb *t = sdb_open(dbpath);
    sdb_write_file(modelpath, "name: cheap-exits\ncpu: x\nparams:\n"
                              "  cpi: { cycles: 1, estimate: t }\n"
                              "  sc: { cycles: 242, estimate: t }\n"
                              "  cli: { cycles: 60, estimate: t }\n"
                              "  ex: { cycles: 10, estimate: t }\n"
                              "costs:\n  insn: cpi\n  softint: sc\n  priv: cli\n  exit: ex\n");
    char name[64];
    cr_assert_eq(model_ensure(tdb_sqlite(t), modelpath, name, sizeof name, err, sizeof err), 0,
                 "%s", err);
    cr_assert_str_eq(name, "cheap-exits");
    tdb_close(t);
    sqlite3 *db = sdb_open_ro(dbpath);
    /* trap under cheap-exits: 38200 + 60 * 10 */
    assert_near(query_double(db, "SELECT cycles_per_op FROM op_cost WHERE model = 'cheap-exits'"
                                 " AND mode = 'trap'"), 388);
    assert_near(query_double(db, "SELECT cycles_per_op FROM op_cost WHERE model = 'test'"
                                 " AND mode = 'trap'"), 1182);
    assert_near(query_double(db, "SELECT count(*) FROM mode_aggregate"
                                 " WHERE mode = 'trap'"), 2);
    sqlite3_close(db);
}

Test(views, model_reason_names_resolve_through_lookup_tables)
{
    sqlite3 *db = sdb_open_ro(dbpath);
    assert_near(query_double(db, "SELECT c.cycles FROM model_cost c JOIN model m"
                                 " ON m.id = c.model_id WHERE m.name = 'test' AND c.reason = 30"),
                3000);
    assert_near(query_double(db, "SELECT c.cycles FROM model_cost c JOIN model m"
                                 " ON m.id = c.model_id WHERE m.name = 'test' AND c.class = 7" /* exit */
                                 " AND c.reason IS NULL"), 1000);
    sqlite3_close(db);
}

static void expect_model_error(const char *text, const char *expect)
{
    sdb_write_file(modelpath, text);
    struct model *m = NULL;
    char err[512] = "";
    int rc = model_parse(modelpath, &m, err, sizeof err);
    if (rc == 0) {
        struct tdb *t = tdb_open(dbpath, err, sizeof err);
        cr_assert(t);
        rc = model_store(tdb_sqlite(t), m, err, sizeof err);
        model_free(m);
        tdb_close(t);
    }
    cr_assert_neq(rc, 0, "no error for: %s", text);
    cr_assert(strstr(err, expect), "error '%s' lacks '%s'", err, expect);
    cr_assert(strstr(err, modelpath), "error '%s' lacks the file name", err);
    cr_assert_null(strchr(err, '\n'));
}

Test(views, malformed_model_gives_file_line_and_key)
{
    expect_model_error("name: x\ncpu: y\ncosts:\n  exit: 0\n  bogus: 0\n",
                       ":5: costs.bogus: unknown event class");
    expect_model_error("name: x\ncpu: y\ncosts:\n  exit: [0, nope]\n",
                       ":4: costs.exit: 'nope' is neither a number nor a param");
    expect_model_error("name: x\ncpu: y\ncosts:\n  exit: { cycles: 0, reasons: { FOO: 0 } }\n",
                       ":4: costs.exit.reasons.FOO: unknown reason 'FOO'");
    expect_model_error("name: x\ncpu: y\nyear: soon\ncosts: {}\n", ":3: year: expected a year");
    expect_model_error("name: x\ncosts: {}\n", "cpu: missing");
    expect_model_error("name: x\ncpu: y\ncosts:\n  exit: {cycles: 1\n", ":5:");
}

Test(views, stat_prints_perf_kvm_stat_table_and_mode_totals)
{
    static char out[16384];
    char *argv[] = { "stat", "--db", dbpath, "--model", modelpath, "--workload", "syscall",
                     "--phase", "measured", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, argv, out, sizeof out), 0);
    cr_assert(strstr(out, "Samples%"), "%s", out);
    cr_assert(strstr(out, "exit(CR_ACCESS)"), "%s", out);
    cr_assert(strstr(out, "1182.0"), "cycles per op of trap missing:\n%s", out);
    cr_assert(strstr(out, "3.09x"), "relative to native missing:\n%s", out);
}

/* The long format: one row per run and event; the rows of a run add up to its modeled cycles. */
Test(views, stat_csv_and_json_carry_the_same_numbers)
{
    static char out[16384];
    char *csv[] = { "stat", "--db", dbpath, "--model", modelpath, "--run", "2", "--csv", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, csv, out, sizeof out), 0);
    cr_assert(strncmp(out, "run,workload,n,mode,model,phase,class,event,count,per_op,cycles\n",
                      64) == 0, "%s", out);
    cr_assert(strstr(out, "\n2,syscall,100,trap,test,all,exit,exit(CR_ACCESS),57,0.57,57000.0\n"),
              "%s", out);
    cr_assert(strstr(out, "\n2,syscall,100,trap,test,all,insn,(instructions),2100,21,2100.0\n"),
              "%s", out);
    double sum = 0;
    int rows = 0;
    for (const char *l = strchr(out, '\n'); l && l[1]; l = strchr(l + 1, '\n'), rows++) {
        const char *end = strchr(l + 1, '\n'), *c = end;
        while (c > l && c[-1] != ',')
            c--;
        sum += atof(c);
    }
    cr_assert_eq(rows, 5, "%s", out); /* softint, priv, exit x2 (by reason), instructions */
    cr_assert_float_eq(sum, 125300.0, 1e-6, "%s", out);
    char *json[] = { "stat", "--db", dbpath, "--model", modelpath, "--run", "2", "--json", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, json, out, sizeof out), 0);
    cr_assert(strstr(out, "{\"run\": 2, \"workload\": \"syscall\", \"n\": 100, \"mode\": \"trap\","
                          " \"model\": \"test\", \"phase\": \"all\", \"class\": \"exit\","
                          " \"event\": \"exit(CR_ACCESS)\", \"count\": 57, \"per_op\": 0.57,"
                          " \"cycles\": 57000.0}"), "%s", out);
    cr_assert(strstr(out, "\"cycles_per_op\": 1182.0000"), "%s", out);
    char *both[] = { "stat", "--db", dbpath, "--csv", "--json", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, both, out, sizeof out), 2);
}

/* Filters combine; each names what it selects or says what there is. */
Test(views, stat_filters_combine_and_refuse_what_is_not_there)
{
    static char out[16384];
    char *a[] = { "stat", "--db", dbpath, "--model", modelpath, "--run", "1,2", "--workload",
                  "syscall", "--mode", "trap", "--event", "exit", "--csv", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, a, out, sizeof out), 0);
    cr_assert_str_eq(out, "run,workload,n,mode,model,phase,class,event,count,per_op,cycles\n"
                          "2,syscall,100,trap,test,all,exit,exit(CR_ACCESS),57,0.57,57000.0\n"
                          "2,syscall,100,trap,test,all,exit,exit(IO_INSTRUCTION),10,0.1,30000.0\n");
    char *sorted[] = { "stat", "--db", dbpath, "--model", modelpath, "--run", "2", "--event",
                       "exit", "--sort", "cycles", "--csv", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, sorted, out, sizeof out), 0);
    cr_assert(strstr(out, "exit(CR_ACCESS),57,0.57,57000.0\n2,syscall,100,trap,test,all,exit,"
                          "exit(IO_INSTRUCTION)"), "%s", out);
    char *event[] = { "stat", "--db", dbpath, "--model", modelpath, "--run", "2", "--sort",
                      "event", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, event, out, sizeof out), 0);
    cr_assert(strstr(out, "exit(CR_ACCESS)") < strstr(out, "softint(0x80)"), "%s", out);
    /* Fixed costs: one Cycles/event column, no Min/Max. */
    cr_assert(strstr(out, "Cycles/event") && !strstr(out, "Max Cycles"), "%s", out);
    char *none[] = { "stat", "--db", dbpath, "--model", modelpath, "--mode", "xen", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, none, out, sizeof out), 2);
    char *cls[] = { "stat", "--db", dbpath, "--model", modelpath, "--event", "vmexit", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, cls, out, sizeof out), 2);
    char *sort[] = { "stat", "--db", dbpath, "--sort", "size", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, sort, out, sizeof out), 2);
    char *empty[] = { "stat", "--db", dbpath, "--model", modelpath, "--run", "4", "--mode",
                      "pv", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, empty, out, sizeof out), 1);
}

/* Per-unit costs vary per row: Min/Avg/Max then. */
Test(views, stat_shows_min_and_max_only_when_they_differ)
{
    static char out[16384];
    struct tdb *db = sdb_open(dbpath);
    int64_t r = sdb_run_begin(db, "vary", "workload=vary n=1", "pv", NULL);
    struct tdb_count c[] = { { 0, EV_VALIDATION, 1, "ok", 1, 10 },
                             { 1, EV_VALIDATION, 1, "ok", 1, 1000 } };
    cr_assert_eq(tdb_add_counts(db, r, c, 2), 0);
    sdb_run_finish(db, r, "ok", 0);
    tdb_close(db);
    char *argv[] = { "stat", "--db", dbpath, "--model", modelpath, "--workload", "vary", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, argv, out, sizeof out), 0);
    cr_assert(strstr(out, "Min Cycles") && strstr(out, "Max Cycles"), "%s", out);
    /* 200 + 20 * 10 and 200 + 20 * 1000 cycles: the rows of one line, as --phase all adds them. */
    cr_assert(strstr(out, "validation(L1 ok)          2   100.00%"), "%s", out);
    cr_assert(strstr(out, "400.0      10300.0      20200.0"), "%s", out);
}

Test(views, example_queries_run_on_a_database)
{
    sqlite3 *db = sdb_open_ro(dbpath);
    for (size_t i = 0; i < sizeof vmlab_sql_files / sizeof vmlab_sql_files[0]; i++) {
        if (strncmp(vmlab_sql_files[i].name, "q_", 2) != 0)
            continue;
        sqlite3_stmt *st;
        cr_assert_eq(sqlite3_prepare_v2(db, vmlab_sql_files[i].sql, -1, &st, NULL), SQLITE_OK,
                     "%s: %s", vmlab_sql_files[i].name, sqlite3_errmsg(db));
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        cr_assert_eq(rc, SQLITE_DONE, "%s: %s", vmlab_sql_files[i].name, sqlite3_errmsg(db));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
}

/* The mechanisms of issue 11 get labels that say what entered the monitor and why. */
Test(views, mechanism_events_are_labelled_by_vector_and_cause)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/vmlab_labels.XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    struct tdb *db = sdb_open(path);
    int64_t r = sdb_run_begin(db, "in", "workload=in n=10", "trap-classic", "ram=16M");
    struct tdb_count c[] = { { 1, EV_MONTRAP, 13, "in1 0x80", 10, 0 },
                             { 1, EV_MONTRAP, 14, "#PF", 2, 0 },
                             { 1, EV_MONTRAP, 0x80, "int", 3, 0 },
                             { 1, EV_REFLECT, 0x80, "", 3, 0 },
                             { 1, EV_IOEMUL, 0x80, "in1", 10, 0 },
                             { 1, EV_HVTRAP, 13, "in1 0x80", 1, 0 },
                             { 1, EV_BOUNCE, 14, "#PF write/user/np", 1, 0 },
                             { 1, EV_UPCALL, 0, "", 1, 0 },
                             { 1, EV_MONTRAP, 0x20, "irq0", 1, 0 } };
    cr_assert_eq(tdb_add_counts(db, r, c, 9), 0);
    sdb_run_finish(db, r, "ok", 2000);
    sqlite3 *h = tdb_sqlite(db);
    static const char *const want[] = {"montrap(#GP in1 0x80)", "montrap(#PF)", "montrap(0x80)",
                                       "reflect(0x80)", "ioemul(0x80)", "hvtrap(#GP in1 0x80)",
                                       "bounce(#PF)", "upcall(event)", "montrap(0x20 irq0)"};
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++) {
        char q[160];
        snprintf(q, sizeof q, "SELECT count(*) FROM event_count_named WHERE event = '%s'", want[i]);
        cr_assert_eq(query_double(h, q), 1.0, "no event labelled %s", want[i]);
    }
    assert_near(query_double(h, "SELECT count(*) FROM monitor_per_op WHERE class_name = 'montrap'"),
                4);
    tdb_close(db);
    unlink(path);
}

/* A workload that runs its loop again with an empty body (phase 3, calibration) is priced per
 * operation net of that loop, which is reported apart; one without phase 3 is taken whole. */
Test(views, cycles_per_operation_are_net_of_the_calibrated_loop)
{
    char dir2[64], db2[96];
    sdb_scratch("vmlab_calib", dir2, sizeof dir2, db2, sizeof db2);
    struct tdb *t = sdb_open(db2);
    sdb_load_model(t, modelpath);
    const char *p = "workload=syscall n=100";
    struct tdb_count c[] = { { 1, EV_SOFTINT, 0x80, "", 100, 0 } };
    int64_t r = sdb_add_run(t, &(struct sdb_run){ .workload = "syscall", .params = p,
                                                  .mode = "native", SDB_COUNTS(c),
                                                  .insn_user = 1000, .insn_kernel = 1000,
                                                  .instructions = 2600 });
    /* calibration: 600 instructions of empty loop, no event: 6 cycles a loop iteration */
    cr_assert_eq(tdb_add_phase(t, r, 3, 600, 0, 2000, 2600), 0);
    tdb_close(t);
    sqlite3 *db = sdb_open_ro(db2);
    /* measured: 2000 insns + 100 softints at 242 = 26200 cycles; minus 600 = 25600 / 100 */
    assert_near(query_double(db, "SELECT cycles_per_op FROM op_cost WHERE mode = 'native'"), 256);
    assert_near(query_double(db, "SELECT loop_cycles_per_op FROM op_cost WHERE mode = 'native'"),
                6);
    assert_near(query_double(db, "SELECT gross_cycles_per_op FROM op_cost WHERE mode = 'native'"),
                262);
    sqlite3_close(db);
    sdb_remove(dir2);
}
