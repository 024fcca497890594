/*
 * tdb_internal.h — what traces/ shares between the writer (tdb.c) and the schema (tdb_schema.c).
 * Not for the emulator: it only sees tdb.h.
 */
#ifndef VMLAB_TDB_INTERNAL_H
#define VMLAB_TDB_INTERNAL_H

#include <sqlite3.h>

/* Event classes from emu/event_classes.def, in enum ev_class order (index = class id). */
struct tdb_class_desc {
    const char *name;
    const char *reason_doc;
    const char *qualifier_doc;
    const char *description;
};
extern const struct tdb_class_desc tdb_classes[];
extern const unsigned tdb_class_count;

/* Bring the schema of `db` to `target` (<= TDB_SCHEMA_VERSION) by running the migrations it lacks,
 * in one IMMEDIATE transaction. A database newer than this build is refused. 0 or -errno with a
 * message in err. Used by tdb_open with TDB_SCHEMA_VERSION, and by the migration tests with older
 * versions. */
int tdb_schema_migrate(sqlite3 *db, int target, char *err, unsigned errlen);

/* Refresh what is derived from this build rather than stored data: lookup tables (from the .def
 * lists) and views (analysis/views.sql). Skipped when the stored fingerprint matches. Refuses a
 * database whose event-class ids disagree with this build's list. Runs in its own transaction. */
int tdb_schema_refresh_derived(sqlite3 *db, char *err, unsigned errlen);

/* For a read-only connection: refuse a database whose event-class ids disagree with this build's
 * list, then create in the connection's temp schema this build's lookup tables, the cost-model
 * tables (model, model_param, model_cost, seeded with the database's own models) and the views of
 * analysis/views.sql as TEMP views, all shadowing the main schema's objects of the same names. The
 * main schema (at TDB_SCHEMA_VERSION) is only read. 0 or -errno with a message in err. */
int tdb_schema_temp_derived(sqlite3 *db, char *err, unsigned errlen);

/* The database's schema version (PRAGMA user_version), or -errno. */
int tdb_schema_version_of(sqlite3 *db);

/* Run `sql` (several statements) with a busy-retry on SQLITE_BUSY. 0 or -errno with a message. */
int tdb_exec(sqlite3 *db, const char *sql, char *err, unsigned errlen);

#endif
