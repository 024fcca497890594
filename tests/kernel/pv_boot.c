/*
 * pv_boot.c — boots a kernel ELF in vmlab's `pv` mode (or native, for comparison) and prints its
 * console on stdout, since `vmlab run` does not list the pv mode yet. With --counts, the
 * measured phase's hypercalls, exits and validations follow on stderr, one per line:
 *
 *     count <class> <reason> <qualifier> <n> <count2>
 *
 * Usage: pv_boot pv|native KERNEL_ELF "CMDLINE" [--counts]. Exit status: the guest's
 * isa-debug-exit status ((code << 1) | 1, as QEMU and `vmlab run` give it), 2 on a set-up
 * failure, 3 when the run ended otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "emu/loader.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"

static void to_stdout(void *opaque, uint8_t b)
{
    (void)opaque;
    fputc(b, stdout);
}

static void print_count(void *opaque, const struct ev_entry *e)
{
    (void)opaque;
    if (e->phase == 1 && (e->cls == EV_HYPERCALL || e->cls == EV_EXIT || e->cls == EV_VALIDATION))
        fprintf(stderr, "count %s %lld %s %llu %llu\n", ev_class_name[e->cls], (long long)e->reason,
                e->qual && e->qual[0] ? e->qual : "-", (unsigned long long)e->count,
                (unsigned long long)e->count2);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: pv_boot pv|native KERNEL_ELF CMDLINE [--counts]\n");
        return 2;
    }
    struct machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.max_insns = 20000000000ull;
    cfg.console = to_stdout;
    cfg.cmdline = argv[3];
    char err[256] = "";
    struct machine *m = machine_create(&cfg, err, sizeof err);
    struct boot_info bi;
    if (!m || loader_load_multiboot(m, argv[2], argv[3], &bi, err, sizeof err) < 0) {
        fprintf(stderr, "pv_boot: %s\n", err);
        return 2;
    }
    m->mode = strcmp(argv[1], "pv") == 0 ? &mode_pv : &mode_native;
    if (m->mode->setup(m, &bi, err, sizeof err) < 0) {
        fprintf(stderr, "pv_boot: set-up: %s\n", err);
        return 2;
    }
    machine_run(m);
    fflush(stdout);
    if (argc > 4 && strcmp(argv[4], "--counts") == 0)
        ev_foreach_sorted(&m->ev, print_count, NULL);
    int status = m->end == END_GUEST_EXIT ? (m->guest_exit << 1) | 1 : 3;
    if (status == 3)
        fprintf(stderr, "pv_boot: run ended: %s\n", m->message);
    m->mode->teardown(m);
    machine_destroy(m);
    return status;
}
