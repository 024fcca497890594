/*
 * events_record.h — the recording calls of the event store (emu/events.h): private to the funnel
 * (emu/funnel.c) and the machine (emu/machine.c, emu/run.c). Nothing under emu/modes/ includes
 * this file: the build compiles emu/modes/ with VMLAB_IN_MODES defined (emu/CMakeLists.txt), which
 * makes including it an error, and tests/integration/funnel_private.sh fails if a mode calls a
 * recording function by any other route. A mode can only have events counted through the funnel,
 * under the classes it declares.
 */
#ifndef VMLAB_EVENTS_RECORD_H
#define VMLAB_EVENTS_RECORD_H

#ifdef VMLAB_IN_MODES
#error "emu/modes/ records through the funnel (emu/funnel.h), never the event store directly"
#endif

#include "emu/events.h"

/* THE funnel: count one event at time `now` (instructions), with guest EIP and CPL for full
 * traces. `count2` adds to the entry's second quantity. */
void ev_record(struct ev_store *s, uint64_t now, enum ev_class cls, int64_t reason,
               const char *qual, uint64_t count2, uint32_t eip, int cpl);

/* The same with a free-text detail kept only in full traces (e.g. observed vs native value). */
void ev_record_detail(struct ev_store *s, uint64_t now, enum ev_class cls, int64_t reason,
                      const char *qual, uint64_t count2, uint32_t eip, int cpl,
                      const char *detail);

/* Full traces only: the row of one execution of an event counted elsewhere (a mode's in-cache
 * emulation, counted with its block: mode op counted); nothing is added to the counters. */
void ev_trace_row(struct ev_store *s, uint64_t now, enum ev_class cls, int64_t reason,
                  const char *qual, uint32_t eip, int cpl);

/* The funnel for a page-table validation (class validation, reason = level, qualifier "ok" or
 * "refused", count2 = entries checked) and its row in the validation table. */
void ev_validation(struct ev_store *s, uint64_t now, uint32_t frame, int level, unsigned entries,
                   int outcome);

/* The funnel for a translation (class translate, reason 0 for a unit and 4 for a trampoline,
 * count2 = guest instructions translated) and its row in the translation table (bytes in and
 * out). */
void ev_translation(struct ev_store *s, uint64_t now, const struct ev_unit *u);

/* A hypercall's row in the hypercall table (number, batch elements, result); its count is the
 * funnel's entry record. */
void ev_hypercall_row(struct ev_store *s, uint64_t now, int nr, unsigned batch, int result);

/* Fold an aggregate (n events at once) into the current phase, without time series or sink:
 * used for counts kept on the hot path and folded in at phase boundaries. */
void ev_add(struct ev_store *s, enum ev_class cls, int64_t reason, const char *qual, uint64_t n,
            uint64_t count2);

#endif
