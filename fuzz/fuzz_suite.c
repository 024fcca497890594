/*
 * fuzz_suite.c — libFuzzer target: the input is a suite file for `vmlab compare`.
 *
 * What it exercises: the suite reader of emu/suite.c (libyaml's document; name, guest,
 * workloads with workload, n, paper_n, args, group; repeated and unknown keys; counts) through its
 * public door, `vmlab compare --suite FILE --check`, which reads the suite, lists the runs it would
 * make and returns 0, or returns 2 after one line naming the file; it never starts a run. Calling
 * cmd_compare() keeps the fuzzer on exactly what the command does, without a new entry point.
 *
 * The input is written to one temporary file, reused. stdout (the listing) goes to /dev/null;
 * the error line goes to stderr (run with -close_fd_mask=2 to silence it: libFuzzer still prints
 * its own reports and the sanitizers'). What counts as a finding: a sanitizer report (a leak
 * included), a crash, or a status other than 0 or 2.
 *
 * Seeds: the build copies models/suites/ *.yaml into fuzz/corpus/suite/ of the build tree, next
 * to tests/fuzz/corpus/suite/. Run: README.md, "Fuzzing".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/commands.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(path, sizeof path, "/tmp/vmlab_fuzz_suite_%ld.yaml", (long)getpid());
    if (!freopen("/dev/null", "w", stdout))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size))
        abort();
    fclose(f);
    char *argv[] = {"compare", "--suite", path, "--check", NULL};
    int rc = cmd_compare(4, argv);
    if (rc != 0 && rc != 2) {
        fprintf(stderr, "fuzz_suite: vmlab compare --check returned %d\n", rc);
        abort();
    }
    return 0;
}
