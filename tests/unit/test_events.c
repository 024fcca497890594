/*
 * test_events.c — the funnel (emu/events.h): aggregation per (phase, class, reason, qualifier),
 * qualifiers compared by content, ev_add for hot-path counts, phases, the time series, the
 * full-trace sink, the deterministic sorted walk, and growth to many thousands of entries.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/events_record.h"

static struct ev_store s;

static void setup(void) { cr_assert_eq(ev_init(&s, 0), 0); }
static void teardown(void) { ev_free(&s); }

TestSuite(events, .init = setup, .fini = teardown);

static void rec(enum ev_class cls, int64_t reason, const char *qual)
{
    ev_record(&s, 0, cls, reason, qual, 0, 0, 0);
}

Test(events, equal_qualifiers_in_different_buffers_aggregate_into_one_entry)
{
    char a[16], b[16];
    strcpy(a, "cr3/write");
    strcpy(b, "cr3/write");
    rec(EV_EXIT, 28, a);
    a[0] = 'X';                         /* the store must have copied the text */
    rec(EV_EXIT, 28, b);
    cr_assert_eq(s.nentries, 1);
    cr_assert_eq(ev_count(&s, 0, EV_EXIT, 28, "cr3/write"), 2);
    cr_assert_eq(s.total, 2);
}

Test(events, different_qualifier_reason_or_class_make_separate_entries)
{
    rec(EV_IO, 0x3f8, "out1");
    rec(EV_IO, 0x3f8, "in1");
    rec(EV_IO, 0x3f9, "out1");
    rec(EV_EXIT, 0x3f8, "out1");
    rec(EV_IO, 0x3f8, "out1");
    cr_assert_eq(s.nentries, 4);
    cr_assert_eq(ev_count(&s, 0, EV_IO, 0x3f8, "out1"), 2);
    cr_assert_eq(ev_count(&s, 0, EV_IO, 0x3f8, "in1"), 1);
    cr_assert_eq(ev_count(&s, 0, EV_IO, 0x3f9, "out1"), 1);
    cr_assert_eq(ev_count(&s, 0, EV_EXIT, 0x3f8, "out1"), 1);
}

Test(events, null_qualifier_in_ev_count_sums_all_qualifiers)
{
    rec(EV_IO, 0x40, "out1");
    rec(EV_IO, 0x40, "in1");
    rec(EV_IO, 0x40, "in1");
    rec(EV_IO, 0x41, "in1");
    cr_assert_eq(ev_count(&s, 0, EV_IO, 0x40, NULL), 3);
}

Test(events, null_and_empty_qualifier_are_the_same_entry)
{
    rec(EV_HALT, 0, NULL);
    rec(EV_HALT, 0, "");
    cr_assert_eq(s.nentries, 1);
    cr_assert_eq(ev_count(&s, 0, EV_HALT, 0, ""), 2);
}

Test(events, never_recorded_key_counts_zero)
{
    rec(EV_IO, 0x40, "out1");
    cr_assert_eq(ev_count(&s, 0, EV_IO, 0x40, "out2"), 0);
    cr_assert_eq(ev_count(&s, 1, EV_IO, 0x40, "out1"), 0);
    cr_assert_eq(ev_class_total(&s, EV_FAULT), 0);
}

static uint64_t count2_of(enum ev_class cls, int64_t reason)
{
    for (unsigned i = 0; i < s.table_size; i++)
        for (const struct ev_entry *e = s.table[i]; e; e = e->next)
            if (e->cls == cls && e->reason == reason)
                return e->count2;
    return UINT64_MAX;
}

Test(events, count2_accumulates_per_entry)
{
    ev_record(&s, 0, EV_TRANSLATE, 0, "", 7, 0, 0);
    ev_record(&s, 0, EV_TRANSLATE, 0, "", 5, 0, 0);
    ev_record(&s, 0, EV_TRANSLATE, 1, "", 100, 0, 0);
    cr_assert_eq(count2_of(EV_TRANSLATE, 0), 12);
    cr_assert_eq(count2_of(EV_TRANSLATE, 1), 100);
    cr_assert_eq(ev_count(&s, 0, EV_TRANSLATE, 0, ""), 2);
}

