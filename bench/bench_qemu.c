/*
 * bench_qemu.c — vmlab's modes side by side with QEMU TCG on the default suite's workloads,
 * start-up excluded, with raw Unicorn as the bound.
 *
 * Issue 21 asks how vmlab compares with the emulator it is built from. QEMU's system emulator runs
 * the very kernel vmlab runs (build/guests/kernel.elf is a Multiboot image; `-kernel` boots it and
 * `-append` passes the same command line), and with `-icount shift=0,sleep=off` it is the
 * deterministic peer: one instruction per virtual nanosecond, like vmlab's own clock; without
 * -icount it is QEMU at its fastest. Start-up differs a lot (QEMU takes several times longer to
 * create its machine), so what is timed is only the running guest: the interval between the
 * guest's `args:` console line (printed by the kernel just before it starts init) and its
 * `result ...` line (printed by init when the workload is done). Each emulator's console goes to
 * a pipe that this program reads, and each line is timestamped (bench_now) as it arrives; both
 * emulators flush their console per line (vmlab's stdout console flushes on '\n'; QEMU's
 * -nographic serial is unbuffered). A run that does not end with the guest's success status (33;
 * QEMU's isa-debug-exit gives (16 << 1) | 1 = 33 for the same port write) or without both lines
 * fails the benchmark.
 *
 * The workloads are models/suites/default.yaml's (read with `vmlab compare --check`, with their
 * args). Their suite n is sized for a quick suite, far too short to time, so each n is scaled
 * until the window holds about TARGET million guest instructions: two native runs in this process
 * (at n and 2n) give the instructions per operation and the fixed part of the window. For each
 * workload the variants then run interleaved (QEMU -icount, QEMU, native, trap, trap-ept,
 * trap-classic, bt, pv, QEMU -icount, ...) RUNS times, so a change in the machine's load spreads
 * over all of them, and the median of each is printed with its ratio to QEMU -icount (above 1:
 * slower).
 *
 * The bound, raw Unicorn with no hooks, is the `raw` column: raw_phase.h says what "the same
 * guest code" can mean for a kernel that needs its exceptions delivered. The workload's measured
 * phase runs on a hookless engine from a snapshot of the native run; its instructions per second
 * there, applied to the window's instruction count (vmlab native's, in this process), give the
 * time raw Unicorn would take. Workloads whose measured phase takes exceptions (system calls, page
 * faults, ...) or reads a device (console output polls the UART) have no raw bound: `-`.
 *
 * usage: bench_qemu [-r RUNS] [-t TARGET] [workload ...]
 *        (defaults: 3 runs, 100 million instructions per window, every workload of the suite;
 *         the build tree's vmlab and kernel, qemu-system-i386 on PATH)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "raw_phase.h"

#define MAX_RUNS 15
#define MAX_LOADS 64
#define KERNEL VMLAB_BUILD_DIR "/guests/kernel.elf"
#define VMLAB VMLAB_BUILD_DIR "/vmlab"
#define QEMU "qemu-system-i386"

static const char *const variants[] = {"qemu -icount", "qemu", "native", "trap", "trap-ept",
                                       "trap-classic", "bt",   "pv"};
#define NVAR (sizeof variants / sizeof variants[0])

/* A workload of the suite: its name, its suite n and the rest of its command line. */
struct load {
    char name[32], args[128];
    long long n;
};

/* Runs argv with stdout on a pipe, stdin and stderr on /dev/null; returns the seconds between the
 * arrival of the console line starting with "args:" and the one starting with "result", or -1 if
 * either is missing or the exit status is not 33. */
