/*
 * cmd_scan.c — `vmlab scan`: where a paravirtual port must change a kernel, and how that moves
 * between two builds of it (issue 19).
 *
 *   vmlab scan [--class C,...] [--pv GLOB,...] [--outside] [--view V,...] [--csv | --json] KERNEL
 *   vmlab scan --diff [--class C,...] [--pv GLOB,...] [--csv | --json] OLD NEW
 *   vmlab scan --db DB [--run ID,...] [--guest FILE] [--model M] [--event CLASS,...]
 *              [--phase P] [--view sites,functions,ptwrites] [--csv | --json]
 *
 * The dynamic view (--db, analysis/scan_dyn.c): the sites that executed in runs recorded with
 * `--trace full`, mapped to function and file:line on the run's guest ELF, with counts and the
 * cycles the cost model prices them at, per mode, costliest first; and the functions that store
 * to page tables directly (a trap run's traced writes).
 *
 * The static view: KERNEL (an ELF image with a symbol table; DWARF line information when it has
 * some) is decoded function by function (analysis/scan_elf.c) and every instruction the emulator
 * classifies (emu/insn_class.def: privileged, IOPL-sensitive, sensitive-but-unprivileged and the
 * few others the modes intercept) is a site, listed with address, class, kind, instruction,
 * function+offset and file:line, then grouped by function and by source file with counts per
 * class. By default the sites are every class but int3, into and ud2 (breakpoints and BUG()
 * traps, which a port does not touch); --class selects classes or kinds (priv, iopl, sens,
 * other) by name. Bytes inside a function that do not decode are listed as undecodable spans.
 *
 * The PV layer: --pv names the source files (fnmatch globs on the file as printed, e.g.
 * `kernel/pvops_native.c`) that make up the port's layer (the pv-ops native implementation);
 * each site is marked in or out of it, the summary counts both, and --outside lists only the
 * sites outside it: the ones a port has not yet routed through its layer.
 *
 * The diff (--diff OLD NEW) matches functions by name, never by address, and compares the
 * sequence of their sites (class and mnemonic, in order): a function whose sites appear only in
 * NEW is `added`, only in OLD `removed`, in both but different `changed` (with the per-class
 * count moves). With --pv, the diff also counts the new sites outside the PV layer. A summary line
 * says how many of OLD's sites sit in functions that would need revisiting.
 *
 * The port overwritten by an upgrade: a function that in OLD called through the PV layer (a
 * pv-ops call or hypercall, struct scan_pvcall) and in NEW has lost that call while gaining raw
 * sites of a class that fits the call's member (flush_tlb: mov_to_cr, mov_from_cr, invlpg;
 * irq_*: cli, sti, pushf, popf; ...; a member no rule knows fits any privileged, IOPL or
 * sensitive class) is listed as `was pv_ops.flush_tlb, now raw mov_to_cr +1, ...`, and the
 * summary counts those calls.
 *
 * A site's unit is its compilation unit's source file (the .c or .S, where its file may be an
 * inlined header: the subsystem); hook says it sits behind a paravirt hook (scan_elf.h: at a
 * .parainstructions patch site, or in a function pv_ops's initializer points to).
 *
 * --csv is long format, one row per site (static view) or per function that moved (diff); --json
 * holds the same rows plus the groups. Exit status: 0, 1 with --outside when a site is outside
 * the PV layer (and with --diff when anything moved), 2 for usage errors, 3 when a file cannot be
 * scanned.
 */
#include <fnmatch.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/scan_dyn.h"
#include "analysis/scan_elf.h"
#include "emu/cli.h"
#include "emu/commands.h"

enum { V_SITES = 1, V_FUNCS = 2, V_FILES = 4, V_GAPS = 8, V_PTWRITES = 16, V_SUBSYS = 32,
       V_ALL = 63 };

struct opts {
    bool want[IC_COUNT];    /* classes that are sites */
    char *pv;               /* comma-separated globs, NULL: no PV layer named */
    bool outside, diff, csv, json;
    unsigned views;
    const char *files[2];
    int nfiles;
    struct scan_dyn_opts dyn;   /* --db: the dynamic view */
    bool views_given;
};

static const char *const kind_name[] = { "priv", "iopl", "sens", "other" };