Test(events, ev_add_folds_n_events_without_counting_them_as_recorded)
{
    rec(EV_INSN, 0, "");
    ev_add(&s, EV_INSN, 0, "", 1000, 3);
    ev_add(&s, EV_INSN, 3, "", 50, 0);
    cr_assert_eq(ev_count(&s, 0, EV_INSN, 0, ""), 1001);
    cr_assert_eq(ev_count(&s, 0, EV_INSN, 3, ""), 50);
    cr_assert_eq(count2_of(EV_INSN, 0), 3);
    cr_assert_eq(s.total, 1);
}

Test(events, ev_add_of_nothing_creates_no_entry)
{
    ev_add(&s, EV_PRIV, 5, "lgdt", 0, 0);
    cr_assert_eq(s.nentries, 0);
}

Test(events, phases_keep_separate_counts_and_class_total_sums_them)
{
    rec(EV_FAULT, 14, "read/user/np");
    ev_set_phase(&s, 2);
    rec(EV_FAULT, 14, "read/user/np");
    rec(EV_FAULT, 14, "read/user/np");
    ev_add(&s, EV_FAULT, 14, "read/user/np", 10, 0);
    ev_set_phase(&s, 0);
    rec(EV_FAULT, 14, "read/user/np");
    cr_assert_eq(ev_count(&s, 0, EV_FAULT, 14, "read/user/np"), 2);
    cr_assert_eq(ev_count(&s, 2, EV_FAULT, 14, "read/user/np"), 12);
    cr_assert_eq(ev_class_total(&s, EV_FAULT), 14);
    cr_assert_eq(s.nentries, 2);
}

Test(events, time_series_counts_each_class_per_bucket)
{
    struct ev_store t;
    cr_assert_eq(ev_init(&t, 100), 0);
    ev_record(&t, 5, EV_IO, 1, "", 0, 0, 0);
    ev_record(&t, 99, EV_IO, 2, "", 0, 0, 0);
    ev_record(&t, 99, EV_FAULT, 14, "", 0, 0, 0);
    ev_record(&t, 100, EV_IO, 1, "", 0, 0, 0);
    ev_record(&t, 450, EV_IO, 1, "", 0, 0, 0);      /* buckets 2 and 3 stay empty */
    ev_record(&t, 499, EV_IO, 1, "", 0, 0, 0);
    ev_add(&t, EV_IO, 1, "", 1000, 0);              /* no time series for folded counts */
    ev_flush_series(&t);
    struct ev_bucket_row want[] = {
        {0, EV_FAULT, 1}, {0, EV_IO, 2}, {1, EV_IO, 1}, {4, EV_IO, 2},  /* class order */
    };
    cr_assert_eq(t.nseries, 4);
    for (unsigned i = 0; i < 4; i++) {
        cr_assert_eq(t.series[i].bucket, want[i].bucket, "row %u", i);
        cr_assert_eq(t.series[i].cls, want[i].cls, "row %u", i);
        cr_assert_eq(t.series[i].count, want[i].count, "row %u", i);
    }
    ev_free(&t);
}

Test(events, zero_bucket_width_keeps_no_time_series)
{
    ev_record(&s, 5, EV_IO, 1, "", 0, 0, 0);
    ev_record(&s, 50000, EV_IO, 1, "", 0, 0, 0);
    ev_flush_series(&s);
    cr_assert_eq(s.nseries, 0);
}

struct sunk {
    unsigned n;
    uint64_t now;
    uint32_t phase;
    enum ev_class cls;
    int64_t reason;
    char qual[32];
    uint32_t eip;
    int cpl;
};

static void sink(void *opaque, uint64_t now, uint32_t phase, enum ev_class cls, int64_t reason,
                 const char *qual, uint32_t eip, int cpl, const char *detail)
{
    struct sunk *k = opaque;
    k->n++;
    k->now = now;
    k->phase = phase;
    k->cls = cls;
    k->reason = reason;
    snprintf(k->qual, sizeof k->qual, "%s", qual);
    k->eip = eip;
    k->cpl = cpl;
}

