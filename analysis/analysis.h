/*
 * analysis.h — helpers shared by the reading commands (`stat`, `report`, `compare`'s summary):
 * opening an existing database, choosing the cost model, JSON/CSV quoting.
 */
#ifndef VMLAB_ANALYSIS_H
#define VMLAB_ANALYSIS_H

#include <string.h>

#include <stdio.h>

struct tdb;
struct sqlite3;

/* The model used when none is named: the CPU of Adams & Agesen's comparison. */
#define AN_DEFAULT_MODEL "p4-prescott"

/* The order every table and chart lists modes in (native, trap, trap-ept, trap-classic, bt, pv,
 * then any other by name): the one list, as (name, rank). */
#define AN_MODE_LIST(X) X("native", 0) X("trap", 1) X("trap-ept", 2) X("trap-classic", 3)        \
    X("bt", 4) X("pv", 5)
#define AN_MODE_COUNT 6
#define AN_MODE_WHEN_(name, rank) " WHEN '" name "' THEN " #rank

/* SQL ORDER BY terms that list modes of column `col` in that order. */
#define AN_MODE_ORDER(col)                                                                     \
    " CASE " col AN_MODE_LIST(AN_MODE_WHEN_) " ELSE 6 END, " col

/* The same order in C: the rank of `mode` (AN_MODE_COUNT for a mode not in the list). */
static inline int an_mode_rank(const char *mode)
{
#define AN_MODE_IF_(name, rank) if (strcmp(mode, name) == 0) return rank;
    AN_MODE_LIST(AN_MODE_IF_)
#undef AN_MODE_IF_
    return AN_MODE_COUNT;
}

/* Open an existing trace database read-only (tdb_open_readonly: a missing file is an error, not
 * a new database; nothing is written to it, so a user who may only read it can; cost models and
 * views live in the connection's temp schema). Prints "vmlab CMD: message" to stderr and returns
 * NULL on failure. */
struct tdb *an_open_existing(const char *path, const char *cmd);

/* Make the cost model `spec` (name or file; NULL = every file in the models directory, then
 * AN_DEFAULT_MODEL or the oldest model in the database) available and put its name in `name`.
 * Prints "vmlab CMD: message" and returns -errno on failure. */
int an_pick_model(struct sqlite3 *db, const char *spec, char *name, unsigned namelen,
                  const char *cmd);

/* Put in `name` the model used when none is named among those already in the database:
 * AN_DEFAULT_MODEL, else the oldest. Returns -ENOENT (and leaves `name`) when there is none. */
int an_default_model(struct sqlite3 *db, char *name, unsigned namelen);

/* A --phase value: -1 for all, 0..3 for setup (set-up), measured, teardown (tear-down),
 * calibration, a number >= 0 as itself; -2 when it is none of these. */
int an_parse_phase(const char *s);

/* Write `s` as a JSON string (with quotes) / as a CSV field (quoted when needed). */
void an_json_str(FILE *f, const char *s);
void an_csv_str(FILE *f, const char *s);

#endif
