/*
 * wl_shtest.c — `shtest`: checks of the shell-like program (sh.c) and of exec through it, each in
 * a child process (wl_run_checks); not a timing, not in the suite. n is ignored.
 *
 *   exec-true   sh -c true: sh execs true in its place, status 0 (lmbench's sh proc)
 *   list        sh -c "true; true; true": the first two forked and waited for, status 0
 *   nested      sh -c "sh -c true": a shell execs a shell, status 0
 *   not-found   sh -c "true; nosuch": "sh: nosuch: not found", status 127 (the last command's)
 *   usage       sh without -c: a usage line, status 2
 *   builtin     sh -c "kill -10 PID" with its own pid: the builtin sends the shell SIGUSR1,
 *               whose handler the exec reset to the default action: sh ends with 128 + 10 (with
 *               the handler of the program before the exec, it would not)
 */
#include "workloads.h"

/* Execs sh with up to two arguments; never returns. */
static int exec_sh(const char *a1, const char *a2)
{
    const char *argv[] = { "sh", a1, a2, NULL };
    exec("sh", argv);
    return 126;
}

static int sh_true(void) { return exec_sh("-c", "true"); }
static int sh_list(void) { return exec_sh("-c", "true; true; true"); }
static int sh_nested(void) { return exec_sh("-c", "sh -c true"); }
static int sh_not_found(void) { return exec_sh("-c", "true; nosuch"); }
static int sh_usage(void) { return exec_sh(NULL, NULL); }

static void on_usr1(int sig, struct sigcontext *ctx) {}

static int sh_builtin(void)
{
    char cmd[32];
    sigaction(SIGUSR1, on_usr1);
    fmt(cmd, sizeof(cmd), "kill -%d %d; true", SIGUSR1, getpid());
    return exec_sh("-c", cmd);
}

static const struct wl_check checks[] = {
    { "exec-true", sh_true, 0 },
    { "list", sh_list, 0 },
    { "nested", sh_nested, 0 },
    { "not-found", sh_not_found, 127 },
    { "usage", sh_usage, 2 },
    { "builtin", sh_builtin, 128 + SIGUSR1 },
};

CHECK_WORKLOAD(shtest, checks, "the shell-like program sh and exec through it");