Test(events, sink_sees_every_recorded_event_once_with_its_fields)
{
    struct sunk k = {0};
    s.sink = sink;
    s.sink_opaque = &k;
    ev_set_phase(&s, 3);
    char q[8] = "irq0";
    ev_record(&s, 123456, EV_INTERRUPT, 0x20, q, 0, 0xc0101234u, 3);
    cr_assert_eq(k.n, 1);
    cr_assert_eq(k.now, 123456);
    cr_assert_eq(k.phase, 3);
    cr_assert_eq(k.cls, EV_INTERRUPT);
    cr_assert_eq(k.reason, 0x20);
    cr_assert_str_eq(k.qual, "irq0");
    cr_assert_eq(k.eip, 0xc0101234u);
    cr_assert_eq(k.cpl, 3);
    ev_record(&s, 123500, EV_INTERRUPT, 0x20, q, 0, 0xc0101300u, 0);
    cr_assert_eq(k.n, 2);
    cr_assert_eq(k.cpl, 0);
    ev_add(&s, EV_INTERRUPT, 0x20, q, 5, 0);
    cr_assert_eq(k.n, 2, "ev_add must not reach the sink");
}

struct walk {
    unsigned n;
    struct { uint32_t phase; uint16_t cls; int64_t reason; char qual[16]; uint64_t count; } e[64];
};

static void collect(void *opaque, const struct ev_entry *e)
{
    struct walk *w = opaque;
    cr_assert_lt(w->n, 64);
    w->e[w->n].phase = e->phase;
    w->e[w->n].cls = e->cls;
    w->e[w->n].reason = e->reason;
    snprintf(w->e[w->n].qual, sizeof w->e[w->n].qual, "%s", e->qual);
    w->e[w->n].count = e->count;
    w->n++;
}

static int key_cmp(const struct walk *w, unsigned i, unsigned j)
{
    if (w->e[i].phase != w->e[j].phase)
        return w->e[i].phase < w->e[j].phase ? -1 : 1;
    if (w->e[i].cls != w->e[j].cls)
        return w->e[i].cls < w->e[j].cls ? -1 : 1;
    if (w->e[i].reason != w->e[j].reason)
        return w->e[i].reason < w->e[j].reason ? -1 : 1;
    return strcmp(w->e[i].qual, w->e[j].qual);
}

