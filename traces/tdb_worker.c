/*
 * tdb_worker.c — one job at a time on a thread of its own (see tdb_worker.h for the contract).
 *
 * A mutex and one condition variable: the thread sleeps until `arg` is set (or `stop`), runs the
 * job with the mutex released, stores its result and clears `arg`; submit and wait sleep until
 * `arg` is clear. The hand-over through the mutex is what orders the job's writes before the
 * caller's next use of the same resources.
 */
#include "traces/tdb_worker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct tdb_worker {
    tdb_job_fn fn;
    void *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool started, stop;
    void *arg;       /* the job in flight, NULL when idle */
    int result;      /* first unreported nonzero result */
};

struct tdb_worker *tdb_worker_new(tdb_job_fn fn, void *ctx)
{
    struct tdb_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->fn = fn;
    w->ctx = ctx;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    return w;
}

static void *loop(void *opaque)
{
    struct tdb_worker *w = opaque;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->arg && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->arg)
            break;
        void *arg = w->arg;
        pthread_mutex_unlock(&w->mu);
        int rc = w->fn(w->ctx, arg);
        pthread_mutex_lock(&w->mu);
        if (rc && !w->result)
            w->result = rc;
        w->arg = NULL;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Sleep until no job is in flight; the mutex is held. */
static void idle(struct tdb_worker *w)
{
    while (w->arg)
        pthread_cond_wait(&w->cv, &w->mu);
}

static int take_result(struct tdb_worker *w)
{
    int rc = w->result;
    w->result = 0;
    return rc;
}

int tdb_worker_submit(struct tdb_worker *w, void *arg)
{
    pthread_mutex_lock(&w->mu);
    idle(w);
    int rc = take_result(w);
    if (!w->started) {
        if (pthread_create(&w->thread, NULL, loop, w) != 0) {
            pthread_mutex_unlock(&w->mu);
            int now = w->fn(w->ctx, arg);
            return rc ? rc : now;
        }
        w->started = true;
    }
    w->arg = arg;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int tdb_worker_wait(struct tdb_worker *w)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->mu);
    idle(w);
    int rc = take_result(w);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int tdb_worker_free(struct tdb_worker *w)
{
    if (!w)
        return 0;
    int rc = tdb_worker_wait(w);
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
    return rc;
}
