/*
 * run_record.c — write one run into the trace database (see run_record.h).
 */
#include "emu/run_record.h"

#include <stdio.h>
#include <string.h>

#include "emu/machine.h"
#include "traces/tdb.h"

int run_record_open(struct run_record *r, const char *path, const struct run_record_info *info,
                    char *errbuf, unsigned errlen)
{
    memset(r, 0, sizeof *r);
    if (!path)
        return 0;
    r->db = tdb_open(path, errbuf, errlen);
    if (!r->db)
        return -1;
    r->full = info->full;
    r->bucket = info->bucket;
    char workload[64], config[256];
    tdb_param(info->cmdline, "workload", workload, sizeof workload);
    snprintf(config, sizeof config,
             "ram_mib=%llu ips=%llu max_instructions=%llu timeout=%g bucket=%llu trace=%s "
             "monitor_window=0x%llx",
             (unsigned long long)info->ram_mib, (unsigned long long)info->ips,
             (unsigned long long)info->max_insns, info->timeout,
             (unsigned long long)info->bucket, info->full ? "full" : "counts",
             (unsigned long long)info->window);
    struct tdb_run_info ri = {.guest = info->guest, .workload = workload,
                              .params = info->cmdline, .mode = info->mode, .config = config,
                              .suite = info->suite};
    if (tdb_run_begin(r->db, &ri, &r->run_id) < 0) {
        snprintf(errbuf, errlen, "%s", tdb_error(r->db));
        tdb_close(r->db);
        r->db = NULL;
        return -1;
    }
    return 0;
}

static void sink(void *opaque, uint64_t now, uint32_t phase, enum ev_class cls, int64_t reason,
                 const char *qual, uint32_t eip, int cpl, const char *detail)
{
    struct run_record *r = opaque;
    struct tdb_event ev = {.icount = now, .phase = phase, .ev_class = cls, .reason = reason,
                           .qualifier = qual, .eip = eip, .cpl = cpl, .detail = detail};
    int e = tdb_add_event(r->db, r->run_id, &ev);
    if (e && !r->sink_error)
        r->sink_error = e;
}

static void validation_row(void *opaque, uint64_t now, uint32_t frame, int level,
                           unsigned entries, int outcome)
{
    struct run_record *r = opaque;
    int e = tdb_add_validation(r->db, r->run_id, now, frame, level, entries,
                               outcome ? "refused" : "ok");
    if (e && !r->sink_error)
        r->sink_error = e;
}

static void hypercall_row(void *opaque, uint64_t now, int nr, unsigned batch, int result)
{
    struct run_record *r = opaque;
    int e = tdb_add_hypercall(r->db, r->run_id, now, nr, batch, result);
    if (e && !r->sink_error)
        r->sink_error = e;
}

static void translation_row(void *opaque, uint64_t now, uint32_t phase, const struct ev_unit *u)
{
    struct run_record *r = opaque;
    struct tdb_translation row = {u->guest_eip, u->guest_bytes, u->insns, u->tc_addr,
                                  u->tc_bytes, u->trampoline};
    int e = tdb_add_translation(r->db, r->run_id, now, phase, &row);
    if (e && !r->sink_error)
        r->sink_error = e;
}

void run_record_attach(struct run_record *r, struct machine *m)
{
    if (!r->db)
        return;
    m->ev.sink_opaque = r;
    m->ev.validation_sink = validation_row;
    m->ev.hypercall_sink = hypercall_row;
    m->ev.translation_sink = translation_row;
    if (r->full)
        m->ev.sink = sink;
}

struct count_batch {
    struct tdb_count rows[256];
    unsigned n;
    struct run_record *r;
    int err;
};

static void flush_counts(struct count_batch *b)
{
    if (b->n && !b->err)
        b->err = tdb_add_counts(b->r->db, b->r->run_id, b->rows, b->n);
    b->n = 0;
}

static void add_count(void *opaque, const struct ev_entry *e)
{
    struct count_batch *b = opaque;
    b->rows[b->n++] = (struct tdb_count){.phase = e->phase, .ev_class = e->cls,
                                         .reason = e->reason, .qualifier = e->qual,
                                         .count = e->count, .count2 = e->count2};
    if (b->n == 256)
        flush_counts(b);
}

static int write_machine(struct run_record *r, struct machine *m)
{
    struct count_batch b;
    memset(&b, 0, sizeof b);
    b.r = r;
    ev_foreach_sorted(&m->ev, add_count, &b);
    flush_counts(&b);
    if (b.err)
        return b.err;
    for (uint32_t p = 0; p < MACHINE_PHASES; p++) {
        if (!(m->phase_seen & (1u << p)))
            continue;
        uint64_t end = m->time;
        for (uint32_t q = p + 1; q < MACHINE_PHASES; q++)
            if ((m->phase_seen & (1u << q)) && m->phase_start[q] > m->phase_start[p] &&
                m->phase_start[q] < end)
                end = m->phase_start[q];
        /* The phase's instructions are its insn counts, folded per CPL at each phase change. */
        uint64_t kernel = 0;
        for (int cpl = 0; cpl < 3; cpl++)
            kernel += ev_count(&m->ev, p, EV_INSN, cpl, "");
        int e = tdb_add_phase(r->db, r->run_id, p, ev_count(&m->ev, p, EV_INSN, 3, ""), kernel,
                              m->phase_start[p], end);
        if (e)
            return e;
    }
    for (unsigned i = 0; i < m->ev.nseries; i++) {
        const struct ev_bucket_row *s = &m->ev.series[i];
        int e = tdb_add_bucket(r->db, r->run_id, s->bucket, s->cls, s->count);
        if (e)
            return e;
    }
    return r->sink_error;
}

int run_record_close(struct run_record *r, struct machine *m, const char *status, int exit_status,
                     const char *message, double wall_seconds, char *errbuf, unsigned errlen)
{
    if (!r->db)
        return 0;
    int e = m ? write_machine(r, m) : 0;
    uint64_t retired = m ? machine_retired(m) : 0;
    struct tdb_run_end end = {
        .status = e ? "failed" : status, .exit_status = exit_status,
        .guest_exit = m ? m->guest_exit : -1,
        .message = e ? "could not write the run's counts" : message,
        .instructions = retired, .insn_user = m ? m->insn_cpl[3] : 0,
        .insn_kernel = m ? retired - m->insn_cpl[3] : 0, .wall_seconds = wall_seconds};
    int f = tdb_run_finish(r->db, r->run_id, &end);
    if (e || f)
        snprintf(errbuf, errlen, "%s", tdb_error(r->db));
    tdb_close(r->db);
    r->db = NULL;
    return (e || f) ? -1 : 0;
}
