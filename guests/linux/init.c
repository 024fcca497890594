/*
 * init.c — /init of vmlab's Linux guest (issue 14): the Linux counterpart of the workloads vmlab's
 * own guest kernel runs (guests/user/wl_*.c, guests/kernel/bench.c), so that the same workload can
 * be counted on an unmodified Linux 6.1 i386 kernel in every mode and set beside the own kernel's.
 *
 * scripts/linux-guest.sh compiles it with `gcc -m32 -static -O2 -Wall -Wextra` into the
 * initramfs, next to /true (true.c, the program execproc executes).
 *
 * Arguments. Linux hands the words of its command line that it does not know, `key=value` ones, to
 * init as environment variables, so `workload=syscall n=2000 pages=256` arrive as
 * getenv("workload"), getenv("n"), getenv("pages") (words without '=' would arrive in argv; none
 * is used). The words are those of vmlab's own guest:
 *
 *     workload=<name> n=<count> [repeat=<times>] [the workload's own words: pages=]
 *
 * Phases. Exactly the own guest's (guests/include/syscall_nr.h), written as a 32-bit `out` to the
 * phase-marker port 0xe0 as its kernel's phase_mark() does (the device takes byte, word or dword
 * writes alike): everything before a workload's measured loop is PHASE_SETUP (0, the machine's
 * value from reset: the own guest never writes it, nor does this one), the n measured operations
 * PHASE_MEASURE (1), the same loop with an empty body PHASE_CALIBRATE (3) where the own guest has
 * one (syscall, divzero, in, pgfault), PHASE_BETWEEN (4) between pgfault's blocks, as the own
 * kernel's bench.c has them, and everything after PHASE_TEARDOWN (2). So vmlab's per-operation
 * accounting, cycles per operation = (phase 1 - phase 3) / n, means the same for both guests.
 * One difference: the own guest asks its kernel to write the port (a system call, SYS_PHASE);
 * this program writes it itself, permitted by ioperm() (the TSS I/O bitmap), no kernel entry.
 * The bitmap is per process and fork shares it with the child, so every switch to one of the
 * workload's processes has Linux validate the TSS's bitmap on the way back to user mode (copying
 * it only when another bitmap was there): a little work in ctxsw's and the fork workloads'
 * switches that a Linux without ioperm() users would not do.
 *
 * Result and exit. One line per run, in the own guest's format (guests/user/init.c):
 *
 *     result workload=<name> n=<N> ok=1 <extra>
 *     result workload=<name> n=<N> ok=0 reason=<word> <extra>
 *
 * then the machine ends through isa-debug-exit (port 0xf4) with 0x10 (status 33) when every run
 * succeeded, 0x11 (status 35) otherwise: the values the own kernel writes when its init exits 0 or
 * not (guests/kernel/layout.h). An unknown workload name prints `result workload=<name> n=<N> ok=0
 * reason=unknown-workload` and ends with 0x11, as the own guest does, after the line
 * `vmlab-usage: unknown workload 'NAME' ...` that `vmlab run` turns into its own error and status
 * 2 (so do no workload=, which lists the workloads first, and an n= or repeat= that is not a
 * positive count); `workload=list` prints `workload NAME DEFAULT-N OP` per workload below and
 * ends with 0x10 (`vmlab run --guest bzImage --initrd initrd.cpio --list-workloads`). vmlab itself takes a run's
 * workload and n from the command line it passes (traces/tdb.c, tdb_param), not from this line;
 * the tests (tests/kernel/linux_qemu_workloads.sh) read it. The console is made to pass bytes
 * unchanged (OPOST off: no "\r" added before "\n"), so the lines are byte for byte the own
 * guest's; and it is drained (tcdrain) before the exit, so the UART has sent the last line.
 *
 * Workloads (each defined with what ONE operation is, at its function below):
 *   nanobenchmarks: syscall, in, pgfault, divzero
 *   lmbench-style:  nullcall, forkproc, execproc, ctxsw, pagefault, mmap
 *   others:         forkwait, compute, io
 *   not measured:   crash (a deliberate fault in init: a fatal signal in this program prints an
 *                   ok=0 line and ends the machine with the failure status, as the own guest's
 *                   panic does; init never just dies, which would hang Linux in a panic)
 * The own suite's workloads with no Linux counterpart, and why:
 *   callret   one call/ret pair in kernel code: what it measures is kernel code under binary
 *             translation; a user-mode pair runs directly in every mode, and Linux offers no
 *             way to run a loop of ours in its kernel without a module (tinyconfig has none)
 *   cr3       one address-space switch done by the kernel on its own (bench.c alternates two
 *             directories); Linux switches only with a process switch, which ctxsw measures
 *   cli       one cli/sti pair: user mode cannot (Linux's iopl(3) is emulated with the I/O
 *             bitmap and leaves cli/sti faulting), and there is no kernel loop to call
 *   ptemod, ptemod_p2np, ptemod_np2p   one kernel PTE store: needs kernel code
 *   holes     the sensitive-instruction probe at the kernel's privilege level: needs kernel code
 *   panic     a deliberate kernel panic: needs kernel code (crash is the failure path's check)
 *   selftest  the own kernel's self-tests
 */
