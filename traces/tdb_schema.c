/*
 * tdb_schema.c — the schema of the vmlab trace database, its migrations, and the objects derived
 * from this build (lookup tables, views).
 *
 * A trace database holds any number of runs. A run is one workload in one mode on one guest
 * (`vmlab run`); `vmlab compare` fills one database with a suite of them. Everything the emulator
 * records hangs off a run row:
 *
 *   run            one row per run: guest, workload, n (measured operations, from `n=` on the guest
 *                  command line), params (the whole command line), mode, config, suite; status
 *                  running | ok | failed; vmlab version, host, pid and pid_start of the writer;
 *                  start/end time (ISO 8601 UTC); exit status, guest exit value, failure message;
 *                  instruction totals (all, user, kernel) and wall-clock seconds.
 *   run_phase      per (run, phase): instructions at CPL 3 and CPL 0..2, first and last instruction
 *                  count. Phases: 0 set-up, 1 measured region, 2 tear-down, 3 calibration (the
 *                  measured loop with an empty body), 4 between (re-arming work between measured
 *                  blocks); table phase_name.
 *   event_count    the aggregated counters: per (run, phase, class, reason, qualifier) a count and a
 *                  class-dependent second quantity count2 (instructions translated, entries
 *                  validated, batch elements). Adding to an existing key adds the counts.
 *   event          per-event rows (`--trace full` only): instruction count, phase, class, reason,
 *                  qualifier, guest EIP, CPL, detail. No index: rows of one run are contiguous in
 *                  rowid order; create one (ON event(run_id, class)) when querying a big database.
 *   bucket         time series: per (run, instruction-count bucket, class) a count. The bucket width
 *                  is in the run's config (`bucket=N`).
 *   validation     page-table validations (PV): instruction count, frame, level, entries checked,
 *                  outcome.
 *   hypercall      hypercalls with batch sizes (PV): instruction count, number, batch, result.
 *   translation    translations a binary translator made (bt, schema version 4): instruction
 *                  count, phase, guest EIP, guest bytes and instructions read, TC address and
 *                  bytes written, kind (unit | trampoline).
 *
 * Lookup tables, written from this build's lists at open (so a database always names what the
 * binary that wrote it counted):
 *   event_class      id (= enum ev_class), name, reason_doc, qualifier_doc, description
 *                    (emu/event_classes.def). Ids are positions in that list: a database whose ids
 *                    disagree with the list is refused (append new classes at the end).
 *   vmx_exit_reason  nr, name (emu/vmx_exits.def)      — `reason` of class exit
 *   xen_hypercall    nr, name (emu/xen_hypercalls.def) — `reason` of class hypercall
 *   exception_vector nr, mnemonic, name                 — `reason` of class fault
 *   insn_class       nr, name, kind (emu/insn_class.def) — `reason` of priv, callout, incache, hole
 *   phase_name       phase, name
 *
 * Cost models (schema version 2), loaded by `stat`, `report` and `compare` from models/<cpu>.yaml:
 *   model        id, name, cpu, year, ghz, file, loaded_at, description; features (version 6):
 *                "vpid,ept", what the CPU had that decides which modes a hypervisor of its time
 *                ran (trap-ept needs ept), empty for none
 *   model_param  model_id, name, value: the named numbers of the file; with schema version 5 where
 *                each comes from: source (a key of models/REFERENCES.md) and source_where (its
 *                table or figure), carried_from (the model whose published value it repeats; source
 *                and source_where are then that model's), estimate (why there is no published
 *                number), derived_from (the sum of other params it is, e.g. "a - b").
 *   model_cost   model_id, mode (NULL = every mode), class, reason (NULL = every reason of the
 *                class), cycles per event, per_unit cycles per unit of count2; params (version 5),
 *                a JSON array of the non-derived params the cost is made of. Class insn's
 *                `cycles` is the CPI. The most specific row applies: (mode, reason), (mode, any
 *                reason), (any mode, reason), (any mode, any reason).
 *
 * Views (analysis/views.sql, documented there) price the counts under every model at query time.
 *
 * Versions. PRAGMA user_version holds the schema version; migrations only add (tables, columns,
 * indexes), so a database written by an older vmlab opens in a newer one, and a newer database is
 * refused by an older vmlab with a message. Version history:
 *   1  runs, phases, counts, events, buckets, validations, hypercalls, lookup tables
 *   2  cost models
 *   3  insn_class lookup table
 *   4  translation table
 *   5  provenance of the cost models' numbers (model_param.source, source_where, carried_from,
 *      estimate, derived_from; model_cost.params)
 *
 * Concurrency. Several `vmlab run` processes may write one database (compare -j N): it is opened in
 * WAL mode with a busy timeout, every write is one short IMMEDIATE transaction, and schema changes
 * are re-checked inside their transaction, so racing openers migrate exactly once. The last writer
 * to close switches the database back to journal_mode=DELETE (tdb_close), so a finished database
 * is one file a reader needs no write access for; readers (tdb_open_readonly) never write it and
 * keep lookups, cost models and views in their connection's temp schema
 * (tdb_schema_temp_derived, at the end of this file).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "traces/tdb.h"
#include "traces/tdb_internal.h"
#include "vmlab_sql.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const struct tdb_class_desc tdb_classes[] = {
#define EV_CLASS(id, name, reason, qual, desc) { name, reason, qual, desc },
#include "emu/event_classes.def"
#undef EV_CLASS
};
const unsigned tdb_class_count = sizeof tdb_classes / sizeof tdb_classes[0];

static const struct { int nr; const char *name; } vmx_exits[] = {
#define VMX_EXIT(n, name) { n, #name },
#include "emu/vmx_exits.def"
#undef VMX_EXIT
};

static const struct { int nr; const char *name; } xen_hypercalls[] = {
#define XEN_HYPERCALL(n, name) { n, #name },
#include "emu/xen_hypercalls.def"
#undef XEN_HYPERCALL
};

/* Intel SDM vol. 3, table 6-1. */
static const struct { int nr; const char *mnemonic, *name; } vectors[] = {
    { 0, "#DE", "divide error" },          { 1, "#DB", "debug" },
    { 2, "NMI", "non-maskable interrupt" }, { 3, "#BP", "breakpoint" },
    { 4, "#OF", "overflow" },              { 5, "#BR", "bound range exceeded" },
    { 6, "#UD", "invalid opcode" },        { 7, "#NM", "device not available" },
    { 8, "#DF", "double fault" },          { 9, "CSO", "coprocessor segment overrun" },
    { 10, "#TS", "invalid TSS" },          { 11, "#NP", "segment not present" },
    { 12, "#SS", "stack-segment fault" },  { 13, "#GP", "general protection" },
    { 14, "#PF", "page fault" },           { 16, "#MF", "x87 floating-point error" },
    { 17, "#AC", "alignment check" },      { 18, "#MC", "machine check" },
    { 19, "#XM", "SIMD floating-point exception" },
};

