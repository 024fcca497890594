/*
 * events.c — the event store behind the funnel (see events.h).
 *
 * A chained hash table keyed by (phase, class, reason, interned qualifier pointer); qualifier
 * strings are interned in an open-addressing table so that equal strings compare by pointer.
 * Both tables double when half full. Everything here is O(1) per event; nothing allocates once
 * the tables have grown to the run's working set.
 */
#include "emu/events_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ev_class_name[EV_CLASS_COUNT] = {
#define EV_CLASS(id, name, r, q, d) [EV_##id] = name,
#include "emu/event_classes.def"
#undef EV_CLASS
};

static uint64_t hash_str(const char *p)
{
    uint64_t h = 1469598103934665603ull;
    for (; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return h;
}

static uint64_t hash_key(uint32_t phase, unsigned cls, int64_t reason, const char *qual)
{
    uint64_t h = ((uint64_t)phase << 48) ^ ((uint64_t)cls << 40) ^ (uint64_t)reason ^
                 ((uint64_t)(uintptr_t)qual * 0x9e3779b97f4a7c15ull);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

int ev_init(struct ev_store *s, uint64_t bucket_width)
{
    memset(s, 0, sizeof *s);
    s->table_size = 256;
    s->table = calloc(s->table_size, sizeof *s->table);
    s->intern_size = 256;
    s->interned = calloc(s->intern_size, sizeof *s->interned);
    s->bucket_width = bucket_width;
    if (!s->table || !s->interned) {
        ev_free(s);
        return -ENOMEM;
    }
    return 0;
}

void ev_free(struct ev_store *s)
{
    for (unsigned i = 0; s->table && i < s->table_size; i++) {
        struct ev_entry *e = s->table[i];
        while (e) {
            struct ev_entry *n = e->next;
            free(e);
            e = n;
        }
    }
    for (unsigned i = 0; s->interned && i < s->intern_size; i++)
        free(s->interned[i]);
    free(s->table);
    free(s->interned);
    free(s->series);
    memset(s, 0, sizeof *s);
}

static void intern_grow(struct ev_store *s)
{
    unsigned nsize = s->intern_size * 2;
    char **nt = calloc(nsize, sizeof *nt);
    if (!nt)
        abort();
    for (unsigned i = 0; i < s->intern_size; i++) {
        char *str = s->interned[i];
        if (!str)
            continue;
        unsigned j = (unsigned)hash_str(str) & (nsize - 1);
        while (nt[j])
            j = (j + 1) & (nsize - 1);
        nt[j] = str;
    }
    free(s->interned);
    s->interned = nt;
    s->intern_size = nsize;
}

static const char *intern(struct ev_store *s, const char *q)
{
    if (!q)
        q = "";
    unsigned j = (unsigned)hash_str(q) & (s->intern_size - 1);
    while (s->interned[j]) {
        if (strcmp(s->interned[j], q) == 0)
            return s->interned[j];
        j = (j + 1) & (s->intern_size - 1);
    }
    char *copy = strdup(q);
    if (!copy)
        abort();
    s->interned[j] = copy;
    if (++s->ninterned * 2 > s->intern_size)
        intern_grow(s);
    return copy;
}

static void table_grow(struct ev_store *s)
{
    unsigned nsize = s->table_size * 2;
    struct ev_entry **nt = calloc(nsize, sizeof *nt);
    if (!nt)
        abort();
    for (unsigned i = 0; i < s->table_size; i++) {
        struct ev_entry *e = s->table[i];
        while (e) {
            struct ev_entry *n = e->next;
            unsigned j = (unsigned)hash_key(e->phase, e->cls, e->reason, e->qual) & (nsize - 1);
            e->next = nt[j];
            nt[j] = e;
            e = n;
        }
    }
    free(s->table);
    s->table = nt;
    s->table_size = nsize;
}

static struct ev_entry *entry(struct ev_store *s, unsigned cls, int64_t reason, const char *q)
{
    if (!q)
        q = "";
    struct ev_entry **r = &s->recent[(cls * 31u + (unsigned)reason) & 63u];
    if (*r && (*r)->phase == s->phase && (*r)->cls == cls && (*r)->reason == reason &&
        strcmp((*r)->qual, q) == 0)
        return *r;
    const char *qual = intern(s, q);
    unsigned j = (unsigned)hash_key(s->phase, cls, reason, qual) & (s->table_size - 1);
    for (struct ev_entry *e = s->table[j]; e; e = e->next)
        if (e->phase == s->phase && e->cls == cls && e->reason == reason && e->qual == qual)
            return *r = e;
    struct ev_entry *e = calloc(1, sizeof *e);
    if (!e)
        abort();
    e->phase = s->phase;
    e->cls = (uint16_t)cls;
    e->reason = reason;
    e->qual = qual;
    e->next = s->table[j];
    s->table[j] = e;
    if (++s->nentries * 2 > s->table_size)
        table_grow(s);
    return *r = e;
}

static void series_push(struct ev_store *s, uint64_t bucket, unsigned cls, uint64_t count)
{
    if (s->nseries == s->series_cap) {
        unsigned ncap = s->series_cap ? s->series_cap * 2 : 256;
        struct ev_bucket_row *n = realloc(s->series, ncap * sizeof *n);
        if (!n)
            abort();
        s->series = n;
        s->series_cap = ncap;
    }
    s->series[s->nseries++] = (struct ev_bucket_row){bucket, (uint16_t)cls, count};
}

void ev_flush_series(struct ev_store *s)
{
    for (unsigned c = 0; c < EV_CLASS_COUNT; c++) {
        if (s->bucket_counts[c])
            series_push(s, s->cur_bucket, c, s->bucket_counts[c]);
        s->bucket_counts[c] = 0;
    }
}

void ev_record(struct ev_store *s, uint64_t now, enum ev_class cls, int64_t reason,
               const char *qual, uint64_t count2, uint32_t eip, int cpl)
{
    ev_record_detail(s, now, cls, reason, qual, count2, eip, cpl, NULL);
}

void ev_record_detail(struct ev_store *s, uint64_t now, enum ev_class cls, int64_t reason,
                      const char *qual, uint64_t count2, uint32_t eip, int cpl,
                      const char *detail)
{
    struct ev_entry *e = entry(s, cls, reason, qual);
    e->count++;
    e->count2 += count2;
    s->total++;
    if (s->bucket_width) {
        uint64_t b = now / s->bucket_width;
        if (b != s->cur_bucket) {
            ev_flush_series(s);
            s->cur_bucket = b;
        }
        s->bucket_counts[cls]++;
    }
    if (s->sink)
        s->sink(s->sink_opaque, now, s->phase, cls, reason, e->qual, eip, cpl, detail);
}

void ev_trace_row(struct ev_store *s, uint64_t now, enum ev_class cls, int64_t reason,
                  const char *qual, uint32_t eip, int cpl)
{
    if (s->sink)
        s->sink(s->sink_opaque, now, s->phase, cls, reason, qual, eip, cpl, NULL);
}

void ev_validation(struct ev_store *s, uint64_t now, uint32_t frame, int level, unsigned entries,
                   int outcome)
{
    char detail[64] = "";
    if (s->sink)
        snprintf(detail, sizeof detail, "frame=0x%x entries=%u outcome=%d", frame, entries,
                 outcome);
    ev_record_detail(s, now, EV_VALIDATION, level, outcome ? "refused" : "ok", entries, 0, 1,
                     s->sink ? detail : NULL);
    if (s->validation_sink)
        s->validation_sink(s->sink_opaque, now, frame, level, entries, outcome);
}

void ev_translation(struct ev_store *s, uint64_t now, const struct ev_unit *u)
{
    char detail[80] = "";
    if (s->sink)
        snprintf(detail, sizeof detail, "guest_bytes=%u tc=0x%x tc_bytes=%u", u->guest_bytes,
                 u->tc_addr, u->tc_bytes);
    ev_record_detail(s, now, EV_TRANSLATE, u->trampoline ? 4 : 0,
                     u->trampoline ? "trampoline" : "", u->insns, u->guest_eip, 1,
                     s->sink ? detail : NULL);
    if (s->translation_sink)
        s->translation_sink(s->sink_opaque, now, s->phase, u);
}

void ev_hypercall_row(struct ev_store *s, uint64_t now, int nr, unsigned batch, int result)
{
    if (s->hypercall_sink)
        s->hypercall_sink(s->sink_opaque, now, nr, batch, result);
}

void ev_add(struct ev_store *s, enum ev_class cls, int64_t reason, const char *qual, uint64_t n,
            uint64_t count2)
{
    if (!n && !count2)
        return;
    struct ev_entry *e = entry(s, cls, reason, qual);
    e->count += n;
    e->count2 += count2;
}

void ev_set_phase(struct ev_store *s, uint32_t phase) { s->phase = phase; }

uint64_t ev_count(const struct ev_store *s, uint32_t phase, enum ev_class cls, int64_t reason,
                  const char *qual)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < s->table_size; i++)
        for (const struct ev_entry *e = s->table[i]; e; e = e->next)
            if (e->phase == phase && e->cls == cls && e->reason == reason &&
                (!qual || strcmp(e->qual, qual) == 0))
                n += e->count;
    return n;
}

uint64_t ev_class_total(const struct ev_store *s, enum ev_class cls)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < s->table_size; i++)
        for (const struct ev_entry *e = s->table[i]; e; e = e->next)
            if (e->cls == cls)
                n += e->count;
    return n;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct ev_entry *x = *(const struct ev_entry *const *)a;
    const struct ev_entry *y = *(const struct ev_entry *const *)b;
    if (x->phase != y->phase)
        return x->phase < y->phase ? -1 : 1;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    if (x->reason != y->reason)
        return x->reason < y->reason ? -1 : 1;
    return strcmp(x->qual, y->qual);
}

unsigned ev_foreach_sorted(const struct ev_store *s,
                           void (*fn)(void *opaque, const struct ev_entry *e), void *opaque)
{
    if (!s->nentries)
        return 0;
    const struct ev_entry **v = malloc(s->nentries * sizeof *v);
    if (!v)
        abort();
    unsigned n = 0;
    for (unsigned i = 0; i < s->table_size; i++)
        for (const struct ev_entry *e = s->table[i]; e; e = e->next)
            v[n++] = e;
    qsort(v, n, sizeof *v, cmp_entry);
    for (unsigned i = 0; i < n; i++)
        fn(opaque, v[i]);
    free(v);
    return n;
}
