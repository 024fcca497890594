/*
 * wl_selftest.c — `selftest`: checks the kernel's semantics rather than measuring them (not part
 * of the benchmark suite; tests/kernel/qemu_workloads.sh runs it). N is ignored. Each check forks
 * a child and looks at how it ended:
 *
 *   cow        parent and child each see their own copy of a page written before fork
 *   heap       memory from sbrk reads as zero, also after shrinking and growing the heap again
 *   null       a write to address 0 kills the child with 128 + SIGSEGV
 *   text       a write to the program's read-only text kills it the same way
 *   kernel     a user read of a kernel address kills it the same way
 *   badptr     write() from a pointer to nowhere: the kernel's own access is fatal for the caller
 *   divide     a divide error with no handler kills it with 128 + SIGFPE
 *   pipe-eof   reading a pipe whose writers are gone returns 0, writing one with no reader fails
 *
 * The kernel prints one "killed" line for each of the fatal cases: that output is deterministic.
 */
#include "workloads.h"

#define DEATH_SEGV (128 + 11)
#define DEATH_FPE  (128 + 8)

static volatile int shared_before_fork = 1;

static int child_cow(void)
{
    shared_before_fork = 2;
    return shared_before_fork;
}

static int child_heap(void)
{
    volatile uint32_t *p = sbrk(3 * 4096);
    if (!p || p[0] != 0 || p[3 * 1024 - 1] != 0)
        return 1;
    p[0] = p[3 * 1024 - 1] = 0xdead;
    sbrk(-3 * 4096);
    p = sbrk(3 * 4096);
    return p[0] == 0 && p[3 * 1024 - 1] == 0 ? 0 : 2;
}

static volatile uintptr_t null_address = 0;   /* read at run time: no compile-time NULL store */

static int child_null(void) { *(volatile int *)null_address = 1; return 0; }
static int child_text(void) { *(volatile uint8_t *)(uintptr_t)child_text = 0xc3; return 0; }
static int child_kernel(void) { return *(volatile int *)0xC0100000; }
static int child_badptr(void) { return write(1, (const void *)0x30000000, 16); }

static int child_divide(void)
{
    volatile uint32_t zero = 0;
    return (int)(1000 / zero);
}

static int child_pipe_eof(void)
{
    int p[2];
    char c;
    if (pipe(p) < 0)
        return 1;
    close(p[1]);
    if (read(p[0], &c, 1) != 0)
        return 2;
    if (pipe(p) < 0)
        return 3;
    close(p[0]);
    return write(p[1], "x", 1) == -EPIPE ? 0 : 4;
}

static const struct wl_check checks[] = {
    { "cow", child_cow, 2 },
    { "heap", child_heap, 0 },
    { "null", child_null, DEATH_SEGV },
    { "text", child_text, DEATH_SEGV },
    { "kernel", child_kernel, DEATH_SEGV },
    { "badptr", child_badptr, DEATH_SEGV },
    { "divide", child_divide, DEATH_FPE },
    { "pipe-eof", child_pipe_eof, 0 },
};

static int wl_selftest(int n, struct wl_result *r)
{
    int ok = wl_run_checks(checks, (int)ARRAY_SIZE(checks), r);
    return ok && shared_before_fork != 1 ? fail(r, "cow-parent") : ok;
}

const struct workload selftest_workloads[] = {
    { "selftest", wl_selftest, 1,
      "checks of the kernel's semantics (n ignored; not a timing)" },
    { NULL, NULL, 0, NULL },
};