static void usage(FILE *f)
{
    fprintf(f,
        "usage: vmlab scan [--class C,...] [--pv GLOB,...] [--outside] [--view V,...]\n"
        "                  [--csv | --json] KERNEL\n"
        "       vmlab scan --diff [--class C,...] [--pv GLOB,...] [--csv | --json] OLD NEW\n"
        "       vmlab scan --db DB [--run ID,...] [--guest FILE] [--model M] [--event C,...]\n"
        "                  [--phase P] [--view V,...] [--csv | --json]\n"
        "  KERNEL          an ELF kernel image with symbols (file:line when it has DWARF lines)\n"
        "  --class C,...   the site classes: names of emu/insn_class.def (mov_to_cr, pushf, ...)\n"
        "                  or kinds priv, iopl, sens, other (default: every class but int3,\n"
        "                  into and ud2)\n"
        "  --pv GLOB,...   the PV layer: source files whose sites a port already owns, as\n"
        "                  globs on the file as printed, e.g. kernel/pvops_*.c (default: none)\n"
        "  --outside       only the sites outside the --pv layer; exit status 1 if any\n"
        "  --view V,...    sites, functions, files, subsystems, gaps (undecodable spans) or all\n"
        "                  (default: all)\n"
        "  --diff          compare two builds OLD NEW by function name and site sequence;\n"
        "                  exit status 1 when they differ\n"
        "  --db DB         the dynamic view: the sites that executed in runs recorded with\n"
        "                  --trace full, by function and file:line, with counts and modeled\n"
        "                  cycles per mode, costliest first (the database is only read)\n"
        "  --run ID,...    with --db: only these runs (default: every ok run with event rows)\n"
        "  --guest FILE    with --db: the guest ELF to map EIPs with (default: each run's own)\n"
        "  --model M       with --db: cost model, a name or YAML file (default as vmlab stat)\n"
        "  --event C,...   with --db: event classes, or all (default: exit, callout,\n"
        "                  montrap, hvtrap, hole, hypercall, shadow)\n"
        "  --phase P       with --db: all (default), setup, measured, teardown, calibration\n"
        "                  or a number\n"
        "                  with --db, --view takes sites, functions, ptwrites (the functions\n"
        "                  that store to page tables: traced writes) or all\n"
        "  --csv, --json   one row per site (per moved function with --diff) for pandas or R\n"
        "                  (default: text tables)\n"
        "  --version       print vmlab's version\n");
}

