/*
 * tdb_batch.c — rows waiting to be written, and how a batch is written (see tdb_batch.h).
 *
 * Events, by far the most numerous rows, go TDB_MULTI to one INSERT; the rest one statement per
 * row. Strings are bound from the arena with SQLITE_STATIC: the batch outlives the statement's
 * step and reset.
 */
#include "traces/tdb_batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/tdb_internal.h"

int tdb_vec_grow(void **a, size_t *cap, size_t size)
{
    size_t ncap = *cap ? *cap * 2 : 1024;
    void *na = realloc(*a, ncap * size);
    if (!na)
        return 0;
    *a = na;
    *cap = ncap;
    return 1;
}

uint32_t tdb_batch_str(struct tdb_batch *b, const char *s)
{
    if (!s)
        return TDB_NO_STR;
    size_t len = strlen(s) + 1;
    while (b->arena.n + len > b->arena.cap)
        if (!tdb_vec_grow((void **)&b->arena.a, &b->arena.cap, 1))
            return TDB_STR_NOMEM;
    memcpy(b->arena.a + b->arena.n, s, len);
    b->arena.n += len;
    return (uint32_t)(b->arena.n - len);
}

size_t tdb_batch_rows(const struct tdb_batch *b)
{
    return b->events.n + b->buckets.n + b->validations.n + b->hypercalls.n + b->translations.n;
}

size_t tdb_batch_bytes(const struct tdb_batch *b)
{
    return b->arena.n;
}

static void bind_str(const struct tdb_batch *b, sqlite3_stmt *st, int col, uint32_t off)
{
    if (off == TDB_NO_STR)
        sqlite3_bind_null(st, col);
    else
        sqlite3_bind_text(st, col, b->arena.a + off, -1, SQLITE_STATIC);
}

/* Step and reset st; 0, or -EIO with "what: SQLite's message" in err. */
static int step(sqlite3 *db, sqlite3_stmt *st, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
    return -EIO;
}

static void bind_event(const struct tdb_batch *b, sqlite3_stmt *st, int col, const struct ev_row *e)
{
    sqlite3_bind_int64(st, col + 1, e->run_id);
    sqlite3_bind_int64(st, col + 2, (int64_t)e->icount);
    sqlite3_bind_int(st, col + 3, (int)e->phase);
    sqlite3_bind_int(st, col + 4, e->ev_class);
    sqlite3_bind_int64(st, col + 5, e->reason);
    bind_str(b, st, col + 6, e->qual);
    sqlite3_bind_int64(st, col + 7, e->eip);
    sqlite3_bind_int(st, col + 8, e->cpl);
    bind_str(b, st, col + 9, e->detail);
}

static int write_events(const struct tdb_batch *b, sqlite3 *db, const struct tdb_batch_stmts *st,
                        char *err, size_t errlen)
{
    int rc = 0;
    size_t i = 0;
    for (; rc == 0 && i + TDB_MULTI <= b->events.n; i += TDB_MULTI) {
        for (int r = 0; r < TDB_MULTI; r++)
            bind_event(b, st->event_multi, 9 * r, &b->events.a[i + r]);
        rc = step(db, st->event_multi, "writing events", err, errlen);
    }
    for (; rc == 0 && i < b->events.n; i++) {
        bind_event(b, st->event, 0, &b->events.a[i]);
        rc = step(db, st->event, "writing events", err, errlen);
    }
    return rc;
}

int tdb_batch_write(const struct tdb_batch *b, sqlite3 *db, const struct tdb_batch_stmts *sts,
                    char *err, size_t errlen)
{
    int rc = write_events(b, db, sts, err, errlen);
    sqlite3_stmt *st = sts->bucket;
    for (size_t i = 0; rc == 0 && i < b->buckets.n; i++) {
        const struct bucket_row *r = &b->buckets.a[i];
        sqlite3_bind_int64(st, 1, r->run_id);
        sqlite3_bind_int64(st, 2, (int64_t)r->bucket);
        sqlite3_bind_int(st, 3, r->ev_class);
        sqlite3_bind_int64(st, 4, (int64_t)r->count);
        rc = step(db, st, "writing buckets", err, errlen);
    }
    st = sts->validation;
    for (size_t i = 0; rc == 0 && i < b->validations.n; i++) {
        const struct validation_row *v = &b->validations.a[i];
        sqlite3_bind_int64(st, 1, v->run_id);
        sqlite3_bind_int64(st, 2, (int64_t)v->icount);
        sqlite3_bind_int64(st, 3, v->frame);
        sqlite3_bind_int(st, 4, v->level);
        sqlite3_bind_int64(st, 5, v->entries);
        bind_str(b, st, 6, v->outcome);
        rc = step(db, st, "writing validations", err, errlen);
    }
    st = sts->hypercall;
    for (size_t i = 0; rc == 0 && i < b->hypercalls.n; i++) {
        const struct hypercall_row *h = &b->hypercalls.a[i];
        sqlite3_bind_int64(st, 1, h->run_id);
        sqlite3_bind_int64(st, 2, (int64_t)h->icount);
        sqlite3_bind_int(st, 3, h->nr);
        sqlite3_bind_int64(st, 4, h->batch);
        sqlite3_bind_int(st, 5, h->result);
        rc = step(db, st, "writing hypercalls", err, errlen);
    }
    st = sts->translation;
    for (size_t i = 0; rc == 0 && i < b->translations.n; i++) {
        const struct translation_row *r = &b->translations.a[i];
        sqlite3_bind_int64(st, 1, r->run_id);
        sqlite3_bind_int64(st, 2, (int64_t)r->icount);
        sqlite3_bind_int64(st, 3, r->phase);
        sqlite3_bind_int64(st, 4, r->u.guest_eip);
        sqlite3_bind_int64(st, 5, r->u.guest_bytes);
        sqlite3_bind_int64(st, 6, r->u.insns);
        sqlite3_bind_int64(st, 7, r->u.tc_addr);
        sqlite3_bind_int64(st, 8, r->u.tc_bytes);
        sqlite3_bind_text(st, 9, r->u.trampoline ? "trampoline" : "unit", -1, SQLITE_STATIC);
        rc = step(db, st, "writing translations", err, errlen);
    }
    return rc;
}

int tdb_batch_commit(struct tdb_batch *b, sqlite3 *db, const struct tdb_batch_stmts *st,
                     char *err, size_t errlen)
{
    int rc = tdb_exec(db, "BEGIN IMMEDIATE", err, (unsigned)errlen);
    if (rc == 0) {
        rc = tdb_batch_write(b, db, st, err, errlen);
        if (rc == 0) {
            rc = tdb_exec(db, "COMMIT", err, (unsigned)errlen);
        } else {
            char ignore[8];
            tdb_exec(db, "ROLLBACK", ignore, sizeof ignore);
        }
    }
    tdb_batch_clear(b);
    return rc;
}

void tdb_batch_clear(struct tdb_batch *b)
{
    b->events.n = b->buckets.n = b->validations.n = b->hypercalls.n = b->translations.n = 0;
    b->arena.n = 0;
}

void tdb_batch_free(struct tdb_batch *b)
{
    free(b->events.a);
    free(b->buckets.a);
    free(b->validations.a);
    free(b->hypercalls.a);
    free(b->translations.a);
    free(b->arena.a);
    memset(b, 0, sizeof *b);
}
