/*
 * tdb_worker.h — one job at a time on a thread of its own: how the trace writer (tdb.c) stores a
 * full batch of rows while the emulator goes on filling the next one.
 *
 * With `--trace full` the emulator produces rows faster than SQLite stores them one transaction
 * after the other, and the two need not wait for each other: the writer fills one batch in
 * memory while the worker writes the previous one. There is never more than one job: submitting
 * the next waits for the one in flight, and whoever owns the job's resources (the SQLite
 * connection, the batch) uses them again only after tdb_worker_wait. Jobs run in submission order,
 * so rows reach the database in the order they were added.
 *
 *            submit(job)               job returns
 *     idle ---------------> busy ------------------> idle (result kept)
 *       ^                                              |
 *       +------------ wait: returns the result --------+
 *
 * The thread starts with the first submit, so a run that never submits (`--trace counts`) has no
 * thread. Results are 0 or a negative errno; the first nonzero one is kept until a wait returns
 * it.
 */
#ifndef VMLAB_TDB_WORKER_H
#define VMLAB_TDB_WORKER_H

struct tdb_worker;

/* A job: fn(ctx, arg) on the worker's thread, returning 0 or a negative errno. */
typedef int (*tdb_job_fn)(void *ctx, void *arg);

/* A worker that runs fn(ctx, arg) for each submitted arg; no thread yet. NULL when out of
 * memory. */
struct tdb_worker *tdb_worker_new(tdb_job_fn fn, void *ctx);

/* Wait for the job in flight (if any), then start fn(ctx, arg) on the worker's thread. Returns
 * the first unreported nonzero result of earlier jobs (0 if none); `arg` is started either way.
 * If the thread cannot be created, fn(ctx, arg) runs on the calling thread instead and its result
 * is returned when no earlier one is. */
int tdb_worker_submit(struct tdb_worker *w, void *arg);

/* Wait until no job is in flight; returns the first unreported nonzero result (0 if none) and
 * forgets it. After it returns, the caller may use what the jobs use. A NULL worker returns 0. */
int tdb_worker_wait(struct tdb_worker *w);

/* Wait, stop the thread and free the worker (NULL is allowed). Returns what tdb_worker_wait
 * would. */
int tdb_worker_free(struct tdb_worker *w);

#endif
