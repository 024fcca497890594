/*
 * wl_lmbench.c — lmbench-style workloads (McVoy & Staelin's lat_syscall, lat_proc, lat_ctx,
 * lat_pagefault, lat_mmap, in miniature):
 *
 *   nullcall   N getppid() calls
 *   forkproc   N x (fork, child exits, parent waits), lmbench's lat_proc fork: the parent first
 *              grows to pages=P present pages (image_grow: text, data, stack, heap; default
 *              FORKPROC_PAGES) and then, as lat_proc's loop does, writes only its stack between
 *              forks: every fork copies P PTEs into the child and exit clears P, but only the
 *              pages written since the last fork are write-protected again (forkwait, in
 *              wl_misc.c, writes all its writable pages between forks)
 *   execproc   N x (fork, child execs "true", parent waits)
 *   ctxsw      two processes pass a byte back and forth through two pipes, N round trips
 *              (2 context switches each)
 *   pagefault  N pages touched for the first time, in mmap regions of 64 pages (each region is
 *              unmapped once touched, so memory use stays flat for any N)
 *   mmap       N x (map 16 pages, touch them all, unmap)
 */
#include "workloads.h"

#define FORKPROC_PAGES 276     /* 1 MiB of heap (as before) + 3 text, 1 data, 16 stack pages */
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

/* ---- the parent's address space for the fork workloads (workloads.h) ---- */

extern char _data_start[], _end[];

int wl_arg_uint(const char *key, int dflt)
{
    char v[16];
    if (!wl_arg(key, v, sizeof(v)))
        return dflt;
    int x = parse_uint(v);
    return x < 0 ? dflt : x;
}

static uint32_t page_up(uint32_t a) { return (a + PAGE - 1) & ~(uint32_t)(PAGE - 1); }

#define USER_TEXT_BASE 0x08048000u
#define USER_STACK_END 0xC0000000u

/* Touches every page of [lo, hi) with a write of its own first byte. */
static void touch_pages(uint32_t lo, uint32_t hi)
{
    for (uint32_t a = lo; a < hi; a += PAGE) {
        volatile uint8_t *p = (volatile uint8_t *)(uintptr_t)a;
        *p = *p;
    }
}

static uint32_t heap_base(void) { return page_up((uint32_t)(uintptr_t)_end); }

int image_grow(int pages, struct proc_image *img)
{
    uint32_t data = (uint32_t)(uintptr_t)_data_start, base = heap_base();
    int text = (int)((data - USER_TEXT_BASE) / PAGE), dpages = (int)((base - data) / PAGE);
    int heap = pages - text - dpages - IMAGE_STACK_PAGES;
    if (heap < 1)
        return -1;
    uint32_t brk_now = (uint32_t)(uintptr_t)sbrk(0), want = base + (uint32_t)heap * PAGE;
    if (brk_now > want || (brk_now < want && !sbrk((int)(want - brk_now))))
        return -1;
    img->pages = pages;
    img->text = text;
    img->writable = pages - text;
    img->heap = heap;
    image_dirty(img);
    return 0;
}

void image_dirty(const struct proc_image *img)
{
    uint32_t base = heap_base();
    touch_pages((uint32_t)(uintptr_t)_data_start, base);
    touch_pages(USER_STACK_END - IMAGE_STACK_PAGES * PAGE, USER_STACK_END);
    touch_pages(base, base + (uint32_t)img->heap * PAGE);
}

/* "pages=P writable=W child_ptes=.. wrprotects=.. clears=.." over the measured loop: the
 * kernel's own count of its fork and exit page-table work (vmstat.h). */
static void fork_extra(struct wl_result *r, int done, const struct proc_image *img,
                       const struct vm_counters *a, const struct vm_counters *b)
{
    fmt(r->extra, sizeof(r->extra),
        "ops=%d pages=%d writable=%d child_ptes=%u wrprotects=%u clears=%u tables=%u",
        done, img->pages, img->writable, b->fork_child_ptes - a->fork_child_ptes,
        b->fork_wrprotects - a->fork_wrprotects, b->exit_clears - a->exit_clears,
        b->fork_tables - a->fork_tables);
}

int fork_image_loop(int n, int pages, bool dirty, struct wl_result *r)
{
    struct proc_image img;
    struct vm_counters a, b;
    if (image_grow(pages, &img) < 0)
        return fail(r, "pages");
    /* One fork before the measured loop: the first write-protects the pages image_grow left
     * writable, so every measured iteration starts from the same state. */
    if (dirty)
        image_dirty(&img);
    if (fork_wait(child_exit) < 0)
        return fail(r, "child-failed");
    int done = 0;
    vmstat(&a);
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++) {
        if (dirty)
            image_dirty(&img);
        done += fork_wait(child_exit) == 0;
    }
    phase(PHASE_TEARDOWN);
    vmstat(&b);
    fork_extra(r, done, &img, &a, &b);
    return done == n ? 1 : fail(r, "child-failed");
}

static int wl_forkproc(int n, struct wl_result *r)
{
    return fork_image_loop(n, wl_arg_uint("pages", FORKPROC_PAGES), false, r);
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
    { "nullcall", wl_nullcall, 2000,
      "one getppid() call" },
    { "forkproc", wl_forkproc, 100,
      "one fork, child exits, parent waits (lmbench lat_proc fork; pages=P)" },
    { "execproc", wl_execproc, 100,
      "one fork, child execs true, parent waits" },
    { "ctxsw", wl_ctxsw, 1000,
      "one pipe round trip between two processes (2 context switches)" },
    { "pagefault", wl_pagefault, 1000,
      "one first touch of a fresh mmap page" },
    { "mmap", wl_mmap, 100,
      "one map of 16 pages, touch them all, unmap" },
    { NULL, NULL, 0, NULL },
};
