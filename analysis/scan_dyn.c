/*
 * scan_dyn.c — `vmlab scan --db DB [--run ID,...]`: the dynamic view of issue 19, where a
 * paravirtual port should start. See scan_dyn.h for the contract.
 *
 * A run recorded with `--trace full` has one row in table `event` per event, with the guest EIP
 * that caused it (the exiting instruction, the trapping one, the store a shadow MMU traced). This
 * file groups those rows by (phase, class, reason, qualifier, EIP) in SQL, prices each group
 * through the view priced_count (analysis/views.sql), the one pricing rule `vmlab stat` uses: an
 * event row costs the cycles of its counter row (same run, phase, class, reason, qualifier)
 * divided by that row's count, so count2's per-unit costs are spread evenly and the rows of a
 * counter add up to what stat prices it at. Nothing is priced here by hand.
 *
 * Each EIP is then mapped with scan_lookup() (analysis/scan_elf.c: libelf symbols, libdw lines) on
 * the run's guest ELF (run.guest, or --guest for a database recorded elsewhere), and the groups
 * are merged per mode into sites: (event, function, file:line). Three views:
 *
 *   sites      per mode, every site by modeled cycles (then count): what each costs
 *   functions  per mode, the same summed by function, with its costliest events
 *   ptwrites   the functions that store to page tables directly: the shadow MMU's traced writes
 *              (class shadow, qualifier traced_write, EIP = the storing instruction), what Xen's
 *              mmu_update batching had to replace; per mode (trap and trap-classic trace them)
 *
 * An EIP outside every function of the image is listed by address as "(outside the image)" (e.g.
 * the user programs, which are not symbols of the kernel), "(no eip)" for events without one
 * (a shadow page table built or flushed). Output is text, --csv (long format, one row per item of every view, column
 * `view`) or --json.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "analysis/analysis.h"
#include "analysis/provenance.h"
#include "analysis/scan_dyn.h"
#include "analysis/scan_elf.h"
#include "emu/cli.h"
#include "traces/tdb.h"

/* The event classes of the default selection: the ones where the guest's own code costs a
 * monitor entry (or a shadow-MMU action) a port would remove. */
static const char *const default_classes = "exit,callout,montrap,hvtrap,hole,hypercall,shadow";

/* One site of one mode: an event at a function and line (EIP-grouped rows merged). */
struct dsite {
    const char *mode;
    char *cls, *event, *qual;
    const char *func;       /* NULL: outside every function of the image */
    const char *file;
    int line;
    uint32_t eip;           /* the lowest EIP merged in */
    int cpl;
    double n, cycles;
};

struct run {
    long long id;
    char *mode, *guest, *workload;
    long long n;
    struct scan_image *img;
};

/* The loaded images, one per distinct guest path. */
struct imgcache {
    char *path[64];
    struct scan_image img[64];
    int n;
};

static const char *func_label(const struct dsite *s)
{
    if (s->func)
        return s->func;
    return s->eip == 0 ? "(no eip)" : "(outside the image)";
}

static int strnull_cmp(const char *a, const char *b)
{
    return a == b ? 0 : !a ? -1 : !b ? 1 : strcmp(a, b);
}

/* Order for merging: mode, class, event, function (unmapped ones by EIP), file, line. */
static int key_cmp(const void *pa, const void *pb)
{
    const struct dsite *a = pa, *b = pb;
    int c;
    if ((c = an_mode_rank(a->mode) - an_mode_rank(b->mode)) || (c = strcmp(a->mode, b->mode)) ||
        (c = strcmp(a->cls, b->cls)) || (c = strcmp(a->event, b->event)) ||
        (c = strnull_cmp(a->func, b->func)) || (c = strcmp(a->file, b->file)) ||
        (c = a->line - b->line))
        return c;
    if (!a->func && a->eip != b->eip)
        return a->eip < b->eip ? -1 : 1;
    return 0;
}

