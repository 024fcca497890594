/*
 * cmd_compare.c — `vmlab compare`: every workload of a suite in every listed mode, as parallel
 * `vmlab run` processes writing one trace database.
 *
 *   vmlab compare --suite FILE --db FILE [--modes native,trap,trap-ept,trap-classic,bt,pv] [-j N]
 *                 [--scale small|paper] [--trace counts|full] [--logs DIR] [--group NAME]
 *   vmlab compare --suite FILE --check [--group NAME]
 *
 * --group NAME keeps the suite's workloads of that group (a workload's `group:` key, emu/suite.h);
 * a name no workload has is refused with status 2 and the groups the suite has.
 * --check only reads the suite file: it prints one line per workload (workload=W n=N, the
 * command line a run would get at --scale small) and exits 0, or 2 with the one-line error that
 * names the file; nothing is run and no database is needed (tests/integration/mutate_guests.sh
 * and fuzz/fuzz_suite.c read suites this way).
 * The children are the `vmlab` executable beside this one (/proc/self/exe), each run as
 *   vmlab run --mode M --guest G [--initrd I] --cmdline "workload=W n=N ARGS" --db DB
 *             --suite NAME --trace T --progress-fd 3
 * with its console and messages in DIR/W.M.log (default DIR: DB.logs). The modes this build has
 * come from `vmlab run --list-modes`; listed modes it lacks are skipped with a note, while a name
 * that is no mode at all (a misspelling: `--modes native,xen`) is refused with status 2. All children
 * write the same database: it is in WAL mode and every write is a short transaction with a busy
 * timeout (traces/tdb.c), so no merge step is needed on one machine.
 *
 * While runs go on, one line on stderr shows run i/n and, per running child, workload/mode and
 * the instructions it has retired so far (from its `progress N` lines); each finished run prints
 * one line naming it by its id in the database, which the child reports as its first progress
 * line (`run ID`, written once it has inserted its row): the children insert rows in no fixed
 * order, and a database appended to already holds other runs, so a job's position in the list is
 * not its id. A child that failed before inserting a row is named by workload/mode alone. At the
 * end the failed runs are listed (by run id too) with the last line of their log, the cost models
 * are loaded into the database, the per-mode aggregate under the default cost model is
 * printed on stdout (the table `vmlab stat` ends with: the geometric mean over workloads of each
 * workload's ratio to native, view mode_aggregate, analysis/aggregate.c), and the exit status is 0
 * if every run succeeded (guest status 33), 1 if any failed or the summary could not be read, 2
 * for bad usage or a bad suite file.
 *
 * The suite file: emu/suite.h.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sqlite3.h>

#include "analysis/aggregate.h"
#include "analysis/analysis.h"
#include "analysis/model.h"
#include "emu/cli.h"
#include "emu/commands.h"
#include "emu/modes/mode.h"
#include "emu/suite.h"
#include "traces/tdb.h"

#define KNOWN_MODES "native,trap,trap-ept,trap-classic,bt,pv"  /* the documented modes, the default */
#define STATUS_OK 33 /* isa-debug-exit value 0x10: (0x10 << 1) | 1 */

struct job {
    const struct suite_workload *w;
    const char *mode;
    pid_t pid;
    int fd;                  /* progress pipe, -1 when closed */
    char buf[256];           /* partial progress line */
    size_t blen;
    unsigned long long insns;
    long long run_id;        /* the run's id in the database (its `run N` line), -1 until known */
    int status;              /* exit status, -1 while running */
    double t0, secs;
    char log[PATH_MAX];
};

struct opts {
    const char *suite, *db, *modes, *scale, *trace, *logs, *group;
    int jobs;
    int check;               /* --check: read the suite, list it, run nothing */
    int modes_given;         /* --modes was on the command line (it overrides the suite's) */
};

/* --- children ------------------------------------------------------------------------------- */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The directory of this executable, where the `vmlab` binary and guests/ live. */
static int exe_dir(char *dir, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", dir, len - 1);
    if (n <= 0)
        return -errno;
    dir[n] = 0;
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    return 0;
}