#define _GNU_SOURCE /* REG_EIP, dl_iterate_phdr */
#include "../include/syscall_nr.h" /* PHASE_*: one definition for both guests */

#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#include "../include/compute.h"     /* the compute workload, shared with the own guest */

#define PORT_POST        0x80   /* POST/delay register: the `in` workload reads it */
#define PORT_PHASE       0xe0   /* vmlab's phase marker, 0xe0-0xe3 */
#define PORT_DEBUG_EXIT  0xf4   /* isa-debug-exit: status (V << 1) | 1 */
#define EXIT_SUCCESS_CODE 0x10  /* status 33 */
#define EXIT_FAILURE_CODE 0x11  /* status 35 */

#define PAGE 4096
#define STACK_PAGES 16          /* as the own guest's IMAGE_STACK_PAGES */
#define FORKWAIT_PAGES 256      /* the own suite's defaults (wl_misc.c, wl_lmbench.c) */
#define FORKPROC_PAGES 276
#define PGFAULT_BLOCK 256       /* bench.c's BLOCK */
#define PF_CHUNK_PAGES 64       /* wl_lmbench.c's pagefault and mmap sizes */
#define MMAP_PAGES 16

struct wl_result {
    char extra[160];
    const char *reason;
};

struct workload {
    const char *name;
    int (*run)(int n, struct wl_result *r);
    int default_n;
    const char *op;             /* what one operation is: `workload=list` prints it */
};

static int fail(struct wl_result *r, const char *reason)
{
    r->reason = reason;
    return 0;
}

static void phase(uint32_t p) { outl(p, PORT_PHASE); }

/* One iteration of a calibration loop: nothing, but the compiler must keep the iteration (the own
 * guest's EMPTY_BODY). */
#define EMPTY_BODY() __asm__ volatile("" : : : "memory")

/* printf to the console with write(2): no stdio buffer (and no malloc behind one). */
__attribute__((format(printf, 1, 2))) static void say(const char *f, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, f);
    int len = vsnprintf(line, sizeof line, f, ap);
    va_end(ap);
    if (len > (int)sizeof line - 1)
        len = (int)sizeof line - 1;
    for (int off = 0; off < len;) {
        ssize_t w = write(1, line + off, (size_t)(len - off));
        if (w <= 0)
            break;
        off += (int)w;
    }
}

