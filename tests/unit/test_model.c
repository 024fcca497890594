/*
 * test_model.c — the cost models: each mechanism's param moves exactly the modes that use it, the
 * parser refuses a number without provenance (one line naming file, line and key), every shipped
 * model file (models/NAME.yaml) loads, and `vmlab stat` / `vmlab report` name the carried and
 * estimated numbers.
 *
 * Fixture: a database with one run per mode (workload mix, n = 10, 1000 instructions in the
 * measured phase) holding each mode's event classes as emu/event_classes.def describes them:
 *   native        fault (#DE, #PF), interrupt, softint, io, priv(cli), halt
 *   trap          exit (CR_ACCESS, IO_INSTRUCTION, EXCEPTION_NMI), the CPU's deliveries (fault
 *                 #DE and #PF, interrupt, softint), shadow, ioemul
 *   trap-classic  montrap (#GP, #PF, irq, int 0x80), reflect, shadow, ioemul, hole, priv(cli)
 *   bt            callout, incache, translate, iblookup (hit, miss), montrap (#PF, irq), reflect,
 *                 shadow, ioemul
 *   pv            hypercall, hvtrap (#GP, #PF, irq), bounce, upcall, validation, io, softint
 * and three copies of the shipped p4-prescott model beside it: "base", "exit" (exit_round_trip
 * 4340 -> 5000) and "exc" (exc_delivery 889 -> 900); they cite the repository's REFERENCES.md,
 * there being none beside them.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "analysis/model.h"
#include "emu/commands.h"
#include "emu/events.h"
#include "emu/insn_class.h"
#include "traces/tdb.h"

#include "support_db.h"

static char dir[64], dbpath[128];

static const char *const modes[] = { "native", "trap", "trap-classic", "bt", "pv" };
#define NMODES (sizeof modes / sizeof modes[0])

/* `text` with `from` (which must occur once) replaced by `to`; freed by the caller. */
static char *replace_once(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    cr_assert(at && !strstr(at + 1, from), "'%s' not found exactly once", from);
    char *out = malloc(strlen(text) + strlen(to) + 1);
    sprintf(out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

/* Write the shipped p4-prescott model as dir/NAME.yaml, named NAME, with one edit (or none). */
static void write_p4_variant(const char *name, const char *from, const char *to)
{
    const char *p4 = sdb_read_file(VMLAB_SOURCE_DIR "/models/p4-prescott.yaml");
    char rename[64], path[160];
    snprintf(rename, sizeof rename, "name: %s\n", name);
    char *named = replace_once(p4, "name: p4-prescott\n", rename);
    char *edited = from ? replace_once(named, from, to) : strdup(named);
    snprintf(path, sizeof path, "%s/%s.yaml", dir, name);
    sdb_write_file(path, edited);
    free(named);
    free(edited);
}

/* Every counter the fixture records (all in phase 1), once, with the modes that record it as bits
 * of modes[]. */
enum { NATIVE = 1u << 0, TRAP = 1u << 1, CLASSIC = 1u << 2, BT = 1u << 3, PV = 1u << 4 };
static const struct {
    unsigned modes;
    struct tdb_count c;
} counters[] = {
    { NATIVE,              { 1, EV_FAULT, 0, "", 5, 0 } },
    { TRAP,                { 1, EV_FAULT, 0, "", 2, 0 } },
    { NATIVE | TRAP,       { 1, EV_FAULT, 14, "", 5, 0 } },
    { NATIVE | TRAP,       { 1, EV_INTERRUPT, 32, "irq0", 5, 0 } },
    { NATIVE | TRAP | PV,  { 1, EV_SOFTINT, 0x80, "", 5, 0 } },
    { NATIVE | PV,         { 1, EV_IO, 0x3f8, "out1", 5, 0 } },
    { NATIVE | CLASSIC,    { 1, EV_PRIV, IC_CLI, "cli", 5, 0 } },
    { NATIVE,              { 1, EV_HALT, 0, "", 1, 0 } },
    { TRAP,                { 1, EV_EXIT, 28, "cr3 write", 5, 0 } },
    { TRAP,                { 1, EV_EXIT, 30, "0x3f8", 5, 0 } },
    { TRAP,                { 1, EV_EXIT, 0, "#PF", 5, 0 } },
    { TRAP | BT,           { 1, EV_SHADOW, 1, "hidden_fault", 5, 0 } },
    { TRAP | CLASSIC | BT, { 1, EV_IOEMUL, 0x3f8, "out1", 5, 0 } },
    { CLASSIC,             { 1, EV_MONTRAP, 13, "cli", 5, 0 } },
    { CLASSIC | BT,        { 1, EV_MONTRAP, 14, "#PF", 5, 0 } },
    { CLASSIC | BT,        { 1, EV_MONTRAP, 32, "irq0", 5, 0 } },
    { CLASSIC,             { 1, EV_MONTRAP, 0x80, "int", 5, 0 } },
    { CLASSIC | BT,        { 1, EV_REFLECT, 14, "#PF", 5, 0 } },
    { CLASSIC,             { 1, EV_REFLECT, 0x80, "", 5, 0 } },
    { CLASSIC,             { 1, EV_SHADOW, 0, "traced_write", 5, 0 } },
    { CLASSIC,             { 1, EV_HOLE, IC_PUSHF, "pushf", 5, 0 } },
    { BT,                  { 1, EV_CALLOUT, IC_IRET, "iretd", 5, 0 } },
    { BT,                  { 1, EV_INCACHE, IC_CLI, "cli", 5, 0 } },
    { BT,                  { 1, EV_INCACHE, IC_PUSHF, "pushf", 5, 0 } },
    { BT,                  { 1, EV_TRANSLATE, 0, "", 2, 20 } },
    { BT,                  { 1, EV_IBLOOKUP, 0, "ret", 5, 0 } },
    { BT,                  { 1, EV_IBLOOKUP, 1, "ret", 1, 0 } },
    { PV,                  { 1, EV_HYPERCALL, 1, "", 5, 10 } },
    { PV,                  { 1, EV_HVTRAP, 13, "in", 5, 0 } },
    { PV,                  { 1, EV_HVTRAP, 14, "#PF", 5, 0 } },
    { PV,                  { 1, EV_HVTRAP, 32, "irq0", 5, 0 } },
    { PV,                  { 1, EV_BOUNCE, 14, "#PF", 5, 0 } },
    { PV,                  { 1, EV_UPCALL, 0, "", 5, 0 } },
    { PV,                  { 1, EV_VALIDATION, 1, "ok", 2, 2048 } },
};
#define NCOUNTERS (sizeof counters / sizeof counters[0])

/* One run per mode, in the order of modes[] (run ids 1 to 5), each with its counters. */
static void add_runs(struct tdb *db)
{
    for (unsigned i = 0; i < NMODES; i++) {
        struct tdb_count c[NCOUNTERS];
        unsigned n = 0;
        for (unsigned k = 0; k < NCOUNTERS; k++)
            if (counters[k].modes & 1u << i)
                c[n++] = counters[k].c;
        sdb_add_run(db, &(struct sdb_run){ .workload = "mix", .params = "workload=mix n=10",
                                           .mode = modes[i], .counts = c, .ncounts = n,
                                           .insn_user = 500, .insn_kernel = 500,
                                           .instructions = 1000 });
    }
}

static void fixture(void)
{
    sdb_scratch("vmlab_model", dir, sizeof dir, dbpath, sizeof dbpath);
    write_p4_variant("base", NULL, NULL);
    write_p4_variant("exit", "exit_round_trip: { cycles: 4340,", "exit_round_trip: { cycles: 5000,");
    write_p4_variant("exc", "exc_delivery: { cycles: 889,", "exc_delivery: { cycles: 900,");
    char path[160];
    struct tdb *db = sdb_open(dbpath);
    add_runs(db);
    for (const char *const *n = (const char *const[]){ "base", "exit", "exc", NULL }; *n; n++) {
        snprintf(path, sizeof path, "%s/%s.yaml", dir, *n);
        sdb_load_model(db, path);
    }
    tdb_close(db);
}

static void teardown(void) { sdb_remove(dir); }

static double mode_cycles(sqlite3 *db, const char *model, const char *mode)
{
    double v = sdb_query(db, "SELECT cycles FROM run_cost WHERE model = ?1 AND mode = ?2", model,
                         mode);
    cr_assert(!isnan(v), "no cycles for %s under %s", mode, model);
    return v;
}

/* Which modes' modeled cycles differ between model `a` and model `b`, as a bit per modes[]. */
static unsigned modes_moved(const char *a, const char *b)
{
    sqlite3 *db = sdb_open_ro(dbpath);
    unsigned moved = 0;
    for (unsigned i = 0; i < NMODES; i++)
        if (mode_cycles(db, a, modes[i]) != mode_cycles(db, b, modes[i]))
            moved |= 1u << i;
    sqlite3_close(db);
    return moved;
}

TestSuite(mechanisms, .init = fixture, .fini = teardown);

Test(mechanisms, every_recorded_class_is_priced)
{
    sqlite3 *db = sdb_open_ro(dbpath);
    double unpriced = sdb_query(db, "SELECT count(*) FROM priced_count WHERE model = ?1"
                                    " AND unpriced", "base", NULL);
    cr_assert_eq(unpriced, 0, "%g counter rows have no cost under p4-prescott", unpriced);
    sqlite3_close(db);
}

Test(mechanisms, exit_round_trip_moves_trap_only)
{
    cr_assert_eq(modes_moved("base", "exit"), 1u << 1, "modes moved: %#x (bit 1 = trap)",
                 modes_moved("base", "exit"));
    sqlite3 *db = sdb_open_ro(dbpath);
    /* trap's three kinds of exits, 5 each, each 660 cycles dearer */
    cr_assert_eq(mode_cycles(db, "exit", "trap") - mode_cycles(db, "base", "trap"), 15 * 660.0);
    sqlite3_close(db);
}

Test(mechanisms, exc_delivery_moves_native_and_every_mode)
{
    cr_assert_eq(modes_moved("base", "exc"), (1u << NMODES) - 1, "modes moved: %#x",
                 modes_moved("base", "exc"));
}

Test(mechanisms, a_page_fault_and_a_trapped_privileged_instruction_keep_their_published_totals)
{
    /* fault(#PF) is [AA06]'s 1093 and montrap(#GP) [AGSS10]'s 2030 whatever exc_delivery is: the
     * parts above it (pf_extra, classic_emulate) are derived as differences */
    sqlite3 *db = sdb_open_ro(dbpath);
    for (const char *const *m = (const char *const[]){ "base", "exc", NULL }; *m; m++) {
        cr_assert_eq(sdb_query(db, "SELECT avg_cycles FROM kvm_stat WHERE model = ?1"
                                   " AND event = ?2 AND run_id = 1", *m, "fault(#PF)"), 1093);
        cr_assert_eq(sdb_query(db, "SELECT cycles / count FROM priced_count WHERE model = ?1"
                                   " AND mode = 'trap-classic' AND class_name = ?2 AND reason = 13",
                               *m, "montrap"), 2030);
    }
    sqlite3_close(db);
}

Test(mechanisms, a_trapped_cli_is_priced_once_and_int_0x80_as_a_software_interrupt)
{
    sqlite3 *db = sdb_open_ro(dbpath);
    cr_assert_eq(sdb_query(db, "SELECT cycles FROM priced_count WHERE model = ?1 AND mode = ?2"
                               " AND event = 'priv(cli)'", "base", "native"), 5 * 60.0);
    cr_assert_eq(sdb_query(db, "SELECT cycles FROM priced_count WHERE model = ?1 AND mode = ?2"
                               " AND event = 'priv(cli)'", "base", "trap-classic"), 0);
    cr_assert_eq(sdb_query(db, "SELECT cycles / count FROM priced_count WHERE model = ?1"
                               " AND mode = ?2 AND class_name = 'montrap' AND reason = 128",
                           "base", "trap-classic"), 242 + 300);
    sqlite3_close(db);
}

/* --- the parser's provenance checks --------------------------------------------------------- */

static const char refs_md[] = "# test references\n\n- [K1] A. Author. \"A paper\". 2001.\n";
static const char base_yaml[] =
    "name: base\ncpu: b\n"
    "params:\n"
    "  pub: { cycles: 100, source: K1, where: \"Table 9\" }\n"
    "  guess: { cycles: 5, estimate: \"none published\" }\n"
    "  part: [pub, -guess]\n"
    "costs:\n  exit: part\n";

/* A directory with REFERENCES.md (key K1) and base.yaml, for models that cite or carry. */
static void provenance_dir(void)
{
    char path[160];
    sdb_scratch("vmlab_prov", dir, sizeof dir, NULL, 0);
    snprintf(path, sizeof path, "%s/REFERENCES.md", dir);
    sdb_write_file(path, refs_md);
    snprintf(path, sizeof path, "%s/base.yaml", dir);
    sdb_write_file(path, base_yaml);
}

TestSuite(provenance, .init = provenance_dir, .fini = teardown);

/* Write x.yaml = "name: x\ncpu: y\n" + body, parse it, expect an error containing
 * "x.yaml:LINE: " + `expect`, on one line. */
static void expect_refused(const char *body, int line, const char *expect)
{
    char path[160], text[2048], want[256], err[512] = "";
    snprintf(path, sizeof path, "%s/x.yaml", dir);
    snprintf(text, sizeof text, "name: x\ncpu: y\n%s", body);
    sdb_write_file(path, text);
    struct model *m = NULL;
    int rc = model_parse(path, &m, err, sizeof err);
    model_free(m);
    cr_assert_neq(rc, 0, "accepted:\n%s", text);
    snprintf(want, sizeof want, "%s:%d: %s", path, line, expect);
    cr_assert(strstr(err, want), "error '%s' lacks '%s'", err, want);
    cr_assert_null(strchr(err, '\n'), "not one line: %s", err);
}

Test(provenance, a_param_without_provenance_is_refused)
{
    expect_refused("params:\n  a: 5\ncosts:\n  exit: a\n", 4, "params.a: no provenance");
    expect_refused("params:\n  a: { cycles: 5 }\ncosts:\n  exit: a\n", 4,
                   "params.a: no provenance");
    expect_refused("params:\n  a: { cycles: 5, estimate: x, carried_from: base }\n"
                   "costs:\n  exit: a\n", 4, "params.a: give one provenance only");
    expect_refused("params:\n  a: { cycles: 5, source: K1 }\ncosts:\n  exit: a\n", 4,
                   "params.a: source: needs where:");
}

Test(provenance, an_unknown_source_key_is_refused)
{
    expect_refused("params:\n  ok: { cycles: 1, source: K1, where: t }\n"
                   "  a: { cycles: 5, source: K2, where: \"Table 1\" }\ncosts:\n  exit: a\n", 5,
                   "params.a.source: unknown reference 'K2'");
}

Test(provenance, carried_from_a_model_without_the_param_is_refused)
{
    expect_refused("params:\n  nope: { cycles: 5, carried_from: base }\ncosts:\n  exit: nope\n",
                   4, "params.nope.carried_from: model base has no param nope");
    expect_refused("params:\n  pub: { cycles: 5, carried_from: gone }\ncosts:\n  exit: pub\n", 4,
                   "params.pub.carried_from: no model 'gone'");
}

Test(provenance, carried_from_with_another_value_is_refused)
{
    expect_refused("params:\n  pub: { cycles: 101, carried_from: base }\ncosts:\n  exit: pub\n",
                   4, "params.pub.carried_from: base's pub is 100, not 101");
}

Test(provenance, only_published_numbers_are_carried)
{
    expect_refused("params:\n  guess: { cycles: 5, carried_from: base }\ncosts:\n  exit: guess\n",
                   4, "params.guess.carried_from: base's guess is an estimate");
    expect_refused("params:\n  part: { cycles: 95, carried_from: base }\ncosts:\n  exit: part\n",
                   4, "params.part.carried_from: base's part is derived (pub - guess)");
}

Test(provenance, a_cycle_of_carried_models_is_refused)
{
    char path[160];
    snprintf(path, sizeof path, "%s/other.yaml", dir);
    sdb_write_file(path, "name: other\ncpu: o\nparams:\n  a: { cycles: 5, carried_from: x }\n"
                         "costs:\n  exit: a\n");
    expect_refused("params:\n  a: { cycles: 5, carried_from: other }\ncosts:\n  exit: a\n", 4,
                   "params.a.carried_from: ");
    char err[512];
    struct model *m = NULL;
    snprintf(path, sizeof path, "%s/x.yaml", dir);
    cr_assert_neq(model_parse(path, &m, err, sizeof err), 0);
    cr_assert(strstr(err, "(a cycle)"), "%s", err);
}

Test(provenance, a_nonzero_literal_in_costs_is_refused)
{
    expect_refused("params:\n  a: { cycles: 5, estimate: x }\ncosts:\n  halt: 0\n  exit: 7\n", 7,
                   "costs.exit: literal 7: a number other than 0 must be a param");
    expect_refused("params:\n  a: { cycles: 5, estimate: x }\ncosts:\n"
                   "  exit: { cycles: a, reasons: { HLT: [a, 3] } }\n", 6,
                   "costs.exit.reasons.HLT: literal 3");
    expect_refused("params:\n  a: { cycles: 5, estimate: x }\n  b: [a, 2]\ncosts:\n  exit: b\n", 5,
                   "params.b: literal 2: a derived param sums params");
}

Test(provenance, a_derived_param_below_zero_is_refused)
{
    expect_refused("params:\n  a: { cycles: 5, estimate: x }\n  b: { cycles: 7, estimate: x }\n"
                   "  c: [a, -b]\ncosts:\n  exit: c\n", 6, "params.c: a - b comes to -2");
}

Test(provenance, carried_and_derived_params_keep_where_they_come_from)
{
    char path[160], err[512];
    snprintf(path, sizeof path, "%s/x.yaml", dir);
    sdb_write_file(path, "name: x\ncpu: y\nparams:\n  pub: { cycles: 100, carried_from: base }\n"
                         "  guess: { cycles: 6, estimate: \"not published\" }\n"
                         "  part: [pub, -guess]\ncosts:\n  exit: [part, guess]\n  halt: 0\n");
    struct model *m;
    cr_assert_eq(model_parse(path, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m->nparams, 3);
    cr_assert_str_eq(m->params[0].carried_from, "base");
    cr_assert_str_eq(m->params[0].source, "K1");
    cr_assert_str_eq(m->params[0].where, "Table 9");
    cr_assert_str_eq(m->params[1].estimate, "not published");
    cr_assert_str_eq(m->params[2].derived, "pub - guess");
    cr_assert_eq(m->params[2].value, 94);
    cr_assert_eq(m->costs[0].cycles, 100);
    /* exit rests on pub and guess (part's parts, guess once), halt on nothing */
    cr_assert_eq(m->costs[0].nleaves, 2);
    cr_assert_str_eq(m->params[m->costs[0].leaves[0]].name, "pub");
    cr_assert_str_eq(m->params[m->costs[0].leaves[1]].name, "guess");
    cr_assert_eq(m->costs[1].nleaves, 0);
    model_free(m);
}

/* --- the shipped models ---------------------------------------------------------------------- */

static int yaml_name(const struct dirent *d)
{
    size_t len = strlen(d->d_name);
    return len > 5 && strcmp(d->d_name + len - 5, ".yaml") == 0;
}

Test(shipped, every_model_file_loads_with_its_provenance)
{
    struct dirent **names;
    int n = scandir(VMLAB_SOURCE_DIR "/models", &names, yaml_name, alphasort);
    cr_assert_geq(n, 5, "fewer than 5 models in " VMLAB_SOURCE_DIR "/models");
    for (int i = 0; i < n; i++) {
        char path[512], err[512];
        struct model *m;
        snprintf(path, sizeof path, VMLAB_SOURCE_DIR "/models/%s", names[i]->d_name);
        cr_assert_eq(model_parse(path, &m, err, sizeof err), 0, "%s", err);
        for (unsigned p = 0; p < m->nparams; p++) {
            const struct model_param *q = &m->params[p];
            cr_assert(q->derived || q->estimate || (q->source && q->where), "%s: %s", path,
                      q->name);
        }
        model_free(m);
        free(names[i]);
    }
    free(names);
    char dbdir[64], path[128], err[512];
    sdb_scratch("vmlab_shipped", dbdir, sizeof dbdir, path, sizeof path);
    struct tdb *t = sdb_open(path);
    setenv("VMLAB_MODELS", VMLAB_SOURCE_DIR "/models", 1);
    cr_assert_eq(model_load_all(tdb_sqlite(t), err, sizeof err), n, "%s", err);
    tdb_close(t);
    sdb_remove(dbdir);
}

/* Load every shipped model into the fixture database. */
static void load_shipped(void)
{
    char err[512];
    struct tdb *t = sdb_open(dbpath);
    setenv("VMLAB_MODELS", VMLAB_SOURCE_DIR "/models", 1);
    cr_assert_gt(model_load_all(tdb_sqlite(t), err, sizeof err), 0, "%s", err);
    tdb_close(t);
}

TestSuite(shipped_in_db, .init = fixture, .fini = teardown);

Test(shipped_in_db, every_class_has_a_cost_and_only_exit_uses_the_vtx_params)
{
    load_shipped();
    sqlite3 *db = sdb_open_ro(dbpath);
    double models = sdb_query(db, "SELECT count(*) FROM model WHERE file LIKE ?1",
                              "%/models/%.yaml", NULL);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM model_cost c JOIN model m ON m.id = c.model_id"
                              " WHERE m.file LIKE ?1 AND c.mode IS NULL AND c.reason IS NULL");
    cr_assert_eq(sdb_query(db, sql, "%/models/%.yaml", NULL), models * EV_CLASS_COUNT,
                 "some shipped model leaves an event class unpriced");
    cr_assert_eq(sdb_query(db, "SELECT count(*) FROM model_cost c JOIN model m"
                               " ON m.id = c.model_id, json_each(c.params) j WHERE m.file LIKE ?1"
                               " AND j.value IN ('exit_round_trip', 'exit_handling')"
                               " AND c.class <> (SELECT id FROM event_class WHERE name = ?2)",
                           "%/models/%.yaml", "exit"), 0, "a VT-x param prices another class");
    sqlite3_close(db);
}

Test(shipped_in_db, provenance_is_stored_per_generation)
{
    load_shipped();
    sqlite3 *db = sdb_open_ro(dbpath);
    cr_assert_eq(sdb_query(db, "SELECT count(*) FROM model_unsourced WHERE model = ?1"
                               " AND kind = ?2", "p4-prescott", "carried"), 0);
    cr_assert_eq(sdb_query(db, "SELECT value FROM model_provenance WHERE model = ?1 AND param = ?2"
                               " AND kind = 'source' AND source = 'AMRS12'",
                           "core2-merom", "exit_round_trip"), 1579);
    cr_assert_eq(sdb_query(db, "SELECT value FROM model_unsourced WHERE model = ?1 AND param = ?2"
                               " AND carried_from = 'core2-merom' AND source = 'AA06'",
                           "nehalem", "exit_handling"), 520);
    cr_assert_eq(sdb_query(db, "SELECT value FROM model_unsourced WHERE model = ?1 AND param = ?2"
                               " AND carried_from = 'sandybridge'", "recent-core",
                           "exit_round_trip"), 784);
    sqlite3_close(db);
}

Test(shipped_in_db, stat_names_the_carried_and_estimated_params_it_used)
{
    static char out[65536];
    setenv("VMLAB_MODELS", VMLAB_SOURCE_DIR "/models", 1);
    char *native[] = { "stat", "--db", dbpath, "--model", "core2-merom", "--run", "1", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, native, out, sizeof out), 0);
    const char *line = strstr(out, "Model core2-merom carries ");
    cr_assert(line, "no provenance line:\n%s", out);
    cr_assert_null(strstr(line + 1, "Model core2-merom carries"), "two provenance lines:\n%s", out);
    char one[1024];
    snprintf(one, sizeof one, "%.*s", (int)strcspn(line, "\n"), line);
    cr_assert(strstr(one, "device_io, exc_delivery, page_fault, priv_flag, softint_delivery from "
                          "p4-prescott"), "%s", one);
    cr_assert(strstr(one, "estimates insn_cpi"), "%s", one);
    cr_assert_null(strstr(one, "exit_round_trip"), "%s", one); /* published for Merom */
    cr_assert_null(strstr(one, "xen_dispatch"), "%s", one);    /* not used by native */
    char *pv[] = { "stat", "--db", dbpath, "--model", "nehalem", "--run", "5", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, pv, out, sizeof out), 0);
    cr_assert(strstr(out, "estimates insn_cpi, validate_call, validate_entry, xen_bounce, "
                          "xen_dispatch"), "%s", out);
    char *trap[] = { "stat", "--db", dbpath, "--model", "nehalem", "--run", "2", NULL };
    cr_assert_eq(sdb_capture(cmd_stat, trap, out, sizeof out), 0);
    cr_assert(strstr(out, "carries exit_handling from core2-merom"), "%s", out);
}

Test(shipped_in_db, report_tables_the_carried_and_estimated_params)
{
    char outdir[160], path[200];
    snprintf(outdir, sizeof outdir, "%s/report", dir);
    setenv("VMLAB_MODELS", VMLAB_SOURCE_DIR "/models", 1);
    char *argv[] = { "report", "--db", dbpath, "--model", "sandybridge", "--out", outdir, NULL };
    static char out[4096];
    cr_assert_eq(sdb_capture(cmd_report, argv, out, sizeof out), 0);
    snprintf(path, sizeof path, "%s/index.html", outdir);
    const char *html = sdb_read_file(path);
    const char *table = strstr(html, "<h2>Numbers not published for this CPU</h2>");
    cr_assert(table, "no provenance table");
    cr_assert(strstr(table, "<tr><td>exc_delivery</td><td>889</td><td>p4-prescott [AA06]</td>"
                            "<td></td></tr>"), "%s", table);
    cr_assert(strstr(table, "<tr><td>xen_dispatch</td><td>300</td><td></td><td>no figure"),
              "%s", table);
    cr_assert_null(strstr(table, "<td>exit_round_trip</td>"), "%s", table);
}
