/*
 * events.h — the one funnel through which every counted event passes.
 *
 * Whatever a mode intercepts — a VM exit, a hypercall, a BT callout, a page-table validation, an
 * exception or interrupt delivered to the guest, a port access — is recorded exactly once, by
 * the funnel (emu/funnel.h), before it is handled. This header is the store's types and readers;
 * its recording calls are in emu/events_record.h, which only the funnel and the machine include
 * (modes cannot reach them). The store aggregates counts per
 * (phase, class, reason, qualifier), keeps a time series per fixed instruction-count bucket and
 * per class, and, when full tracing is on, hands every event to a sink (the trace database).
 *
 * Qualifiers are short strings ("cr3/write", "out1", "irq0"); they are interned, so callers may
 * pass a temporary buffer. Hot paths that do not go through here (instructions retired and
 * privileged instructions executed per translated block) are folded in with ev_add() when a phase
 * ends.
 */
#ifndef VMLAB_EVENTS_H
#define VMLAB_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

enum ev_class {
#define EV_CLASS(id, name, r, q, d) EV_##id,
#include "emu/event_classes.def"
#undef EV_CLASS
    EV_CLASS_COUNT
};

extern const char *const ev_class_name[EV_CLASS_COUNT];

struct ev_entry {
    uint32_t phase;
    uint16_t cls;
    int64_t reason;
    const char *qual;        /* interned */
    uint64_t count;
    uint64_t count2;         /* class-specific quantity (instructions translated, entries ...) */
    struct ev_entry *next;   /* hash chain */
};

struct ev_bucket_row {
    uint64_t bucket;
    uint16_t cls;
    uint64_t count;
};

/* Sink for full tracing: one call per event. */
typedef void (*ev_sink_fn)(void *opaque, uint64_t now, uint32_t phase, enum ev_class cls,
                           int64_t reason, const char *qual, uint32_t eip, int cpl,
                           const char *detail);

/* Sinks for the two per-event tables the trace database always keeps (not only in full traces):
 * page-table validations and hypercalls with their batch sizes. */
typedef void (*ev_validation_fn)(void *opaque, uint64_t now, uint32_t frame, int level,
                                 unsigned entries, int outcome);
typedef void (*ev_hypercall_fn)(void *opaque, uint64_t now, int nr, unsigned batch, int result);

/* A translation a binary translator made: a unit of guest code, or a trampoline (one guest
 * instruction run on its own because the monitor could not emulate it). */
struct ev_unit {
    uint32_t guest_eip, guest_bytes, insns;   /* what was read: where, bytes, instructions */
    uint32_t tc_addr, tc_bytes;               /* what was written in the translation cache */
    bool trampoline;
};
typedef void (*ev_translation_fn)(void *opaque, uint64_t now, uint32_t phase,
                                  const struct ev_unit *u);

struct ev_store {
    struct ev_entry **table;      /* hash of entries */
    struct ev_entry *recent[64];  /* the entry last recorded per (class, reason) hash: most
                                   * events repeat one, found with one strcmp of its qualifier */
    unsigned table_size;          /* power of two */
    unsigned nentries;
    char **interned;              /* interned qualifier strings (open addressing) */
    unsigned intern_size;
    unsigned ninterned;
    uint32_t phase;               /* current phase (set by the phase-marker port) */
    uint64_t bucket_width;        /* instructions per time-series bucket, 0 = no series */
    uint64_t cur_bucket;
    uint64_t bucket_counts[EV_CLASS_COUNT];
    struct ev_bucket_row *series; /* closed buckets */
    unsigned nseries, series_cap;
    ev_sink_fn sink;              /* non-NULL: full tracing */
    void *sink_opaque;
    ev_validation_fn validation_sink;   /* non-NULL: a database records validations */
    ev_hypercall_fn hypercall_sink;     /* non-NULL: a database records hypercalls */
    ev_translation_fn translation_sink; /* non-NULL: a database records translations */
    uint64_t total;               /* events recorded */
};

/* Empty store. bucket_width 0 disables the time series. Returns 0 or -ENOMEM. */
int ev_init(struct ev_store *s, uint64_t bucket_width);
void ev_free(struct ev_store *s);

/* Switch phase. */
void ev_set_phase(struct ev_store *s, uint32_t phase);

/* Close the current time-series bucket (call at the end of the run). */
void ev_flush_series(struct ev_store *s);

/* Look up one aggregate (for tests and summaries); 0 if never recorded. qual NULL = any. */
uint64_t ev_count(const struct ev_store *s, uint32_t phase, enum ev_class cls, int64_t reason,
                  const char *qual);

/* Sum over all phases, reasons and qualifiers of a class. */
uint64_t ev_class_total(const struct ev_store *s, enum ev_class cls);

/* Iterate entries: calls fn for each; order is deterministic (sorted by phase, class, reason,
 * qualifier). Returns the number of entries. */
unsigned ev_foreach_sorted(const struct ev_store *s,
                           void (*fn)(void *opaque, const struct ev_entry *e), void *opaque);

#endif