/* --class: every item a class or kind name. */
static int parse_classes(const char *arg, bool *want)
{
    char *s = strdup(arg), *save = NULL;
    memset(want, 0, IC_COUNT * sizeof *want);
    int rc = 0;
    for (char *t = strtok_r(s, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        bool hit = false;
        for (int c = 0; c < IC_COUNT; c++)
            if (!strcmp(t, insn_class_name[c]) || !strcmp(t, kind_name[insn_class_kind[c]]))
                want[c] = hit = true;
        if (!hit) {
            cli_error("scan", "--class: '%s' is neither a class of insn_class.def nor a kind "
                              "(priv, iopl, sens, other)", t);
            rc = -1;
            break;
        }
    }
    free(s);
    return rc;
}

static int parse_views(const char *arg, unsigned *views)
{
    static const struct { const char *name; unsigned bit; } v[] = {
        { "sites", V_SITES }, { "functions", V_FUNCS }, { "files", V_FILES }, { "gaps", V_GAPS },
        { "ptwrites", V_PTWRITES }, { "subsystems", V_SUBSYS },
        { "all", V_ALL },
    };
    char *s = strdup(arg), *save = NULL;
    *views = 0;
    for (char *t = strtok_r(s, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        size_t i = 0;
        while (i < sizeof v / sizeof v[0] && strcmp(t, v[i].name))
            i++;
        if (i == sizeof v / sizeof v[0]) {
            cli_error("scan", "--view takes sites, functions, files, subsystems, gaps, ptwrites "
                              "or all, not '%s'", t);
            free(s);
            return -1;
        }
        *views |= v[i].bit;
    }
    free(s);
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        { "class", required_argument, NULL, 'c' }, { "pv", required_argument, NULL, 'p' },
        { "outside", no_argument, NULL, 'o' },     { "view", required_argument, NULL, 'v' },
        { "diff", no_argument, NULL, 'D' },        { "csv", no_argument, NULL, 'C' },
        { "json", no_argument, NULL, 'J' },        { "help", no_argument, NULL, 'h' },
        { "db", required_argument, NULL, 'd' },    { "run", required_argument, NULL, 'r' },
        { "guest", required_argument, NULL, 'g' }, { "model", required_argument, NULL, 'm' },
        { "event", required_argument, NULL, 'e' }, { "phase", required_argument, NULL, 'P' },
        { 0 },
    };
    *o = (struct opts){ .views = V_SITES | V_FUNCS | V_FILES | V_GAPS, .dyn.phase = -1 };
    for (int c = 0; c < IC_COUNT; c++)
        o->want[c] = c != IC_INT3 && c != IC_INTO && c != IC_UD2 && c != IC_UNDEFINED;
    optind = 0;
    for (int c; (c = cli_getopt("scan", argc, argv, "", longopts)) != -1;) {
        switch (c) {
        case 'c': if (parse_classes(optarg, o->want)) return -1; break;
        case 'p': free(o->pv); o->pv = strdup(optarg); break;
        case 'o': o->outside = true; break;
        case 'v':
            if (parse_views(optarg, &o->views))
                return -1;
            o->views_given = true;
            break;
        case 'd': o->dyn.db = optarg; break;
        case 'r':
            if (!*optarg || strspn(optarg, "0123456789,") != strlen(optarg)) {
                cli_error("scan", "--run takes run ids (numbers, comma-separated), not '%s'",
                          optarg);
                return -1;
            }
            o->dyn.runs = optarg;
            break;
        case 'g': o->dyn.guest = optarg; break;
        case 'm': o->dyn.model = optarg; break;
        case 'e': o->dyn.events = optarg; break;
        case 'P':
            if ((o->dyn.phase = an_parse_phase(optarg)) < -1) {
                cli_error("scan", "unknown phase '%s' (all, setup, measured, teardown, "
                                  "calibration or a number)", optarg);
                return -1;
            }
            break;
        case 'D': o->diff = true; break;
        case 'C': o->csv = true; break;
        case 'J': o->json = true; break;
        case 'h': usage(stdout); return 1;
        case CLI_VERSION: return 1;
        default: return -1;
        }
    }
    o->nfiles = argc - optind;
    if (o->dyn.db) {
        if (o->nfiles || o->diff || o->outside || o->pv) {
            cli_error("scan", "--db takes no kernel image, --diff, --pv or --outside (the guest "
                              "comes from the run, or --guest FILE)");
            return -1;
        }
        if (o->csv && o->json) {
            cli_error("scan", "--csv and --json are exclusive: give one");
            return -1;
        }
        unsigned v = o->views_given ? o->views : V_SITES | V_FUNCS | V_PTWRITES;
        if (v & (V_FILES | V_GAPS) && v != V_ALL) {
            cli_error("scan", "with --db, --view takes sites, functions, ptwrites or all");
            return -1;
        }
        o->dyn.views = (v & V_SITES ? SD_SITES : 0) | (v & V_FUNCS ? SD_FUNCS : 0) |
                       (v & V_PTWRITES ? SD_PTWRITES : 0);
        o->dyn.csv = o->csv;
        o->dyn.json = o->json;
        return 0;
    }
    if (o->dyn.runs || o->dyn.guest || o->dyn.model || o->dyn.events || o->dyn.phase != -1) {
        cli_error("scan", "--run, --guest, --model, --event and --phase go with --db DB");
        return -1;
    }
    if ((o->views & V_PTWRITES) && o->views != V_ALL) {
        cli_error("scan", "--view ptwrites is a view of a recorded run: it goes with --db DB");
        return -1;
    }
    int need = o->diff ? 2 : 1;
    if (o->nfiles != need) {
        cli_error("scan", o->diff ? "--diff needs two kernel images, OLD and NEW"
                                  : "needs one kernel image (vmlab scan --help)");
        return -1;
    }
    for (int i = 0; i < need; i++)
        o->files[i] = argv[optind + i];
    if (o->csv && o->json) {
        cli_error("scan", "--csv and --json are exclusive: give one");
        return -1;
    }
    if (o->outside && !o->pv) {
        cli_error("scan", "--outside needs --pv GLOB,... (the PV layer it is outside of)");
        return -1;
    }
    return 0;
}

/* Whether a site's file is in the PV layer named by --pv. */
static bool in_pv(const struct opts *o, const char *file)
{
    if (!o->pv || !*file)
        return false;
    char *s = strdup(o->pv), *save = NULL;
    bool hit = false;
    for (char *t = strtok_r(s, ",", &save); t && !hit; t = strtok_r(NULL, ",", &save))
        hit = fnmatch(t, file, 0) == 0;
    free(s);
    return hit;
}

static bool keep(const struct opts *o, const struct scan_site *s)
{
    return o->want[s->cls] && (!o->outside || !in_pv(o, s->file));
}

/* --- grouping ------------------------------------------------------------------------------ */

/* One group (a function or a file) and its per-class counts. */
struct group {
    const char *key;
    size_t n, pv, hooked;   /* sites; in the --pv layer; behind a paravirt hook */
    unsigned by[IC_COUNT];
};

#define SUBSYS_LEN 64

/* The subsystem of site s, into buf: its compilation unit's directory (the site's file when the
 * unit is unknown) relative to the image's source prefix, cut after arch/ARCH/DIR for
 * architecture code and after the first directory elsewhere: arch/x86/kernel, arch/x86/mm,
 * kernel, mm, drivers, fs ... (vmlab's own kernel: kernel, lib, user). */
static const char *subsystem(const struct scan_image *img, const struct scan_site *s, char *buf)
{
    const char *p = s->unit && *s->unit ? s->unit : s->file;
    size_t pl = strlen(img->prefix);
    if (pl && !strncmp(p, img->prefix, pl))
        p += pl;
    while (*p == '/')
        p++;
    int parts = strncmp(p, "arch/", 5) ? 1 : 3;
    size_t n = 0;
    for (const char *q = p; *q && n + 1 < SUBSYS_LEN; q++) {
        if (*q == '/' && --parts == 0)
            break;
        buf[n++] = *q;
    }
    buf[n] = '\0';
    /* A file with no directory left is its own subsystem only if nothing else names one. */
    return n && strchr(p, '/') ? buf : (*p ? "(top level)" : "(no line information)");
}

static int group_cmp(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->key, y->key);
}

