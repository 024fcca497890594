/*
 * fuzz_model.c — libFuzzer target: the input is a cost-model YAML file.
 *
 * What it exercises: analysis/model.c as `vmlab stat --model FILE` reaches it: model_parse()
 * (libyaml's document, then the checks: params with their provenance, derived sums, costs per
 * event class with reasons and per-unit costs, per-mode overrides, carried_from chains to the
 * models beside the file, source keys looked up in REFERENCES.md), and for a model that parses,
 * model_store() into a trace database (reason names resolved through its lookup tables).
 *
 * The input is written to <dir>/fuzzed.yaml, where <dir> is a temporary directory made once
 * that holds symbolic links to the shipped models/ *.yaml and models/REFERENCES.md, so
 * carried_from: p4-prescott and source: KEY resolve as they do in models/ (and carried_from:
 * fuzzed, the file itself, is one of the inputs worth trying). The database is one temporary file
 * opened once (tdb_open) and reused: model_store replaces a model of the same name.
 *
 * What counts as a finding: a sanitizer report (a leak on an error path included), a crash, or a
 * failure without the one-line message ("FILE:LINE: KEY: what") that names the file.
 *
 * Seeds: the build copies models/ *.yaml into fuzz/corpus/model/ of the build tree, next to
 * tests/fuzz/corpus/model/ (small hand-written edge cases). Run: README.md, "Fuzzing".
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/model.h"
#include "traces/tdb.h"

static char dir[64], file[96];
static struct tdb *db;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "/tmp/vmlab_fuzz_model_XXXXXX");
    if (!mkdtemp(dir))
        abort();
    const char *models = VMLAB_SOURCE_DIR "/models";
    DIR *d = opendir(models);
    if (!d)
        abort();
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if ((l > 5 && strcmp(e->d_name + l - 5, ".yaml") == 0) ||
            strcmp(e->d_name, "REFERENCES.md") == 0) {
            char from[512], to[512];
            snprintf(from, sizeof from, "%s/%s", models, e->d_name);
            snprintf(to, sizeof to, "%s/%s", dir, e->d_name);
            if (symlink(from, to) != 0)
                abort();
        }
    }
    closedir(d);
    snprintf(file, sizeof file, "%s/fuzzed.yaml", dir);
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/fuzz.db", dir);
    db = tdb_open(path, err, sizeof err);
    if (!db) {
        fprintf(stderr, "fuzz_model: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(file, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size))
        abort();
    fclose(f);
    struct model *m = NULL;
    char err[512] = "";
    if (model_parse(file, &m, err, sizeof err) == 0) {
        if (model_store(tdb_sqlite(db), m, err, sizeof err) != 0 && !err[0]) {
            fprintf(stderr, "fuzz_model: model_store failed without a message\n");
            abort();
        }
        model_free(m);
    } else if (strncmp(err, file, strlen(file)) != 0) {
        fprintf(stderr, "fuzz_model: error does not name the file: %s\n", err);
        abort();
    }
    return 0;
}