static const struct {
    uint32_t phase;
    enum ev_class cls;
    int64_t reason;
    const char *qual;
} keys[] = {
    {2, EV_IO, 0x3f8, "out1"}, {0, EV_FAULT, 14, "write/user/np"}, {1, EV_IO, 0x40, "in1"},
    {0, EV_IO, 0x3f8, "out1"}, {0, EV_FAULT, 13, "err=0x0"}, {0, EV_FAULT, 14, "read/user/np"},
    {0, EV_INSN, 3, ""}, {0, EV_INSN, 0, ""}, {2, EV_EXIT, 10, "cpuid"}, {0, EV_IO, -1, "x"},
    {1, EV_IO, 0x40, "in2"}, {0, EV_IO, 0x3f8, "in1"},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static void fill(struct ev_store *st, bool reverse)
{
    for (unsigned k = 0; k < NKEYS; k++) {
        unsigned i = reverse ? (unsigned)NKEYS - 1 - k : k;
        ev_set_phase(st, keys[i].phase);
        for (unsigned r = 0; r <= i; r++)
            ev_record(st, 0, keys[i].cls, keys[i].reason, keys[i].qual, 0, 0, 0);
    }
}

Test(events, foreach_sorted_walks_by_phase_class_reason_qualifier)
{
    fill(&s, false);
    struct walk w = {0};
    cr_assert_eq(ev_foreach_sorted(&s, collect, &w), NKEYS);
    cr_assert_eq(w.n, NKEYS);
    for (unsigned i = 1; i < w.n; i++)
        cr_assert_lt(key_cmp(&w, i - 1, i), 0, "entry %u (%s) is not after entry %u (%s)", i,
                     w.e[i].qual, i - 1, w.e[i - 1].qual);
    /* Each key was recorded (its index + 1) times: the counts travel with their keys. */
    for (unsigned i = 0; i < w.n; i++) {
        unsigned k = 0;
        while (k < NKEYS && !(keys[k].phase == w.e[i].phase && keys[k].cls == w.e[i].cls &&
                              keys[k].reason == w.e[i].reason &&
                              !strcmp(keys[k].qual, w.e[i].qual)))
            k++;
        cr_assert_lt(k, NKEYS);
        cr_assert_eq(w.e[i].count, k + 1);
    }
}

Test(events, foreach_sorted_order_does_not_depend_on_insertion_order)
{
    struct ev_store t;
    cr_assert_eq(ev_init(&t, 0), 0);
    fill(&s, false);
    fill(&t, true);
    struct walk a = {0}, b = {0};
    ev_foreach_sorted(&s, collect, &a);
    ev_foreach_sorted(&t, collect, &b);
    cr_assert_eq(a.n, b.n);
    for (unsigned i = 0; i < a.n; i++) {
        cr_assert_eq(a.e[i].phase, b.e[i].phase, "entry %u", i);
        cr_assert_eq(a.e[i].cls, b.e[i].cls, "entry %u", i);
        cr_assert_eq(a.e[i].reason, b.e[i].reason, "entry %u", i);
        cr_assert_str_eq(a.e[i].qual, b.e[i].qual, "entry %u", i);
        cr_assert_eq(a.e[i].count, b.e[i].count, "entry %u", i);
    }
    ev_free(&t);
}

Test(events, foreach_sorted_on_an_empty_store_calls_nothing)
{
    struct walk w = {0};
    cr_assert_eq(ev_foreach_sorted(&s, collect, &w), 0);
    cr_assert_eq(w.n, 0);
}

static void count_walk(void *opaque, const struct ev_entry *e) { *(uint64_t *)opaque += e->count; }

Test(events, tables_grow_past_thousands_of_entries_without_losing_counts)
{
    /* 6000 reasons x 2 qualifiers, plus 5000 distinct qualifiers: both tables double many times. */
    char q[32];
    for (int round = 0; round < 3; round++) {
        for (int r = 0; r < 6000; r++) {
            rec(EV_IO, r, "out1");
            rec(EV_IO, r, "in1");
        }
        for (int i = 0; i < 5000; i++) {
            snprintf(q, sizeof q, "q%d", i);
            rec(EV_EXIT, 7, q);
        }
    }
    cr_assert_eq(s.nentries, 6000 * 2 + 5000);
    cr_assert_eq(s.total, 3ull * (6000 * 2 + 5000));
    for (int r = 0; r < 6000; r += 37) {
        cr_assert_eq(ev_count(&s, 0, EV_IO, r, "out1"), 3, "reason %d", r);
        cr_assert_eq(ev_count(&s, 0, EV_IO, r, "in1"), 3, "reason %d", r);
    }
    for (int i = 0; i < 5000; i += 41) {
        snprintf(q, sizeof q, "q%d", i);
        cr_assert_eq(ev_count(&s, 0, EV_EXIT, 7, q), 3, "qualifier %s", q);
    }
    cr_assert_eq(ev_class_total(&s, EV_IO), 3ull * 12000);
    cr_assert_eq(ev_class_total(&s, EV_EXIT), 3ull * 5000);
    uint64_t sum = 0;
    cr_assert_eq(ev_foreach_sorted(&s, count_walk, &sum), 17000);
    cr_assert_eq(sum, s.total);
}

Test(events, class_names_come_from_the_def_list)
{
    cr_assert_str_eq(ev_class_name[EV_INSN], "insn");
    cr_assert_str_eq(ev_class_name[EV_EXIT], "exit");
    cr_assert_str_eq(ev_class_name[EV_REFUSAL], "refusal");
    for (unsigned c = 0; c < EV_CLASS_COUNT; c++) {
        cr_assert_not_null(ev_class_name[c], "class %u has no name", c);
        for (unsigned d = 0; d < c; d++)
            cr_assert_str_neq(ev_class_name[c], ev_class_name[d]);
    }
}
