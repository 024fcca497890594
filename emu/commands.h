/*
 * commands.h — the subcommands of `vmlab`, one function each, dispatched by emu/main.c.
 * Each takes the arguments after the subcommand name (argv[0] is the subcommand) and returns the
 * process exit status.
 */
#ifndef VMLAB_COMMANDS_H
#define VMLAB_COMMANDS_H

int cmd_run(int argc, char **argv);      /* emu/cmd_run.c: one workload in one mode */
int cmd_compare(int argc, char **argv);  /* emu/cmd_compare.c: a suite in every mode, one database */
int cmd_stat(int argc, char **argv);     /* analysis/cmd_stat.c: perf-kvm-stat-like table */
int cmd_report(int argc, char **argv);   /* analysis/cmd_report.c: charts + index.html */
int cmd_merge(int argc, char **argv);    /* analysis/cmd_merge.c: databases into one */
int cmd_scan(int argc, char **argv);     /* analysis/cmd_scan.c: a kernel's PV port sites */

#endif
