/*
 * init.c — pid 1: runs the workload named on the kernel command line and reports.
 *
 *     workload=<name> n=<count> [repeat=<times>] [other words: the workload's own arguments,
 *                                                  read with wl_arg (e.g. ptemod's variant=)]
 *
 * Looks the name up in the workload tables (wl_*.c), runs it (`repeat` times in a row, default
 * once: a monitor's caches warmed by the first run show in the others), prints one result line
 * per run and exits 0 (the kernel then ends the machine with the success code) or 1 (failure
 * code) if any run failed.
 *
 *     workload=list   prints one line per workload of the tables, `workload NAME DEFAULT-N OP`,
 *                     and exits 0: what `vmlab run --list-workloads` shows (emu/cmd_run.c), so
 *                     the list comes from this program's own tables and cannot drift from them
 *
 * A command line init cannot run (no workload=, an unknown workload, n= or repeat= not a positive
 * count) is refused before anything runs, with one line for vmlab,
 *
 *     vmlab-usage: workload=syscall: n=abc is not a positive count
 *
 * which `vmlab run` turns into its own one-line error and exit status 2 (and the `result ...
 * ok=0` line QEMU users read), and the failure exit. Without workload= the list is printed first.
 */
#include "workloads.h"

static const struct workload *const tables[] = {
    nano_workloads, lmbench_workloads, signal_workloads, proc_workloads, ctx_workloads,
    fs_workloads, kerncomp_workloads, misc_workloads, selftest_workloads, fstest_workloads,
    sigtest_workloads, shtest_workloads,
};

static const struct workload *find(const char *name)
{
    for (unsigned t = 0; t < ARRAY_SIZE(tables); t++)
        for (const struct workload *w = tables[t]; w->name; w++)
            if (strcmp(w->name, name) == 0)
                return w;
    return NULL;
}

static int init_argc;
static char **init_argv;

static void arg(int argc, char **argv, const char *key, char *out, size_t size)
{
    char value[32];
    out[0] = '\0';
    for (int i = 1; i < argc; i++)
        if (cmdline_get(argv[i], key, value, sizeof(value)))
            fmt(out, size, "%s", value);
}

bool wl_arg(const char *key, char *out, size_t size)
{
    char value[32];
    bool found = false;
    out[0] = '\0';
    for (int i = 1; i < init_argc; i++)
        if (cmdline_get(init_argv[i], key, value, sizeof(value))) {
            fmt(out, size, "%s", value);
            found = true;
        }
    return found;
}

static void list(void)
{
    for (unsigned t = 0; t < ARRAY_SIZE(tables); t++)
        for (const struct workload *w = tables[t]; w->name; w++)
            printf("workload %s %d %s\n", w->name, w->default_n, w->op);
}

/* A count word `key=` that is present must be a positive decimal number; absent: dflt. */
static int count_arg(int argc, char **argv, const char *key, int dflt, const char *wname)
{
    char value[32];
    bool given = false;
    for (int i = 1; i < argc; i++)
        given |= cmdline_get(argv[i], key, value, sizeof(value)) != 0;
    if (!given)
        return dflt;
    arg(argc, argv, key, value, sizeof(value));
    int v = parse_uint(value);
    if (v <= 0) {
        printf("vmlab-usage: workload=%s: %s=%s is not a positive count (1 to 999999999)\n",
               wname, key, value);
        printf("result workload=%s n=0 ok=0 reason=bad-%s\n", wname, key);
    }
    return v <= 0 ? -1 : v;
}

int main(int argc, char **argv)
{
    init_argc = argc;
    init_argv = argv;
    char name[32];
    bool named = false;
    for (int i = 1; i < argc; i++)
        named |= cmdline_get(argv[i], "workload", name, sizeof(name)) != 0;
    arg(argc, argv, "workload", name, sizeof(name));
    if (named && strcmp(name, "list") == 0) {
        list();
        return 0;
    }
    if (!named) {
        list();
        printf("vmlab-usage: no workload= on the command line: --cmdline \"workload=NAME "
               "[n=COUNT]\" runs one of the workloads above\n");
        printf("result workload=none n=0 ok=0 reason=no-workload\n");
        return 1;
    }
    const struct workload *w = find(name);
    if (!w) {
        printf("vmlab-usage: unknown workload '%s' (vmlab run --list-workloads lists them)\n",
               name);
        printf("result workload=%s n=0 ok=0 reason=unknown-workload\n", name);
        return 1;
    }
    int n = count_arg(argc, argv, "n", w->default_n, w->name);
    int repeat = n > 0 ? count_arg(argc, argv, "repeat", 1, w->name) : 0, all_ok = 1;
    if (n <= 0 || repeat <= 0)
        return 1;
    for (int i = 0; i < repeat; i++) {
        struct wl_result r = { .extra = "", .reason = NULL };
        int ok = w->run(n, &r);
        if (ok)
            printf("result workload=%s n=%d ok=1 %s\n", w->name, n, r.extra);
        else
            printf("result workload=%s n=%d ok=0 reason=%s %s\n", w->name, n, r.reason, r.extra);
        all_ok &= ok;
    }
    return all_ok ? 0 : 1;
}