/* The sites kept by `o`, grouped by function (by 0), file (1) or subsystem (2, keys in sub:
 * SUBSYS_LEN bytes per site); sorted by count, then key. Linear search per site over the groups,
 * hashed by nothing: fine for the thousands of groups Linux has, since sites of one group are
 * mostly consecutive (the last group is tried first). */
static struct group *group_sites(const struct scan_image *img, const struct opts *o, int by,
                                 char *sub, size_t *ngroups)
{
    struct group *g = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < img->nsites; i++) {
        const struct scan_site *s = &img->sites[i];
        if (!keep(o, s))
            continue;
        const char *key = by == 2 ? subsystem(img, s, sub + i * SUBSYS_LEN)
                          : by == 1 ? (*s->file ? s->file : "(no line information)") : s->func;
        size_t k = n;
        if (n && !strcmp(g[n - 1].key, key))
            k = n - 1;
        else
            for (k = 0; k < n && strcmp(g[k].key, key); k++)
                ;
        if (k == n) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                g = realloc(g, cap * sizeof *g);
            }
            g[n++] = (struct group){ .key = key };
        }
        g[k].n++;
        g[k].by[s->cls]++;
        if (in_pv(o, s->file))
            g[k].pv++;
        if (s->hook)
            g[k].hooked++;
    }
    qsort(g, n, sizeof *g, group_cmp);
    *ngroups = n;
    return g;
}

/* "push_seg 4, pop_seg 4" */
static void print_classes(FILE *f, const unsigned *by)
{
    const char *sep = "";
    for (int c = 0; c < IC_COUNT; c++)
        if (by[c]) {
            fprintf(f, "%s%s %u", sep, insn_class_name[c], by[c]);
            sep = ", ";
        }
}

static void json_classes(FILE *f, const unsigned *by)
{
    const char *sep = "";
    fputc('{', f);
    for (int c = 0; c < IC_COUNT; c++)
        if (by[c]) {
            fprintf(f, "%s\"%s\": %u", sep, insn_class_name[c], by[c]);
            sep = ", ";
        }
    fputc('}', f);
}

/* --- the static view ----------------------------------------------------------------------- */