/* Order of a view: mode, then cycles, count (descending), then the merge key. */
static int cost_cmp(const void *pa, const void *pb)
{
    const struct dsite *a = pa, *b = pb;
    int c = an_mode_rank(a->mode) - an_mode_rank(b->mode);
    if (c || (c = strcmp(a->mode, b->mode)))
        return c;
    if (a->cycles != b->cycles)
        return a->cycles < b->cycles ? 1 : -1;
    if (a->n != b->n)
        return a->n < b->n ? 1 : -1;
    return key_cmp(pa, pb);
}

/* Merge the adjacent equal keys of the sorted array s[0..n); returns the new count. */
static size_t merge(struct dsite *s, size_t n, int (*same)(const struct dsite *, const struct dsite *))
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && same(&s[k - 1], &s[i])) {
            s[k - 1].n += s[i].n;
            s[k - 1].cycles += s[i].cycles;
            if (s[i].eip < s[k - 1].eip)
                s[k - 1].eip = s[i].eip;
            continue;
        }
        s[k++] = s[i];
    }
    return k;
}

static int same_site(const struct dsite *a, const struct dsite *b)
{
    return key_cmp(a, b) == 0;
}

static int func_cmp(const void *pa, const void *pb)
{
    const struct dsite *a = pa, *b = pb;
    int c = an_mode_rank(a->mode) - an_mode_rank(b->mode);
    if (c || (c = strcmp(a->mode, b->mode)) || (c = strcmp(func_label(a), func_label(b))))
        return c;
    if (!a->func && a->eip != b->eip)
        return a->eip < b->eip ? -1 : 1;
    if (a->cycles != b->cycles)         /* within a function: its costliest events first */
        return a->cycles < b->cycles ? 1 : -1;
    return a->n < b->n ? 1 : a->n > b->n ? -1 : 0;
}

static int same_func(const struct dsite *a, const struct dsite *b)
{
    return !strcmp(a->mode, b->mode) && !strcmp(func_label(a), func_label(b)) &&
           (a->func || a->eip == b->eip);
}

/* Whether `cls` is in the comma-separated list (NULL: the default classes; "all": every one). */
static int class_wanted(const char *list, const char *cls)
{
    if (list && !strcmp(list, "all"))
        return 1;
    char item[64];
    snprintf(item, sizeof item, ",%s,", cls);
    char buf[512];
    snprintf(buf, sizeof buf, ",%s,", list ? list : default_classes);
    return strstr(buf, item) != NULL;
}

static struct scan_image *image_for(struct imgcache *c, const char *path, int *rc)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->path[i], path))
            return &c->img[i];
    if (c->n == 64) {
        cli_error("scan", "more than 64 distinct guest files: select fewer runs (--run)");
        *rc = 2;
        return NULL;
    }
    char err[512];
    if (scan_elf(path, &c->img[c->n], err, sizeof err)) {
        cli_error("scan", "%s (give the guest's ELF with --guest FILE)", err);
        scan_image_free(&c->img[c->n]);
        *rc = 3;
        return NULL;
    }
    c->path[c->n] = strdup(path);
    return &c->img[c->n++];
}

/* The selected runs: --run's ids (each must exist and have event rows), else every ok run
 * that has event rows. */
