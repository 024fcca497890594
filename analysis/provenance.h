/*
 * provenance.h — saying which numbers a priced figure rests on that are not published for the
 * model's CPU: the params a cost model carries from another generation or estimates (views
 * model_unsourced and run_unsourced, analysis/views.sql), limited to those that priced the runs
 * shown. `vmlab stat` prints them as one line, `vmlab report` as a short table.
 */
#ifndef VMLAB_PROVENANCE_H
#define VMLAB_PROVENANCE_H

#include <stdio.h>

struct sqlite3;

/* Write to `f` one line naming the params of `model` that priced the runs `run_ids` (a JSON array
 * of run ids, arrays of them nested in it are flattened) in phase `phase` (-1: every phase) and
 * are carried from another model (grouped by that model) or estimated; or a line saying every
 * number used is published. 0, or -EIO with the SQLite message in `err`. */
int prov_print_line(struct sqlite3 *db, const char *model, const char *run_ids, int phase, FILE *f,
                    char *err, unsigned errlen);

/* Write to `f` an HTML section (heading, sentence, table: param, cycles, carried from and the
 * source there, or why estimated) of the params of `model` carried or estimated that priced the
 * measured phase of the charted runs (view latest_run). `text` writes a string HTML-escaped.
 * 0, or -EIO with the SQLite message in `err`. */
int prov_html(struct sqlite3 *db, const char *model, FILE *f,
              void (*text)(FILE *f, const char *s), char *err, unsigned errlen);

#endif