/* The own guest's parse_uint (guests/lib/cmdline.c): up to 9 decimal digits, else -1. */
static int parse_uint(const char *s)
{
    int v = 0, n = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++, n++) {
        if (*s < '0' || *s > '9' || n >= 9)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

static int arg_uint(const char *key, int dflt)
{
    int x = parse_uint(getenv(key));
    return x < 0 ? dflt : x;
}

/* ---- a fatal signal in the program ends the machine as a failure ------------------------------
 * Were init to die, Linux would panic ("Attempted to kill init") and, without panic=-1, hang until
 * the run's limit. Instead: `result workload=W n=N ok=0 reason=signal-S`, then isa-debug-exit
 * 0x11. Only async-signal-safe calls (write, tcdrain) and the port write. */
static const char *run_name = "none";
static int run_n = -1;

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static char *put_int(char *p, int v)
{
    char d[12];
    int k = 0;
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    do
        d[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < 11);
    while (k)
        *p++ = d[--k];
    return p;
}

static void on_fatal(int sig)
{
    char line[128], *p = line;
    p = put_str(p, "result workload=");
    p = put_str(p, run_name);
    p = put_str(p, " n=");
    p = put_int(p, run_n);
    p = put_str(p, " ok=0 reason=signal-");
    p = put_int(p, sig);
    *p++ = '\n';
    ssize_t w = write(1, line, (size_t)(p - line));
    (void)w;                            /* nothing left to do if it failed */
    tcdrain(1);
    outl(EXIT_FAILURE_CODE, PORT_DEBUG_EXIT);
    _exit(1);
}

static void catch_fatal(int sig) { signal(sig, on_fatal); }

/* ---- nanobenchmarks -------------------------------------------------------------------------- */

/*
 * syscall: ONE operation is one null system call round trip: `int 0x80` with getppid's number
 * (Linux has no null call; getppid is lmbench's), the kernel's entry, dispatch and return by iret
 * to user mode. Issued as int 0x80 directly, as the own guest's SYS_NULL is, not through the C
 * library (which may take the vDSO's sysenter path: nullcall below). Then the calibration loop.
 */
static int sys_getppid_int80(void)
{
    int r;
    __asm__ volatile("int $0x80" : "=a"(r) : "0"(SYS_getppid) : "memory");
    return r;
}

static int wl_syscall(int n, struct wl_result *r)
{
    int bad = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        bad |= sys_getppid_int80();  /* init's parent is 0 */
    phase(PHASE_CALIBRATE);
    for (int i = 0; i < n; i++)
        EMPTY_BODY();
    phase(PHASE_TEARDOWN);
    snprintf(r->extra, sizeof r->extra, "ops=%d", n);
    return bad ? fail(r, "nonzero-return") : 1;
}

/*
 * in: ONE operation is one `in` of a byte from port 0x80 (the POST/delay register). The own
 * guest's kernel does it (bench.c, BENCH_IN); here user mode does, permitted by ioperm() through
 * the TSS I/O bitmap: the same instruction on the same device, at CPL 3 with the bitmap check
 * instead of at CPL 0. Then the calibration loop.
 */
static int wl_in(int n, struct wl_result *r)
{
    unsigned sum = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        sum += inb(PORT_POST);
    phase(PHASE_CALIBRATE);
    for (int i = 0; i < n; i++)
        EMPTY_BODY();
    phase(PHASE_TEARDOWN);
    snprintf(r->extra, sizeof r->extra, "ops=%d", n);
    return sum == 0xffu * (unsigned)n ? 1 : fail(r, "port-0x80-not-0xff");
}

/*
 * pgfault: ONE operation is one true page fault taken and fixed: a read of a page of a fresh
 * anonymous mapping; the kernel's fault handler maps it (Linux: the shared zero page, one PTE
 * store, no page allocated, as the own kernel's handler maps one frame) and the read retries.
 * Shaped as bench.c's BENCH_PGFAULT: blocks of PGFAULT_BLOCK pages, each re-armed in
 * PHASE_BETWEEN (here: the previous block unmapped, a fresh one mapped), then its k reads in
 * PHASE_MEASURE; then the calibration, the same blocks again, each PHASE_BETWEEN (nothing done)
 * then PHASE_CALIBRATE (k empty iterations), so phase 3 has phase 1's marker writes per block.
 */
static int wl_pgfault(int n, struct wl_result *r)
{
    const size_t len = (size_t)PGFAULT_BLOCK * PAGE;
    unsigned char *block = NULL;
    unsigned sum = 0;
    int done = 0;
    while (done < n) {
        int k = n - done < PGFAULT_BLOCK ? n - done : PGFAULT_BLOCK;
        phase(PHASE_BETWEEN);
        if (block)
            munmap(block, len);
        block = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (block == MAP_FAILED) {
            phase(PHASE_TEARDOWN);
            return fail(r, "mmap");
        }
        phase(PHASE_MEASURE);
        for (int i = 0; i < k; i++)
            sum += *(volatile unsigned char *)(block + (size_t)i * PAGE);
        done += k;
    }
    for (int c = 0; c < n;) {
        int k = n - c < PGFAULT_BLOCK ? n - c : PGFAULT_BLOCK;
        phase(PHASE_BETWEEN);
        phase(PHASE_CALIBRATE);
        for (int i = 0; i < k; i++)
            EMPTY_BODY();
        c += k;
    }
    phase(PHASE_TEARDOWN);
    if (block)
        munmap(block, len);
    snprintf(r->extra, sizeof r->extra, "ops=%d", done);
    return sum == 0 ? 1 : fail(r, "page-not-zero");
}

/*
 * divzero: ONE operation is one divide fault delivered to the kernel and resumed: a `div` by zero
 * in user mode, #DE into the kernel, which delivers SIGFPE (a signal frame on the user stack);
 * the handler moves the saved EIP to divzero_fixup and returns, and rt_sigreturn resumes there.
 * The own guest does the same with its own signals (its sigreturn), so the frame and the
 * sigreturn are part of the operation on both. The same probe as the own guest's
 * (guests/include/divzero_probe.h). Then the calibration loop.
 */
#include "../include/divzero_probe.h" /* divzero_probe, divzero_fixup: shared with wl_nano.c */

static void on_sigfpe(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    ((ucontext_t *)ctx)->uc_mcontext.gregs[REG_EIP] = (greg_t)(uintptr_t)divzero_fixup;
}

static int wl_divzero(int n, struct wl_result *r)
{
    /* The loops run in a child: Linux logs each fault of the global init that raises a signal
     * ("traps: init[1] trap divide error ...", up to its rate limit: init's signals count as
     * unhandled, arch/x86/kernel/traps.c), and those console lines would be measured with the
     * faults. The child inherits the ioperm bitmap, so it marks the phases itself. */
    pid_t pid = fork();
    if (pid < 0)
        return fail(r, "fork");
    if (pid == 0) {
        struct sigaction sa = { .sa_sigaction = on_sigfpe, .sa_flags = SA_SIGINFO };
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGFPE, &sa, NULL) < 0)
            _exit(2);
        int handled = 0;
        phase(PHASE_MEASURE);
        for (int i = 0; i < n; i++)
            handled += divzero_probe();
        phase(PHASE_CALIBRATE);
        for (int i = 0; i < n; i++)
            EMPTY_BODY();
        phase(PHASE_TEARDOWN);
        _exit(handled == n ? 0 : 1);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return fail(r, "child");
    if (WEXITSTATUS(st) == 2)
        return fail(r, "sigaction");
    snprintf(r->extra, sizeof r->extra, "ops=%d", WEXITSTATUS(st) == 0 ? n : 0);
    return WEXITSTATUS(st) == 0 ? 1 : fail(r, "fault-not-handled");
}

