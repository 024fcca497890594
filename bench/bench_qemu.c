/*
 * bench_qemu.c — vmlab's modes side by side with QEMU TCG on the same guest kernel, start-up
 * excluded.
 *
 * Issue 21 asks how vmlab compares with the emulator it is built from. QEMU's system emulator runs
 * the very kernel vmlab runs (build/guests/kernel.elf is a Multiboot image; `-kernel` boots it and
 * `-append` passes the same command line), and with `-icount shift=0,sleep=off` it is the
 * deterministic peer: one instruction per virtual nanosecond, like vmlab's own clock. Start-up
 * differs a lot (QEMU takes several times longer to create its machine), so what is timed here is
 * only the running guest: the interval between the guest's `args:` console line (printed by the
 * kernel just before it starts init) and its `result ...` line (printed by init when the workload
 * is done). Each emulator's console goes to a pipe that this program reads, and each line is
 * timestamped (bench_now) as it arrives; both emulators flush their console per line (vmlab's
 * stdout console flushes on '\n'; QEMU's -nographic serial is unbuffered).
 *
 * For each workload the variants run interleaved (QEMU -icount, QEMU, native, trap, trap-classic,
 * bt, pv, QEMU -icount, ...) RUNS times, so a change in the machine's load spreads over all of
 * them, and the median of each is printed with its ratio to QEMU -icount (above 1: slower than
 * QEMU -icount). A run that does not end with the guest's success status (33; QEMU's
 * isa-debug-exit gives (16 << 1) | 1 = 33 for the same port write) or without both lines fails the
 * benchmark. The bound, raw Unicorn with no hooks on the same kind of guest code, is what
 * bench_native reports (the kernel's workloads need interrupts delivered, which raw Unicorn does
 * not do, so it is not a column here).
 *
 * usage: bench_qemu [runs [vmlab [kernel.elf [qemu-system-i386]]]]
 *        (defaults: 3, the build tree's vmlab and kernel, qemu-system-i386 on PATH)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_RUNS 15

static const char *const variants[] = {"qemu -icount", "qemu", "native", "trap",
                                       "trap-classic", "bt",   "pv"};
#define NVAR (sizeof variants / sizeof variants[0])

/* n chosen so that QEMU -icount spends roughly 0.1 to 0.5 s between the two lines. */
static const struct {
    const char *workload;
    int n;
} loads[] = {
    {"compute", 20000}, {"syscall", 200000}, {"forkwait", 300}, {"pgfault", 20000},
    {"mmap", 2000},     {"ctxsw", 20000},    {"callret", 10000000},
};
#define NLOADS (sizeof loads / sizeof loads[0])

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

static double run_variant(unsigned v, const char *vmlab, const char *kernel, const char *qemu,
                          const char *cmdline)
{
    if (v < 2) {
        char *argv[20];
        int a = 0;
        argv[a++] = (char *)qemu;
        if (v == 0) {
            argv[a++] = "-icount";
            argv[a++] = "shift=0,sleep=off";
        }
        argv[a++] = "-kernel";
        argv[a++] = (char *)kernel;
        argv[a++] = "-append";
        argv[a++] = (char *)cmdline;
        argv[a++] = "-nographic";
        argv[a++] = "-device";
        argv[a++] = "isa-debug-exit,iobase=0xf4,iosize=4";
        argv[a++] = "-no-reboot";
        argv[a] = NULL;
        return timed_run(argv);
    }
    char *argv[] = {(char *)vmlab,   "run",         "--mode",          (char *)variants[v],
                    "--guest",       (char *)kernel, "--cmdline",      (char *)cmdline,
                    NULL};
    return timed_run(argv);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    const char *vmlab = argc > 2 ? argv[2] : VMLAB_BUILD_DIR "/vmlab";
    const char *kernel = argc > 3 ? argv[3] : VMLAB_BUILD_DIR "/guests/kernel.elf";
    const char *qemu = argc > 4 ? argv[4] : "qemu-system-i386";
    if (runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "bench_qemu: runs must be 1..%d\n", MAX_RUNS);
        return 2;
    }
    printf("bench_qemu: seconds from the guest's `args:` line to its `result` line (start-up "
           "excluded),\nmedian of %d interleaved runs; ratio to QEMU -icount shift=0,sleep=off "
           "(above 1: slower)\n\n",
           runs);
    printf("%-9s %8s", "workload", "n");
    for (unsigned v = 0; v < NVAR; v++)
        printf(" %15s", variants[v]);
    printf("\n");
    for (unsigned w = 0; w < NLOADS; w++) {
        char cmdline[96];
        snprintf(cmdline, sizeof cmdline, "workload=%s n=%d", loads[w].workload, loads[w].n);
        double t[NVAR][MAX_RUNS], med[NVAR];
        for (int r = 0; r < runs; r++)
            for (unsigned v = 0; v < NVAR; v++)
                if ((t[v][r] = run_variant(v, vmlab, kernel, qemu, cmdline)) < 0) {
                    fprintf(stderr, "bench_qemu: %s under %s failed\n", cmdline, variants[v]);
                    return 1;
                }
        for (unsigned v = 0; v < NVAR; v++)
            med[v] = bench_median(t[v], (size_t)runs);
        printf("%-9s %8d", loads[w].workload, loads[w].n);
        for (unsigned v = 0; v < NVAR; v++)
            printf(" %7.3fs %5.2fx", med[v], med[v] / med[0]);
        printf("\n");
        fflush(stdout);
    }
    printf("\nbound: raw Unicorn (no hooks) on the same kind of guest code: bench_native\n");
    return 0;
}
