/*
 * test_pv.c — the `pv` hypervisor booting the paravirtual test guest (tests/guests/pv_hello.S).
 *
 * The guest checks its start of day and its hypercalls itself (console lines, exit 0x10 when all
 * passed); these tests check what the hypervisor recorded about it: which hypercalls, how many
 * validations, the refusals, that the fast system-call vector never entered the hypervisor while
 * the page fault did, and that two runs give identical counts.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "emu/loader.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"
#include "emu/run_record.h"
#include "emu/vmx.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#define GUEST VMLAB_BUILD_DIR "/tests/guests/pv_hello.elf"

struct console {
    char text[4096];
    size_t len;
};

static void sink(void *opaque, uint8_t b)
{
    struct console *c = opaque;
    if (c->len + 1 < sizeof c->text)
        c->text[c->len++] = (char)b;
}

static struct machine *boot_cmd(const struct mode_ops *mode, struct console *con,
                                struct run_record *rec, const char *cmdline)
{
    struct machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.ram_bytes = 32u << 20;
    cfg.ips = 1000000;
    cfg.max_insns = 50000000;
    cfg.console = sink;
    cfg.console_opaque = con;
    cfg.cmdline = cmdline;
    char err[256] = "";
    struct machine *m = machine_create(&cfg, err, sizeof err);
    cr_assert_not_null(m, "%s", err);
    struct boot_info bi;
    cr_assert_eq(loader_load_multiboot(m, GUEST, cmdline, &bi, err, sizeof err), 0, "%s", err);
    m->mode = mode;
    if (rec)
        run_record_attach(rec, m);
    cr_assert_eq(mode->setup(m, &bi, err, sizeof err), 0, "setup: %s", err);
    machine_run(m);
    return m;
}

static struct machine *boot_rec(const struct mode_ops *mode, struct console *con,
                                struct run_record *rec)
{
    return boot_cmd(mode, con, rec, "");
}

static struct machine *boot(const struct mode_ops *mode, struct console *con)
{
    return boot_rec(mode, con, NULL);
}

static long long query(const char *db, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    long long v = -1;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

Test(pv, validations_and_hypercalls_get_their_rows_in_the_trace_database)
{
    char path[] = "/tmp/vmlab_test_pv_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(path);
    struct run_record rec;
    char err[256];
    struct run_record_info info = {.guest = GUEST, .cmdline = "", .mode = "pv", .ram_mib = 32,
                                   .ips = 1000000, .bucket = 1000000, .window = 0xffc00000u};
    cr_assert_eq(run_record_open(&rec, path, &info, err, sizeof err), 0, "%s", err);
    struct console con = {0};
    struct machine *m = boot_rec(&mode_pv, &con, &rec);
    cr_assert_eq(run_record_close(&rec, m, "ok", 33, NULL, 0.1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(query(path, "SELECT count(*) FROM validation"), 3);
    cr_assert_eq(query(path, "SELECT count(*) FROM validation WHERE outcome = 'ok'"), 3);
    /* One row per hypercall: the entries, plus the two calls made inside the multicall. */
    cr_assert_eq(query(path, "SELECT count(*) FROM hypercall"),
                 (long long)ev_class_total(&m->ev, EV_HYPERCALL) + 2);
    cr_assert_eq(query(path, "SELECT batch FROM hypercall WHERE nr = 13"), 2, "multicall of 2");
    mode_pv.teardown(m);
    machine_destroy(m);
    unlink(path);
}

/* The count of (cls, reason, qual) over every phase (qual NULL: any). */
static uint64_t all_phases(struct machine *m, enum ev_class cls, int64_t reason, const char *qual)
{
    uint64_t n = 0;
    for (uint32_t ph = 0; ph < 16; ph++)
        n += ev_count(&m->ev, ph, cls, reason, qual);
    return n;
}

static uint64_t hypercalls(struct machine *m, int nr)
{
    return all_phases(m, EV_HYPERCALL, nr, NULL);
}

