/*
 * test_report.c — `vmlab report` on a small hand-built database: every chart's data file holds
 * the numbers worked out by hand, the charts are drawn, index.html links them.
 *
 * Fixture (workload syscall, n = 100, measured phase 2000 instructions per run):
 *   native: softint x100;   trap: softint x100, exit(CR_ACCESS) x50, exit(IO_INSTRUCTION) x10;
 *   pv: softint x100, hypercall(mmu_update) x20 (60 batch elements), validation x4 (4096 entries)
 *   bt: softint x100, callout(iretd) x100, incache(cli) x200, iblookup hit ret x300, miss ret x2,
 *       translate x5 units (40 instructions): none priced by either model, so bt costs native's
 * Model "old" (2000): insn 1, softint 242, exit 1000 (IO_INSTRUCTION 3000), hypercall 300,
 *   validation 200 + 20/entry.  Model "new" (2010): insn 1, softint 242, exit 100.
 *   old: native 262/op, trap (26200 + 50000 + 30000)/100 = 1062, pv (26200 + 6000 + 800 + 81920)/100 = 1149.2
 *   new: trap (26200 + 6000)/100 = 322, pv 262 (hypercalls and validations unpriced)
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analysis/report_text.h"
#include "emu/commands.h"
#include "emu/events.h"
#include "emu/insn_class.h"
#include "traces/tdb.h"

#include "support_db.h"

static char dir[64], dbpath[128], out[128];

/* One ok run of workload syscall (n = 100) in `mode` with its n counters and 2000 measured-phase
 * instructions. */
static void add_run(struct tdb *db, const char *mode, const struct tdb_count *c, unsigned n)
{
    sdb_add_run(db, &(struct sdb_run){ .workload = "syscall", .params = "workload=syscall n=100",
                                       .mode = mode, .counts = c, .ncounts = n,
                                       .insn_user = 1000, .insn_kernel = 1000 });
}

static void fixture(void)
{
    sdb_scratch("vmlab_report", dir, sizeof dir, dbpath, sizeof dbpath);
    snprintf(out, sizeof out, "%s/report", dir);
    sdb_models_dir(dir);
    char path[160];
    snprintf(path, sizeof path, "%s/models/old.yaml", dir);
    sdb_write_file(path, "name: old\ncpu: old CPU\nyear: 2000\nparams:\n"
                         "  cpi: { cycles: 1, estimate: t }\n  sc: { cycles: 242, estimate: t }\n"
                         "  ex: { cycles: 1000, estimate: t }\n"
                         "  io: { cycles: 3000, estimate: t }\n"
                         "  hc: { cycles: 300, estimate: t }\n  vc: { cycles: 200, estimate: t }\n"
                         "  ve: { cycles: 20, estimate: t }\n"
                         "costs:\n  insn: cpi\n  softint: sc\n"
                         "  exit: { cycles: ex, reasons: { IO_INSTRUCTION: io } }\n"
                         "  hypercall: hc\n  validation: { cycles: vc, per_unit: ve }\n");
    snprintf(path, sizeof path, "%s/models/new.yaml", dir);
    sdb_write_file(path, "name: new\ncpu: new CPU\nyear: 2010\nparams:\n"
                         "  cpi: { cycles: 1, estimate: t }\n  sc: { cycles: 242, estimate: t }\n"
                         "  ex: { cycles: 100, estimate: t }\n"
                         "costs:\n  insn: cpi\n  softint: sc\n  exit: ex\n");

    struct tdb *db = sdb_open(dbpath);
    struct tdb_count native[] = { { 1, EV_SOFTINT, 0x80, "", 100, 0 } };
    struct tdb_count trap[] = { { 1, EV_SOFTINT, 0x80, "", 100, 0 },
                                { 1, EV_EXIT, 28, "cr3 write", 50, 0 },
                                { 1, EV_EXIT, 30, "out", 10, 0 } };
    struct tdb_count pv[] = { { 1, EV_SOFTINT, 0x80, "", 100, 0 },
                              { 1, EV_HYPERCALL, 1, "", 20, 60 },
                              { 1, EV_VALIDATION, 1, "ok", 4, 4096 } };
    struct tdb_count bt[] = { { 1, EV_SOFTINT, 0x80, "", 100, 0 },
                              { 1, EV_CALLOUT, IC_IRET, "iretd", 100, 0 },
                              { 1, EV_INCACHE, IC_CLI, "cli", 200, 0 },
                              { 1, EV_IBLOOKUP, 0, "ret", 300, 0 },
                              { 1, EV_IBLOOKUP, 1, "ret", 2, 0 },
                              { 1, EV_TRANSLATE, 0, "", 5, 40 } };
    add_run(db, "native", native, 1);
    add_run(db, "trap", trap, 3);
    add_run(db, "pv", pv, 3);
    add_run(db, "bt", bt, 6);
    tdb_close(db);
}

static void teardown(void) { sdb_remove(dir); }

TestSuite(report, .init = fixture, .fini = teardown);

/* The report's file `name` (sdb_read_file). */
static char *slurp(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", out, name);
    return sdb_read_file(path);
}

/* `vmlab report` with `argv`, what it prints thrown away; its exit status. */
static int quiet_report(char **argv) { return sdb_capture(cmd_report, argv, NULL, 0); }

static void make_report(void)
{
    char *argv[] = { "report", "--db", dbpath, "--model", "old", "--out", out, NULL };
    cr_assert_eq(quiet_report(argv), 0);
}