/* ---- lmbench-style -------------------------------------------------------------------------- */

/*
 * nullcall: ONE operation is one getppid() through the C library, lmbench's lat_syscall null
 * (whatever entry glibc uses: int 0x80, or sysenter through the vDSO's __kernel_vsyscall). No
 * calibration loop, as in the own guest.
 */
static int wl_nullcall(int n, struct wl_result *r)
{
    int ppid = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        ppid |= getppid();
    phase(PHASE_TEARDOWN);
    snprintf(r->extra, sizeof r->extra, "ops=%d", n);
    return ppid == 0 ? 1 : fail(r, "getppid");
}

/* One fork + wait; the child runs `child` (which must not return). 0 if the child exited 0. */
static int fork_wait(void (*child)(void))
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0)
        child();
    int status = -1;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void child_exit(void) { _exit(0); }

static void child_exec(void)
{
    char *const argv[] = { "true", NULL }, *const envp[] = { NULL };
    execve("/true", argv, envp);
    _exit(127);
}

/*
 * The parent's address space for the fork workloads, the counterpart of the own guest's
 * image_grow (wl_lmbench.c): `pages` present pages that fork must copy, every one written once:
 * the program's writable data (its writable PT_LOAD segment past the RELRO part, data and bss),
 * STACK_PAGES pages of stack below main's frame, and the rest heap (brk). The program's text is
 * not counted: Linux's fork copies no PTEs of a file mapping that has no anonymous pages (they
 * fault back in on demand), while the own kernel copies its 3 text PTEs; and the few pages the C
 * library touched itself (its TLS block, the argument and environment pages above main's frame)
 * come on top, as they would for any process.
 */
