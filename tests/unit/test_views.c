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
#include <fcntl.h>
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

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

static int64_t add_run(struct tdb *db, const char *workload, const char *mode, const char *params)
{
    struct tdb_run_info info = { .guest = "kernel.elf", .workload = workload, .params = params,
                                 .mode = mode, .config = "ram=16M" };
    int64_t id;
    cr_assert_eq(tdb_run_begin(db, &info, &id), 0, "%s", tdb_error(db));
    return id;
}

static void finish(struct tdb *db, int64_t id, const char *status)
{
    struct tdb_run_end end = { .status = status, .exit_status = strcmp(status, "ok") ? 4 : 33,
                               .guest_exit = 16, .instructions = 2000 };
    cr_assert_eq(tdb_run_finish(db, id, &end), 0, "%s", tdb_error(db));
}

static void fixture(void)
{
    snprintf(dir, sizeof dir, "/tmp/vmlab_views.XXXXXX");
    cr_assert(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/t.db", dir);
    snprintf(modelpath, sizeof modelpath, "%s/test.yaml", dir);
    write_file(modelpath, model_yaml);
    char err[512];
    struct tdb *db = tdb_open(dbpath, err, sizeof err);
    cr_assert(db, "%s", err);

    const char *p = "workload=syscall n=100";
    int64_t r1 = add_run(db, "syscall", "native", p);
    struct tdb_count c1[] = { { 1, EV_SOFTINT, 0x80, "", 100, 0 }, { 1, EV_PRIV, 3, "cli", 200, 0 } };
    cr_assert_eq(tdb_add_counts(db, r1, c1, 2), 0);
    cr_assert_eq(tdb_add_phase(db, r1, 1, 1000, 1000, 0, 2000), 0);
    finish(db, r1, "ok");

    int64_t r2 = add_run(db, "syscall", "trap", p);
    struct tdb_count c2[] = { { 1, EV_SOFTINT, 0x80, "", 100, 0 },
                              { 1, EV_PRIV, 3, "cli", 200, 0 },
                              { 1, EV_EXIT, 28, "cr3 write", 50, 0 },
                              { 1, EV_EXIT, 30, "0x3f8 out b", 10, 0 },
                              { 0, EV_EXIT, 28, "cr0 write", 7, 0 } };
    cr_assert_eq(tdb_add_counts(db, r2, c2, 5), 0);
    cr_assert_eq(tdb_add_phase(db, r2, 0, 0, 100, 0, 100), 0);
    cr_assert_eq(tdb_add_phase(db, r2, 1, 1000, 1000, 100, 2100), 0);
    finish(db, r2, "ok");

    int64_t r3 = add_run(db, "syscall", "pv", p);
    struct tdb_count c3[] = { { 1, EV_SOFTINT, 0x80, "", 100, 0 },
                              { 1, EV_HYPERCALL, 1, "", 20, 60 },
                              { 1, EV_VALIDATION, 1, "ok", 4, 4096 } };
    cr_assert_eq(tdb_add_counts(db, r3, c3, 3), 0);
    cr_assert_eq(tdb_add_phase(db, r3, 1, 1000, 1000, 0, 2000), 0);
    finish(db, r3, "ok");

    int64_t r4 = add_run(db, "other", "trap", "workload=other n=5");
    cr_assert_eq(tdb_add_phase(db, r4, 1, 10, 10, 0, 20), 0);
    finish(db, r4, "failed");

    struct model *m;
    cr_assert_eq(model_parse(modelpath, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(model_store(tdb_sqlite(db), m, err, sizeof err), 0, "%s", err);
    model_free(m);
    tdb_close(db);
}

static void teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(views, .init = fixture, .fini = teardown);

static sqlite3 *open_ro(void)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    return db;
}

/* The first column of the first row of `sql`, as a double (NAN if no row or NULL). */
static double query_double(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    double v = NAN;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void assert_near(double got, double want)
{
    cr_assert(fabs(got - want) < 1e-6 * fmax(1, fabs(want)), "%.9g != %.9g", got, want);
}

Test(views, op_cost_prices_measured_phase_per_operation)
{
    sqlite3 *db = open_ro();
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
    sqlite3 *db = open_ro();
    assert_near(query_double(db, "SELECT cycles_per_op FROM op_cost WHERE model = 'test'"
                                 " AND mode = 'pv'"), 1007.2);
    assert_near(query_double(db, "SELECT entries_per_op FROM pv_per_op"), 40.96);
    assert_near(query_double(db, "SELECT batch_elements_per_op FROM pv_per_op"), 0.6);
    sqlite3_close(db);
}

Test(views, kvm_stat_gives_samples_and_time_shares)
{
    sqlite3 *db = open_ro();
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
    sqlite3 *db = open_ro();
    assert_near(query_double(db, "SELECT count(*) FROM latest_run"), 3);
    assert_near(query_double(db, "SELECT count(*) FROM op_cost WHERE workload = 'other'"), 0);
    sqlite3_close(db);
}

Test(views, monitor_entries_per_operation_by_reason)
{
    sqlite3 *db = open_ro();
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
    struct tdb *t = tdb_open(dbpath, err, sizeof err);
    cr_assert(t, "%s", err);
    write_file(modelpath, "name: cheap-exits\ncpu: x\nparams:\n"
                          "  cpi: { cycles: 1, estimate: t }\n  sc: { cycles: 242, estimate: t }\n"
                          "  cli: { cycles: 60, estimate: t }\n  ex: { cycles: 10, estimate: t }\n"
                          "costs:\n  insn: cpi\n  softint: sc\n  priv: cli\n  exit: ex\n");
    char name[64];
    cr_assert_eq(model_ensure(tdb_sqlite(t), modelpath, name, sizeof name, err, sizeof err), 0,
                 "%s", err);
    cr_assert_str_eq(name, "cheap-exits");
    tdb_close(t);
    sqlite3 *db = open_ro();
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
    sqlite3 *db = open_ro();
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
    write_file(modelpath, text);
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

/* Run a command with stdout captured in a file; returns its exit status. */
static int capture(int (*cmd)(int, char **), int argc, char **argv, char *out, size_t len)
{
    char path[160];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    fflush(stdout);
    int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    close(fd);
    int rc = cmd(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(path, "r");
    size_t n = fread(out, 1, len - 1, f);
    out[n] = 0;
    fclose(f);
    return rc;
}

Test(views, stat_prints_perf_kvm_stat_table_and_mode_totals)
{
    static char out[16384];
    char *argv[] = { "stat", "--db", dbpath, "--model", modelpath, "--workload", "syscall",
                     "--phase", "measured", NULL };
    cr_assert_eq(capture(cmd_stat, 9, argv, out, sizeof out), 0);
    cr_assert(strstr(out, "Samples%"), "%s", out);
    cr_assert(strstr(out, "exit(CR_ACCESS)"), "%s", out);
    cr_assert(strstr(out, "1182.0"), "cycles per op of trap missing:\n%s", out);
    cr_assert(strstr(out, "3.09x"), "relative to native missing:\n%s", out);
}

Test(views, stat_csv_and_json_carry_the_same_numbers)
{
    static char out[16384];
    char *csv[] = { "stat", "--db", dbpath, "--model", modelpath, "--run", "2", "--csv", NULL };
    cr_assert_eq(capture(cmd_stat, 8, csv, out, sizeof out), 0);
    cr_assert(strstr(out, "mode,event,samples,"), "%s", out);
    cr_assert(strstr(out, "trap,exit(CR_ACCESS),57,"), "%s", out);
    cr_assert(strstr(out, "trap,(total),367,100.0000,100.0000,,,,125300.0"), "%s", out);
    char *json[] = { "stat", "--db", dbpath, "--model", modelpath, "--run", "2", "--json", NULL };
    cr_assert_eq(capture(cmd_stat, 8, json, out, sizeof out), 0);
    cr_assert(strstr(out, "\"event\": \"exit(CR_ACCESS)\", \"samples\": 57,"), "%s", out);
    cr_assert(strstr(out, "\"cycles_per_op\": 1182.0000"), "%s", out);
}

Test(views, example_queries_run_on_a_database)
{
    sqlite3 *db = open_ro();
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
    char path[64], err[512];
    snprintf(path, sizeof path, "/tmp/vmlab_labels.XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    struct tdb *db = tdb_open(path, err, sizeof err);
    cr_assert(db, "%s", err);
    int64_t r = add_run(db, "in", "trap-classic", "workload=in n=10");
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
    finish(db, r, "ok");
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