static int select_runs(sqlite3 *db, const struct scan_dyn_opts *o, struct run **out, int *nout)
{
    sqlite3_stmt *st, *has;
    const char *sql =
        "SELECT id, mode, guest, workload, n FROM run"
        " WHERE (?1 IS NULL AND status = 'ok') OR instr(',' || ?1 || ',', ',' || id || ',')"
        " ORDER BY" AN_MODE_ORDER("mode") ", id";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT 1 FROM event WHERE run_id = ? LIMIT 1", -1, &has, NULL)
            != SQLITE_OK) {
        cli_error("scan", "%s: %s", o->db, sqlite3_errmsg(db));
        return 2;
    }
    sqlite3_bind_text(st, 1, o->runs, -1, SQLITE_STATIC);
    struct run *r = NULL;
    int n = 0, rc = 0, found = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(st, 0);
        found++;
        sqlite3_reset(has);
        sqlite3_bind_int64(has, 1, id);
        if (sqlite3_step(has) != SQLITE_ROW) {
            if (o->runs) {
                cli_error("scan", "run %lld of %s has no event rows: record it with "
                                  "`vmlab run --trace full`", id, o->db);
                rc = 2;
            }
            continue;
        }
        r = realloc(r, (n + 1) * sizeof *r);
        r[n] = (struct run){
            .id = id,
            .mode = strdup((const char *)sqlite3_column_text(st, 1)),
            .guest = strdup(sqlite3_column_text(st, 2) ? (const char *)sqlite3_column_text(st, 2)
                                                       : ""),
            .workload = strdup(sqlite3_column_text(st, 3)
                                   ? (const char *)sqlite3_column_text(st, 3) : ""),
            .n = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 4),
        };
        n++;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(has);
    if (rc == 0 && o->runs) {   /* every id given must be a run */
        char *s = strdup(o->runs), *save = NULL;
        for (char *t = strtok_r(s, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
            int hit = 0;
            for (int i = 0; i < n; i++)
                hit |= r[i].id == strtoll(t, NULL, 10);
            if (!hit) {
                cli_error("scan", "no run %s in %s", t, o->db);
                rc = 2;
            }
        }
        free(s);
    }
    if (rc == 0 && n == 0) {
        cli_error("scan", "%s: no %s with event rows: record one with `vmlab run --trace full`",
                  o->db, found ? "successful run" : "run");
        rc = 2;
    }
    *out = r;
    *nout = n;
    return rc;
}

/* Append the priced, EIP-mapped event groups of run `r` to *s. */
static int run_sites(sqlite3 *db, const struct scan_dyn_opts *o, const char *model,
                     const struct run *r, struct dsite **s, size_t *n, size_t *cap)
{
    static const char *const sql =
        "WITH ev AS (SELECT phase, class, reason, qualifier, eip, count(*) AS n, min(cpl) AS cpl"
        "            FROM event WHERE run_id = ?1 AND (?2 < 0 OR phase = ?2)"
        "            GROUP BY phase, class, reason, qualifier, eip),"
        " pc AS MATERIALIZED (SELECT phase, class, reason, qualifier, class_name, event, count,"
        "            cycles FROM priced_count WHERE run_id = ?1 AND model = ?3)"
        " SELECT coalesce(pc.class_name, k.name), coalesce(pc.event, k.name || '(' || ev.reason"
        "        || ')') || CASE WHEN ev.qualifier <> '' AND instr(coalesce(pc.event, ''),"
        "        ev.qualifier) = 0 THEN ' ' || ev.qualifier ELSE '' END,"
        "        ev.qualifier, ev.eip, ev.n, ev.cpl,"
        "        coalesce(ev.n * pc.cycles / nullif(pc.count, 0), 0)"
        " FROM ev JOIN event_class k ON k.id = ev.class"
        " LEFT JOIN pc ON pc.phase = ev.phase AND pc.class = ev.class AND pc.reason = ev.reason"
        "      AND pc.qualifier = ev.qualifier";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        cli_error("scan", "%s: %s", o->db, sqlite3_errmsg(db));
        return 2;
    }
    sqlite3_bind_int64(st, 1, r->id);
    sqlite3_bind_int(st, 2, o->phase);
    sqlite3_bind_text(st, 3, model, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cls = (const char *)sqlite3_column_text(st, 0);
        const char *qual = (const char *)sqlite3_column_text(st, 2);
        int ptw = !strcmp(cls, "shadow") && !strcmp(qual, "traced_write");
        if (!class_wanted(o->events, cls) && !(ptw && (o->views & SD_PTWRITES)))
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 256;
            *s = realloc(*s, *cap * sizeof **s);
        }
        struct dsite *d = &(*s)[(*n)++];
        *d = (struct dsite){
            .mode = r->mode,
            .cls = strdup(cls),
            .event = strdup((const char *)sqlite3_column_text(st, 1)),
            .qual = strdup(qual),
            .eip = (uint32_t)sqlite3_column_int64(st, 3),
            .n = sqlite3_column_double(st, 4),
            .cpl = sqlite3_column_int(st, 5),
            .cycles = sqlite3_column_double(st, 6),
        };
        d->func = scan_lookup(r->img, d->eip, &d->file, &d->line);
        if (!d->func) {         /* listed by address: no file:line borrowed from a neighbour */
            d->file = "";
            d->line = 0;
        }
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE) {
        cli_error("scan", "%s: %s", o->db, sqlite3_errmsg(db));
        return 2;
    }
    return 0;
}