/* Modes of `vmlab run --list-modes`, as a newline-separated list; NULL if it failed. */
static char *list_modes(const char *vmlab)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl(vmlab, "vmlab", "run", "--list-modes", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char *out = calloc(1, 4096);
    size_t got = 0;
    ssize_t n;
    while (out && got < 4095 && (n = read(p[0], out + got, 4095 - got)) > 0)
        got += (size_t)n;
    close(p[0]);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || got == 0) {
        free(out);
        return NULL;
    }
    return out;
}

static int mode_listed(const char *list, const char *mode)
{
    size_t len = strlen(mode);
    for (const char *p = list; *p;) {
        size_t l = strcspn(p, "\n");
        if (l == len && strncmp(p, mode, len) == 0)
            return 1;
        p += l + (p[l] == '\n');
    }
    return 0;
}

static int start_job(struct job *j, const char *vmlab, const char *guest, const char *initrd,
                     const char *suite, const struct opts *o, int paper)
{
    char cmdline[1024];
    long long n = paper && j->w->paper_n > 0 ? j->w->paper_n : j->w->n;
    snprintf(cmdline, sizeof cmdline, "workload=%s n=%lld%s%s", j->w->name, n,
             j->w->args && *j->w->args ? " " : "", j->w->args ? j->w->args : "");
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -errno;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -errno;
    }
    if (pid == 0) {
        int log = open(j->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (log < 0 || null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 ||
            dup2(p[1], 3) < 0)
            _exit(8);
        const char *args[] = {"vmlab", "run", "--mode", j->mode, "--guest", guest,
                              "--cmdline", cmdline, "--db", o->db, "--suite", suite,
                              "--trace", o->trace, "--progress-fd", "3",
                              initrd ? "--initrd" : NULL, initrd, NULL};
        execv(vmlab, (char *const *)args);
        fprintf(stderr, "vmlab compare: cannot run %s: %s\n", vmlab, strerror(errno));
        _exit(8);
    }
    close(p[1]);
    j->pid = pid;
    j->fd = p[0];
    j->status = -1;
    j->t0 = now();
    return 0;
}

static void read_progress(struct job *j)
{
    ssize_t n = read(j->fd, j->buf + j->blen, sizeof j->buf - 1 - j->blen);
    if (n <= 0) {
        close(j->fd);
        j->fd = -1;
        return;
    }
    j->blen += (size_t)n;
    j->buf[j->blen] = 0;
    char *line = j->buf, *nl;
    while ((nl = strchr(line, '\n'))) {
        *nl = 0;
        if (strncmp(line, "progress ", 9) == 0)
            j->insns = strtoull(line + 9, NULL, 10);
        else if (strncmp(line, "run ", 4) == 0)
            j->run_id = strtoll(line + 4, NULL, 10);
        line = nl + 1;
    }
    j->blen = strlen(line);
    memmove(j->buf, line, j->blen + 1);
    if (j->blen == sizeof j->buf - 1)
        j->blen = 0; /* an over-long line: drop it */
}

static const char *human(unsigned long long v, char *buf, size_t len)
{
    if (v >= 1000000000ull)
        snprintf(buf, len, "%.1fG", v / 1e9);
    else if (v >= 1000000ull)
        snprintf(buf, len, "%.1fM", v / 1e6);
    else if (v >= 1000ull)
        snprintf(buf, len, "%.1fk", v / 1e3);
    else
        snprintf(buf, len, "%llu", v);
    return buf;
}

/* The last non-empty line of a log file, for the failure list. */
static void last_line(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    char line[512];
    *out = 0;
    while (f && fgets(line, sizeof line, f))
        if (line[0] != '\n') {
            line[strcspn(line, "\n")] = 0;
            snprintf(out, len, "%s", line);
        }
    if (f)
        fclose(f);
}

struct progress {
    int tty, total, started, done;
    struct tdb *db;          /* to read a finished run's instruction total */
};

/* "run ID " for a job whose child has told its database run id, "" before that (or when the
 * child never recorded a run: it failed before inserting the row). */
static const char *run_label(const struct job *j, char *buf, size_t len)
{
    if (j->run_id < 0)
        return "";
    snprintf(buf, len, "run %lld ", j->run_id);
    return buf;
}