Test(pv, test_guest_passes_every_check_and_shuts_down_with_success)
{
    struct console con = {0};
    struct machine *m = boot(&mode_pv, &con);
    cr_assert_eq(m->end, END_GUEST_EXIT, "%s\n%s", m->message, con.text);
    cr_assert_eq(m->guest_exit, 0x10, "%s", con.text);
    cr_assert(strstr(con.text, "timer event upcall: ok\n"), "%s", con.text);
    cr_assert(strstr(con.text, "phase-marker port from ring 1: ok\n"), "%s", con.text);
    cr_assert(strstr(con.text, "port I/O under the virtual IOPL, hypervisor ports kept: ok\n"
                               "HYPERVISOR_iret: VM refused, IOPL made virtual, NT dropped: ok\n"
                               "PASS\n"), "%s", con.text);
    mode_pv.teardown(m);
    machine_destroy(m);
}

Test(pv, start_of_day_validates_the_page_directory_and_its_table_once)
{
    struct console con = {0};
    struct machine *m = boot(&mode_pv, &con);
    /* At start of day one L2 and the one L1 that 4 MiB of initial mapping needs; then the guest
     * pins one L1 of its own (its first attempt, with a writable alias, is refused before any
     * validation). */
    cr_assert_eq(ev_count(&m->ev, 0, EV_VALIDATION, 2, "ok"), 1);
    cr_assert_eq(ev_count(&m->ev, 0, EV_VALIDATION, 1, "ok"), 2);
    cr_assert_eq(ev_class_total(&m->ev, EV_VALIDATION), 3);
    mode_pv.teardown(m);
    machine_destroy(m);
}

Test(pv, bad_requests_are_refused_and_counted)
{
    struct console con = {0};
    struct machine *m = boot(&mode_pv, &con);
    /* Frame beyond RAM, writable page directory, writable hypervisor GDT, ring-0 trap handler, unknown hypercall, null
     * request list, huge count, unknown mmu_update command, NEW_BASEPTR to a writable frame, pin of
     * a frame mapped writable, second pin; HYPERVISOR_iret of a virtual-8086 frame. */
    cr_assert_eq(ev_class_total(&m->ev, EV_REFUSAL), 12);
    cr_assert(strstr(con.text, "writable mapping of the hypervisor's GDT refused: ok"));
    cr_assert(strstr(con.text, "NEW_BASEPTR to a writable frame refused: ok"));
    cr_assert(strstr(con.text, "pin (read-only alias required), second pin refused, unpin: ok"));
    cr_assert(strstr(con.text, "frame beyond RAM refused: ok"));
    cr_assert(strstr(con.text, "writable page directory refused: ok"));
    cr_assert(strstr(con.text, "ring-0 trap handler refused: ok"));
    cr_assert(strstr(con.text, "hypercall 63 refused: ok"));
    mode_pv.teardown(m);
    machine_destroy(m);
}

Test(pv, hypercalls_are_recorded_by_xen_number)
{
    struct console con = {0};
    struct machine *m = boot(&mode_pv, &con);
    cr_assert_eq(hypercalls(m, 0), 2, "set_trap_table");
    cr_assert_eq(hypercalls(m, 14), 6, "update_va_mapping (the one inside the multicall is not an"
                 " entry)");
    cr_assert_eq(hypercalls(m, 26), 5, "mmuext_op");
    cr_assert_eq(hypercalls(m, 1), 4, "mmu_update");
    cr_assert_eq(hypercalls(m, 13), 1, "multicall");
    cr_assert_eq(hypercalls(m, 17), 0, "xen_version, called inside the multicall only");
    cr_assert_eq(hypercalls(m, 23), 3, "iret: the fast path's, the refused VM frame, the IOPL one");
    cr_assert_eq(hypercalls(m, 29), 2, "sched_op: block and shutdown");
    cr_assert_eq(hypercalls(m, 32), 1, "event_channel_op");
    cr_assert_eq(hypercalls(m, 15), 1, "set_timer_op");
    cr_assert_geq(hypercalls(m, 18), 10, "console_io: one per line");
    mode_pv.teardown(m);
    machine_destroy(m);
}