struct range { uintptr_t lo, hi; };
struct proc_image {
    struct range data, stack, heap;
    int pages;
};

static struct proc_image image;
static uintptr_t stack_top;   /* the page boundary above main's frame */

static uintptr_t page_down(uintptr_t a) { return a & ~(uintptr_t)(PAGE - 1); }
static uintptr_t page_up(uintptr_t a) { return page_down(a + PAGE - 1); }
static int npages(struct range r) { return (int)((r.hi - r.lo) / PAGE); }

static int find_data(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct range *d = arg;
    uintptr_t relro_end = 0;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO)
            relro_end = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = page_down(info->dlpi_addr + ph->p_vaddr);
        uintptr_t hi = page_up(info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
        if (relro_end > lo && relro_end <= hi)
            lo = page_up(relro_end);
        *d = (struct range){ lo, hi };
        return 1;                       /* the executable comes first */
    }
    return 1;
}

/* Writes one byte of every page of r with its own value. */
static void touch_pages(struct range r)
{
    for (uintptr_t a = r.lo; a < r.hi; a += PAGE) {
        volatile unsigned char *p = (volatile unsigned char *)a;
        *p = *p;
    }
}

/* Writes every counted page: each becomes writable again if a fork write-protected it (one
 * copy-on-write fault each). */
static void image_dirty(const struct proc_image *img)
{
    touch_pages(img->data);
    touch_pages(img->stack);
    touch_pages(img->heap);
}

static int image_grow(int pages, struct proc_image *img)
{
    if (img->pages)                     /* repeat=: grown by the first run */
        return img->pages == pages ? 0 : -1;
    img->data = (struct range){ 0, 0 };
    dl_iterate_phdr(find_data, &img->data);
    img->stack = (struct range){ stack_top - STACK_PAGES * PAGE, stack_top };
    int heap = pages - npages(img->data) - STACK_PAGES;
    if (img->data.hi == 0 || heap < 1)
        return -1;
    uintptr_t base = page_up((uintptr_t)sbrk(0));
    if (sbrk((intptr_t)(base + (uintptr_t)heap * PAGE - (uintptr_t)sbrk(0))) == (void *)-1)
        return -1;
    img->heap = (struct range){ base, base + (uintptr_t)heap * PAGE };
    img->pages = pages;
    image_dirty(img);
    return 0;
}

/* n x (fork; the child exits at once; the parent waits) from a parent grown to `pages` pages;
 * with `dirty`, the parent writes all its counted pages before each fork (wl_lmbench.c's
 * fork_image_loop, without the own kernel's page-table counters, which Linux does not keep). */
static int fork_image_loop(int n, int pages, int dirty, struct wl_result *r)
{
    if (image_grow(pages, &image) < 0)
        return fail(r, "pages");
    /* One fork before the measured loop: the first write-protects the pages image_grow left
     * writable, so every measured iteration starts from the same state. */
    if (dirty)
        image_dirty(&image);
    if (fork_wait(child_exit) < 0)
        return fail(r, "child-failed");
    int done = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++) {
        if (dirty)
            image_dirty(&image);
        done += fork_wait(child_exit) == 0;
    }
    phase(PHASE_TEARDOWN);
    snprintf(r->extra, sizeof r->extra, "ops=%d pages=%d writable=%d data=%d stack=%d heap=%d",
             done, image.pages, image.pages, npages(image.data), npages(image.stack),
             npages(image.heap));
    return done == n ? 1 : fail(r, "child-failed");
}