static int scan_one(const struct opts *o)
{
    struct scan_image img;
    char err[512];
    if (scan_elf(o->files[0], &img, err, sizeof err)) {
        cli_error("scan", "%s", err);
        scan_image_free(&img);
        return 3;
    }
    size_t kept = 0, pv = 0;
    unsigned by[IC_COUNT] = { 0 };
    for (size_t i = 0; i < img.nsites; i++)
        if (keep(o, &img.sites[i])) {
            kept++;
            by[img.sites[i].cls]++;
            pv += in_pv(o, img.sites[i].file);
        }
    size_t nfn, nfl, nsub;
    char *sub = calloc(img.nsites + 1, SUBSYS_LEN);
    struct group *fn = group_sites(&img, o, 0, sub, &nfn), *fl = group_sites(&img, o, 1, sub, &nfl);
    struct group *sb = group_sites(&img, o, 2, sub, &nsub);

    if (o->csv) {
        printf("address,class,kind,mnemonic,operands,function,offset,file,line,section,pv,unit,"
               "hook\n");
        for (size_t i = 0; i < img.nsites; i++) {
            const struct scan_site *s = &img.sites[i];
            if (!keep(o, s))
                continue;
            printf("0x%08" PRIx64 ",%s,%s,%s,", s->addr, insn_class_name[s->cls],
                   kind_name[insn_class_kind[s->cls]], s->mnem);
            an_csv_str(stdout, s->ops);
            putchar(',');
            an_csv_str(stdout, s->func);
            printf(",%" PRIu64 ",", s->func_off);
            an_csv_str(stdout, s->file);
            printf(",%d,%s,%d,", s->line, s->section, in_pv(o, s->file));
            const char *u = s->unit ? s->unit : "";
            an_csv_str(stdout, *img.prefix && !strncmp(u, img.prefix, strlen(img.prefix))
                                   ? u + strlen(img.prefix) : u);
            printf(",%s\n", s->hook == 1 ? "parainstructions" : s->hook == 2 ? "pv_ops_native" : "");
        }
    } else if (o->json) {
        printf("{\"image\": ");
        an_json_str(stdout, img.path);
        printf(", \"functions_scanned\": %zu, \"instructions\": %" PRIu64
               ", \"line_table\": %s, \"file_prefix\": ", img.nfuncs, img.insns,
               img.has_lines ? "true" : "false");
        an_json_str(stdout, img.prefix);
        printf(", \"sites_total\": %zu, \"sites_in_pv\": %zu, \"by_class\": ", kept, pv);
        json_classes(stdout, by);
        printf(",\n \"sites\": [");
        const char *sep = "\n  ";
        for (size_t i = 0; i < img.nsites; i++) {
            const struct scan_site *s = &img.sites[i];
            if (!keep(o, s))
                continue;
            printf("%s{\"address\": %" PRIu64 ", \"class\": \"%s\", \"kind\": \"%s\", "
                   "\"mnemonic\": ", sep, s->addr, insn_class_name[s->cls],
                   kind_name[insn_class_kind[s->cls]]);
            an_json_str(stdout, s->mnem);
            printf(", \"operands\": ");
            an_json_str(stdout, s->ops);
            printf(", \"function\": ");
            an_json_str(stdout, s->func);
            printf(", \"offset\": %" PRIu64 ", \"file\": ", s->func_off);
            an_json_str(stdout, s->file);
            printf(", \"line\": %d, \"section\": ", s->line);
            an_json_str(stdout, s->section);
            printf(", \"pv\": %s, \"hook\": \"%s\"}", in_pv(o, s->file) ? "true" : "false",
                   s->hook == 1 ? "parainstructions" : s->hook == 2 ? "pv_ops_native" : "");
            sep = ",\n  ";
        }
        for (int pass = 0; pass < 2; pass++) {
            struct group *g = pass ? fl : fn;
            size_t n = pass ? nfl : nfn;
            printf("],\n \"%s\": [", pass ? "by_file" : "by_function");
            sep = "\n  ";
            for (size_t i = 0; i < n; i++) {
                printf("%s{\"%s\": ", sep, pass ? "file" : "function");
                an_json_str(stdout, g[i].key);
                printf(", \"sites\": %zu, \"pv\": %zu, \"by_class\": ", g[i].n, g[i].pv);
                json_classes(stdout, g[i].by);
                putchar('}');
                sep = ",\n  ";
            }
        }
        printf("],\n \"undecodable\": [");
        sep = "";
        for (size_t i = 0; i < img.ngaps; i++) {
            printf("%s{\"address\": %" PRIu64 ", \"bytes\": %u, \"function\": ", sep,
                   img.gaps[i].addr, img.gaps[i].len);
            an_json_str(stdout, img.gaps[i].func);
            putchar('}');
            sep = ", ";
        }
        printf("]}\n");
    } else {
        printf("%s: %zu functions, %" PRIu64 " instructions, %zu sites", img.path, img.nfuncs,
               img.insns, kept);
        if (o->pv)
            printf(" (%zu in the PV layer %s, %zu outside)", pv, o->pv, kept - pv);
        printf("\n  by class: ");
        print_classes(stdout, by);
        putchar('\n');
        if (!img.has_lines)
            printf("  no DWARF line table: no file:line\n");
        else if (*img.prefix)
            printf("  file names relative to %s\n", img.prefix);
        if (o->views & V_SITES) {
            printf("\nSites:\n  %-10s  %-12s  %-5s  %-30s  %-30s  %s\n", "ADDRESS", "CLASS", "KIND",
                   "INSTRUCTION", "FUNCTION+OFFSET", "FILE:LINE");
            for (size_t i = 0; i < img.nsites; i++) {
                const struct scan_site *s = &img.sites[i];
                if (!keep(o, s))
                    continue;
                char insn[200], where[96];
                snprintf(insn, sizeof insn, "%s%s%s", s->mnem, *s->ops ? " " : "", s->ops);
                snprintf(where, sizeof where, "%s+0x%" PRIx64, s->func, s->func_off);
                printf("  0x%08" PRIx64 "  %-12s  %-5s  %-30s  %-30s  ", s->addr,
                       insn_class_name[s->cls], kind_name[insn_class_kind[s->cls]], insn, where);
                if (*s->file)
                    printf("%s:%d%s", s->file, s->line, in_pv(o, s->file) ? "  [pv]" : "");
                putchar('\n');
            }
        }
        for (int pass = 0; pass < 2; pass++) {
            if (!(o->views & (pass ? V_FILES : V_FUNCS)))
                continue;
            struct group *g = pass ? fl : fn;
            size_t n = pass ? nfl : nfn;
            printf("\nBy %s (%zu):\n  %5s  %-30s  %s\n", pass ? "file" : "function", n, "SITES",
                   pass ? "FILE" : "FUNCTION", "CLASSES");
            for (size_t i = 0; i < n; i++) {
                printf("  %5zu  %-30s  ", g[i].n, g[i].key);
                print_classes(stdout, g[i].by);
                putchar('\n');
            }
        }
        if (o->views & V_SUBSYS) {
            size_t hooked = 0;
            for (size_t i = 0; i < nsub; i++)
                hooked += sb[i].hooked;
            printf("\nBy subsystem (%zu; %zu of %zu sites behind a paravirt hook: a pv_ops native "
                   "implementation or a .parainstructions site):\n  %5s  %6s  %-24s  %s\n", nsub,
                   hooked, kept, "SITES", "HOOKED", "SUBSYSTEM", "CLASSES");
            for (size_t i = 0; i < nsub; i++) {
                printf("  %5zu  %6zu  %-24s  ", sb[i].n, sb[i].hooked, sb[i].key);
                print_classes(stdout, sb[i].by);
                putchar('\n');
            }
        }
        if (o->views & V_GAPS) {
            printf("\nUndecodable spans: %s\n", img.ngaps ? "" : "none");
            for (size_t i = 0; i < img.ngaps; i++)
                printf("  0x%08" PRIx64 "  %u bytes in %s\n", img.gaps[i].addr, img.gaps[i].len,
                       img.gaps[i].func);
        }
    }
    free(fn);
    free(fl);
    free(sb);
    free(sub);
    scan_image_free(&img);
    return o->outside && kept ? 1 : 0;
}

