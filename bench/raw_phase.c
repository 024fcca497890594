/*
 * raw_phase.c — the measured phase on raw Unicorn (see raw_phase.h for what is measured and why).
 *
 *   native run to phase start + 1 (max_insns) --> context + RAM snapshot
 *        --> fresh engine, snapshot restored, interrupt and OUT hooks only --> timed run
 *        --> the same with a counting block hook --> instructions
 *
 * The snapshot is taken one instruction after the phase marker's OUT began, so the raw run does
 * not stop at the marker that opens the phase. RAM is copied page by page, only the pages that
 * differ. The timed run is the second of its engine (run_raw), so that it does not pay for
 * translating the phase's code: some phases (ptemod's blocks) are short enough for translation
 * to be most of a first run.
 */
#include "raw_phase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_util.h"
#include "emu/loader.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"

#define PHASE_PORT 0xe0        /* guests/kernel/layout.h PORT_PHASE */
#define POST_PORT 0x80         /* no device behind it: the `in` workload reads it */
#define RAW_TIMEOUT_US (120ull * 1000 * 1000) /* a raw run longer than this is given up */
#define PHASE_MEASURE 1        /* guests/include/syscall_nr.h */
#define PHASE_BETWEEN 4
#define SYS_PHASE 16           /* guests/include/syscall_nr.h */
#define PAGE 4096u
#define ICACHE (1u << 16)      /* block instruction counts remembered by the counting run */

struct console {
    struct machine *m;
    char line[256];
    size_t len;
    uint64_t args_at, result_at;
};

/* The guest's console: note the guest time of the first `args:` line and of the `result` line
 * after it. */
static void console(void *opaque, uint8_t b)
{
    struct console *c = opaque;
    if (b != '\n') {
        if (b != '\r' && c->len < sizeof c->line - 1)
            c->line[c->len++] = (char)b;
        return;
    }
    c->line[c->len] = 0;
    if (!c->args_at && strncmp(c->line, "args:", 5) == 0)
        c->args_at = machine_now(c->m);
    else if (c->args_at && !c->result_at && strncmp(c->line, "result", 6) == 0)
        c->result_at = machine_now(c->m);
    c->len = 0;
}

/* A native machine with the kernel loaded, stopping after `limit` instructions (0: none). */
static struct machine *native(const char *kernel, const char *cmdline, uint64_t limit,
                              struct console *con)
{
    struct machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.cmdline = cmdline;
    cfg.max_insns = limit;
    cfg.console = console;
    cfg.console_opaque = con;
    char err[256];
    struct boot_info bi;
    memset(con, 0, sizeof *con);
    struct machine *m = machine_create(&cfg, err, sizeof err);
    if (!m || loader_load(m, kernel, NULL, cmdline, &bi, err, sizeof err) < 0 ||
        (m->mode = &mode_native)->setup(m, &bi, err, sizeof err) < 0) {
        fprintf(stderr, "raw_phase: %s: %s\n", cmdline, err);
        machine_destroy(m);
        return NULL;
    }
    con->m = m;
    return m;
}

int native_window(const char *kernel, const char *cmdline, struct native_window *w)
{
    struct console con;
    struct machine *m = native(kernel, cmdline, 0, &con);
    if (!m)
        return -1;
    machine_run(m);
    int ok = m->end == END_GUEST_EXIT && m->guest_exit == 0x10 && con.result_at;
    if (!ok)
        fprintf(stderr, "raw_phase: %s: native run failed (%s)\n", cmdline, m->message);
    *w = (struct native_window){con.args_at, con.result_at,
                                (m->phase_seen & 2u) ? m->phase_start[1] : 0};
    m->mode->teardown(m);
    machine_destroy(m);
    return ok ? 0 : -1;
}

/* Make `to` equal `from` (both `size` bytes), writing only the pages that differ: a page of a
 * fresh anonymous mapping that stays zero is never touched. */
static void copy_changed(uint8_t *to, const uint8_t *from, uint64_t size)
{
    for (uint64_t at = 0; at < size; at += PAGE)
        if (memcmp(to + at, from + at, PAGE) != 0)
            memcpy(to + at, from + at, PAGE);
}

static uint8_t *zeroed(uint64_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

struct snapshot {
    uint8_t *ram;
    uint64_t ram_size;
    uc_context *ctx;
    uint64_t eip;
};

/* The machine's state one instruction into the measured phase. */
static int take_snapshot(const char *kernel, const char *cmdline, uint64_t at, struct snapshot *s)
{
    struct console con;
    struct machine *m = native(kernel, cmdline, at + 1, &con);
    if (!m)
        return -1;
    machine_run(m);
    int ok = m->end == END_LIMIT && m->time == at + 1 && (s->ram = zeroed(m->ram_size)) &&
             uc_context_alloc(m->uc, &s->ctx) == UC_ERR_OK &&
             uc_context_save(m->uc, s->ctx) == UC_ERR_OK &&
             uc_reg_read(m->uc, UC_X86_REG_EIP, &s->eip) == UC_ERR_OK;
    if (ok) {
        s->ram_size = m->ram_size;
        copy_changed(s->ram, m->ram, m->ram_size);
    } else {
        fprintf(stderr, "raw_phase: %s: cannot stop at guest time %llu (%s)\n", cmdline,
                (unsigned long long)at + 1, m->message);
    }
    m->mode->teardown(m);
    machine_destroy(m);
    return ok ? 0 : -1;
}

/* How a raw run ended, and the instructions it ran (with counting on). */
struct raw_run {
    int vector;            /* the exception that stopped it, -1 */
    bool marker;           /* stopped at the phase marker */
    bool device;           /* stopped at an IN from a device (the console's status, ...) */
    uint64_t insns;
    struct icache {
        uint64_t addr;
        uint32_t n;
    } *cache;
};

static void on_intr(uc_engine *uc, uint32_t intno, void *opaque)
{
    ((struct raw_run *)opaque)->vector = (int)intno;
    uc_emu_stop(uc);
}

/* The phase ends at a marker other than MEASURE and BETWEEN: a blocked workload (ptemod, pgfault)
 * re-arms its next block between two measured ones, and runs them all. */
static void on_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *opaque)
{
    (void)size;
    if (port == PHASE_PORT && value != PHASE_MEASURE && value != PHASE_BETWEEN) {
        ((struct raw_run *)opaque)->marker = true;
        uc_emu_stop(uc);
    }
}

