/*
 * wl_proc.c — lmbench's lat_proc rows (McVoy & Staelin; the Xen paper's "fork proc", "exec
 * proc" and "sh proc"), each one process created and reaped per operation:
 *
 *   forkproc   fork, the child exits at once, the parent waits (lat_proc fork). The parent first
 *              grows to pages=P present pages (image_grow: text, data, stack, heap; default
 *              FORKPROC_PAGES) and then, as lat_proc's loop does, writes only its stack between
 *              forks: every fork copies P PTEs into the child and exit clears P, but only the
 *              pages written since the last fork are write-protected again (forkwait, in
 *              wl_misc.c, writes all its writable pages between forks)
 *   execproc   fork, the child execs `true`, the parent waits (lat_proc exec)
 *   shproc     fork, the child execs the shell-like `sh -c true` (sh.c), which parses its
 *              command and execs `true`, the parent waits (lat_proc shell: lmbench runs
 *              `/bin/sh -c PROG`, and a shell execs a lone simple command in place)
 *
 * The fork workloads' address space (image_grow, image_dirty, fork_image_loop) is defined here
 * for forkwait too (workloads.h).
 */
#include "workloads.h"

#define FORKPROC_PAGES 276     /* 1 MiB of heap (as before) + the program's text, data, stack */
#define PAGE 4096

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

static void child_exec_true(void)
{
    const char *argv[] = { "true", NULL };
    exec("true", argv);
    exit(127);
}

static void child_exec_sh(void)
{
    const char *argv[] = { "sh", "-c", "true", NULL };
    exec("sh", argv);
    exit(127);
}

static int wl_execproc(int n, struct wl_result *r) { return fork_loop(n, child_exec_true, r); }
static int wl_shproc(int n, struct wl_result *r) { return fork_loop(n, child_exec_sh, r); }

const struct workload proc_workloads[] = {
    { "forkproc", wl_forkproc, 100,
      "one fork, child exits, parent waits (lmbench lat_proc fork; pages=P)" },
    { "execproc", wl_execproc, 100,
      "one fork, child execs true, parent waits (lmbench lat_proc exec)" },
    { "shproc", wl_shproc, 100,
      "one fork, child execs sh -c true, which execs true, parent waits (lmbench sh proc)" },
    { NULL, NULL, 0, NULL },
};
