/*
 * wl_lmbench.c — lmbench's lat_syscall rows (McVoy & Staelin; the Xen paper's "null call",
 * "null I/O", "stat" and "open close"), each one system call (two for open close) per
 * operation, run by the calibrated loop (wl_common.c: phase 3 takes the loop's own cost off):
 *
 *   nullcall   one getppid()
 *   nullio     one 1-byte read of /dev/zero (even operations) or one 1-byte write to /dev/null
 *              (odd ones): lmbench's null I/O is the mean of the two, which is what the
 *              per-operation figure of an even n is
 *   stat       one stat() of STAT_FILE, a file four names deep (/usr/include/sys/types.h, the
 *              file lat_syscall stats by default), made before the loop
 *   openclose  one open() of STAT_FILE read-only and one close() of the descriptor
 *
 * nullcall keeps the loop it had before the calibration phase was added (a direct call per
 * iteration, then the same loop with an empty body, as the syscall nanobenchmark).
 */
#include "workloads.h"

#define STAT_FILE "/usr/include/sys/types.h"
#define STAT_FILE_SIZE 2048

static int wl_nullcall(int n, struct wl_result *r)
{
    int ppid = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        ppid |= getppid();
    phase(PHASE_CALIBRATE);
    for (int i = 0; i < n; i++)
        EMPTY_BODY();
    phase(PHASE_TEARDOWN);
    fmt(r->extra, sizeof(r->extra), "ops=%d", n);
    return ppid == 0 ? 1 : fail(r, "getppid");
}

struct nullio { int zero, null; };

static int nullio_op(int i, void *ctx)
{
    const struct nullio *io = ctx;
    char c = 1;
    if (i & 1)
        return write(io->null, &c, 1) == 1 ? 0 : -1;
    return read(io->zero, &c, 1) == 1 && c == 0 ? 0 : -1;
}

static int wl_nullio(int n, struct wl_result *r)
{
    struct nullio io = { open("/dev/zero", O_RDONLY), open("/dev/null", O_WRONLY) };
    if (io.zero < 0 || io.null < 0)
        return fail(r, "open-dev");
    int good = wl_calibrated(n, nullio_op, NULL, &io);
    close(io.zero);
    close(io.null);
    fmt(r->extra, sizeof(r->extra), "ops=%d reads=%d writes=%d", good, (n + 1) / 2, n / 2);
    return good == n ? 1 : fail(r, "short-io");
}

static int stat_op(int i, void *ctx)
{
    struct stat st;
    return stat(STAT_FILE, &st) == 0 && st.st_size == STAT_FILE_SIZE ? 0 : -1;
}

static int openclose_op(int i, void *ctx)
{
    int fd = open(STAT_FILE, O_RDONLY);
    return fd >= 0 && close(fd) == 0 ? 0 : -1;
}

/* The loop of stat or openclose on a fresh STAT_FILE. */
static int file_loop(int n, wl_op op, struct wl_result *r)
{
    if (wl_make_file(STAT_FILE, STAT_FILE_SIZE) < 0)
        return fail(r, "make-file");
    int good = wl_calibrated(n, op, NULL, NULL);
    fmt(r->extra, sizeof(r->extra), "ops=%d file=%s", good, STAT_FILE);
    return good == n ? 1 : fail(r, "op-failed");
}

static int wl_stat(int n, struct wl_result *r) { return file_loop(n, stat_op, r); }
static int wl_openclose(int n, struct wl_result *r) { return file_loop(n, openclose_op, r); }

const struct workload lmbench_workloads[] = {
    { "nullcall", wl_nullcall, 2000,
      "one getppid() call (lmbench null call)" },
    { "nullio", wl_nullio, 2000,
      "one 1-byte read of /dev/zero or write to /dev/null, alternately (lmbench null I/O)" },
    { "stat", wl_stat, 2000,
      "one stat() of /usr/include/sys/types.h (lmbench stat)" },
    { "openclose", wl_openclose, 2000,
      "one open() and close() of /usr/include/sys/types.h (lmbench open close)" },
    { NULL, NULL, 0, NULL },
};
