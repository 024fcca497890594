/*
 * cmd_run.c — `vmlab run`: boot one guest in one mode, print its console, record the run.
 *
 *   vmlab run --guest FILE [--initrd FILE] [--mode native] [--cmdline "workload=syscall n=1000"]
 *             [--db FILE] [--ram MiB] [--ips N] [--max-instructions N] [--timeout SEC]
 *             [--trace counts|full] [--bucket N] [--console FILE] [--quiet] [--progress-fd FD]
 *             [--suite NAME]
 *   vmlab run --list-modes
 *   vmlab run [--guest FILE [--initrd FILE]] --list-workloads
 *
 * The guest is a Multiboot kernel, a Linux bzImage or an ELF kernel with a PVH note, told apart by
 * loader_load() (emu/loader.h); --initrd passes a file as-is as the initial ramdisk (Multiboot
 * module 0, the bzImage's ramdisk, PVH module 0).
 *
 * The run is "ok" when the guest ends by writing the success code 0x10 to isa-debug-exit (the
 * convention of QEMU test kernels); any other ending is a failed run.
 *
 * The guest's own init refuses a command line it cannot run (guests/user/init.c: no workload=,
 * an unknown workload, n= not a positive count) with one console line `vmlab-usage: MESSAGE`
 * before its failure exit; the run then ends with status 2 and `vmlab run: MESSAGE`, not a guest
 * failure code. --list-workloads boots the guest with `workload=list`, which makes that init print
 * `workload NAME DEFAULT-N OP` per entry of its workload tables, and prints them as a table: the
 * list is the guest's own (booting it costs ~0.1 s), not a copy kept here that could drift, and
 * works for whatever guest file is given; reading the tables out of the ELF instead would need
 * the user program found inside the kernel image and its pointers followed.
 *
 * Exit status: the guest's isa-debug-exit status ((V << 1) | 1, as QEMU; 0 for a listing), or 2
 * for bad usage or input (the guest's `vmlab-usage:` refusals included), 4 when the guest failed (triple fault, halted forever), 6 when a limit was reached, 8 for
 * an internal error. Every failure prints one line on stderr saying what went wrong; with --db the
 * run row is marked failed with the same message.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emu/cli.h"
#include "emu/commands.h"
#include "emu/loader.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"
#include "emu/run_record.h"
#include "traces/tdb.h"

#define GUEST_SUCCESS_CODE 0x10

struct run_opts {
    const char *guest, *initrd, *mode, *cmdline, *db, *console_file, *suite, *trace;
    uint64_t ram_mib, ips, max_insns, bucket, window;
    double timeout;
    bool quiet, list_workloads;
    int progress_fd;
};

struct console {
    bool to_stdout;
    FILE *file;
    char line[512];          /* the console line being written, cut at 511 bytes */
    size_t len;
    char usage[512];         /* the first `vmlab-usage: ` line's message, "" if none */
    char *listing;           /* --list-workloads: the `workload ...` lines, malloc'd */
    size_t listing_len;
    bool keep_listing;
};

#define USAGE_PREFIX "vmlab-usage: "

/* One whole console line: the guest's init words a command line it cannot run as
 * `vmlab-usage: MESSAGE` (guests/user/init.c); `workload=list` prints `workload ...` lines. */
static void console_line(struct console *c)
{
    c->line[c->len] = 0;
    if (!c->usage[0] && strncmp(c->line, USAGE_PREFIX, strlen(USAGE_PREFIX)) == 0)
        snprintf(c->usage, sizeof c->usage, "%s", c->line + strlen(USAGE_PREFIX));
    if (c->keep_listing && strncmp(c->line, "workload ", 9) == 0) {
        char *grown = realloc(c->listing, c->listing_len + c->len + 2);
        if (grown) {
            c->listing = grown;
            memcpy(c->listing + c->listing_len, c->line, c->len);
            c->listing_len += c->len;
            c->listing[c->listing_len++] = '\n';
            c->listing[c->listing_len] = 0;
        }
    }
    c->len = 0;
}

static void console_sink(void *opaque, uint8_t byte)
{
    struct console *c = opaque;
    if (c->to_stdout) {
        fputc(byte, stdout);
        if (byte == '\n')
            fflush(stdout);
    }
    if (c->file)
        fputc(byte, c->file);
    if (byte == '\n')
        console_line(c);
    else if (byte != '\r' && c->len < sizeof c->line - 1)
        c->line[c->len++] = (char)byte;
}