static void where(char *buf, size_t len, const struct dsite *s)
{
    if (s->func && *s->file)
        snprintf(buf, len, "%s:%d", s->file, s->line);
    else
        snprintf(buf, len, "0x%08" PRIx32, s->eip);
}

/* A function's events summed over its lines, costliest first, as "exit(...) 50,
 * shadow(traced_write) 50" (at most four, then "..."); fs[0..n) are its sites. */
static void func_events(char *buf, size_t len, const struct dsite *fs, size_t n)
{
    struct { const char *ev; double n, cycles; } *e = calloc(n + 1, sizeof *e);
    size_t ne = 0, k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < ne && strcmp(e[j].ev, fs[i].event))
            j++;
        if (j == ne)
            e[ne++].ev = fs[i].event;
        e[j].n += fs[i].n;
        e[j].cycles += fs[i].cycles;
    }
    for (size_t i = 1; i < ne; i++)     /* by cycles, then count, descending (stable) */
        for (size_t j = i; j > 0 && (e[j - 1].cycles < e[j].cycles ||
                                     (e[j - 1].cycles == e[j].cycles && e[j - 1].n < e[j].n));
             j--) {
            __typeof__(*e) t = e[j];
            e[j] = e[j - 1];
            e[j - 1] = t;
        }
    buf[0] = 0;
    for (size_t i = 0; i < ne && k < len - 8; i++) {
        if (i == 4) {
            snprintf(buf + k, len - k, ", ...");
            break;
        }
        k += snprintf(buf + k, len - k, "%s%s %.0f", i ? ", " : "", e[i].ev, e[i].n);
    }
    free(e);
}