/* --- the diff ------------------------------------------------------------------------------ */

/* A function's kept sites: their classes and mnemonics, in address order. */
struct fsites {
    const char *name;
    size_t first, n;        /* the site indices of img (kept ones among them) */
    size_t outside;         /* kept sites outside the PV layer */
};

static int fs_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fsites *)a)->name, ((const struct fsites *)b)->name);
}

/* The functions of img with kept sites, sorted by name (one entry per name: a name defined
 * twice, e.g. two static functions, keeps its sites together in address order of the first). */
static struct fsites *by_name(const struct scan_image *img, const struct opts *o, size_t *n)
{
    struct fsites *f = calloc(img->nsites + 1, sizeof *f);
    size_t k = 0;
    for (size_t i = 0; i < img->nsites; i++) {
        const struct scan_site *s = &img->sites[i];
        if (!keep(o, s))
            continue;
        if (!k || f[k - 1].name != s->func)
            f[k++] = (struct fsites){ .name = s->func, .first = i };
        f[k - 1].n = i - f[k - 1].first + 1;
        f[k - 1].outside += o->pv && !in_pv(o, s->file);
    }
    qsort(f, k, sizeof *f, fs_cmp);
    *n = k;
    return f;
}

/* Per-class counts of a function's kept sites. */
static void count(const struct scan_image *img, const struct opts *o, const struct fsites *f,
                  int *by, int sign, size_t *total)
{
    for (size_t i = f->first; f->n && i < f->first + f->n; i++)
        if (keep(o, &img->sites[i])) {
            by[img->sites[i].cls] += sign;
            if (total)
                (*total)++;
        }
}

static bool same_sequence(const struct scan_image *a, const struct fsites *fa,
                          const struct scan_image *b, const struct fsites *fb,
                          const struct opts *o)
{
    size_t i = fa->first, j = fb->first, ea = fa->first + fa->n, eb = fb->first + fb->n;
    for (;;) {
        while (i < ea && !keep(o, &a->sites[i]))
            i++;
        while (j < eb && !keep(o, &b->sites[j]))
            j++;
        if (i == ea || j == eb)
            return i == ea && j == eb;
        if (a->sites[i].cls != b->sites[j].cls || strcmp(a->sites[i].mnem, b->sites[j].mnem))
            return false;
        i++, j++;
    }
}

/* The classes a raw replacement of pv-ops member `m` would use, as a bit set over insn_class;
 * 0 when no rule knows the member. Rules are substrings of the member name (own kernel and
 * Linux 6.1 names alike). */
static uint64_t member_classes(const char *m)
{
#define B(c) (1ull << (c))
    static const struct { const char *sub; uint64_t cls; } rules[] = {
        { "flush_tlb", B(IC_MOV_TO_CR) | B(IC_MOV_FROM_CR) | B(IC_INVLPG) },
        { "invlpg", B(IC_INVLPG) },
        { "cr", B(IC_MOV_TO_CR) | B(IC_MOV_FROM_CR) | B(IC_CLTS) | B(IC_LMSW) | B(IC_SMSW) },
        { "irq", B(IC_CLI) | B(IC_STI) | B(IC_PUSHF) | B(IC_POPF) },
        { "_fl", B(IC_PUSHF) | B(IC_POPF) | B(IC_CLI) | B(IC_STI) },
        { "gdt", B(IC_LGDT) | B(IC_SGDT) | B(IC_MOV_TO_SEG) | B(IC_FAR_JMP) | B(IC_FAR_RET) },
        { "idt", B(IC_LIDT) | B(IC_SIDT) },
        { "ldt", B(IC_LLDT) | B(IC_SLDT) },
        { "tss", B(IC_LTR) | B(IC_STR) },
        { "inb", B(IC_IN) | B(IC_INS) }, { "inl", B(IC_IN) | B(IC_INS) },
        { "outb", B(IC_OUT) | B(IC_OUTS) }, { "outl", B(IC_OUT) | B(IC_OUTS) },
        { "io_delay", B(IC_OUT) | B(IC_IN) },
        { "halt", B(IC_HLT) }, { "iret", B(IC_IRET) },
        { "msr", B(IC_RDMSR) | B(IC_WRMSR) }, { "cpuid", B(IC_CPUID) },
        { "wbinvd", B(IC_WBINVD) }, { "debugreg", B(IC_MOV_DR) },
        { "hypercall", 0 },
    };
#undef B
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strstr(m, rules[i].sub))
            return rules[i].cls;
    return 0;
}