Test(pv, the_fast_system_call_does_not_enter_the_hypervisor_but_the_page_fault_does)
{
    struct console con = {0};
    struct machine *m = boot(&mode_pv, &con);
    cr_assert_eq(ev_class_total(&m->ev, EV_SOFTINT), 1, "the fast trap: the CPU delivers it");
    cr_assert_eq(ev_count(&m->ev, 0, EV_SOFTINT, 0x80, NULL), 1);
    cr_assert_eq(ev_count(&m->ev, 0, EV_HVTRAP, 0x80, NULL), 0, "int 0x80 never enters Xen");
    cr_assert_eq(ev_count(&m->ev, 0, EV_HVTRAP, 14, "#PF"), 1, "the page fault enters Xen");
    cr_assert_eq(ev_count(&m->ev, 0, EV_BOUNCE, 14, NULL), 1, "and is bounced to the guest");
    cr_assert_eq(ev_class_total(&m->ev, EV_BOUNCE), 4,
                 "the page fault, the two #GP of the port checks and the refused iret's");
    cr_assert_eq(ev_count(&m->ev, 0, EV_UPCALL, 0, NULL), 1, "one event upcall");
    cr_assert_eq(ev_class_total(&m->ev, EV_EXIT), 0, "no VM exit without VT-x");
    mode_pv.teardown(m);
    machine_destroy(m);
}

/* Xen's I/O privilege: the guest's IN faults (real IOPL 0); once the kernel has a virtual IOPL
 * the hypervisor performs it on the device, but the ports it keeps are bounced as #GP. */
Test(pv, port_io_is_performed_by_the_hypervisor_within_the_virtual_iopl_only)
{
    struct console con = {0};
    struct machine *m = boot(&mode_pv, &con);
    cr_assert_eq(all_phases(m, EV_HVTRAP, 13, "in1 0x80"), 2,
                 "the in under IOPL 1, and the one under the IOPL 2 an iret frame set");
    cr_assert_eq(all_phases(m, EV_IO, 0x80, "in1"), 2, "a device access each");
    cr_assert_eq(all_phases(m, EV_HVTRAP, 13, "#GP"), 2,
                 "in before set_iopl and the PIC write after it are the guest's own #GP");
    cr_assert_eq(all_phases(m, EV_BOUNCE, 13, NULL), 3,
                 "bounced to its trap table (with the refused iret's)");
    cr_assert_eq(all_phases(m, EV_HYPERCALL, 33, "physdev_op"), 1);
    mode_pv.teardown(m);
    machine_destroy(m);
}

Test(pv, two_runs_give_identical_counts)
{
    struct console c1 = {0}, c2 = {0};
    struct machine *a = boot(&mode_pv, &c1), *b = boot(&mode_pv, &c2);
    cr_assert_eq(machine_retired(a), machine_retired(b));
    cr_assert_eq(a->time, b->time);
    for (int cls = 0; cls < EV_CLASS_COUNT; cls++)
        cr_assert_eq(ev_class_total(&a->ev, cls), ev_class_total(&b->ev, cls), "class %s",
                     ev_class_name[cls]);
    cr_assert_str_eq(c1.text, c2.text);
    mode_pv.teardown(a);
    mode_pv.teardown(b);
    machine_destroy(a);
    machine_destroy(b);
}

Test(pv, a_kernel_without_a_pv_header_is_refused_at_start_of_day)
{
    struct machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.ram_bytes = 32u << 20;
    char err[256] = "";
    struct machine *m = machine_create(&cfg, err, sizeof err);
    struct boot_info bi;
    cr_assert_eq(loader_load_multiboot(m, VMLAB_BUILD_DIR "/tests/guests/hello.elf", "", &bi, err,
                                       sizeof err), 0, "%s", err);
    m->mode = &mode_pv;
    cr_assert_lt(mode_pv.setup(m, &bi, err, sizeof err), 0);
    cr_assert(strstr(err, "no PV header"), "%s", err);
    mode_pv.teardown(m);
    machine_destroy(m);
}

/* HYPERVISOR_iret to a ring-0 CS crashes the domain, as Xen does: a guest failure, never a
 * return to ring 0 nor an internal error. */
Test(pv, iret_to_a_ring0_cs_crashes_the_domain)
{
    struct console con = {0};
    struct machine *m = boot_cmd(&mode_pv, &con, NULL, "iret0");
    cr_assert_eq(m->end, END_GUEST_FAILURE, "%s", m->message);
    cr_assert(strstr(m->message, "ring-0 CS (0x8)"), "%s", m->message);
    cr_assert_null(strstr(con.text, "FAIL"), "%s", con.text);
    mode_pv.teardown(m);
    machine_destroy(m);
}
