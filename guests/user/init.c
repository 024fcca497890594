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
 */
#include "workloads.h"

static const struct workload *const tables[] = { nano_workloads, lmbench_workloads,
                                                 misc_workloads, selftest_workloads };

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

int main(int argc, char **argv)
{
    init_argc = argc;
    init_argv = argv;
    char name[32], count[16], times[16];
    arg(argc, argv, "workload", name, sizeof(name));
    arg(argc, argv, "n", count, sizeof(count));
    arg(argc, argv, "repeat", times, sizeof(times));
    const struct workload *w = find(name);
    int n = parse_uint(count);
    if (!w) {
        printf("result workload=%s n=%d ok=0 reason=unknown-workload\n", name[0] ? name : "none", n);
        return 1;
    }
    if (n < 0)
        n = w->default_n;
    int repeat = parse_uint(times), all_ok = 1;
    for (int i = 0; i < (repeat > 0 ? repeat : 1); i++) {
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