static void show_line(const struct progress *pr, const struct job *jobs, int njobs)
{
    if (!pr->tty)
        return;
    char line[512], num[32];
    int len = snprintf(line, sizeof line, "[%d/%d done]", pr->done, pr->total);
    for (int i = 0; i < njobs && len < 200; i++)
        if (jobs[i].pid > 0 && jobs[i].status < 0) {
            char id[40];
            len += snprintf(line + len, sizeof line - (size_t)len, " %s%s/%s %s",
                            run_label(&jobs[i], id, sizeof id), jobs[i].w->name, jobs[i].mode,
                            human(jobs[i].insns, num, sizeof num));
        }
    fprintf(stderr, "\r%.160s\033[K", line);
}

/* The instruction total the child recorded (its last progress line may be ~100 ms old). */
static void recorded_total(struct tdb *db, struct job *j)
{
    sqlite3_stmt *st;
    if (!db || j->run_id < 0 ||
        sqlite3_prepare_v2(tdb_sqlite(db),
                           "SELECT instructions FROM run WHERE id = ? AND instructions IS NOT NULL",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, j->run_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        j->insns = (unsigned long long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
}

static void finished(struct progress *pr, struct job *j)
{
    char num[32], id[40];
    pr->done++;
    recorded_total(pr->db, j);
    if (pr->tty)
        fprintf(stderr, "\r\033[K");
    fprintf(stderr, "compare: [%d/%d] %s%s/%s %s (status %d, %s instructions, %.1f s)\n",
            pr->done, pr->total, run_label(j, id, sizeof id), j->w->name, j->mode,
            j->status == STATUS_OK ? "ok" : "FAILED", j->status, human(j->insns, num, sizeof num),
            j->secs);
}

/* Wait for a job whose progress pipe closed; returns once it has been reaped. */
static void reap(struct job *j)
{
    int status;
    while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
        ;
    j->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    j->secs = now() - j->t0;
}

static int run_all(struct job *jobs, int njobs, const char *vmlab, const char *guest,
                   const char *initrd, const char *suite, const struct opts *o, int paper,
                   struct tdb *db)
{
    struct progress pr = { isatty(2), njobs, 0, 0, db };
    int running = 0, next = 0;
    while (pr.done < njobs) {
        while (running < o->jobs && next < njobs) {
            int rc = start_job(&jobs[next], vmlab, guest, initrd, suite, o, paper);
            if (rc) {
                fprintf(stderr, "vmlab compare: cannot start a run: %s\n", strerror(-rc));
                jobs[next].status = 8;
                finished(&pr, &jobs[next]);
            } else {
                running++;
            }
            next++;
        }
        struct pollfd fds[256];
        int idx[256], nfds = 0;
        for (int i = 0; i < next && nfds < 256; i++)
            if (jobs[i].status < 0 && jobs[i].fd >= 0) {
                fds[nfds] = (struct pollfd){ .fd = jobs[i].fd, .events = POLLIN };
                idx[nfds++] = i;
            }
        if (poll(fds, (nfds_t)nfds, 250) < 0 && errno != EINTR)
            return -errno;
        for (int k = 0; k < nfds; k++)
            if (fds[k].revents)
                read_progress(&jobs[idx[k]]);
        for (int i = 0; i < next; i++)
            if (jobs[i].status < 0 && jobs[i].fd < 0 && jobs[i].pid > 0) {
                reap(&jobs[i]);
                running--;
                finished(&pr, &jobs[i]);
            }
        show_line(&pr, jobs, next);
    }
    if (pr.tty)
        fprintf(stderr, "\r\033[K");
    return 0;
}

/* --- the command ---------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: vmlab compare --suite FILE --db FILE [--modes M1,M2,...] [-j N]\n"
               "                     [--scale small|paper] [--trace counts|full] [--logs DIR]\n"
               "                     [--group NAME]\n"
               "       vmlab compare --suite FILE --check [--group NAME]   (read the suite, list\n"
               "                     it, run nothing)\n"
               "  --modes   default: the suite's modes: key, else native,trap,trap-ept,trap-classic,bt,pv;\n"
               "            an unknown name is refused, a known mode this vmlab lacks is skipped\n"
               "  --suite FILE  the suite (models/suites/*.yaml): guest, workloads, n\n"
               "  --db FILE     the trace database the runs are added to (created if missing;\n"
               "                runs already in it are kept)\n"
               "  -j N, --jobs N  parallel runs (default: number of CPUs, here %ld)\n"
               "  --scale       small (default: each workload's n) or paper (its paper_n)\n"
               "  --trace       counts (default) or full (also one row per event)\n"
               "  --logs DIR    each run's console and messages (default DB.logs)\n"
               "  --group NAME  only the suite's workloads of group NAME (their group: key;\n"
               "                the default suite's: nanobench, lmbench, macro, other)\n"
               "  --version     print vmlab's version\n"
               "Each finished run is printed with its run id in the database (vmlab stat --run ID).\n",
               sysconf(_SC_NPROCESSORS_ONLN));
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "suite", required_argument, 0, 's' }, { "db", required_argument, 0, 'd' },
        { "modes", required_argument, 0, 'm' }, { "jobs", required_argument, 0, 'j' },
        { "scale", required_argument, 0, 'S' }, { "trace", required_argument, 0, 't' },
        { "logs", required_argument, 0, 'l' },  { "help", no_argument, 0, 'h' },
        { "check", no_argument, 0, 'c' }, { "group", required_argument, 0, 'g' },
        { 0 },
    };
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (struct opts){ .modes = KNOWN_MODES, .scale = "small",
                        .trace = "counts", .jobs = cpus > 0 ? (int)cpus : 1 };
    optind = 0;
    for (int c; (c = cli_getopt("compare", argc, argv, "j:", lo)) != -1;) {
        char *end;
        switch (c) {
        case 's': o->suite = optarg; break;
        case 'd': o->db = optarg; break;
        case 'm': o->modes = optarg; o->modes_given = 1; break;
        case 'S': o->scale = optarg; break;
        case 't': o->trace = optarg; break;
        case 'l': o->logs = optarg; break;
        case 'c': o->check = 1; break;
        case 'g': o->group = optarg; break;
        case 'h': usage(stdout); return 1;
        case CLI_VERSION: return 1;
        case 'j':
            o->jobs = (int)strtol(optarg, &end, 10);
            if (*end || o->jobs < 1 || o->jobs > 256) {
                fprintf(stderr, "vmlab compare: -j takes 1..256, not '%s'\n", optarg);
                return -1;
            }
            break;
        default: return -1;     /* cli_getopt printed the one-line error */
        }
    }
    if (optind < argc) {
        cli_error("compare", "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    if (!o->suite || (!o->db && !o->check)) {
        cli_error("compare", "%s is required (vmlab compare --help)",
                  !o->suite ? "--suite FILE" : "--db FILE");
        return -1;
    }
    if (strcmp(o->scale, "small") && strcmp(o->scale, "paper")) {
        fprintf(stderr, "vmlab compare: --scale is small or paper, not '%s'\n", o->scale);
        return -1;
    }
    if (strcmp(o->trace, "counts") && strcmp(o->trace, "full")) {
        fprintf(stderr, "vmlab compare: --trace is counts or full, not '%s'\n", o->trace);
        return -1;
    }
    return 0;
}

/* Load the cost models so the database is self-contained. */
static void load_models(struct tdb *t)
{
    char err[512];
    int n = model_load_all(tdb_sqlite(t), err, sizeof err);
    if (n < 0)
        fprintf(stderr, "vmlab compare: note: cost models not loaded: %s\n", err);
    else
        fprintf(stderr, "compare: %d cost models loaded from %s\n", n, model_dir());
}

/* Print the per-mode aggregate under the default model (none loaded: nothing to price, no
 * table). Returns 0, or -EIO when the view could not be read. */
static int print_summary(struct tdb *t, const char *dbpath)
{
    sqlite3 *db = tdb_sqlite(t);
    char model[128];
    struct an_aggregate *a;
    if (an_default_model(db, model, sizeof model))
        return 0;
    int n = an_aggregate_load(db, model, &a, "compare");
    if (n >= 0) {
        printf("\n");
        an_aggregate_print(stdout, a, n, model);
        printf("(other models: vmlab stat --db %s --model NAME)\n", dbpath);
    }
    free(a);
    return n < 0 ? -EIO : 0;
}

/* The modes vmlab knows by name: this build's (vmlab_modes) and the documented six (KNOWN_MODES,
 * also the default list). A listed mode outside them is a misspelling, refused; a known one the
 * child vmlab lacks is skipped. */
static int mode_known(const char *m)
{
    if (mode_find(m))
        return 1;
    size_t len = strlen(m);
    for (const char *p = KNOWN_MODES; *p;) {
        size_t l = strcspn(p, ",");
        if (l == len && strncmp(p, m, len) == 0)
            return 1;
        p += l + (p[l] == ',');
    }
    return 0;
}

/* 0 if every name in the comma-separated `modes` is a known mode, listed once; otherwise prints
 * the one-line error naming where the list came from (`from`) and returns -1. */
static int check_modes(const char *modes, const char *from)
{
    char *list = strdup(modes);
    int rc = 0, n = 0;
    const char *seen[64];
    for (char *save = NULL, *m = strtok_r(list, ",", &save); m && rc == 0;
         m = strtok_r(NULL, ",", &save)) {
        if (!mode_known(m)) {
            cli_error("compare", "unknown mode '%s' in %s (modes: %s)", m, from, KNOWN_MODES);
            rc = -1;
        }
        for (int i = 0; rc == 0 && i < n; i++)
            if (strcmp(seen[i], m) == 0) {
                cli_error("compare", "mode '%s' is listed twice in %s", m, from);
                rc = -1;
            }
        if (n < 64)
            seen[n++] = m;
    }
    if (rc == 0 && n == 0) {
        cli_error("compare", "no modes in %s", from);
        rc = -1;
    }
    free(list);
    return rc;
}

static int make_jobs(const struct suite *s, const char *modes, const char *available,
                     struct job **out, const struct opts *o)
{
    char *list = strdup(modes);
    struct job *jobs = calloc((size_t)s->nw * 16, sizeof *jobs);
    const char *picked[16];
    int nm = 0, n = 0;
    for (char *save = NULL, *m = strtok_r(list, ",", &save); m && nm < 16;
         m = strtok_r(NULL, ",", &save)) {
        if (available && !mode_listed(available, m))
            fprintf(stderr, "compare: note: mode '%s' is not in this vmlab yet "
                            "(vmlab run --list-modes): skipped\n", m);
        else
            picked[nm++] = m;
    }
    for (int w = 0; w < s->nw; w++)
        for (int m = 0; m < nm; m++) {
            struct job *j = &jobs[n++];
            j->w = &s->w[w];
            j->run_id = -1;
            j->mode = strdup(picked[m]);
            j->fd = -1;
            j->status = -1;
            snprintf(j->log, sizeof j->log, "%.3000s/%.200s.%.32s.log", o->logs, s->w[w].name,
                     picked[m]);
        }
    free(list);
    *out = jobs;
    return n;
}

int cmd_compare(int argc, char **argv)
{
    struct opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : 2;
    struct suite s;
    char err[512], dir[PATH_MAX], vmlab[PATH_MAX + 8], guest[PATH_MAX + 16], logs[PATH_MAX];
    char initrd[PATH_MAX + 16];
    if (suite_parse(o.suite, &s, err, sizeof err) ||
        (o.group && suite_keep_group(&s, o.group, err, sizeof err))) {
        fprintf(stderr, "vmlab compare: %s\n", err);
        suite_free(&s);
        return 2;
    }
    if (o.check) {
        printf("suite %s%s%s: guest %s%s%s, %d workloads%s%s\n", s.name,
               o.group ? ", group " : "", o.group ? o.group : "", s.guest,
               s.initrd ? ", initrd " : "", s.initrd ? s.initrd : "", s.nw,
               s.modes ? ", modes " : "", s.modes ? s.modes : "");
        for (int i = 0; i < s.nw; i++)
            printf("workload=%s n=%lld%s%s\n", s.w[i].name, s.w[i].n,
                   s.w[i].args && *s.w[i].args ? " " : "", s.w[i].args ? s.w[i].args : "");
        suite_free(&s);
        return 0;
    }
    if (exe_dir(dir, sizeof dir)) {
        fprintf(stderr, "vmlab compare: cannot find this executable: %s\n", strerror(errno));
        suite_free(&s);
        return 2;
    }
    snprintf(vmlab, sizeof vmlab, "%s/vmlab", dir);
    suite_path(dir, s.guest, guest, sizeof guest);
    if (s.initrd)
        suite_path(dir, s.initrd, initrd, sizeof initrd);
    if (!o.logs) {
        snprintf(logs, sizeof logs, "%s.logs", o.db);
        o.logs = logs;
    }
    if ((mkdir(o.logs, 0777) != 0 && errno != EEXIST) || access(vmlab, X_OK) != 0 ||
        access(guest, R_OK) != 0 || (s.initrd && access(initrd, R_OK) != 0)) {
        fprintf(stderr, "vmlab compare: %s: %s\n",
                access(vmlab, X_OK) ? vmlab : access(guest, R_OK) ? guest
                : s.initrd && access(initrd, R_OK) ? initrd : o.logs,
                strerror(errno));
        suite_free(&s);
        return 2;
    }
    if (s.modes && !o.modes_given)
        o.modes = s.modes;     /* the suite's own modes, unless --modes says otherwise */
    char from[PATH_MAX + 32];
    if (o.modes_given)
        snprintf(from, sizeof from, "--modes");
    else
        snprintf(from, sizeof from, "%s%s", o.suite, s.modes ? " (modes:)" : " (default modes)");
    if (check_modes(o.modes, from)) {
        suite_free(&s);
        return 2;
    }
    char *available = list_modes(vmlab);
    if (!available)
        fprintf(stderr, "compare: note: `vmlab run --list-modes` failed; trying every listed "
                        "mode\n");
    struct job *jobs;
    int njobs = make_jobs(&s, o.modes, available, &jobs, &o);
    free(available);
    /* Opened (so created or migrated) once before the children race to do it. */
    struct tdb *t = njobs ? tdb_open(o.db, err, sizeof err) : NULL;
    if (!t) {
        if (njobs == 0)
            fprintf(stderr, "vmlab compare: no runs: none of the modes '%s' is available\n",
                    o.modes);
        else
            fprintf(stderr, "vmlab compare: %s\n", err);
        suite_free(&s);
        free(jobs);
        return 2;
    }
    fprintf(stderr, "compare: suite %s%s%s: %d runs (%d workloads), %d at a time, logs in %s\n",
            s.name, o.group ? ", group " : "", o.group ? o.group : "", njobs, s.nw, o.jobs,
            o.logs);
    signal(SIGPIPE, SIG_IGN);
    rc = run_all(jobs, njobs, vmlab, guest, s.initrd ? initrd : NULL, s.name, &o,
                 strcmp(o.scale, "paper") == 0, t);
    int failed = 0;
    for (int i = 0; i < njobs; i++)
        failed += jobs[i].status != STATUS_OK;
    if (failed) {
        fprintf(stderr, "compare: %d of %d runs failed:\n", failed, njobs);
        for (int i = 0; i < njobs; i++)
            if (jobs[i].status != STATUS_OK) {
                char line[512], id[40];
                last_line(jobs[i].log, line, sizeof line);
                fprintf(stderr, "  %s%s/%s: status %d: %s (log %s)\n",
                        run_label(&jobs[i], id, sizeof id), jobs[i].w->name, jobs[i].mode,
                        jobs[i].status, line, jobs[i].log);
            }
    } else {
        fprintf(stderr, "compare: all %d runs ok; database %s (vmlab stat --db %s)\n", njobs,
                o.db, o.db);
    }
    load_models(t);
    if (print_summary(t, o.db))
        rc = 1;
    tdb_close(t);
    for (int i = 0; i < njobs; i++)
        free((char *)jobs[i].mode);
    free(jobs);
    suite_free(&s);
    return rc || failed ? 1 : 0;
}