static double timed_run(char *const argv[])
{
    int fd[2];
    if (pipe(fd) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null < 0)
            _exit(127);
        dup2(null, 0);
        dup2(null, 2);
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    char line[1024];
    size_t len = 0;
    double t_args = -1, t_result = -1;
    char buf[4096];
    for (;;) {
        ssize_t got = read(fd[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        double now = bench_now();
        for (ssize_t i = 0; i < got; i++) {
            char c = buf[i];
            if (c == '\n') {
                line[len] = 0;
                if (t_args < 0 && strncmp(line, "args:", 5) == 0)
                    t_args = now;
                else if (t_args >= 0 && t_result < 0 && strncmp(line, "result", 6) == 0)
                    t_result = now;
                len = 0;
            } else if (c != '\r' && len < sizeof line - 1) {
                line[len++] = c;
            }
        }
    }
    close(fd[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 33)
        return -1;
    if (t_args < 0 || t_result < 0)
        return -1;
    return t_result - t_args;
}

static double run_variant(unsigned v, const char *cmdline)
{
    if (v < 2) {
        char *argv[20];
        int a = 0;
        argv[a++] = QEMU;
        if (v == 0) {
            argv[a++] = "-icount";
            argv[a++] = "shift=0,sleep=off";
        }
        argv[a++] = "-kernel";
        argv[a++] = KERNEL;
        argv[a++] = "-append";
        argv[a++] = (char *)cmdline;
        argv[a++] = "-nographic";
        argv[a++] = "-device";
        argv[a++] = "isa-debug-exit,iobase=0xf4,iosize=4";
        argv[a++] = "-no-reboot";
        argv[a] = NULL;
        return timed_run(argv);
    }
    char *argv[] = {VMLAB, "run", "--mode", (char *)variants[v], "--guest", KERNEL,
                    "--cmdline", (char *)cmdline, NULL};
    return timed_run(argv);
}

/* The suite's workloads, from `vmlab compare --check` ("workload=W n=N ARGS" lines); their number,
 * or -1. */
static int suite_loads(struct load *l, int max)
{
    FILE *f = popen(VMLAB " compare --check --suite " VMLAB_SOURCE_DIR
                    "/models/suites/default.yaml", "r");
    char line[256];
    int n = 0;
    while (f && n < max && fgets(line, sizeof line, f)) {
        int used = 0;
        line[strcspn(line, "\n")] = 0;
        if (sscanf(line, "workload=%31s n=%lld%n", l[n].name, &l[n].n, &used) == 2) {
            snprintf(l[n].args, sizeof l[n].args, "%.120s", line + used);
            n++;
        }
    }
    return f && pclose(f) == 0 && n > 0 ? n : -1;
}

static void cmdline_of(const struct load *l, long long n, char *buf, size_t len)
{
    snprintf(buf, len, "workload=%.31s n=%lld%.127s", l->name, n, l->args);
}

/* The n whose window holds about `target` instructions (never below the suite's), from native
 * windows at the suite's n and at twice it; -1 if a run failed. A suite n of 1 is kept: such a
 * workload (holes) is one pass over a list, not a count of operations to scale. */
static long long scaled_n(const struct load *l, double target)
{
    if (l->n == 1)
        return 1;
    struct native_window a, b;
    char c1[256], c2[256];
    cmdline_of(l, l->n, c1, sizeof c1);
    cmdline_of(l, 2 * l->n, c2, sizeof c2);
    if (native_window(KERNEL, c1, &a) < 0 || native_window(KERNEL, c2, &b) < 0)
        return -1;
    double w1 = (double)(a.result_at - a.args_at), w2 = (double)(b.result_at - b.args_at);
    double per_op = (w2 - w1) / (double)l->n, fixed = w1 - per_op * (double)l->n;
    if (per_op <= 0 || target <= fixed + per_op * (double)l->n)
        return l->n;
    return (long long)((target - fixed) / per_op);
}

static int wanted(const char *name, int argc, char **argv, int first)
{
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return first >= argc;
}

/* One workload: the window's instructions and raw bound, then every variant RUNS times,
 * interleaved; prints its row. 0, or 1 if a run failed. */
static int bench_load(const struct load *l, double target, int runs)
{
    long long n = scaled_n(l, target);
    char cmdline[256];
    struct native_window w;
    struct raw_result raw = {0};
    cmdline_of(l, n, cmdline, sizeof cmdline);
    if (n < 0 || native_window(KERNEL, cmdline, &w) < 0 ||
        (w.phase_start && raw_phase(KERNEL, cmdline, &w, runs, &raw) < 0))
        return 1;
    double t[NVAR][MAX_RUNS], med[NVAR];
    for (int r = 0; r < runs; r++)
        for (unsigned v = 0; v < NVAR; v++)
            if ((t[v][r] = run_variant(v, cmdline)) < 0) {
                fprintf(stderr, "bench_qemu: %s under %s failed\n", cmdline, variants[v]);
                return 1;
            }
    for (unsigned v = 0; v < NVAR; v++)
        med[v] = bench_median(t[v], (size_t)runs);
    printf("%-12s %8lld %7.1f", l->name, n, (double)(w.result_at - w.args_at) / 1e6);
    for (unsigned v = 0; v < NVAR; v++) {
        printf(" %7.3fs %5.2fx", med[v], med[v] / med[0]);
        if (v == 1) {
            if (raw.phase_done && raw.insns && raw.secs > 0) {
                double secs = (double)(w.result_at - w.args_at) * raw.secs / (double)raw.insns;
                printf(" %7.3fs %5.2fx", secs, secs / med[0]);
            } else {
                printf(" %15s", "-");
            }
        }
    }
    printf("\n");
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 3, first = 1;
    double target = 100e6;
    for (; first + 1 < argc && argv[first][0] == '-'; first += 2) {
        if (strcmp(argv[first], "-r") == 0)
            runs = atoi(argv[first + 1]);
        else if (strcmp(argv[first], "-t") == 0)
            target = atof(argv[first + 1]) * 1e6;
        else
            break;
    }
    struct load loads[MAX_LOADS];
    int nl = suite_loads(loads, MAX_LOADS);
    if (runs < 1 || runs > MAX_RUNS || target <= 0 || nl < 0 ||
        (first < argc && argv[first][0] == '-')) {
        fprintf(stderr, "usage: bench_qemu [-r RUNS (1..%d)] [-t TARGET (M instructions)] "
                        "[workload ...]%s\n", MAX_RUNS, nl < 0 ? " (cannot read the suite)" : "");
        return 2;
    }
    printf("bench_qemu: seconds from the guest's `args:` line to its `result` line (start-up "
           "excluded), median of %d interleaved runs;\nratio to QEMU -icount shift=0,sleep=off "
           "(above 1: slower); n scaled to about %.0f M instructions per window (Minsn: vmlab "
           "native's)\n\n", runs, target / 1e6);
    printf("%-12s %8s %7s", "workload", "n", "Minsn");
    for (unsigned v = 0; v < NVAR; v++) {
        printf(" %15s", variants[v]);
        if (v == 1)
            printf(" %15s", "raw (bound)");
    }
    printf("\n");
    for (int i = 0; i < nl; i++)
        if (wanted(loads[i].name, argc, argv, first) && bench_load(&loads[i], target, runs))
            return 1;
    printf("\nraw: raw Unicorn (no block, code or memory hook) on the workload's measured phase, "
           "from a snapshot of the native run,\nat its instructions/s over the window's "
           "instructions; -: the measured phase takes exceptions or reads a device "
           "(bench/raw_phase.h)\n");
    return 0;
}