static const struct { const char *name, *kind; } insn_classes[] = {
#define INSN_CLASS(id, name, kind) { name, #kind },
#include "emu/insn_class.def"
#undef INSN_CLASS
};

static const char *const phases[] = { "set-up", "measured", "tear-down", "calibration",
                                      "between" };

/* migrations[i] takes a database from version i to i + 1. Only ever append. */
static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE run("
    "  id INTEGER PRIMARY KEY,"
    "  guest TEXT NOT NULL,"
    "  workload TEXT NOT NULL DEFAULT '',"
    "  n INTEGER,"
    "  params TEXT NOT NULL DEFAULT '',"
    "  mode TEXT NOT NULL,"
    "  config TEXT NOT NULL DEFAULT '',"
    "  suite TEXT,"
    "  status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed')),"
    "  vmlab_version TEXT NOT NULL,"
    "  host TEXT NOT NULL,"
    "  pid INTEGER NOT NULL,"
    "  pid_start INTEGER NOT NULL,"
    "  started_at TEXT NOT NULL,"
    "  ended_at TEXT,"
    "  exit_status INTEGER,"
    "  guest_exit INTEGER,"
    "  message TEXT,"
    "  instructions INTEGER,"
    "  insn_user INTEGER,"
    "  insn_kernel INTEGER,"
    "  wall_seconds REAL);"
    "CREATE INDEX run_workload_mode ON run(workload, mode);"
    "CREATE TABLE run_phase("
    "  run_id INTEGER NOT NULL REFERENCES run(id),"
    "  phase INTEGER NOT NULL,"
    "  insn_user INTEGER NOT NULL,"
    "  insn_kernel INTEGER NOT NULL,"
    "  first_icount INTEGER NOT NULL,"
    "  last_icount INTEGER NOT NULL,"
    "  PRIMARY KEY (run_id, phase));"
    "CREATE TABLE event_count("
    "  run_id INTEGER NOT NULL REFERENCES run(id),"
    "  phase INTEGER NOT NULL,"
    "  class INTEGER NOT NULL REFERENCES event_class(id),"
    "  reason INTEGER NOT NULL,"
    "  qualifier TEXT NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  count2 INTEGER NOT NULL,"
    "  PRIMARY KEY (run_id, phase, class, reason, qualifier)) WITHOUT ROWID;"
    "CREATE TABLE event("
    "  run_id INTEGER NOT NULL,"
    "  icount INTEGER NOT NULL,"
    "  phase INTEGER NOT NULL,"
    "  class INTEGER NOT NULL,"
    "  reason INTEGER NOT NULL,"
    "  qualifier TEXT NOT NULL,"
    "  eip INTEGER NOT NULL,"
    "  cpl INTEGER NOT NULL,"
    "  detail TEXT);"
    "CREATE TABLE bucket("
    "  run_id INTEGER NOT NULL,"
    "  bucket INTEGER NOT NULL,"
    "  class INTEGER NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  PRIMARY KEY (run_id, bucket, class)) WITHOUT ROWID;"
    "CREATE TABLE validation("
    "  run_id INTEGER NOT NULL,"
    "  icount INTEGER NOT NULL,"
    "  frame INTEGER NOT NULL,"
    "  level INTEGER NOT NULL,"
    "  entries INTEGER NOT NULL,"
    "  outcome TEXT NOT NULL);"
    "CREATE TABLE hypercall("
    "  run_id INTEGER NOT NULL,"
    "  icount INTEGER NOT NULL,"
    "  nr INTEGER NOT NULL,"
    "  batch INTEGER NOT NULL,"
    "  result INTEGER NOT NULL);"
    "CREATE TABLE event_class(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  reason_doc TEXT NOT NULL, qualifier_doc TEXT NOT NULL, description TEXT NOT NULL);"
    "CREATE TABLE vmx_exit_reason(nr INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TABLE xen_hypercall(nr INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TABLE exception_vector(nr INTEGER PRIMARY KEY, mnemonic TEXT NOT NULL,"
    "  name TEXT NOT NULL);"
    "CREATE TABLE phase_name(phase INTEGER PRIMARY KEY, name TEXT NOT NULL);",

    /* 1 -> 2 */
    "CREATE TABLE model("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  cpu TEXT NOT NULL,"
    "  year INTEGER,"
    "  ghz REAL,"
    "  file TEXT,"
    "  loaded_at TEXT NOT NULL,"
    "  description TEXT);"
    "CREATE TABLE model_param("
    "  model_id INTEGER NOT NULL REFERENCES model(id),"
    "  name TEXT NOT NULL,"
    "  value REAL NOT NULL,"
    "  PRIMARY KEY (model_id, name));"
    "CREATE TABLE model_cost("
    "  model_id INTEGER NOT NULL REFERENCES model(id),"
    "  mode TEXT,"
    "  class INTEGER NOT NULL REFERENCES event_class(id),"
    "  reason INTEGER,"
    "  cycles REAL NOT NULL DEFAULT 0,"
    "  per_unit REAL NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX model_cost_key"
    "  ON model_cost(model_id, ifnull(mode, ''), class, ifnull(reason, -1));",

    /* 2 -> 3 */
    "CREATE TABLE insn_class(nr INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL);",

    /* 3 -> 4 */
    "CREATE TABLE translation("
    "  run_id INTEGER NOT NULL,"
    "  icount INTEGER NOT NULL,"
    "  phase INTEGER NOT NULL,"
    "  guest_eip INTEGER NOT NULL,"
    "  guest_bytes INTEGER NOT NULL,"
    "  insns INTEGER NOT NULL,"
    "  tc_addr INTEGER NOT NULL,"
    "  tc_bytes INTEGER NOT NULL,"
    "  kind TEXT NOT NULL);",

    /* 4 -> 5 */
    "ALTER TABLE model_param ADD COLUMN source TEXT;"
    "ALTER TABLE model_param ADD COLUMN source_where TEXT;"
    "ALTER TABLE model_param ADD COLUMN carried_from TEXT;"
    "ALTER TABLE model_param ADD COLUMN estimate TEXT;"
    "ALTER TABLE model_param ADD COLUMN derived_from TEXT;"
    "ALTER TABLE model_cost ADD COLUMN params TEXT NOT NULL DEFAULT '[]';",

    /* 5 -> 6 */
    "ALTER TABLE model ADD COLUMN features TEXT NOT NULL DEFAULT '';",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == TDB_SCHEMA_VERSION,
               "one migration per schema version");