/* The PV-layer calls of function `name` in img, as indices into img->pvcalls (at most max). */
static size_t pvcalls_of(const struct scan_image *img, const char *name, size_t *idx, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < img->npvcalls && n < max; i++)
        if (!strcmp(img->pvcalls[i].func, name))
            idx[n++] = i;
    return n;
}

/* Whether function `name` bypasses the PV layer in NEW (file comment): writes what it became
 * ("was pv_ops.flush_tlb, now raw mov_to_cr +1, ...") into out and returns how many of OLD's
 * PV-layer calls it lost to raw sites; by holds its per-class site moves (NEW - OLD). */
static size_t pv_bypass(const struct scan_image *old, const struct scan_image *new,
                        const char *name, const int *by, char *out, size_t outlen)
{
    size_t io[64], in[64], no = pvcalls_of(old, name, io, 64), nn = pvcalls_of(new, name, in, 64);
    bool used[64] = { false };
    uint64_t gained = 0;
    for (int c = 0; c < IC_COUNT; c++)
        if (by[c] > 0 && insn_class_kind[c] != IK_OTHER)
            gained |= 1ull << c;
    size_t lost = 0, len = 0, nm = 0, mcount[64];
    const struct scan_pvcall *mem[64];     /* the distinct members lost, with their counts */
    uint64_t shown = 0;
    *out = 0;
    for (size_t i = 0; i < no && gained; i++) {
        const struct scan_pvcall *a = &old->pvcalls[io[i]];
        size_t j = 0;
        while (j < nn && (used[j] || strcmp(new->pvcalls[in[j]].member, a->member)))
            j++;
        if (j < nn) {           /* still made in NEW */
            used[j] = true;
            continue;
        }
        uint64_t fit = member_classes(a->member);
        fit = (fit ? fit : ~0ull) & gained;
        if (!fit)
            continue;
        size_t k = 0;
        while (k < nm && strcmp(mem[k]->member, a->member))
            k++;
        if (k == nm) {
            mem[nm] = a;
            mcount[nm++] = 0;
        }
        mcount[k]++;
        shown |= fit;
        lost++;
    }
    for (size_t k = 0; k < nm; k++) {
        len += snprintf(out + len, len < outlen ? outlen - len : 0, "%s%s%s", k ? ", " : "was ",
                        mem[k]->off == UINT32_MAX ? "" : "pv_ops.", mem[k]->member);
        if (mcount[k] > 1)
            len += snprintf(out + len, len < outlen ? outlen - len : 0, " (%zu call sites)",
                            mcount[k]);
    }
    if (lost) {
        len += snprintf(out + len, len < outlen ? outlen - len : 0, ", now raw");
        const char *sep = " ";
        for (int c = 0; c < IC_COUNT; c++)
            if (shown >> c & 1) {
                len += snprintf(out + len, len < outlen ? outlen - len : 0, "%s%s %+d", sep,
                                insn_class_name[c], by[c]);
                sep = ", ";
            }
    }
    return lost;
}

