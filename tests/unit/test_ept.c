/*
 * test_ept.c — the extended page table (emu/ept.h) on its own, and under trap-ept with the real
 * guest kernel: a corrupted entry is found by the hardware's rules and mended by the monitor.
 *
 * The EPT alone: the reversed 1 MiB-chunk layout is not the identity, a translation reads the
 * four levels, the first touch is a violation that population cures, a frame beyond RAM cannot be
 * populated, a write-without-read leaf is a misconfiguration that repair rebuilds.
 *
 * Under trap-ept (emu/modes/trap.c), booting build/guests/kernel.elf with `workload=syscall`: the
 * leaf of the entry page is corrupted before the first instruction (write without read: an EPT
 * misconfiguration), and the leaf of another frame is cleared after it was populated (an EPT
 * violation if the guest touches it); the run still ends with status 33, with exactly one
 * EPT_MISCONFIG exit, and exactly one EPT_VIOLATION exit per guest frame the run mapped.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "emu/ept.h"
#include "emu/loader.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"
#include "emu/vmx.h"

#define KERNEL VMLAB_BUILD_DIR "/guests/kernel.elf"
#define RAM (4u << 20)

static uint8_t *ram;
static struct ept *e;

static void setup(void)
{
    char err[128];
    ram = calloc(1, RAM);
    e = ept_create(ram, RAM, err, sizeof err);
    cr_assert_not_null(e, "%s", err);
}

static void teardown(void)
{
    ept_free(e);
    free(ram);
}

TestSuite(ept, .init = setup, .fini = teardown);

Test(ept, layout_maps_guest_chunks_in_reverse_above_4_gib)
{
    cr_assert_eq(ept_layout_hpa(e, 0x1234), EPT_HOST_BASE + 3 * EPT_CHUNK + 0x1234);
    cr_assert_eq(ept_layout_hpa(e, 3 * EPT_CHUNK + 8), EPT_HOST_BASE + 8);
    cr_assert_eq(ept_hpa_ptr(e, ept_layout_hpa(e, 0x2345)), ram + 0x2345);
    cr_assert_null(ept_hpa_ptr(e, 0x2345), "a guest-physical address is not a host-physical one");
}

Test(ept, first_touch_is_a_violation_and_population_maps_the_frame)
{
    uint64_t hpa;
    e->refs = 0;
    cr_assert_eq(ept_translate(e, 0x5678, EPT_R, &hpa), -1);
    cr_assert_eq(e->fault, EPT_VIOLATION);
    cr_assert_eq(e->fault_level, 4, "an empty EPT fails at the PML4");
    cr_assert_eq(ept_populate(e, 0x5000), 0);
    e->refs = 0;
    cr_assert_eq(ept_translate(e, 0x5678, EPT_R | EPT_W, &hpa), 0);
    cr_assert_eq(hpa, ept_layout_hpa(e, 0x5678));
    cr_assert_eq(e->refs, 4, "a translation reads the four levels");
    cr_assert_eq(ept_populate(e, RAM), -1, "a frame beyond RAM cannot be populated");
}

Test(ept, write_without_read_is_a_misconfiguration_that_repair_rebuilds)
{
    uint64_t hpa;
    cr_assert_eq(ept_populate(e, 0x7000), 0);
    uint64_t *leaf = ept_leaf(e, 0x7000);
    cr_assert_not_null(leaf);
    *leaf = (*leaf & ~EPT_R) | EPT_W;
    cr_assert_eq(ept_translate(e, 0x7000, EPT_R, &hpa), -1);
    cr_assert_eq(e->fault, EPT_MISCONFIG);
    cr_assert_eq(ept_repair(e, 0x7000), 1);
    cr_assert_eq(ept_translate(e, 0x7000, EPT_R, &hpa), 0);
    *leaf &= ~EPT_X;
    cr_assert_eq(ept_translate(e, 0x7000, EPT_X, &hpa), -1, "a fetch needs X");
    cr_assert_eq(e->fault, EPT_VIOLATION);
}

static void quiet(void *opaque, uint8_t byte) { (void)opaque; (void)byte; }

Test(ept_machine, corrupted_entries_exit_and_are_mended_under_trap_ept)
{
    struct machine_config cfg;
    char err[512] = "";
    machine_config_defaults(&cfg);
    cfg.ram_bytes = 64ull << 20;
    cfg.console = quiet;
    struct machine *m = machine_create(&cfg, err, sizeof err);
    cr_assert_not_null(m, "machine_create: %s", err);
    struct boot_info bi;
    cr_assert_eq(loader_load_multiboot(m, KERNEL, "workload=syscall n=10", &bi, err, sizeof err),
                 0, "%s", err);
    m->mode = &mode_trap_ept;
    cr_assert_eq(mode_trap_ept.setup(m, &bi, err, sizeof err), 0, "%s", err);
    struct ept *x = m->tlb.ept;
    cr_assert_not_null(x, "trap-ept runs without an EPT");
    uint64_t eip = 0;
    uc_reg_read(m->uc, UC_X86_REG_EIP, &eip);          /* paging is off: linear = physical */
    cr_assert_eq(ept_populate(x, (uint32_t)eip), 0);
    uint64_t *leaf = ept_leaf(x, (uint32_t)eip);
    *leaf = (*leaf & ~EPT_R) | EPT_W;                  /* write without read */
    cr_assert_eq(ept_populate(x, 0x9000), 0);
    *ept_leaf(x, 0x9000) = 0;                          /* populated, then cleared */
    int status = machine_run(m);
    cr_assert_eq(status, 33, "the run ended with %d: %s", status, m->message);
    cr_assert_eq(ev_count(&m->ev, 0, EV_EXIT, VMX_EPT_MISCONFIG, "ram"), 1);
    uint64_t frames = 0;
    for (uint32_t gpa = 0; gpa < cfg.ram_bytes; gpa += 4096) {
        uint64_t *l = ept_leaf(x, gpa);
        frames += l && (*l & EPT_R);
    }
    uint64_t violations = 0;
    for (uint32_t ph = 0; ph < MACHINE_PHASES; ph++)
        violations += ev_count(&m->ev, ph, EV_EXIT, VMX_EPT_VIOLATION, "ram");
    /* Every mapped frame was one violation, the entry page aside (mapped before the run, then
     * mended); the cleared frame 0x9000 is one if the guest touched it (and mapped again), none
     * if it did not (and left cleared). */
    cr_assert_eq(violations, frames - 1, "%llu violations for %llu frames mapped",
                 (unsigned long long)violations, (unsigned long long)frames);
    mode_trap_ept.teardown(m);
    machine_destroy(m);
}
