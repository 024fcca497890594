/*
 * aggregate.h — the one aggregate across workloads that `vmlab stat`, `vmlab compare`'s summary
 * and `vmlab report` show: per cost model and mode, the geometric mean over workloads of each
 * workload's ratio to native (view mode_aggregate over workload_ratio, analysis/views.sql, where
 * it is defined and computed). This file only reads the view's rows, names them and prints them;
 * no command computes an aggregate of its own.
 */
#ifndef VMLAB_AGGREGATE_H
#define VMLAB_AGGREGATE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>

struct sqlite3;

/* The aggregate's name, shown wherever its value is, and what each workload's ratio is. */
#define AN_AGGREGATE_NAME "geomean of per-workload ratios to native"
#define AN_AGGREGATE_RATIO                                                                     \
    "each workload's ratio: modeled cycles per operation of the mode's newest ok run, measured " \
    "phase, over native's"

/* One row of mode_aggregate. */
struct an_aggregate {
    char mode[64];
    int workloads;      /* workloads with a ratio: the mean is over these */
    int excluded;       /* workloads with a run of this mode but no ratio (left out) */
    int without_native; /* of those, the ones that have no native run */
    double geomean;     /* the geometric mean; NAN when workloads is 0 */
    bool absent;        /* the model's CPU lacked what the mode needs (trap-ept without EPT):
                         * a price of hardware that generation did not have */
};

/* The rows of mode_aggregate for cost model `model` (NULL: every model, oldest first), modes in
 * AN_MODE_ORDER, into *out (malloc'd; the caller frees it, also when 0 rows). Returns the number
 * of rows, or -EIO after printing "vmlab CMD: <SQLite message>" to stderr. */
int an_aggregate_load(struct sqlite3 *db, const char *model, struct an_aggregate **out,
                      const char *cmd);

/* Write into buf (always terminated) the aggregate's name and how many workloads it is over:
 * AN_AGGREGATE_NAME " (18 workloads)", or " (17-18 workloads)" when the rows' counts differ,
 * or " (no workloads)" when n is 0. */
void an_aggregate_label(const struct an_aggregate *a, int n, char *buf, size_t len);

/* Write into buf (always terminated) what was left out, one clause per mode with exclusions:
 * "trap: 1 workload (1 without a native run); bt: ...", or "" when nothing was. */
void an_aggregate_left_out(const struct an_aggregate *a, int n, char *buf, size_t len);

/* Print the rows of one model as a text table: a title naming the model and the aggregate
 * (an_aggregate_label), one line per mode (workloads, the ratio as "N.NNx"), then a "Left out:"
 * line when any workload was. */
void an_aggregate_print(FILE *f, const struct an_aggregate *a, int n, const char *model);

#endif