/* A raw engine has no devices: a phase that reads one (the console's line status, polled while
 * printing) is given up, since the value it waits for never comes. */
static uint32_t on_in(uc_engine *uc, uint32_t port, int size, void *opaque)
{
    (void)size;
    if (port != POST_PORT) {
        ((struct raw_run *)opaque)->device = true;
        uc_emu_stop(uc);
    }
    return 0;
}

static void on_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    (void)size;
    struct raw_run *r = opaque;
    uint32_t i = (uint32_t)(addr * 0x9e3779b1u) & (ICACHE - 1);
    while (r->cache[i].addr && r->cache[i].addr != addr)
        i = (i + 1) & (ICACHE - 1);
    if (!r->cache[i].addr) {
        uc_tb tb = {0};
        uc_ctl_request_cache(uc, addr, &tb);
        r->cache[i] = (struct icache){addr, tb.icount};
    }
    r->insns += r->cache[i].n;
}

/* Put the snapshot in `ram` (mapped in uc) and in the CPU, with an empty TLB. */
static uc_err restore(uc_engine *uc, uint8_t *ram, const struct snapshot *s)
{
    copy_changed(ram, s->ram, s->ram_size);
    uc_err e = uc_context_restore(uc, s->ctx);
    return e ? e : uc_ctl_flush_tlb(uc);
}

/* One run from the snapshot on a fresh engine; with `count`, a block hook counts instructions.
 * Without, the phase runs once untimed first and again, timed, from the snapshot restored in the
 * same engine: its blocks are translated already (a host write of the same bytes leaves
 * translations alone, emu/UNICORN.md 12), so the time is raw Unicorn's steady speed, as a long
 * window of vmlab's amortizes its translation. Wall seconds, or -1. */
static double run_raw(const struct snapshot *s, bool count, struct raw_run *r)
{
    uc_engine *uc;
    uint8_t *ram = zeroed(s->ram_size);
    uc_hook h;
    if (!ram || uc_open(UC_ARCH_X86, UC_MODE_32, &uc) != UC_ERR_OK)
        return -1;
    uc_err e = uc_mem_map_ptr(uc, 0, s->ram_size, UC_PROT_ALL, ram);
    if (!e)
        e = uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)on_intr, r, 1, 0);
    if (!e)
        e = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)on_out, r, 1, 0, UC_X86_INS_OUT);
    if (!e)
        e = uc_hook_add(uc, &h, UC_HOOK_INSN, (void *)on_in, r, 1, 0, UC_X86_INS_IN);
    if (!e && count)
        e = uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)on_block, r, 1, 0);
    if (!e && !count && !(e = restore(uc, ram, s)))
        e = uc_emu_start(uc, s->eip, 0, RAW_TIMEOUT_US, 0);
    r->vector = -1;
    r->marker = r->device = false;
    r->insns = 0;
    if (!e)
        e = restore(uc, ram, s);
    double t0 = bench_now();
    if (!e)
        e = uc_emu_start(uc, s->eip, 0, RAW_TIMEOUT_US, 0);
    double t = bench_now() - t0;
    size_t timed_out = 0;
    if (!e && uc_query(uc, UC_QUERY_TIMEOUT, &timed_out) == UC_ERR_OK && timed_out)
        r->device = true; /* never ended: no bound either */
    uint32_t eax = 0;
    uc_reg_read(uc, UC_X86_REG_EAX, &eax);
    if (r->vector == 0x80 && eax != SYS_PHASE)
        r->vector = 0x1000 | 0x80; /* a system call other than phase() */
    uc_close(uc);
    munmap(ram, s->ram_size);
    return e ? -1 : t;
}

int raw_phase(const char *kernel, const char *cmdline, const struct native_window *w, int runs,
              struct raw_result *res)
{
    struct snapshot s = {0};
    struct raw_run r = {.cache = calloc(ICACHE, sizeof *r.cache)};
    double t[16];
    int rc = -1;
    if (!r.cache || !w->phase_start || runs < 1 || runs > 16 ||
        take_snapshot(kernel, cmdline, w->phase_start, &s) < 0)
        goto out;
    if (run_raw(&s, true, &r) < 0)
        goto out;
    res->phase_done = !r.device && (r.marker || r.vector == 0x80);
    res->insns = r.insns;
    for (int i = 0; res->phase_done && i < runs; i++)
        if ((t[i] = run_raw(&s, false, &r)) < 0)
            goto out;
    res->secs = res->phase_done ? bench_median(t, (size_t)runs) : 0;
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "raw_phase: %s: the raw run failed\n", cmdline);
    free(r.cache);
    if (s.ctx)
        uc_context_free(s.ctx);
    if (s.ram)
        munmap(s.ram, s.ram_size);
    return rc;
}