static int fail(char *err, unsigned errlen, sqlite3 *db, const char *what)
{
    snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
    return -EIO;
}

int tdb_exec(sqlite3 *db, const char *sql, char *err, unsigned errlen)
{
    for (int tries = 0;; tries++) {
        char *msg = NULL;
        int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            return 0;
        if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && tries < 600) {
            sqlite3_free(msg);
            usleep(100 * 1000);
            continue;
        }
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return rc == SQLITE_BUSY ? -EBUSY : -EIO;
    }
}

int tdb_schema_version_of(sqlite3 *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -EIO;
    sqlite3_finalize(st);
    return v;
}

int tdb_schema_migrate(sqlite3 *db, int target, char *err, unsigned errlen)
{
    int have = tdb_schema_version_of(db);
    if (have < 0)
        return fail(err, errlen, db, "reading schema version");
    if (have > TDB_SCHEMA_VERSION) {
        snprintf(err, errlen, "database schema version %d is newer than this vmlab's (%d)", have,
                 TDB_SCHEMA_VERSION);
        return -EPROTO;
    }
    if (have >= target)
        return 0;
    int rc = tdb_exec(db, "BEGIN IMMEDIATE", err, errlen);
    if (rc)
        return rc;
    have = tdb_schema_version_of(db); /* another writer may have migrated while we waited */
    for (int v = have; v < target && rc == 0; v++) {
        rc = tdb_exec(db, migrations[v], err, errlen);
        if (rc == 0) {
            char sql[64];
            snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
            rc = tdb_exec(db, sql, err, errlen);
        }
    }
    if (rc) {
        char ignore[8];
        tdb_exec(db, "ROLLBACK", ignore, sizeof ignore);
        return rc;
    }
    return tdb_exec(db, "COMMIT", err, errlen);
}

