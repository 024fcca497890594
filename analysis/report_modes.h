/*
 * report_modes.h — what each mode's numbers include, as the report shows it: for every mode with
 * runs in the database, the event classes its runs recorded (the mechanisms that happened:
 * emu/event_classes.def), what each class is, and the params of the chosen cost model that
 * price it. A reader comparing two bars sees from this table that `trap` pays VT-x exits,
 * `trap-classic` monitor traps, `pv` hypervisor traps and hypercalls, and that every mode pays
 * the same port accesses, as a device access or a device model's emulation.
 */
#ifndef VMLAB_REPORT_MODES_H
#define VMLAB_REPORT_MODES_H

#include <stdio.h>

struct sqlite3;

/* Write the HTML section (heading, sentence, one table row per mode and class) for `model`.
 * `text` writes a string HTML-escaped. 0, or -EIO with the SQLite message in `err`. */
int report_modes_html(struct sqlite3 *db, const char *model, FILE *f,
                      void (*text)(FILE *f, const char *s), char *err, unsigned errlen);

#endif
