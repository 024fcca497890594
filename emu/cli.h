/*
 * cli.h — what every `vmlab` subcommand's option parsing shares (issue 20): one way to read
 * options, one form for errors, --version everywhere.
 *
 * getopt_long alone takes any unambiguous prefix of a long option for the option itself, so
 * `vmlab stat --mode pv` read `pv` as the cost model (--model). Every subcommand parses with
 * cli_getopt() instead, which refuses an option spelled other than in full:
 *
 *     vmlab stat: unknown option --mode (did you mean --model?)
 *
 * and words every other option error the same way (`vmlab SUB: unknown option --x`, `vmlab SUB:
 * option --db needs a value`), one line on stderr; the caller then returns status 2
 * (EXIT_STATUS_USAGE) without printing its usage. It also answers `--version` for every
 * subcommand (printing `vmlab VERSION` on stdout) without each option table listing it.
 */
#ifndef VMLAB_CLI_H
#define VMLAB_CLI_H

#include <getopt.h>

/* Returned by cli_getopt after it printed the one-line error: the caller returns status 2. */
#define CLI_ERROR '?'
/* Returned by cli_getopt after it printed `vmlab VERSION` for --version: the caller exits 0. */
#define CLI_VERSION 0x7f00

/* getopt_long(argc, argv, shortopts, longopts) for subcommand `sub` ("run", "stat", ...), with
 * opterr off and these differences: a long option must be spelled in full (`--model` or
 * `--model=X`, never `--mod`); an unknown option, an abbreviation, or a missing value prints one
 * line `vmlab SUB: ...` on stderr and returns CLI_ERROR; `--version` (unless longopts has its own)
 * prints `vmlab VERSION` on stdout and returns CLI_VERSION. Otherwise returns what getopt_long
 * returns (-1 at the end of the options). The caller sets optind (0 or 1) before the first call,
 * as for getopt_long. longopts may hold at most 63 entries. */
int cli_getopt(const char *sub, int argc, char **argv, const char *shortopts,
               const struct option *longopts);

/* Prints `vmlab SUB: MESSAGE` (printf-style) and a newline on stderr: the one form of every
 * subcommand's error lines. */
void cli_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