/*
 * forkproc: ONE operation is one fork + the child's _exit(0) + the parent's waitpid, lmbench's
 * lat_proc fork, from a parent of pages= present pages (default FORKPROC_PAGES) that writes only
 * its stack between forks: every fork copies the PTEs of all its pages, but only the pages
 * written since the last fork are write-protected again (forkwait writes them all).
 */
static int wl_forkproc(int n, struct wl_result *r)
{
    return fork_image_loop(n, arg_uint("pages", FORKPROC_PAGES), 0, r);
}

/*
 * execproc: ONE operation is one fork + execve of /true (true.c: a one-page static program that
 * exits 0) in the child + the parent's waitpid, lmbench's lat_proc exec.
 */
static int wl_execproc(int n, struct wl_result *r)
{
    int done = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        done += fork_wait(child_exec) == 0;
    phase(PHASE_TEARDOWN);
    snprintf(r->extra, sizeof r->extra, "ops=%d", done);
    return done == n ? 1 : fail(r, "child-failed");
}

/*
 * ctxsw: ONE operation is one round trip of a byte between two processes through two pipes: the
 * parent writes it and blocks reading; the child reads it, writes it back incremented and blocks
 * again: two context switches (lmbench's lat_ctx with two processes, and the own guest's ctxsw).
 */
static int wl_ctxsw(int n, struct wl_result *r)
{
    int there[2], back[2];
    if (pipe(there) < 0 || pipe(back) < 0)
        return fail(r, "pipe");
    pid_t pid = fork();
    if (pid < 0)
        return fail(r, "fork");
    if (pid == 0) {
        char c;
        close(there[1]);
        close(back[0]);
        while (read(there[0], &c, 1) == 1) {
            c++;
            if (write(back[1], &c, 1) != 1)
                break;
        }
        _exit(0);
    }
    close(there[0]);
    close(back[1]);
    int good = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++) {
        char c = (char)i, d = 0;
        if (write(there[1], &c, 1) == 1 && read(back[0], &d, 1) == 1 && d == (char)(c + 1))
            good++;
    }
    phase(PHASE_TEARDOWN);
    close(there[1]);
    int status = -1;
    waitpid(pid, &status, 0);
    close(back[0]);
    snprintf(r->extra, sizeof r->extra, "ops=%d switches=%d", good, 2 * good);
    return good == n && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 : fail(r, "ping-pong");
}

/* Maps `pages` fresh anonymous pages, writes one word in each (one page fault each: a zeroed page
 * allocated and mapped), checks they read back, unmaps: wl_lmbench.c's touch_region. */
static int touch_region(int pages)
{
    size_t len = (size_t)pages * PAGE;
    volatile uint32_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                -1, 0);
    if (p == MAP_FAILED)
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

/*
 * pagefault: ONE operation is one page touched for the first time: a write to a page of a fresh
 * anonymous mapping (one fault; the kernel allocates a zeroed page and maps it), read back, in
 * regions of PF_CHUNK_PAGES pages, each unmapped once touched (lmbench's lat_pagefault in
 * miniature; the munmap is inside the measured phase, as in the own guest).
 */
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
    snprintf(r->extra, sizeof r->extra, "ops=%d", done);
    return done == n ? 1 : fail(r, "mmap-touch");
}

/* mmap: ONE operation is one mmap of MMAP_PAGES anonymous pages + a write to each of them (16
 * faults) + a read-back + munmap (lmbench's lat_mmap in miniature, the own guest's mmap). */
static int wl_mmap(int n, struct wl_result *r)
{
    int done = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++)
        done += touch_region(MMAP_PAGES) == 0;
    phase(PHASE_TEARDOWN);
    snprintf(r->extra, sizeof r->extra, "ops=%d pages=%d", done, done * MMAP_PAGES);
    return done == n ? 1 : fail(r, "mmap-touch");
}

/* ---- the others ----------------------------------------------------------------------------- */

/*
 * forkwait: ONE operation is one fork + the child's _exit(0) + the parent's waitpid (Adams &
 * Agesen's forkwait), from a parent of pages= present pages (default FORKWAIT_PAGES, a small
 * shell) that writes every one of them before each fork: each fork write-protects all of them and
 * copies their PTEs into the child, the child's exit drops them, and each write-protected page
 * takes one copy-on-write fault (a reuse: the child has gone) when the parent writes it again.
 */
