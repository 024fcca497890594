/*
 * suite.h — a workload suite file (models/suites/NAME.yaml), as `vmlab compare` reads it.
 *
 *   name: default
 *   guest: kernel.elf        # relative: <directory of the vmlab executable>/guests/
 *   initrd: initrd.cpio      # optional, resolved like guest; passed as `vmlab run --initrd`
 *   modes: native            # optional: the modes the guest runs in (default: all six)
 *   workloads:
 *     - { workload: syscall, n: 2000, paper_n: 200000, args: "", group: nanobench }
 *
 * Each workload entry names the guest's workload (the run's key in the database), its count at
 * the small scale (n) and the paper's (paper_n, optional), the workload's own command-line words
 * (args, optional) and the group it belongs to (group, optional: a name of letters, digits, '_'
 * and '-'). `vmlab compare --group NAME` runs the entries of one group; the default suite's
 * groups are nanobench, lmbench, macro and other.
 *
 * A bad file is an error naming file, line and key (`FILE:LINE: KEY: what is wrong`), never a
 * partial suite.
 */
#ifndef VMLAB_SUITE_H
#define VMLAB_SUITE_H

#include <stddef.h>

struct suite_workload {
    char *name, *args, *group;   /* args and group may be NULL */
    long long n, paper_n;        /* paper_n: -1 when the entry has none */
};

struct suite {
    char *name, *guest, *initrd, *modes;   /* initrd and modes may be NULL */
    struct suite_workload *w;
    int nw;
};

/* Reads `file` into *s; 0, or a negative errno with the one-line message in err (len bytes).
 * *s is to be suite_free()d whatever this returns. */
int suite_parse(const char *file, struct suite *s, char *err, unsigned len);
void suite_free(struct suite *s);
/* Keeps only the workloads of group `group`; 0, or -1 when no workload has it (err then says so
 * and lists the groups the suite has). */
int suite_keep_group(struct suite *s, const char *group, char *err, unsigned len);
/* A file the suite names: as given when absolute, else <dir>/guests/<name>. */
void suite_path(const char *dir, const char *name, char *out, size_t len);

#endif