#define assert_has(text, want) cr_assert(strstr(text, want), "'%s' not in:\n%s", want, text)

Test(report, overhead_data_is_time_relative_to_native)
{
    make_report();
    char *d = slurp("overhead.dat");
    assert_has(d, "\"workload\" \"native\" \"trap\" \"bt\" \"pv\"\n");
    assert_has(d, "\"syscall\" 1 4.05344 1 4.38626\n"); /* 1062 / 262, 1149.2 / 262 */
}

Test(report, nanobench_data_is_cycles_per_operation)
{
    make_report();
    assert_has(slurp("nanobench.dat"), "\"syscall\" 262 1062 262 1149.2\n");
    assert_has(slurp("nanobench.gp"), "set logscale y");
}

Test(report, monitor_entries_are_stacked_by_reason)
{
    make_report();
    char *d = slurp("monitor.dat");
    assert_has(d, "\"workload/mode\" \"exit(CR_ACCESS)\" \"exit(IO_INSTRUCTION)\""
                  " \"callout(iretd)\" \"hypercall(mmu_update)\"\n");
    assert_has(d, "\"syscall/trap\" 0.5 0.1 0 0\n");
    assert_has(d, "\"syscall/bt\" 0 0 1 0\n");
    assert_has(d, "\"syscall/pv\" 0 0 0 0.2\n");
}

Test(report, generations_price_the_same_runs_under_every_model)
{
    make_report();
    char *d = slurp("generations.dat");
    assert_has(d, "\"model\" \"trap\" \"bt\" \"pv\"\n");
    assert_has(d, "\"old\" 4.05344 1 4.38626\n\"new\" 1.22901 1 1\n"); /* 322 / 262 */
}

Test(report, pv_validations_and_hypercalls_per_operation)
{
    make_report();
    assert_has(slurp("pv.dat"), "\"syscall\" 0.2 0.6 0.04 40.96\n");
}

Test(report, bt_callouts_in_cache_work_and_lookups_per_operation)
{
    make_report();
    char *d = slurp("bt.dat");
    assert_has(d, "\"workload\" \"callouts\" \"in-cache emulations\" \"lookup hits\""
                  " \"lookup misses\" \"instructions translated\"\n");
    assert_has(d, "\"syscall\" 1 2 3 0.02 0.4\n");
    assert_has(slurp("bt.gp"), "set logscale y");
}

Test(report, charts_and_index_are_written)
{
    char *argv[] = { "report", "--db", dbpath, "--model", "old", "--out", out, "--png", NULL };
    cr_assert_eq(quiet_report(argv), 0);
    const char *names[] = { "overhead", "monitor", "nanobench", "generations", "pv", "bt" };
    for (int i = 0; i < 6; i++) {
        char file[256];
        snprintf(file, sizeof file, "%s.svg", names[i]);
        assert_has(slurp(file), "<svg");
        snprintf(file, sizeof file, "%s/%s.png", out, names[i]);
        cr_assert_eq(access(file, R_OK), 0, "%s missing", file);
        snprintf(file, sizeof file, "src=\"%s.svg\"", names[i]);
        assert_has(slurp("index.html"), file);
    }
}

Test(report, missing_data_gives_a_note_not_a_chart)
{
    char path[160];
    snprintf(path, sizeof path, "%s/empty.db", dir);
    tdb_close(sdb_open(path));
    char *argv[] = { "report", "--db", path, "--out", out, NULL };
    cr_assert_eq(quiet_report(argv), 0);
    assert_has(slurp("index.html"), "No chart: no pv runs");
    cr_assert_neq(access(out, F_OK), -1);
    snprintf(path, sizeof path, "%s/pv.svg", out);
    cr_assert_eq(access(path, F_OK), -1);
}

/* Issue 20: what a reader sees is never in exponent notation nor at full precision. */
Test(report, numbers_in_tables_are_formatted_for_readers)
{
    static const struct { double v; const char *want; } cases[] = {
        { 7.26901e+06, "7,269,010" }, { 0.00774525, "0.00775" }, { 2245, "2,245" },
        { 8.16404, "8.16" },          { 25.5404, "25.5" },       { 1, "1" },
        { 0.0005, "0.0005" },         { 0, "0" },                { -1234.4, "-1,234" },
        { 99.96, "100" },             { 1e-12, "0" },            { 431.225, "431" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[48];
        rt_number(buf, sizeof buf, cases[i].v);
        cr_assert_str_eq(buf, cases[i].want, "%g", cases[i].v);
    }
    char buf[48];
    rt_number(buf, sizeof buf, NAN);
    cr_assert_str_eq(buf, "-");
}

Test(report, figures_have_captions_and_ratio_charts_a_native_line)
{
    make_report();
    char *html = slurp("index.html");
    assert_has(html, "<figure id=\"fig-overhead\">\n<img src=\"overhead.svg\"");
    assert_has(html, "<figcaption class=\"explain\"><b>Figure 1.</b> ");
    assert_has(slurp("overhead.gp"), "set label 1 'native = 1'");
    assert_has(slurp("generations.gp"), "set label 1 'native = 1'");
    assert_has(slurp("generations.gp"), "\"old\\n(2000)\" 0, \"new\\n(2010)\" 1");
    cr_assert_null(strstr(slurp("nanobench.gp"), "native = 1"));
    assert_has(slurp("index.html"), "cost model <b>old</b> (old CPU, 2000)");
}