/* FNV-1a over everything the derived objects are made of. */
static uint64_t fnv(uint64_t h, const char *s)
{
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull;
}

static uint64_t derived_fingerprint(void)
{
    uint64_t h = 0xcbf29ce484222325ull;
    char num[16];
    for (unsigned i = 0; i < tdb_class_count; i++) {
        h = fnv(h, tdb_classes[i].name);
        h = fnv(h, tdb_classes[i].reason_doc);
        h = fnv(h, tdb_classes[i].qualifier_doc);
        h = fnv(h, tdb_classes[i].description);
    }
    for (unsigned i = 0; i < sizeof vmx_exits / sizeof vmx_exits[0]; i++) {
        snprintf(num, sizeof num, "%d", vmx_exits[i].nr);
        h = fnv(fnv(h, num), vmx_exits[i].name);
    }
    for (unsigned i = 0; i < sizeof xen_hypercalls / sizeof xen_hypercalls[0]; i++) {
        snprintf(num, sizeof num, "%d", xen_hypercalls[i].nr);
        h = fnv(fnv(h, num), xen_hypercalls[i].name);
    }
    for (unsigned i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
        h = fnv(h, vectors[i].name);
    for (unsigned i = 0; i < sizeof phases / sizeof phases[0]; i++)
        h = fnv(h, phases[i]);
    for (unsigned i = 0; i < sizeof insn_classes / sizeof insn_classes[0]; i++)
        h = fnv(fnv(h, insn_classes[i].name), insn_classes[i].kind);
    return fnv(h, vmlab_sql_views);
}

static int stored_fingerprint_is(sqlite3 *db, const char *want)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'derived'", -1, &st, NULL))
        return 0;
    int same = sqlite3_step(st) == SQLITE_ROW &&
               strcmp((const char *)sqlite3_column_text(st, 0), want) == 0;
    sqlite3_finalize(st);
    return same;
}