/* The views over the collected sites s[0..n) (merged by key, sorted by key). */
static void print_views(const struct scan_dyn_opts *o, const char *model, const struct run *runs,
                        int nruns, struct dsite *s, size_t n)
{
    /* Sites with the selected classes (ptwrite-only rows were collected for the ptwrites view). */
    struct dsite *sites = malloc((n + 1) * sizeof *sites);
    struct dsite *ptw = malloc((n + 1) * sizeof *ptw);
    struct dsite *fn = malloc((n + 1) * sizeof *fn);
    size_t ns = 0, np = 0, nf;
    for (size_t i = 0; i < n; i++) {
        if (class_wanted(o->events, s[i].cls))
            sites[ns++] = s[i];
        if (!strcmp(s[i].cls, "shadow") && !strcmp(s[i].qual, "traced_write"))
            ptw[np++] = s[i];
    }
    memcpy(fn, sites, ns * sizeof *fn);
    qsort(fn, ns, sizeof *fn, func_cmp);
    /* Function rows: the first site of each function (its costliest) holds the sums; the
     * events string is built from the run of sites before merging. */
    char **fev = calloc(ns + 1, sizeof *fev);
    nf = 0;
    for (size_t i = 0; i < ns;) {
        size_t j = i + 1;
        while (j < ns && same_func(&fn[i], &fn[j]))
            j++;
        char buf[256];
        func_events(buf, sizeof buf, &fn[i], j - i);
        struct dsite f = fn[i];
        for (size_t k = i + 1; k < j; k++) {
            f.n += fn[k].n;
            f.cycles += fn[k].cycles;
            if (fn[k].eip < f.eip)
                f.eip = fn[k].eip;
        }
        fev[nf] = strdup(buf);
        fn[nf++] = f;
        i = j;
    }
    /* Sort function rows (with their event strings) by cost. */
    size_t *ord = malloc((nf + 1) * sizeof *ord);
    for (size_t i = 0; i < nf; i++)
        ord[i] = i;
    for (size_t i = 1; i < nf; i++)     /* insertion sort: few thousand rows at most */
        for (size_t j = i; j > 0 && cost_cmp(&fn[ord[j - 1]], &fn[ord[j]]) > 0; j--) {
            size_t t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
    qsort(sites, ns, sizeof *sites, cost_cmp);
    /* Page-table writes merge by (mode, function, line) whatever the event label. */
    qsort(ptw, np, sizeof *ptw, cost_cmp);

    char w[320];
    if (o->csv) {
        printf("view,mode,class,event,function,file,line,eip,events,cycles\n");
        for (int v = 0; v < 3; v++) {
            static const unsigned bit[] = { SD_SITES, SD_FUNCS, SD_PTWRITES };
            static const char *const name[] = { "site", "function", "ptwrite" };
            if (!(o->views & bit[v]))
                continue;
            size_t m = v == 0 ? ns : v == 1 ? nf : np;
            for (size_t i = 0; i < m; i++) {
                const struct dsite *d = v == 0 ? &sites[i] : v == 1 ? &fn[ord[i]] : &ptw[i];
                printf("%s,%s,%s,", name[v], d->mode, v == 1 ? "" : d->cls);
                an_csv_str(stdout, v == 1 ? fev[ord[i]] : d->event);
                putchar(',');
                an_csv_str(stdout, func_label(d));
                putchar(',');
                an_csv_str(stdout, d->func ? d->file : "");
                printf(",%d,0x%08" PRIx32 ",%.0f,%.1f\n", d->func && v != 1 ? d->line : 0,
                       d->eip, d->n, d->cycles);
            }
        }
    } else if (o->json) {
        printf("{\"database\": ");
        an_json_str(stdout, o->db);
        printf(", \"model\": ");
        an_json_str(stdout, model);
        printf(", \"phase\": %d, \"runs\": [", o->phase);
        for (int i = 0; i < nruns; i++) {
            printf("%s{\"id\": %lld, \"mode\": ", i ? ", " : "", runs[i].id);
            an_json_str(stdout, runs[i].mode);
            printf(", \"workload\": ");
            an_json_str(stdout, runs[i].workload);
            printf(", \"n\": %lld, \"guest\": ", runs[i].n);
            an_json_str(stdout, runs[i].img->path);
            putchar('}');
        }
        printf("]");
        for (int v = 0; v < 3; v++) {
            static const unsigned bit[] = { SD_SITES, SD_FUNCS, SD_PTWRITES };
            static const char *const name[] = { "sites", "functions", "ptwrites" };
            if (!(o->views & bit[v]))
                continue;
            size_t m = v == 0 ? ns : v == 1 ? nf : np;
            printf(",\n \"%s\": [", name[v]);
            for (size_t i = 0; i < m; i++) {
                const struct dsite *d = v == 0 ? &sites[i] : v == 1 ? &fn[ord[i]] : &ptw[i];
                printf("%s{\"mode\": ", i ? ",\n  " : "\n  ");
                an_json_str(stdout, d->mode);
                if (v != 1) {
                    printf(", \"class\": ");
                    an_json_str(stdout, d->cls);
                }
                printf(", \"%s\": ", v == 1 ? "top_events" : "event");
                an_json_str(stdout, v == 1 ? fev[ord[i]] : d->event);
                printf(", \"function\": ");
                an_json_str(stdout, func_label(d));
                printf(", \"file\": ");
                an_json_str(stdout, d->func ? d->file : "");
                printf(", \"line\": %d, \"eip\": %" PRIu32 ", \"events\": %.0f, \"cycles\": %.1f}",
                       d->func && v != 1 ? d->line : 0, d->eip, d->n, d->cycles);
            }
            printf("]");
        }
        printf("}\n");
    } else {
        static const char *const ph[] = { "setup", "measured", "teardown", "calibration",
                                          "between" };
        printf("Runs in %s (model %s, phase ", o->db, model);
        if (o->phase < 0 || o->phase > 4)
            printf(o->phase < 0 ? "all" : "%d", o->phase);
        else
            printf("%s", ph[o->phase]);
        printf("):\n");
        for (int i = 0; i < nruns; i++)
            printf("  run %-4lld %-12s n=%-7lld %-12s %s\n", runs[i].id, runs[i].workload,
                   runs[i].n, runs[i].mode, runs[i].img->path);
        for (size_t a = 0, fa = 0, pa = 0; a < ns || fa < nf || pa < np;) {
            /* one mode at a time, in mode order */
            const char *head[3] = { a < ns ? sites[a].mode : NULL,
                                    fa < nf ? fn[ord[fa]].mode : NULL,
                                    pa < np ? ptw[pa].mode : NULL };
            const char *mode = NULL;
            for (int k = 0; k < 3; k++)
                if (head[k] && (!mode || an_mode_rank(head[k]) < an_mode_rank(mode) ||
                                (an_mode_rank(head[k]) == an_mode_rank(mode) &&
                                 strcmp(head[k], mode) < 0)))
                    mode = head[k];
            size_t b = a, fb = fa, pb = pa;
            double total = 0, events = 0;
            while (b < ns && !strcmp(sites[b].mode, mode))
                total += sites[b].cycles, events += sites[b].n, b++;
            while (fb < nf && !strcmp(fn[ord[fb]].mode, mode))
                fb++;
            while (pb < np && !strcmp(ptw[pb].mode, mode))
                pb++;
            printf("\n%s: %.0f events at %zu sites in %zu functions, %.0f modeled cycles\n", mode,
                   events, b - a, fb - fa, total);
            if (o->views & SD_SITES) {
                printf("\n  Sites by modeled cycles:\n  %12s  %5s  %8s  %-32s  %-26s  %s\n",
                       "CYCLES", "%CYC", "EVENTS", "EVENT", "FUNCTION", "FILE:LINE");
                for (size_t i = a; i < b; i++) {
                    where(w, sizeof w, &sites[i]);
                    printf("  %12.0f  %5.1f  %8.0f  %-32s  %-26s  %s\n", sites[i].cycles,
                           total ? 100 * sites[i].cycles / total : 0.0, sites[i].n,
                           sites[i].event, func_label(&sites[i]), w);
                }
            }
            if (o->views & SD_FUNCS) {
                printf("\n  By function:\n  %12s  %5s  %8s  %-26s  %s\n", "CYCLES", "%CYC",
                       "EVENTS", "FUNCTION", "EVENTS (costliest first)");
                for (size_t i = fa; i < fb; i++) {
                    const struct dsite *d = &fn[ord[i]];
                    printf("  %12.0f  %5.1f  %8.0f  %-26s  %s\n", d->cycles,
                           total ? 100 * d->cycles / total : 0.0, d->n, func_label(d),
                           fev[ord[i]]);
                }
            }
            if ((o->views & SD_PTWRITES) && pb > pa) {
                printf("\n  Page-table writes (shadow traced_write: stores to page tables the "
                       "monitor traced):\n  %8s  %12s  %-26s  %s\n", "WRITES", "CYCLES",
                       "FUNCTION", "FILE:LINE");
                for (size_t i = pa; i < pb; i++) {
                    where(w, sizeof w, &ptw[i]);
                    printf("  %8.0f  %12.0f  %-26s  %s\n", ptw[i].n, ptw[i].cycles,
                           func_label(&ptw[i]), w);
                }
            }
            a = b, fa = fb, pa = pb;
        }
    }
    for (size_t i = 0; i < nf; i++)
        free(fev[i]);
    free(fev);
    free(ord);
    free(fn);
    free(ptw);
    free(sites);
}

int scan_dynamic(const struct scan_dyn_opts *o)
{
    if (o->events && strcmp(o->events, "all")) {
        /* every class named must be one of this vmlab's */
        char *s = strdup(o->events), *save = NULL;
        int bad = 0;
        for (char *t = strtok_r(s, ",", &save); t && !bad; t = strtok_r(NULL, ",", &save)) {
            int ok = 0;
#define EV_CLASS(id, name, r, q, d) ok |= !strcmp(t, name);
#include "emu/event_classes.def"
#undef EV_CLASS
            if (!ok) {
                cli_error("scan", "--event: '%s' is not an event class (emu/event_classes.def) "
                                  "nor all", t);
                bad = 1;
            }
        }
        free(s);
        if (bad)
            return 2;
    }
    struct tdb *t = an_open_existing(o->db, "scan");
    if (!t)
        return 2;
    sqlite3 *db = tdb_sqlite(t);
    char model[128];
    struct run *runs = NULL;
    int nruns = 0, rc = 0;
    struct imgcache *cache = calloc(1, sizeof *cache);
    struct dsite *s = NULL;
    size_t n = 0, cap = 0;
    if (an_pick_model(db, o->model, model, sizeof model, "scan"))
        rc = 2;
    if (rc == 0)
        rc = select_runs(db, o, &runs, &nruns);
    for (int i = 0; rc == 0 && i < nruns; i++) {
        const char *path = o->guest ? o->guest : runs[i].guest;
        if (!*path) {
            cli_error("scan", "run %lld names no guest file: give it with --guest FILE",
                      runs[i].id);
            rc = 2;
            break;
        }
        if (!(runs[i].img = image_for(cache, path, &rc)))
            break;
        rc = run_sites(db, o, model, &runs[i], &s, &n, &cap);
    }
    if (rc == 0) {
        qsort(s, n, sizeof *s, key_cmp);
        /* merged on a copy of the structs: every row's strings are freed below */
        struct dsite *m = malloc((n + 1) * sizeof *m);
        memcpy(m, s, n * sizeof *m);
        size_t nm = merge(m, n, same_site);
        print_views(o, model, runs, nruns, m, nm);
        if (!o->csv && !o->json) {
            char *ids = NULL, err[256];
            size_t len = 0;
            FILE *f = open_memstream(&ids, &len);
            for (int i = 0; f && i < nruns; i++)
                fprintf(f, "%s%lld", i ? "," : "[", runs[i].id);
            if (f) {
                fputc(']', f);
                fclose(f);
                putchar('\n');
                if (prov_print_line(db, model, ids, o->phase, stdout, err, sizeof err))
                    cli_error("scan", "%s", err);
            }
            free(ids);
        }
        free(m);
    }
    for (size_t i = 0; i < n; i++) {
        free(s[i].cls);
        free(s[i].event);
        free(s[i].qual);
    }
    free(s);
    for (int i = 0; i < nruns; i++) {
        free(runs[i].mode);
        free(runs[i].guest);
        free(runs[i].workload);
    }
    free(runs);
    for (int i = 0; i < cache->n; i++) {
        scan_image_free(&cache->img[i]);
        free(cache->path[i]);
    }
    free(cache);
    tdb_close(t);
    return rc;
}
