/*
 * fuzz_loader.c — libFuzzer target: the input is a guest image.
 *
 * What it exercises: emu/loader.c's loader_load() (the format detection; the Multiboot header
 * search, the ELF program headers and the a.out-kludge load addresses, the Multiboot information
 * written below 1 MiB; the Linux bzImage setup header and zero page, emu/loader_linux.c; the PVH
 * note search in program and section headers and hvm_start_info, emu/loader_pvh.c) on a small
 * machine (8 MiB of RAM, so "outside RAM" is easy to reach), and, when the image loads, a native
 * run bounded by 20000 guest instructions (the exit loop, interrupt delivery, the devices the guest
 * pokes at, the block decoder). vmlab reads the guest from a file, so each input is written to
 * one temporary file, reused, that loader_load() opens like `vmlab run --guest` does.
 *
 * What counts as a finding: a sanitizer report or a crash. Every ending of the run is a
 * legitimate answer for a bad image (load error, triple fault, limit reached, guest exit);
 * an internal error (machine_run() returning EXIT_STATUS_INTERNAL) is reported as a crash
 * too, since vmlab promises it only for its own defects (README, `vmlab run`).
 *
 * Seeds: tests/fuzz/corpus/loader/ (small hand-made images: Multiboot ELF and a.out, a bzImage,
 * a PVH ELF, each writing the exit code) plus the test guests' ELF files,
 * which the build copies next to them (fuzz/CMakeLists.txt). Run: README.md, "Fuzzing".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/loader.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"
#include "fuzz/fuzz_machine.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(path, sizeof path, "/tmp/vmlab_fuzz_loader_%ld.elf", (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);

    struct machine *m = fuzz_machine("fuzz_loader", 8u << 20, 20000, "fuzz");
    char err[512] = "";
    struct boot_info bi;
    if (loader_load(m, path, NULL, m->cfg.cmdline, &bi, err, sizeof err) == 0) {
        m->mode = &mode_native;
        if (mode_native.setup(m, &bi, err, sizeof err) == 0) {
            int status = machine_run(m);
            if (status == EXIT_STATUS_INTERNAL) {
                fprintf(stderr, "fuzz_loader: internal error: %s\n", m->message);
                abort();
            }
        }
        mode_native.teardown(m);
    } else if (strncmp(err, path, strlen(path)) != 0) {
        /* A load error names the file first (loader.h): never empty, never about something else. */
        fprintf(stderr, "fuzz_loader: load error does not name the file: %s\n", err);
        abort();
    }
    machine_destroy(m);
    return 0;
}