static int wl_forkwait(int n, struct wl_result *r)
{
    return fork_image_loop(n, arg_uint("pages", FORKWAIT_PAGES), 1, r);
}

/*
 * compute: ONE operation is one step of integer work (a xorshift step, a table update and a sum;
 * no system call, no fault after the table's first touch), COMPUTE_STEPS steps per n: the body is
 * guests/include/compute.h, the own guest's too, so the checksum is the own guest's for the same
 * n.
 */
static int wl_compute(int n, struct wl_result *r)
{
    static uint32_t table[256];
    memset(table, 0, sizeof table);     /* repeat=: every run starts alike */
    phase(PHASE_MEASURE);
    uint32_t sum = compute_rounds(table, n);
    phase(PHASE_TEARDOWN);
    snprintf(r->extra, sizeof r->extra, "ops=%d checksum=%08x", n * COMPUTE_STEPS, sum);
    return 1;
}

/*
 * io: ONE operation is one line of console output, written with one write(2) to the console
 * (/dev/console on ttyS0: the tty layer and the 8250 driver, interrupt-driven where the own
 * kernel polls its UART); the lines are the own guest's, byte for byte.
 */
static int wl_io(int n, struct wl_result *r)
{
    char line[96];
    unsigned bytes = 0;
    phase(PHASE_MEASURE);
    for (int i = 0; i < n; i++) {
        int len = snprintf(line, sizeof line,
                           "io %06d the quick brown fox jumps over the lazy dog\n", i);
        if (write(1, line, (size_t)len) != len) {
            phase(PHASE_TEARDOWN);
            return fail(r, "short-write");
        }
        bytes += (unsigned)len;
    }
    phase(PHASE_TEARDOWN);
    snprintf(r->extra, sizeof r->extra, "ops=%d bytes=%u", n, bytes);
    return 1;
}

/*
 * crash: not a measurement. A deliberate write to an unmapped page in init, the counterpart of the
 * own guest's `panic` (which faults in its kernel): it never reports success; the fatal-signal
 * handler above prints `ok=0 reason=signal-11` and ends the machine with 0x11 (status 35), which
 * tests/kernel/linux_qemu_workloads.sh checks.
 */
static int wl_crash(int n, struct wl_result *r)
{
    static volatile uintptr_t unmapped = 16;   /* page 0: never mapped */
    (void)n;
    *(volatile int *)unmapped = 1;
    return fail(r, "no-fault");
}

/* The default counts are the own guest's (guests/user/wl_*.c). */
static const struct workload workloads[] = {
    { "syscall", wl_syscall, 2000,
      "one null system call round trip (getppid by int 0x80, iret back)" },
    { "in", wl_in, 2000,
      "one in from port 0x80 in user mode (ioperm)" },
    { "pgfault", wl_pgfault, 2000,
      "one read fault on a fresh anonymous page, mapped by Linux" },
    { "divzero", wl_divzero, 2000,
      "one user divide-by-zero fault delivered as SIGFPE and resumed" },
    { "nullcall", wl_nullcall, 2000,
      "one getppid() call" },
    { "forkproc", wl_forkproc, 100,
      "one fork, child exits, parent waits (lmbench lat_proc fork; pages=P)" },
    { "execproc", wl_execproc, 100,
      "one fork, child execs /true, parent waits" },
    { "ctxsw", wl_ctxsw, 1000,
      "one pipe round trip between two processes (2 context switches)" },
    { "pagefault", wl_pagefault, 1000,
      "one first touch of a fresh mmap page" },
    { "mmap", wl_mmap, 100,
      "one map of 16 pages, touch them all, unmap" },
    { "forkwait", wl_forkwait, 200,
      "one fork, child exits at once, parent waits, all its pages dirtied (pages=P)" },
    { "compute", wl_compute, 100,
      "one round of integer work, no system call" },
    { "io", wl_io, 100,
      "one line of console output" },
    { "crash", wl_crash, 1,
      "a deliberate fault in init (never succeeds)" },
    { NULL, NULL, 0, NULL },
};

