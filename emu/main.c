/*
 * main.c — `vmlab <subcommand> ...`: dispatch to the subcommands of emu/commands.h.
 *
 * The table below is the one list of subcommands; `vmlab help` prints it.
 */
#include <stdio.h>
#include <string.h>

#include "emu/commands.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "run one guest workload in one mode, record it in a trace database"},
    {"compare", cmd_compare, "run a suite of workloads in several modes into one database"},
    {"stat", cmd_stat, "summarize recorded runs like `perf kvm stat report`"},
    {"report", cmd_report, "draw the comparison charts and write an HTML report"},
    {"merge", cmd_merge, "combine trace databases into one, renumbering run ids"},
    {"scan", cmd_scan, "list a kernel's sites a paravirtual port must change, or diff two builds"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vmlab <command> [options]   (vmlab <command> --help for its options and\n"
               "                                    defaults; --version for vmlab's version)\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nvmlab %s\n", VMLAB_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("vmlab %s\n", VMLAB_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "vmlab: unknown command '%s' (try 'vmlab help')\n", argv[1]);
    return 2;
}
