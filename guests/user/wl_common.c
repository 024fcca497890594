/*
 * wl_common.c — what several workload files share (contracts in workloads.h): the workloads' own
 * command-line numbers, the calibrated loop of the latency workloads, files made for a workload
 * to use, and the runner of the semantic checks.
 *
 * The calibrated loop is the nanobenchmarks' measured-then-empty pattern (wl_nano.c) for
 * operations that are functions: both phases run the same loop, which calls through the same
 * function pointer, so phase 1 minus phase 3 is the operation's body and nothing of the loop.
 */
#include "workloads.h"

int wl_arg_uint(const char *key, int dflt)
{
    char v[16];
    if (!wl_arg(key, v, sizeof(v)))
        return dflt;
    int x = parse_uint(v);
    return x < 0 ? dflt : x;
}

int wl_arg_count(const char *key, int dflt, int lo, int hi, bool kib, struct wl_result *r)
{
    static char reason[32];
    char v[16];
    if (!wl_arg(key, v, sizeof(v)))
        return dflt;
    size_t len = strlen(v);
    bool k = kib && len > 1 && (v[len - 1] == 'K' || v[len - 1] == 'k');
    if (k)
        v[len - 1] = '\0';
    int x = parse_uint(v);
    if (x >= 0 && k)
        x = x <= hi / 1024 ? x * 1024 : hi + 1;
    if (x >= lo && x <= hi)
        return x;
    if (k)
        v[len - 1] = 'K';
    char name[32];
    wl_arg("workload", name, sizeof(name));
    printf("vmlab-usage: workload=%s: %s=%s is not a number from %d to %d%s\n", name, key, v, lo,
           hi, kib ? " (bytes, or KiB with a K suffix)" : "");
    fmt(reason, sizeof(reason), "bad-%s", key);
    r->reason = reason;
    return -1;
}

static int nothing(int i, void *ctx)
{
    EMPTY_BODY();
    return 0;
}

/* n calls of op; how many returned 0. Not inlined: both phases run this very loop. */
static int __attribute__((noinline)) run_ops(int n, wl_op op, void *ctx)
{
    int good = 0;
    for (int i = 0; i < n; i++)
        good += op(i, ctx) == 0;
    return good;
}

int wl_calibrated(int n, wl_op op, wl_op empty, void *ctx)
{
    phase(PHASE_MEASURE);
    int good = run_ops(n, op, ctx);
    phase(PHASE_CALIBRATE);
    run_ops(n, empty ? empty : nothing, ctx);
    phase(PHASE_TEARDOWN);
    return good;
}

/* Creates every directory on the way to path's last component. */
static void make_dirs(const char *path)
{
    char dir[FS_PATH_MAX];
    for (size_t i = 1; path[i] && i < sizeof(dir); i++) {
        if (path[i] != '/')
            continue;
        memcpy(dir, path, i);
        dir[i] = '\0';
        mkdir(dir);                     /* -EEXIST when it is there already */
    }
}

int wl_make_file(const char *path, uint32_t size)
{
    static uint8_t chunk[1024];
    make_dirs(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC);
    if (fd < 0)
        return fd;
    int r = 0;
    for (uint32_t done = 0; done < size && r >= 0; done += (uint32_t)r) {
        uint32_t len = size - done < sizeof(chunk) ? size - done : sizeof(chunk);
        for (uint32_t i = 0; i < len; i++)
            chunk[i] = (uint8_t)((done + i) * 131 + (done + i) / 251);
        r = write(fd, chunk, len);
    }
    close(fd);
    return r < 0 ? r : 0;
}

/* Runs fn in a child process; its exit status, or -1. */
static int in_child(int (*fn)(void))
{
    int pid = fork();
    if (pid == 0)
        exit(fn());
    int status = -1;
    if (pid < 0 || waitpid(pid, &status) != pid)
        return -1;
    return status;
}

int wl_run_checks(const struct wl_check *checks, int count, struct wl_result *r)
{
    int passed = 0;
    const char *first_failure = NULL;
    for (int i = 0; i < count; i++) {
        if (in_child(checks[i].fn) == checks[i].expect)
            passed++;
        else if (!first_failure)
            first_failure = checks[i].name;
    }
    fmt(r->extra, sizeof(r->extra), "checks=%d passed=%d", count, passed);
    return first_failure ? fail(r, first_failure) : 1;
}
