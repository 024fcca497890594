/*
 * cli.c — the option parsing every `vmlab` subcommand shares (emu/cli.h; issue 20).
 *
 * A thin layer over getopt_long. getopt_long is kept for what it does well (permuting operands,
 * `--opt=value` and `--opt value`, `--` ending the options, short option groups such as -j4), and
 * is run with opterr off so that this file words every error: after each option getopt_long
 * accepts, the argv element it came from is looked at, and an option written as a prefix of its
 * name (getopt_long's "unambiguous abbreviation", which made `stat --mode pv` mean `--model pv`)
 * is refused with the option it would have been taken for. Unknown options get a suggestion too:
 * the options they are a prefix of (an ambiguous abbreviation) or, failing that, the one option
 * within two edits (`--modle` -> `--model`).
 *
 * --version is appended to each subcommand's option table here, so no subcommand can lack it.
 */
#include "emu/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cli_error(const char *sub, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "vmlab %s: ", sub);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Edit distance between a[0..la) and b, capped: anything above 3 is 3. */
static int distance(const char *a, size_t la, const char *b)
{
    size_t lb = strlen(b);
    if (la > 40 || lb > 40)
        return 3;
    int d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;   /* a transposition, "modle" */
            d[i][j] = best;
        }
    return d[la][lb] > 3 ? 3 : d[la][lb];
}

/* " (did you mean --a or --b?)" for a long option name[0..len) that is no option, or "". */
static void suggest(const struct option *lo, const char *name, size_t len, char *out, size_t size)
{
    size_t n = 0;
    int found = 0;
    out[0] = 0;
    for (int i = 0; lo[i].name; i++)
        if (len > 0 && strncmp(lo[i].name, name, len) == 0 && n + 40 < size)
            n += (size_t)snprintf(out + n, size - n, "%s--%s", found++ ? " or " : " (did you mean ",
                                  lo[i].name);
    if (!found) {
        int best = 3, which = -1, ties = 0;
        for (int i = 0; lo[i].name; i++) {
            int d = distance(name, len, lo[i].name);
            if (d < best) {
                best = d;
                which = i;
                ties = 0;
            } else if (d == best) {
                ties++;
            }
        }
        if (which >= 0 && best <= 2 && !ties && len > 2)
            n = (size_t)snprintf(out, size, " (did you mean --%s", lo[which].name), found = 1;
    }
    if (found && n + 3 < size)
        snprintf(out + n, size - n, "?)");
}

int cli_getopt(const char *sub, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
    static struct option lo[64];
    static const struct option version = { "version", no_argument, NULL, CLI_VERSION };
    char shorts[64];
    int n = 0, has_version = 0;
    for (; longopts && longopts[n].name && n < 62; n++) {
        lo[n] = longopts[n];
        has_version |= strcmp(longopts[n].name, "version") == 0;
    }
    if (!has_version)
        lo[n++] = version;
    lo[n] = (struct option){ 0 };
    snprintf(shorts, sizeof shorts, ":%s", shortopts ? shortopts : "");

    opterr = 0;
    int index = -1;
    int c = getopt_long(argc, argv, shorts, lo, &index);
    if (c == -1)
        return c;
    char hint[160];
    if (c == '?' || c == ':') {
        const char *elem = optind > 0 && optind <= argc ? argv[optind - 1] : "";
        if (strncmp(elem, "--", 2) != 0) {      /* a short option */
            if (c == ':')
                cli_error(sub, "option -%c needs a value", optopt);
            else
                cli_error(sub, "unknown option -%c", optopt ? optopt : '?');
            return CLI_ERROR;
        }
        const char *name = elem + 2;
        size_t len = strcspn(name, "=");
        for (int i = 0; lo[i].name; i++)
            if (strlen(lo[i].name) == len && strncmp(lo[i].name, name, len) == 0) {
                if (c == ':' || lo[i].has_arg == required_argument)
                    cli_error(sub, "option --%s needs a value", lo[i].name);
                else
                    cli_error(sub, "option --%s takes no value", lo[i].name);
                return CLI_ERROR;
            }
        suggest(lo, name, len, hint, sizeof hint);
        cli_error(sub, "unknown option --%.*s%s", (int)len, name, hint);
        return CLI_ERROR;
    }
    if (index >= 0) {
        /* The element the option was in: the one before its separate value, if it has one. */
        int at = optind - 1;
        if (lo[index].has_arg != no_argument && optarg && at >= 1 && optarg == argv[at])
            at--;
        const char *elem = at >= 0 && at < argc ? argv[at] : "";
        const char *name = strncmp(elem, "--", 2) == 0 ? elem + 2 : elem;
        size_t len = strcspn(name, "=");
        if (strlen(lo[index].name) != len || strncmp(lo[index].name, name, len) != 0) {
            cli_error(sub, "unknown option --%.*s (did you mean --%s?)", (int)len, name,
                      lo[index].name);
            return CLI_ERROR;
        }
    }
    if (c == CLI_VERSION && !has_version) {
        printf("vmlab %s\n", VMLAB_VERSION);
        fflush(stdout);
    }
    return c;
}
