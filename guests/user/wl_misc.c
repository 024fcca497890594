/*
 * wl_misc.c — the remaining workloads:
 *
 *   forkwait  N x (fork, child exits at once, parent waits): Adams & Agesen's forkwait, the
 *             classic worst case for shadow paging, from a parent the size of a small shell:
 *             pages=P present pages (image_grow in wl_lmbench.c: text, data, 16 stack pages,
 *             heap; default FORKWAIT_PAGES), every writable one written again before each fork,
 *             as a shell uses its data between commands. So every fork write-protects all W of
 *             them and stores P PTEs into the child, every exit clears P, and every write-
 *             protected page takes one copy-on-write fault (a reuse: the child has gone) when the
 *             parent writes it again
 *   compute   N rounds of integer work with no system call inside the measured region; prints a
 *             checksum so every mode can be checked to compute the same thing
 *   io        N lines of console output (the lines themselves are the workload's output)
 */
#include "workloads.h"
#include "compute.h"

#define FORKWAIT_PAGES 256     /* a small shell: 1 MiB present (README, workloads) */

static int wl_forkwait(int n, struct wl_result *r)
{
    return fork_image_loop(n, wl_arg_uint("pages", FORKWAIT_PAGES), true, r);
}

static int wl_compute(int n, struct wl_result *r)
{
    static uint32_t table[256];
    phase(PHASE_MEASURE);
    uint32_t sum = compute_rounds(table, n);
    phase(PHASE_TEARDOWN);
    fmt(r->extra, sizeof(r->extra), "ops=%d checksum=%08x", n * COMPUTE_STEPS, sum);
    return 1;
}

static int wl_io(int n, struct wl_result *r)
{
    char line[96];
    uint32_t bytes = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++) {
        int len = fmt(line, sizeof(line), "io %06d the quick brown fox jumps over the lazy dog\n", i);
        if (write(1, line, (uint32_t)len) != len)
            return fail(r, "short-write");
        bytes += (uint32_t)len;
    }
    phase(PHASE_TEARDOWN);
    fmt(r->extra, sizeof(r->extra), "ops=%d bytes=%u", n, bytes);
    return 1;
}

const struct workload misc_workloads[] = {
    { "forkwait", wl_forkwait, 200,
      "one fork, child exits at once, parent waits, all its pages dirtied (pages=P)" },
    { "compute", wl_compute, 100,
      "one round of integer work, no system call" },
    { "io", wl_io, 100,
      "one line of console output" },
    { NULL, NULL, 0, NULL },
};
