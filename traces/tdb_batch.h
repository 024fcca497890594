/*
 * tdb_batch.h — rows waiting to be written, and how a batch of them is written (traces/ only).
 *
 * The rows that come one at a time (events with `--trace full`, time-series buckets, validations,
 * hypercalls, translations) are copied into a batch: one growable array of plain structs per
 * table and one arena holding their strings, so adding a row allocates nothing once the arrays
 * have grown. tdb.c keeps two batches, fills one and hands a full one to its worker
 * (tdb_worker.h), which writes it with tdb_batch_commit while the other fills.
 *
 *   tdb_batch_* adds ... --> tdb_batch_commit (one transaction) --> tdb_batch_clear --> adds ...
 *
 * Writing uses only the connection and the batch's own statements, never the struct tdb, so it
 * may run on the worker's thread while the caller fills the other batch.
 */
#ifndef VMLAB_TDB_BATCH_H
#define VMLAB_TDB_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "traces/tdb.h"

#define TDB_NO_STR UINT32_MAX         /* a NULL string */
#define TDB_STR_NOMEM (UINT32_MAX - 1) /* tdb_batch_str ran out of memory */

/* A growable array of `T`: VEC(T) v; vec_push(&v) returns a pointer to a new slot or NULL. */
#define VEC(T) struct { T *a; size_t n, cap; }
#define vec_push(v)                                                                     \
    ((v)->n < (v)->cap || tdb_vec_grow((void **)&(v)->a, &(v)->cap, sizeof *(v)->a)      \
         ? &(v)->a[(v)->n++]                                                            \
         : NULL)

struct ev_row {
    int64_t run_id, reason;
    uint64_t icount;
    uint32_t phase, eip, qual, detail; /* qual, detail: arena offsets (TDB_NO_STR = NULL) */
    int ev_class, cpl;
};

struct bucket_row {
    int64_t run_id;
    uint64_t bucket, count;
    int ev_class;
};

struct validation_row {
    int64_t run_id;
    uint64_t icount;
    uint32_t frame, entries, outcome; /* outcome: arena offset */
    int level;
};

struct hypercall_row {
    int64_t run_id;
    uint64_t icount;
    int nr, result;
    unsigned batch;
};

struct translation_row {
    int64_t run_id;
    uint64_t icount;
    uint32_t phase;
    struct tdb_translation u;
};

struct tdb_batch {
    VEC(struct ev_row) events;
    VEC(struct bucket_row) buckets;
    VEC(struct validation_row) validations;
    VEC(struct hypercall_row) hypercalls;
    VEC(struct translation_row) translations;
    VEC(char) arena; /* NUL-terminated strings of the rows */
};

/* The prepared statements a batch is written with (owned by the connection's struct tdb). */
struct tdb_batch_stmts {
    sqlite3_stmt *event, *event_multi, *bucket, *validation, *hypercall, *translation;
};

/* TDB_MULTI: event rows per INSERT statement of stmts->event_multi (one statement of 64 rows runs
 * about twice as fast as 64 one-row statements). */
enum { TDB_MULTI = 64 };

/* Double *cap (from 1024) and realloc *a to it; 1, or 0 when out of memory (*a unchanged). */
int tdb_vec_grow(void **a, size_t *cap, size_t size);

/* Copy s into the batch's arena: its offset, TDB_NO_STR for NULL, TDB_STR_NOMEM when out of
 * memory. */
uint32_t tdb_batch_str(struct tdb_batch *b, const char *s);

/* Rows in the batch, of every table. */
size_t tdb_batch_rows(const struct tdb_batch *b);

/* Bytes of strings in the batch. */
size_t tdb_batch_bytes(const struct tdb_batch *b);

/* Insert every row of b with the statements st, inside the caller's transaction. 0, or -EIO with
 * a message of at most errlen bytes in err (the rows of b are left as they are). */
int tdb_batch_write(const struct tdb_batch *b, sqlite3 *db, const struct tdb_batch_stmts *st,
                    char *err, size_t errlen);

/* The same in one IMMEDIATE transaction of its own (rolled back on error), then clear b. */
int tdb_batch_commit(struct tdb_batch *b, sqlite3 *db, const struct tdb_batch_stmts *st,
                     char *err, size_t errlen);

/* Forget the rows (keeping the memory for the next ones). */
void tdb_batch_clear(struct tdb_batch *b);

/* Free the memory. */
void tdb_batch_free(struct tdb_batch *b);

#endif