static int scan_diff(const struct opts *o)
{
    struct scan_image img[2];
    char err[512];
    for (int k = 0; k < 2; k++)
        if (scan_elf(o->files[k], &img[k], err, sizeof err)) {
            cli_error("scan", "%s", err);
            scan_image_free(&img[k]);
            if (k)
                scan_image_free(&img[0]);
            return 3;
        }
    size_t n[2];
    struct fsites *f[2] = { by_name(&img[0], o, &n[0]), by_name(&img[1], o, &n[1]) };
    size_t i = 0, j = 0, added = 0, removed = 0, changed = 0, old_total = 0, old_moved = 0,
           new_outside = 0;
    for (size_t k = 0; k < n[0]; k++)
        count(&img[0], o, &f[0][k], (int[IC_COUNT]){ 0 }, 1, &old_total);
    if (o->csv)
        printf("function,change,old_sites,new_sites,classes\n");
    else if (o->json) {
        printf("{\"old\": ");
        an_json_str(stdout, o->files[0]);
        printf(", \"new\": ");
        an_json_str(stdout, o->files[1]);
        printf(", \"functions\": [");
    } else
        printf("%-8s  %-30s  %5s  %5s  %s\n", "CHANGE", "FUNCTION", "OLD", "NEW",
               "SITES (+added -removed per class)");
    const char *sep = "\n  ";
    char (*bypass)[600] = NULL;     /* the bypass lines, printed after the table */
    const char **bypass_fn = NULL;
    size_t nbypass = 0, bypassed_calls = 0;
    while (i < n[0] || j < n[1]) {
        int c = i == n[0] ? 1 : j == n[1] ? -1 : strcmp(f[0][i].name, f[1][j].name);
        const struct fsites *a = c <= 0 ? &f[0][i] : NULL, *b = c >= 0 ? &f[1][j] : NULL;
        const char *what = NULL;
        int by[IC_COUNT] = { 0 };
        size_t na = 0, nb = 0;
        if (a)
            count(&img[0], o, a, by, -1, &na);
        if (b)
            count(&img[1], o, b, by, 1, &nb);
        if (a && b) {
            if (!same_sequence(&img[0], a, &img[1], b, o))
                what = "changed", changed++;
            if (what && b->outside > a->outside)
                new_outside += b->outside - a->outside;
        } else if (b) {
            what = "added", added++;
            new_outside += b->outside;
        } else
            what = "removed", removed++;
        if (what && a)
            old_moved += na;
        char bp[600];
        size_t lostcalls = b ? pv_bypass(&img[0], &img[1], b->name, by, bp, sizeof bp) : 0;
        if (lostcalls) {
            bypass = realloc(bypass, (nbypass + 1) * sizeof *bypass);
            bypass_fn = realloc(bypass_fn, (nbypass + 1) * sizeof *bypass_fn);
            snprintf(bypass[nbypass], sizeof bypass[nbypass], "%s", bp);
            bypass_fn[nbypass++] = b->name;
            bypassed_calls += lostcalls;
        }
        if (what) {
            const char *name = a ? a->name : b->name;
            char classes[512] = "";
            size_t len = 0;
            for (int cl = 0; cl < IC_COUNT && len < sizeof classes - 40; cl++)
                if (by[cl])
                    len += snprintf(classes + len, sizeof classes - len, "%s%s %+d",
                                    len ? ", " : "", insn_class_name[cl], by[cl]);
            if (!len)
                snprintf(classes, sizeof classes, "same counts, order or mnemonics moved");
            if (o->csv) {
                an_csv_str(stdout, name);
                printf(",%s,%zu,%zu,", what, na, nb);
                an_csv_str(stdout, classes);
                putchar('\n');
            } else if (o->json) {
                printf("%s{\"function\": ", sep);
                an_json_str(stdout, name);
                printf(", \"change\": \"%s\", \"old_sites\": %zu, \"new_sites\": %zu, "
                       "\"classes\": ", what, na, nb);
                an_json_str(stdout, classes);
                putchar('}');
                sep = ",\n  ";
            } else
                printf("%-8s  %-30s  %5zu  %5zu  %s\n", what, name, na, nb, classes);
        }
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
    }
    size_t moved = added + removed + changed;
    if (o->csv)
        for (size_t k = 0; k < nbypass; k++) {
            an_csv_str(stdout, bypass_fn[k]);
            printf(",pv_bypass,,,");
            an_csv_str(stdout, bypass[k]);
            putchar('\n');
        }
    if (o->json) {
        printf("],\n \"pv_bypassed\": [");
        for (size_t k = 0; k < nbypass; k++) {
            printf("%s{\"function\": ", k ? ", " : "");
            an_json_str(stdout, bypass_fn[k]);
            printf(", \"what\": ");
            an_json_str(stdout, bypass[k]);
            putchar('}');
        }
        printf("],\n \"added\": %zu, \"removed\": %zu, \"changed\": %zu, \"old_sites\": %zu, "
               "\"old_sites_to_revisit\": %zu, \"new_sites_outside_pv\": %zu, "
               "\"pv_call_sites_now_raw\": %zu}\n", added, removed, changed, old_total, old_moved,
               new_outside, bypassed_calls);
    } else if (!o->csv) {
        if (nbypass) {
            printf("\nPV layer bypassed (routed through the PV layer in OLD, raw in NEW):\n");
            for (size_t k = 0; k < nbypass; k++)
                printf("  %-30s  %s\n", bypass_fn[k], bypass[k]);
        }
        printf("%s%zu functions with sites added, %zu removed, %zu changed: %zu of %zu sites of "
               "OLD (%.1f%%) in functions to revisit", moved ? "\n" : "", added, removed, changed,
               old_moved, old_total, old_total ? 100.0 * old_moved / old_total : 0.0);
        if (o->pv)
            printf("; %zu new sites outside the PV layer", new_outside);
        if (nbypass)
            printf("; %zu functions bypass the PV layer (%zu call sites now raw)", nbypass,
                   bypassed_calls);
        putchar('\n');
    }
    free(bypass);
    free(bypass_fn);
    free(f[0]);
    free(f[1]);
    scan_image_free(&img[0]);
    scan_image_free(&img[1]);
    return moved ? 1 : 0;
}

int cmd_scan(int argc, char **argv)
{
    struct opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) {
        free(o.pv);
        return rc > 0 ? 0 : 2;
    }
    rc = o.dyn.db ? scan_dynamic(&o.dyn) : o.diff ? scan_diff(&o) : scan_one(&o);
    free(o.pv);
    return rc;
}