/* Ends the machine through isa-debug-exit once the console has sent everything. If the port does
 * not end it (no such device), init exits and the kernel panics ("Attempted to kill init"): with
 * panic=-1 and QEMU's -no-reboot that ends the machine too, with a status that is neither 33 nor
 * 35. */
static int machine_exit(int code)
{
    tcdrain(1);
    outl((uint32_t)code, PORT_DEBUG_EXIT);
    return code == EXIT_SUCCESS_CODE ? 0 : 1;
}

int main(void)
{
    int here;
    stack_top = page_up((uintptr_t)&here);

    /* The console passes bytes unchanged: "\n" stays "\n", as on the own guest's UART. */
    struct termios t;
    if (tcgetattr(1, &t) == 0) {
        t.c_oflag &= ~(tcflag_t)OPOST;
        tcsetattr(1, TCSANOW, &t);
    }

    const char *name = getenv("workload");
    int n = parse_uint(getenv("n")), repeat = arg_uint("repeat", 1);
    /* workload=list, and the command lines init cannot run, as the own guest's init words them
     * (guests/user/init.c): `workload NAME DEFAULT-N OP` lines, `vmlab-usage: ...` refusals. */
    int listing = !name || strcmp(name, "list") == 0;
    for (const struct workload *c = workloads; listing && c->name; c++)
        say("workload %s %d %s\n", c->name, c->default_n, c->op);
    const struct workload *w = NULL;
    for (const struct workload *c = workloads; name && c->name; c++)
        if (strcmp(c->name, name) == 0)
            w = c;

    /* The ports: isa-debug-exit, the phase marker, and port 0x80 for `in`. Without them no phase
     * can be marked and the machine cannot be ended with a status. */
    if (ioperm(PORT_PHASE, 4, 1) < 0 || ioperm(PORT_DEBUG_EXIT, 4, 1) < 0 ||
        ioperm(PORT_POST, 1, 1) < 0) {
        say("result workload=%s n=%d ok=0 reason=ioperm errno=%d\n", name ? name : "none", n,
            errno);
        return 1;
    }
    run_name = w ? w->name : "none";
    run_n = n < 0 && w ? w->default_n : n;
    catch_fatal(SIGSEGV);
    catch_fatal(SIGBUS);
    catch_fatal(SIGILL);
    catch_fatal(SIGFPE);
    if (name && strcmp(name, "list") == 0)
        return machine_exit(EXIT_SUCCESS_CODE);
    if (!name)
        say("vmlab-usage: no workload= on the command line: --cmdline \"workload=NAME "
            "[n=COUNT]\" runs one of the workloads above\n");
    else if (!w)
        say("vmlab-usage: unknown workload '%s' (vmlab run --list-workloads lists them)\n", name);
    if (!w) {
        say("result workload=%s n=%d ok=0 reason=unknown-workload\n",
            name && *name ? name : "none", n);
        return machine_exit(EXIT_FAILURE_CODE);
    }
    const char *bad = getenv("n") && n <= 0 ? "n"
                      : getenv("repeat") && parse_uint(getenv("repeat")) <= 0 ? "repeat" : NULL;
    if (bad) {
        say("vmlab-usage: workload=%s: %s=%s is not a positive count (1 to 999999999)\n",
            w->name, bad, getenv(bad));
        say("result workload=%s n=0 ok=0 reason=bad-%s\n", w->name, bad);
        return machine_exit(EXIT_FAILURE_CODE);
    }
    if (n < 0)
        n = w->default_n;

    int all_ok = 1;
    for (int i = 0; i < (repeat > 0 ? repeat : 1); i++) {
        struct wl_result r = { .extra = "", .reason = NULL };
        int ok = w->run(n, &r);
        if (ok)
            say("result workload=%s n=%d ok=1 %s\n", w->name, n, r.extra);
        else
            say("result workload=%s n=%d ok=0 reason=%s %s\n", w->name, n, r.reason, r.extra);
        all_ok &= ok;
    }
    return machine_exit(all_ok ? EXIT_SUCCESS_CODE : EXIT_FAILURE_CODE);
}