/* Refuse a database whose class ids mean other classes than this build's list says. */
static int check_classes(sqlite3 *db, char *err, unsigned errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT id, name FROM event_class ORDER BY id", -1, &st, NULL))
        return fail(err, errlen, db, "reading event classes");
    int rc = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        int id = sqlite3_column_int(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (id < 0 || (unsigned)id >= tdb_class_count || strcmp(name, tdb_classes[id].name)) {
            snprintf(err, errlen,
                     "event class %d is '%s' in this database but '%s' in emu/event_classes.def "
                     "(append new classes at the end of the list)",
                     id, name, (unsigned)id < tdb_class_count ? tdb_classes[id].name : "(none)");
            rc = -EPROTO;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* A row of a lookup table: its integer key, then its text columns. */
struct lookup_row {
    int key;
    const char *text[4];
};

static void class_row(unsigned i, struct lookup_row *r)
{
    const struct tdb_class_desc *c = &tdb_classes[i];
    *r = (struct lookup_row){ (int)i,
                              { c->name, c->reason_doc, c->qualifier_doc, c->description } };
}

static void vmx_row(unsigned i, struct lookup_row *r)
{
    *r = (struct lookup_row){ vmx_exits[i].nr, { vmx_exits[i].name } };
}

static void xen_row(unsigned i, struct lookup_row *r)
{
    *r = (struct lookup_row){ xen_hypercalls[i].nr, { xen_hypercalls[i].name } };
}

static void vector_row(unsigned i, struct lookup_row *r)
{
    *r = (struct lookup_row){ vectors[i].nr, { vectors[i].mnemonic, vectors[i].name } };
}

static void phase_row(unsigned i, struct lookup_row *r)
{
    *r = (struct lookup_row){ (int)i, { phases[i] } };
}

static void insn_class_row(unsigned i, struct lookup_row *r)
{
    *r = (struct lookup_row){ (int)i, { insn_classes[i].name, insn_classes[i].kind } };
}

/* The lookup tables: each has `rows` rows of an integer key and `texts` text columns. */
static const struct lookup {
    const char *table;
    unsigned texts;
    unsigned rows;
    void (*row)(unsigned i, struct lookup_row *r);
} lookups[] = {
    { "event_class", 4, ARRAY_SIZE(tdb_classes), class_row },
    { "vmx_exit_reason", 1, ARRAY_SIZE(vmx_exits), vmx_row },
    { "xen_hypercall", 1, ARRAY_SIZE(xen_hypercalls), xen_row },
    { "exception_vector", 2, ARRAY_SIZE(vectors), vector_row },
    { "phase_name", 1, ARRAY_SIZE(phases), phase_row },
    { "insn_class", 2, ARRAY_SIZE(insn_classes), insn_class_row },
};

/* Write (or replace) every row of lookup table `l`. */
static int insert_lookup(sqlite3 *db, const struct lookup *l, char *err, unsigned errlen)
{
    char sql[96], what[48];
    sqlite3_stmt *st;
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO %s VALUES (?%.*s)", l->table,
             (int)(3 * l->texts), ", ?, ?, ?, ?");
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
        return fail(err, errlen, db, "preparing lookup inserts");
    int rc = 0;
    for (unsigned i = 0; i < l->rows && rc == 0; i++) {
        struct lookup_row r;
        l->row(i, &r);
        sqlite3_bind_int(st, 1, r.key);
        for (unsigned c = 0; c < l->texts; c++)
            sqlite3_bind_text(st, 2 + (int)c, r.text[c], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            snprintf(what, sizeof what, "writing %s", l->table);
            rc = fail(err, errlen, db, what);
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

static int insert_lookups(sqlite3 *db, char *err, unsigned errlen)
{
    int rc = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(lookups) && rc == 0; i++)
        rc = insert_lookup(db, &lookups[i], err, errlen);
    return rc;
}

/* Drop every view, so views removed from views.sql do not linger. */
static int drop_views(sqlite3 *db, char *err, unsigned errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'view'", -1, &st,
                           NULL))
        return fail(err, errlen, db, "listing views");
    char names[64][64];
    unsigned n = 0;
    while (n < 64 && sqlite3_step(st) == SQLITE_ROW)
        snprintf(names[n++], sizeof names[0], "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    for (unsigned i = 0; i < n; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "DROP VIEW IF EXISTS \"%.64s\"", names[i]);
        int rc = tdb_exec(db, sql, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

int tdb_schema_refresh_derived(sqlite3 *db, char *err, unsigned errlen)
{
    char want[32];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)derived_fingerprint());
    if (stored_fingerprint_is(db, want))
        return 0;
    int rc = tdb_exec(db, "BEGIN IMMEDIATE", err, errlen);
    if (rc)
        return rc;
    if (!stored_fingerprint_is(db, want)) {
        rc = check_classes(db, err, errlen);
        if (rc == 0)
            rc = insert_lookups(db, err, errlen);
        if (rc == 0)
            rc = drop_views(db, err, errlen);
        if (rc == 0)
            rc = tdb_exec(db, vmlab_sql_views, err, errlen);
        if (rc == 0) {
            char sql[96];
            snprintf(sql, sizeof sql,
                     "INSERT OR REPLACE INTO meta VALUES ('derived', '%s')", want);
            rc = tdb_exec(db, sql, err, errlen);
        }
    }
    if (rc) {
        char ignore[8];
        tdb_exec(db, "ROLLBACK", ignore, sizeof ignore);
        return rc;
    }
    return tdb_exec(db, "COMMIT", err, errlen);
}

/* --- Read-only connections ------------------------------------------------------------------
 * A reader that cannot (or must not) write the database keeps everything it derives in the
 * connection's temp schema, which lives in memory (temp_store = MEMORY) and shadows the main
 * schema for unqualified names: this build's lookup tables, the cost-model tables (seeded with
 * the models the database holds, then added to by the reader's own model files) and the views of
 * analysis/views.sql as TEMP views (a view in main resolves names in main only, so it would not
 * see models loaded into temp; a TEMP view resolves temp first, then main). */

/* The tables a reader shadows in temp; the model tables as of TDB_SCHEMA_VERSION (checked against
 * main's columns by tests/unit/test_tdb.c). */
static const char temp_tables[] =
    "CREATE TEMP TABLE event_class(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  reason_doc TEXT NOT NULL, qualifier_doc TEXT NOT NULL, description TEXT NOT NULL);"
    "CREATE TEMP TABLE vmx_exit_reason(nr INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TEMP TABLE xen_hypercall(nr INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TEMP TABLE exception_vector(nr INTEGER PRIMARY KEY, mnemonic TEXT NOT NULL,"
    "  name TEXT NOT NULL);"
    "CREATE TEMP TABLE phase_name(phase INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TEMP TABLE insn_class(nr INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL);"
    "CREATE TEMP TABLE model(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, cpu TEXT NOT NULL,"
    "  year INTEGER, ghz REAL, file TEXT, loaded_at TEXT NOT NULL, description TEXT,"
    "  features TEXT NOT NULL DEFAULT '');"
    "CREATE TEMP TABLE model_param(model_id INTEGER NOT NULL, name TEXT NOT NULL,"
    "  value REAL NOT NULL, source TEXT, source_where TEXT, carried_from TEXT, estimate TEXT,"
    "  derived_from TEXT, PRIMARY KEY (model_id, name));"
    "CREATE TEMP TABLE model_cost(model_id INTEGER NOT NULL, mode TEXT, class INTEGER NOT NULL,"
    "  reason INTEGER, cycles REAL NOT NULL DEFAULT 0, per_unit REAL NOT NULL DEFAULT 0,"
    "  params TEXT NOT NULL DEFAULT '[]');"
    "CREATE UNIQUE INDEX temp.model_cost_key"
    "  ON model_cost(model_id, ifnull(mode, ''), class, ifnull(reason, -1));"
    "INSERT INTO temp.model SELECT id, name, cpu, year, ghz, file, loaded_at, description,"
    "  features FROM main.model;"
    "INSERT INTO temp.model_param SELECT model_id, name, value, source, source_where,"
    "  carried_from, estimate, derived_from FROM main.model_param;"
    "INSERT INTO temp.model_cost SELECT model_id, mode, class, reason, cycles, per_unit, params"
    "  FROM main.model_cost;";

/* views.sql with every CREATE VIEW made a CREATE TEMP VIEW; NULL when out of memory. */
static char *temp_views(void)
{
    static const char from[] = "CREATE VIEW ", to[] = "CREATE TEMP VIEW ";
    size_t n = 0;
    for (const char *p = vmlab_sql_views; (p = strstr(p, from)); p += sizeof from - 1)
        n++;
    char *out = malloc(strlen(vmlab_sql_views) + n * (sizeof to - sizeof from) + 1), *o = out;
    if (!out)
        return NULL;
    const char *p = vmlab_sql_views;
    for (const char *hit; (hit = strstr(p, from)); p = hit + sizeof from - 1) {
        memcpy(o, p, (size_t)(hit - p));
        o += hit - p;
        memcpy(o, to, sizeof to - 1);
        o += sizeof to - 1;
    }
    strcpy(o, p);
    return out;
}

int tdb_schema_temp_derived(sqlite3 *db, char *err, unsigned errlen)
{
    int rc = check_classes(db, err, errlen);
    if (rc == 0)
        rc = tdb_exec(db, "BEGIN", err, errlen);
    if (rc)
        return rc;
    rc = tdb_exec(db, temp_tables, err, errlen);
    if (rc == 0)
        rc = insert_lookups(db, err, errlen);
    char *views = rc == 0 ? temp_views() : NULL;
    if (rc == 0 && !views) {
        snprintf(err, errlen, "out of memory");
        rc = -ENOMEM;
    }
    if (rc == 0)
        rc = tdb_exec(db, views, err, errlen);
    free(views);
    if (rc) {
        char ignore[8];
        tdb_exec(db, "ROLLBACK", ignore, sizeof ignore);
        return rc;
    }
    return tdb_exec(db, "COMMIT", err, errlen);
}