/* Prints the `workload NAME N OP` lines of a listing as a table: name, default n, operation. */
static int print_listing(const char *listing)
{
    int rows = 0;
    printf("%-14s %9s  %s\n", "WORKLOAD", "DEFAULT-N", "ONE OPERATION");
    for (const char *p = listing; p && *p;) {
        size_t l = strcspn(p, "\n");
        char name[64], n[16];
        int off = 0;
        char line[600];
        snprintf(line, sizeof line, "%.*s", (int)(l < 599 ? l : 599), p);
        if (sscanf(line, "workload %63s %15s %n", name, n, &off) == 2 && off > 0) {
            printf("%-14s %9s  %s\n", name, n, line + off);
            rows++;
        }
        p += l + (p[l] == '\n');
    }
    return rows;
}

/* <directory of this executable>/guests/kernel.elf, the default guest of --list-workloads. */
static const char *default_guest(char *buf, size_t len)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    snprintf(buf, len, "%s/guests/kernel.elf", exe);
    return buf;
}

static void progress(void *opaque, const struct machine *m)
{
    int fd = *(int *)opaque;
    char line[64];
    int n = snprintf(line, sizeof line, "progress %llu\n", (unsigned long long)machine_retired(m));
    if (write(fd, line, (size_t)n) < 0)
        *(int *)opaque = -1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vmlab run --guest FILE [options]\n"
            "  --guest FILE          the kernel: Multiboot (ELF or a.out kludge), Linux bzImage\n"
            "                        (32-bit boot protocol 2.06+) or ELF with a PVH entry note\n"
            "  --initrd FILE         initial ramdisk, passed as-is (Multiboot: module 0)\n"
            "  --mode M              virtualization mode (vmlab run --list-modes), default native\n"
            "  --cmdline S           guest kernel command line, e.g. \"workload=syscall n=1000\"\n"
            "                        (Multiboot guests see \"<guest path> S\", as under QEMU)\n"
            "  --db FILE             record the run in this trace database\n"
            "  --trace counts|full   aggregate counts (default) or also one row per event\n"
            "  --bucket N            time-series bucket width in instructions (default 1000000)\n"
            "  --ram MIB             guest RAM in MiB (default 256)\n"
            "  --ips N               instructions per simulated second (default 1000000000)\n"
            "  --max-instructions N  stop after N instructions of guest time\n"
            "  --timeout SEC         stop after SEC seconds of wall-clock time (default 600)\n"
            "  --monitor-window A    trap-classic, bt: linear address where the monitor's window\n"
            "                        starts (4 MiB aligned, default 0xffc00000, the top 4 MiB;\n"
            "                        trap, like VT-x, keeps nothing in the guest's linear space)\n"
            "  --console FILE        also write the guest console to FILE\n"
            "  --quiet               do not copy the guest console to stdout\n"
            "  --progress-fd FD      write to FD 'run <id>' (with --db: the run's id in the\n"
            "                        database), 'progress <instructions>' lines, 'done <status>'\n"
            "  --suite NAME          suite name recorded with the run (used by compare)\n"
            "  --list-modes          print the available modes\n"
            "  --list-workloads      boot the guest (default: the guests/kernel.elf beside this\n"
            "                        vmlab) with workload=list and print its workloads: name,\n"
            "                        the n it runs without n=, what one operation is\n"
            "  --version             print vmlab's version\n"
            "The guest kernel's command line is \"workload=NAME [n=COUNT] [repeat=TIMES]\"; a\n"
            "workload it does not know, or an n that is not a positive count, ends the run with\n"
            "status 2 and the guest's reason.\n");
}

