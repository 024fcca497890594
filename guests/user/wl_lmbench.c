/*
 * wl_lmbench.c — lmbench-style workloads (McVoy & Staelin's lat_syscall, lat_proc, lat_ctx,
 * lat_pagefault, lat_mmap, in miniature):
 *
 *   nullcall   N getppid() calls
 *   forkproc   N x (fork, child exits, parent waits), from a parent that first grew a 1 MiB heap
 *              and touched it, as a real process with a C library would have: fork has real
 *              page tables to copy-on-write (forkwait, in wl_misc.c, is the bare minimum)
 *   execproc   N x (fork, child execs "true", parent waits)
 *   ctxsw      two processes pass a byte back and forth through two pipes, N round trips
 *              (2 context switches each)
 *   pagefault  N pages touched for the first time, in mmap regions of 64 pages (each region is
 *              unmapped once touched, so memory use stays flat for any N)
 *   mmap       N x (map 16 pages, touch them all, unmap)
 */
#include "workloads.h"

#define FORKPROC_HEAP (1024 * 1024)
#define PF_CHUNK_PAGES 64
#define MMAP_PAGES 16
#define PAGE 4096

static int wl_nullcall(int n, struct wl_result *r)
{
    int ppid = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        ppid |= getppid();
    phase(PHASE_TEARDOWN);
    fmt(r->extra, sizeof(r->extra), "ops=%d", n);
    return ppid == 0 ? 1 : fail(r, "getppid");
}

/* One fork + wait; the child runs `child` (which must exit). Returns 0 if the child exited 0. */
static int fork_wait(void (*child)(void))
{
    int pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        child();
    int status = -1;
    if (waitpid(pid, &status) != pid)
        return -1;
    return status == 0 ? 0 : -1;
}

static void child_exit(void) { exit(0); }

static void child_exec(void)
{
    const char *argv[] = { "true", NULL };
    exec("true", argv);
    exit(127);
}

static int fork_loop(int n, void (*child)(void), struct wl_result *r)
{
    int done = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        done += fork_wait(child) == 0;
    phase(PHASE_TEARDOWN);
    fmt(r->extra, sizeof(r->extra), "ops=%d", done);
    return done == n ? 1 : fail(r, "child-failed");
}

static int wl_forkproc(int n, struct wl_result *r)
{
    char *heap = sbrk(FORKPROC_HEAP);
    if (!heap)
        return fail(r, "sbrk");
    for (int i = 0; i < FORKPROC_HEAP; i += PAGE)
        heap[i] = (char)i;
    return fork_loop(n, child_exit, r);
}

static int wl_execproc(int n, struct wl_result *r) { return fork_loop(n, child_exec, r); }

static int wl_ctxsw(int n, struct wl_result *r)
{
    int there[2], back[2];
    if (pipe(there) < 0 || pipe(back) < 0)
        return fail(r, "pipe");
    int pid = fork();
    if (pid < 0)
        return fail(r, "fork");
    if (pid == 0) {
        char c;
        close(there[1]);
        close(back[0]);
        while (read(there[0], &c, 1) == 1) {
            c++;
            write(back[1], &c, 1);
        }
        exit(0);
    }
    close(there[0]);
    close(back[1]);
    int good = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++) {
        char c = (char)i, d = 0;
        write(there[1], &c, 1);
        if (read(back[0], &d, 1) == 1 && d == (char)(c + 1))
            good++;
    }
    phase(PHASE_TEARDOWN);
    close(there[1]);
    int status = -1;
    waitpid(pid, &status);
    close(back[0]);
    fmt(r->extra, sizeof(r->extra), "ops=%d switches=%d", good, 2 * good);
    return good == n && status == 0 ? 1 : fail(r, "ping-pong");
}

/* Maps `pages` pages, writes one word in each, checks they read back, unmaps. */
static int touch_region(int pages)
{
    uint32_t len = (uint32_t)pages * PAGE;
    volatile uint32_t *p = mmap(len);
    if (!p)
        return -1;
    int bad = 0;
    for (int i = 0; i < pages; i++) {
        bad |= p[i * PAGE / 4] != 0;
        p[i * PAGE / 4] = (uint32_t)i + 1;
    }
    for (int i = 0; i < pages; i++)
        bad |= p[i * PAGE / 4] != (uint32_t)i + 1;
    return munmap((void *)p, len) < 0 || bad ? -1 : 0;
}

static int wl_pagefault(int n, struct wl_result *r)
{
    int done = 0;
    phase(PHASE_MEASURE);
    while (done < n) {
        int pages = n - done < PF_CHUNK_PAGES ? n - done : PF_CHUNK_PAGES;
        if (touch_region(pages) < 0)
            break;
        done += pages;
    }
    phase(PHASE_TEARDOWN);
    fmt(r->extra, sizeof(r->extra), "ops=%d", done);
    return done == n ? 1 : fail(r, "mmap-touch");
}

static int wl_mmap(int n, struct wl_result *r)
{
    int done = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        done += touch_region(MMAP_PAGES) == 0;
    phase(PHASE_TEARDOWN);
    fmt(r->extra, sizeof(r->extra), "ops=%d pages=%d", done, done * MMAP_PAGES);
    return done == n ? 1 : fail(r, "mmap-touch");
}

const struct workload lmbench_workloads[] = {
    { "nullcall", wl_nullcall, 2000 },
    { "forkproc", wl_forkproc, 100 },
    { "execproc", wl_execproc, 100 },
    { "ctxsw", wl_ctxsw, 1000 },
    { "pagefault", wl_pagefault, 1000 },
    { "mmap", wl_mmap, 100 },
    { NULL, NULL, 0 },
};
