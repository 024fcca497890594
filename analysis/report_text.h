/*
 * report_text.h — how `vmlab report` writes numbers and model names for a reader (issue 20).
 *
 * The data files beside the charts keep full precision (%.6g) for gnuplot and scripts; what a
 * person reads in index.html goes through here: numbers with thousands separators and three
 * significant digits, never in exponent notation (7,269,010 rather than 7.26901e+06, 0.00775
 * rather than 0.00774525), and cost models named with the year of their CPU, as a paper's
 * evaluation section would ("p4-prescott (2005)").
 */
#ifndef VMLAB_REPORT_TEXT_H
#define VMLAB_REPORT_TEXT_H

#include <stddef.h>

struct sqlite3;

/* Write v into buf (always terminated) for a table cell: "-" for NAN, "0" for 0; |v| >= 100
 * rounded to an integer with thousands separators ("2,245", "7,269,010"); smaller values with
 * three significant digits in fixed notation, trailing zeros dropped ("8.16", "25.5", "1",
 * "0.0005", "0.00775"); values below 1e-9 in magnitude as "0". */
void rt_number(char *buf, size_t len, double v);

/* Write "NAME (YEAR)" for cost model `name` as recorded in the database's model table, or just
 * NAME when the model has no year or is not there. buf is always terminated. */
void rt_model_label(struct sqlite3 *db, const char *name, char *buf, size_t len);

/* Write "NAME, CPU, YEAR" (what the model's YAML says its CPU is, e.g. "p4-prescott: Pentium 4
 * 672 (Prescott), 3.8 GHz, VT-x, 2005") for cost model `name`; NAME alone when it is not in the
 * model table. buf is always terminated. */
void rt_model_cpu(struct sqlite3 *db, const char *name, char *buf, size_t len);

#endif
