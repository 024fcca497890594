/*
 * sh.c — the shell-like program: `sh -c "COMMAND; COMMAND ..."` runs a list of simple commands,
 * each a program name and its arguments separated by spaces (no quoting, redirection or
 * variables). As a Unix shell does with -c, every command but the last is forked, exec'd and
 * waited for, and the last is exec'd in place of the shell: `sh -c true`, lmbench's sh proc, is
 * a fork of sh by the caller, an exec of sh, the parse, and an exec of true.
 *
 * One builtin, as shells have it: `kill -SIG PID` sends signal SIG (a number) to process PID,
 * from the shell itself (status 0, or 1 when kill() fails).
 *
 * Exit status: the last command's; 127 after "sh: NAME: not found" when a command cannot be
 * exec'd; 2 after a usage line when there is no -c COMMANDS.
 */
#include "ulib.h"

#define SH_MAX_WORDS 8
#define SH_LINE 128

/* Splits cmd in place at spaces into words[] (NULL-terminated); the number of words. */
static int split(char *cmd, const char *words[SH_MAX_WORDS + 1])
{
    int n = 0;
    for (char *p = cmd; *p && n < SH_MAX_WORDS;) {
        while (*p == ' ')
            *p++ = '\0';
        if (*p)
            words[n++] = p;
        while (*p && *p != ' ')
            p++;
    }
    words[n] = NULL;
    return n;
}

static void __attribute__((noreturn)) run(const char *const *words)
{
    exec(words[0], words);
    printf("sh: %s: not found\n", words[0]);
    exit(127);
}

/* The kill builtin: words[0] is "kill"; the status. */
static int builtin_kill(int n, const char *const *words)
{
    int sig = n == 3 && words[1][0] == '-' ? parse_uint(words[1] + 1) : -1;
    int pid = n == 3 ? parse_uint(words[2]) : -1;
    return sig >= 0 && pid > 0 && kill(pid, sig) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    char line[SH_LINE];
    if (argc != 3 || strcmp(argv[1], "-c") != 0) {
        printf("usage: sh -c \"COMMAND [ARG...] [; COMMAND ...]\"\n");
        return 2;
    }
    fmt(line, sizeof(line), "%s", argv[2]);
    int status = 0;
    for (char *cmd = line; cmd;) {
        char *next = cmd;
        while (*next && *next != ';')
            next++;
        bool last = !*next;
        *next = '\0';
        const char *words[SH_MAX_WORDS + 1];
        int n = split(cmd, words);
        if (n > 0 && strcmp(words[0], "kill") == 0) {
            status = builtin_kill(n, words);
        } else if (n > 0) {
            if (last)
                run(words);
            int pid = fork();
            if (pid == 0)
                run(words);
            if (pid < 0 || waitpid(pid, &status) != pid)
                status = 127;
        }
        cmd = last ? NULL : next + 1;
    }
    return status;
}