static int parse_u64(const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || *end || d < 0 || d > 1.8e19 || s[0] == '-') {
        fprintf(stderr, "vmlab run: %s needs a non-negative number, got '%s'\n", opt, s);
        return -1;
    }
    *out = (uint64_t)d;
    return 0;
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
    static const struct option lo[] = {
        {"guest", required_argument, 0, 'g'}, {"initrd", required_argument, 0, 'I'},
        {"mode", required_argument, 0, 'm'},
        {"cmdline", required_argument, 0, 'c'}, {"db", required_argument, 0, 'd'},
        {"trace", required_argument, 0, 't'}, {"bucket", required_argument, 0, 'b'},
        {"ram", required_argument, 0, 'r'}, {"ips", required_argument, 0, 'i'},
        {"max-instructions", required_argument, 0, 'x'}, {"timeout", required_argument, 0, 'T'},
        {"console", required_argument, 0, 'C'}, {"quiet", no_argument, 0, 'q'},
        {"progress-fd", required_argument, 0, 'p'}, {"suite", required_argument, 0, 's'},
        {"monitor-window", required_argument, 0, 'W'}, {"list-modes", no_argument, 0, 'L'},
        {"list-workloads", no_argument, 0, 'w'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->mode = "native";
    o->cmdline = "";
    o->trace = "counts";
    o->ram_mib = 256;
    o->ips = 1000000000ull;
    o->bucket = 1000000;
    o->window = 0xffc00000u;
    o->timeout = 600;
    o->progress_fd = -1;
    optind = 1;
    opterr = 0;
    int c;
    uint64_t v;
    while ((c = cli_getopt("run", argc, argv, "", lo)) != -1) {
        switch (c) {
        case 'g': o->guest = optarg; break;
        case 'I': o->initrd = optarg; break;
        case 'm': o->mode = optarg; break;
        case 'c': o->cmdline = optarg; break;
        case 'd': o->db = optarg; break;
        case 't': o->trace = optarg; break;
        case 'C': o->console_file = optarg; break;
        case 'q': o->quiet = true; break;
        case 's': o->suite = optarg; break;
        case 'b': if (parse_u64("--bucket", optarg, &o->bucket)) return -1; break;
        case 'W': {
            char *end;
            errno = 0;
            unsigned long long w = strtoull(optarg, &end, 0);
            if (errno || *end || w > 0xffc00000ull || (w & 0x3fffff) || w < 0xf0000000ull) {
                fprintf(stderr, "vmlab run: --monitor-window must be a 4 MiB-aligned address "
                        "between 0xf0000000 and 0xffc00000, got '%s'\n", optarg);
                return -1;
            }
            o->window = (uint64_t)w;
            break;
        }
        case 'r': if (parse_u64("--ram", optarg, &o->ram_mib)) return -1; break;
        case 'i': if (parse_u64("--ips", optarg, &o->ips)) return -1; break;
        case 'x': if (parse_u64("--max-instructions", optarg, &o->max_insns)) return -1; break;
        case 'T': if (parse_u64("--timeout", optarg, &v)) return -1; o->timeout = (double)v; break;
        case 'p': if (parse_u64("--progress-fd", optarg, &v) || v > INT_MAX) return -1;
                  o->progress_fd = (int)v; break;
        case 'w': o->list_workloads = true; break;
        case 'L':
            for (int i = 0; vmlab_modes[i]; i++)
                printf("%s\n", vmlab_modes[i]->name);
            exit(0);
        case 'h': usage(stdout); exit(0);
        case CLI_VERSION: exit(0);
        default: return -1;            /* cli_getopt printed the one-line error */
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vmlab run: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (o->list_workloads) {
        static char guest[4096 + 32];
        if (o->cmdline[0] || o->db) {
            cli_error("run", "--list-workloads takes no %s", o->db ? "--db" : "--cmdline");
            return -1;
        }
        if (!o->guest && !(o->guest = default_guest(guest, sizeof guest))) {
            cli_error("run", "cannot find this executable: %s", strerror(errno));
            return -1;
        }
        o->cmdline = "workload=list";
        o->quiet = true;
    }
    if (!o->guest) {
        cli_error("run", "--guest FILE is required (vmlab run --help; "
                  "vmlab run --list-workloads lists the workloads)");
        return -1;
    }
    if (strcmp(o->trace, "counts") && strcmp(o->trace, "full")) {
        fprintf(stderr, "vmlab run: --trace must be 'counts' or 'full', got '%s'\n", o->trace);
        return -1;
    }
    if (o->ram_mib < 2 || o->ram_mib > 3072) {
        fprintf(stderr, "vmlab run: --ram must be between 2 and 3072 MiB, got %llu\n",
                (unsigned long long)o->ram_mib);
        return -1;
    }
    if (o->ips == 0) {
        fprintf(stderr, "vmlab run: --ips must be positive\n");
        return -1;
    }
    if (!mode_find(o->mode)) {
        fprintf(stderr, "vmlab run: unknown mode '%s' (vmlab run --list-modes)\n", o->mode);
        return -1;
    }
    return 0;
}

static double wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    if (parse_args(argc, argv, &o) < 0)
        return EXIT_STATUS_USAGE;
    const struct mode_ops *mode = mode_find(o.mode);
    char err[512] = "";
    struct console con = {.to_stdout = !o.quiet, .keep_listing = o.list_workloads};
    if (o.console_file && !(con.file = fopen(o.console_file, "w"))) {
        fprintf(stderr, "vmlab run: cannot write console file %s: %s\n", o.console_file,
                strerror(errno));
        return EXIT_STATUS_USAGE;
    }
    struct run_record rec;
    if (run_record_open(&rec, o.db, &(struct run_record_info){
            .guest = o.guest, .cmdline = o.cmdline, .mode = o.mode, .suite = o.suite,
            .full = !strcmp(o.trace, "full"), .ram_mib = o.ram_mib, .ips = o.ips,
            .max_insns = o.max_insns, .timeout = o.timeout, .bucket = o.bucket,
            .window = o.window},
            err, sizeof err) < 0) {
        fprintf(stderr, "vmlab run: %s\n", err);
        if (con.file)
            fclose(con.file);
        return EXIT_STATUS_USAGE;
    }
    if (o.progress_fd >= 0 && rec.db) {
        /* The run's id in the database, first on the progress fd: `vmlab compare` names runs by
         * it (several children insert rows into one database, in no fixed order). */
        char line[40];
        int n = snprintf(line, sizeof line, "run %lld\n", (long long)rec.run_id);
        if (write(o.progress_fd, line, (size_t)n) < 0)
            o.progress_fd = -1;
    }
    struct machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.ram_bytes = o.ram_mib << 20;
    cfg.ips = o.ips;
    cfg.max_insns = o.max_insns;
    cfg.wall_limit = o.timeout;
    cfg.bucket_width = o.bucket;
    cfg.monitor_window = (uint32_t)o.window;
    cfg.cmdline = o.cmdline;
    cfg.console = console_sink;
    cfg.console_opaque = &con;
    double t0 = wall();
    int status;
    struct machine *m = machine_create(&cfg, err, sizeof err);
    struct boot_info bi;
    if (!m) {
        status = EXIT_STATUS_INTERNAL;
    } else if (loader_load(m, o.guest, o.initrd, o.cmdline, &bi, err, sizeof err) < 0) {
        status = EXIT_STATUS_USAGE;
    } else {
        m->mode = mode;
        run_record_attach(&rec, m);
        if (o.progress_fd >= 0) {
            m->progress = progress;
            m->progress_opaque = &o.progress_fd;
        }
        int sr = mode->setup(m, &bi, err, sizeof err);
        if (sr < 0) {
            status = sr == -2 ? EXIT_STATUS_USAGE : EXIT_STATUS_INTERNAL;
        } else {
            status = machine_run(m);
            if (m->end != END_GUEST_EXIT)
                snprintf(err, sizeof err, "%s", m->message);
        }
        mode->teardown(m);
    }
    fflush(stdout);
    double secs = wall() - t0;
    bool success = m && m->end == END_GUEST_EXIT && m->guest_exit == GUEST_SUCCESS_CODE;
    if (m && m->end == END_GUEST_EXIT && !success)
        snprintf(err, sizeof err, "guest exited with failure code 0x%x (status %d)",
                 m->guest_exit, status);
    if (m && m->end == END_GUEST_EXIT && !success && con.usage[0]) {
        /* The guest refused its command line (an unknown workload, a bad n=): bad input. */
        snprintf(err, sizeof err, "%s", con.usage);
        status = EXIT_STATUS_USAGE;
    }
    if (success && o.list_workloads && print_listing(con.listing) == 0) {
        snprintf(err, sizeof err, "%s printed no workloads for workload=list (not vmlab's guest "
                 "kernel?)", o.guest);
        success = false;
        status = EXIT_STATUS_USAGE;
    }
    const char *ok = success ? "ok" : "failed";
    if (success && o.list_workloads) {
        status = 0;             /* the listing is the output: no summary line */
    } else if (success) {
        uint64_t r = machine_retired(m);
        fprintf(stderr, "vmlab run: %s: guest exit 0x%x (status %d); %llu instructions "
                "(user %llu, kernel %llu), %.3f s, %.1f M instructions/s\n",
                o.mode, m->guest_exit, status, (unsigned long long)r,
                (unsigned long long)m->insn_cpl[3],
                (unsigned long long)(r - m->insn_cpl[3]), secs, secs > 0 ? r / secs / 1e6 : 0.0);
    } else {
        fprintf(stderr, "vmlab run: %s\n", err);
    }
    if (run_record_close(&rec, m, ok, status, success ? NULL : err, secs,
                         err, sizeof err) < 0) {
        fprintf(stderr, "vmlab run: trace database: %s\n", err);
        if (status == 0 || (status & 1))
            status = EXIT_STATUS_INTERNAL;
    }
    if (o.progress_fd >= 0) {
        char line[32];
        int n = snprintf(line, sizeof line, "done %d\n", status);
        if (write(o.progress_fd, line, (size_t)n) < 0) {
            /* the parent went away: nothing to report to */
        }
    }
    machine_destroy(m);
    if (con.file)
        fclose(con.file);
    free(con.listing);
    return status;
}
