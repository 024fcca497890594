/*
 * model.c — cost-model files: parse (libyaml document API, so every node keeps its line), check,
 * and store into the trace database. The format is in model.h and models/README.md.
 *
 * Parsing checks the shape (known keys only, numbers where numbers go, params defined before use,
 * class names from emu/event_classes.def) and where every number comes from: a param's `source`
 * must be a key of the references file (REFERENCES.md beside the model, else the repository's
 * models/REFERENCES.md); a `carried_from` model is parsed in turn (checked the same way; a cycle
 * of models is refused) and must hold the same param, sourced or itself carried, with the same
 * value; costs name params (or say 0), never other numbers. Storing resolves reason names through
 * the database's lookup tables and writes each param's provenance and each cost's params. Either
 * failure is one line: "FILE:LINE: KEY: what is wrong".
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <yaml.h>

#include "analysis/model.h"
#include "traces/tdb_internal.h"

#ifndef VMLAB_SOURCE_DIR
#define VMLAB_SOURCE_DIR "."
#endif

/* The model files being parsed, innermost first: a carried_from naming one of them is a cycle. */
struct chain {
    const char *path; /* as realpath gives it */
    const struct chain *up;
};

/* A model named by carried_from, parsed once per parse. */
struct carried {
    char *name;
    struct model *m;
};

struct ctx {
    const char *file;
    char dir[PATH_MAX];  /* the file's directory */
    yaml_document_t *doc;
    struct model *m;
    char *err;
    unsigned errlen;
    const struct chain *chain;
    char **refs;         /* the keys of the references file, read at the first `source:` */
    unsigned nrefs;
    char refs_path[PATH_MAX + 32]; /* "" until read */
    struct carried *carried;
    unsigned ncarried;
};

/* An EXPR: its value, the non-derived params it rests on (indices into the model's params, no
 * repeats) and its text ("a + b - c"), kept for a derived param. */
struct expr {
    double value;
    unsigned *leaves;
    unsigned nleaves;
    char text[256];
};

static int parse_file(const char *path, const struct chain *up, struct model **out, char *err,
                      unsigned errlen);

static int errat(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s:%lu: %s: %s", c->file,
             n ? (unsigned long)n->start_mark.line + 1 : 0ul, key, msg);
    return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *node(struct ctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

static int parse_number(const char *s, double *v)
{
    char *end;
    if (!s || !*s)
        return 0;
    *v = strtod(s, &end);
    return *end == 0 && isfinite(*v);
}

static int param_index(const struct model *m, const char *name)
{
    for (unsigned i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0)
            return (int)i;
    return -1;
}

static char *dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Add `n` leaves to e's, skipping those it has. -ENOMEM or 0. */
static int expr_add_leaves(struct expr *e, const unsigned *leaves, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned j = 0;
        while (j < e->nleaves && e->leaves[j] != leaves[i])
            j++;
        if (j < e->nleaves)
            continue;
        unsigned *nl = realloc(e->leaves, (e->nleaves + 1) * sizeof *nl);
        if (!nl)
            return -ENOMEM;
        e->leaves = nl;
        e->leaves[e->nleaves++] = leaves[i];
    }
    return 0;
}

/* One term of an EXPR: `name`, `-name`, or (where zero_ok) the number 0. */
static int expr_term(struct ctx *c, yaml_node_t *n, const char *key, int zero_ok, struct expr *e)
{
    const char *s = scalar(n);
    double v;
    if (!s || !*s)
        return errat(c, n, key, "expected a param name or a list of them");
    if (parse_number(s, &v)) {
        if (zero_ok && v == 0)
            return 0;
        return errat(c, n, key, zero_ok ? "literal %s: a number other than 0 must be a param, "
                                          "with its provenance"
                                        : "literal %s: a derived param sums params, not numbers "
                                          "(give the number a param of its own)", s);
    }
    int sign = s[0] == '-' ? -1 : 1;
    const char *name = s + (sign < 0);
    int i = param_index(c->m, name);
    if (i < 0)
        return errat(c, n, key, "'%s' is neither a number nor a param defined under params "
                                "(before its use)", name);
    const struct model_param *p = &c->m->params[i];
    size_t len = strlen(e->text);
    snprintf(e->text + len, sizeof e->text - len, "%s%s",
             len ? (sign < 0 ? " - " : " + ") : (sign < 0 ? "-" : ""), name);
    e->value += sign * p->value;
    return expr_add_leaves(e, p->leaves, p->nleaves) ? errat(c, n, key, "out of memory") : 0;
}

/* EXPR: term | [ term, ... ] (summed); the sum may not be negative. e is zeroed first; free
 * e->leaves whatever the result. */
static int parse_expr(struct ctx *c, yaml_node_t *n, const char *key, int zero_ok, struct expr *e)
{
    memset(e, 0, sizeof *e);
    int rc = 0;
    if (n->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *it = n->data.sequence.items.start;
        if (it == n->data.sequence.items.top)
            return errat(c, n, key, "an empty list");
        for (; rc == 0 && it < n->data.sequence.items.top; it++)
            rc = expr_term(c, node(c, *it), key, zero_ok, e);
    } else if (n->type == YAML_SCALAR_NODE) {
        rc = expr_term(c, n, key, zero_ok, e);
    } else {
        return errat(c, n, key, zero_ok ? "expected a param name, a list of them, or 0"
                                        : "expected a param name or a list of them");
    }
    if (rc == 0 && e->value < 0)
        return errat(c, n, key, "%s comes to %g, less than 0", e->text, e->value);
    return rc;
}

/* --- provenance ------------------------------------------------------------------------------ */

/* Read the keys of a references file: the bracketed word opening a list line, "- [KEY] ...".
 * 1 if the file was read, 0 if it cannot be opened, -ENOMEM. */
static int read_refs(struct ctx *c, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[1024];
    int rc = 1;
    while (rc > 0 && fgets(line, sizeof line, f)) {
        const char *s = line + strspn(line, " \t");
        size_t len = strncmp(s, "- [", 3) == 0 ? strcspn(s + 3, "] \t\n") : 0;
        if (len == 0 || s[3 + len] != ']')
            continue;
        char **nr = realloc(c->refs, (c->nrefs + 1) * sizeof *nr);
        if (!nr || !(nr[c->nrefs] = strndup(s + 3, len))) {
            c->refs = nr ? nr : c->refs;
            rc = -ENOMEM;
            break;
        }
        c->refs = nr;
        c->nrefs++;
    }
    fclose(f);
    if (rc > 0)
        snprintf(c->refs_path, sizeof c->refs_path, "%s", path);
    return rc;
}

static int check_source(struct ctx *c, yaml_node_t *n, const char *key, const char *ref)
{
    if (!c->refs_path[0]) {
        char beside[PATH_MAX + 16];
        snprintf(beside, sizeof beside, "%s/REFERENCES.md", c->dir);
        int rc = read_refs(c, beside);
        if (rc == 0)
            rc = read_refs(c, VMLAB_SOURCE_DIR "/models/REFERENCES.md");
        if (rc < 0)
            return errat(c, n, key, "out of memory");
        if (rc == 0)
            return errat(c, n, key, "no references file: neither %s nor %s can be read", beside,
                         VMLAB_SOURCE_DIR "/models/REFERENCES.md");
    }
    for (unsigned i = 0; i < c->nrefs; i++)
        if (strcmp(c->refs[i], ref) == 0)
            return 0;
    return errat(c, n, key, "unknown reference '%s' (not a key of %s)", ref, c->refs_path);
}

/* The model `name` (the file name.yaml beside this one), parsed and checked once. */
static int carried_model(struct ctx *c, yaml_node_t *n, const char *key, const char *name,
                         const struct model **out)
{
    for (unsigned i = 0; i < c->ncarried; i++)
        if (strcmp(c->carried[i].name, name) == 0) {
            *out = c->carried[i].m;
            return 0;
        }
    if (!*name || strchr(name, '/'))
        return errat(c, n, key, "'%s' is not a model name", name);
    char path[PATH_MAX + 300], real[PATH_MAX], err[512];
    snprintf(path, sizeof path, "%s/%s.yaml", c->dir, name);
    if (!realpath(path, real))
        return errat(c, n, key, "no model '%s' (%s: %s)", name, path, strerror(errno));
    for (const struct chain *ch = c->chain; ch; ch = ch->up)
        if (strcmp(ch->path, real) == 0)
            return errat(c, n, key, "'%s' carries from this model in turn (a cycle)", name);
    struct model *m;
    if (parse_file(path, c->chain, &m, err, sizeof err))
        return errat(c, n, key, "%s", err);
    struct carried *nc = realloc(c->carried, (c->ncarried + 1) * sizeof *nc);
    if (!nc) {
        model_free(m);
        return errat(c, n, key, "out of memory");
    }
    c->carried = nc;
    nc[c->ncarried++] = (struct carried){ strdup(name), m };
    if (strcmp(m->name, name) != 0)
        return errat(c, n, key, "%s names its model '%s', not '%s'", path, m->name, name);
    *out = m;
    return 0;
}

/* carried_from: the other model has this param, published there (or carried in turn), with the
 * same value; p takes its source and where. */
static int check_carried(struct ctx *c, yaml_node_t *n, const char *key, const char *from,
                         struct model_param *p)
{
    const struct model *o = NULL;
    int rc = carried_model(c, n, key, from, &o);
    if (rc)
        return rc;
    int i = param_index(o, p->name);
    if (i < 0)
        return errat(c, n, key, "model %s has no param %s", from, p->name);
    const struct model_param *q = &o->params[i];
    if (q->estimate)
        return errat(c, n, key, "%s's %s is an estimate, not a published number: say estimate "
                                "here too", from, p->name);
    if (q->derived)
        return errat(c, n, key, "%s's %s is derived (%s): carry its parts", from, p->name,
                     q->derived);
    if (q->value != p->value)
        return errat(c, n, key, "%s's %s is %g, not %g", from, p->name, q->value, p->value);
    p->source = dup(q->source);
    p->where = dup(q->where);
    return 0;
}

/* --- params ---------------------------------------------------------------------------------- */

/* The keys of a known number, { cycles: N, source: KEY, where: TEXT | carried_from: MODEL |
 * estimate: WHY }, each with its value (NULL when absent) and node. */
enum { K_CYCLES, K_SOURCE, K_WHERE, K_CARRIED, K_ESTIMATE, K_COUNT };
static const char *const known_keys[K_COUNT] = { "cycles", "source", "where", "carried_from",
                                                 "estimate" };
struct known {
    const char *v[K_COUNT];
    yaml_node_t *at[K_COUNT];
};

static int known_fields(struct ctx *c, yaml_node_t *n, const char *key, struct known *k)
{
    memset(k, 0, sizeof *k);
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
         pr++) {
        const char *name = scalar(node(c, pr->key));
        unsigned i = 0;
        while (i < K_COUNT && !(name && strcmp(name, known_keys[i]) == 0))
            i++;
        char sub[128];
        snprintf(sub, sizeof sub, "%.90s.%.30s", key, name ? name : "?");
        if (i == K_COUNT)
            return errat(c, node(c, pr->key), sub,
                         "unknown key (cycles, source, where, carried_from, estimate)");
        k->at[i] = node(c, pr->value);
        if (!(k->v[i] = scalar(k->at[i])) || !*k->v[i])
            return errat(c, k->at[i], sub, "expected %s", i == K_CYCLES ? "a number" : "a string");
    }
    return 0;
}

/* A known number: its cycles and exactly one provenance, checked. */
static int parse_known(struct ctx *c, yaml_node_t *n, const char *key, struct model_param *p)
{
    struct known k;
    int rc = known_fields(c, n, key, &k);
    if (rc)
        return rc;
    if (!k.v[K_CYCLES] || !parse_number(k.v[K_CYCLES], &p->value) || p->value < 0)
        return errat(c, k.v[K_CYCLES] ? k.at[K_CYCLES] : n, key,
                     "cycles: expected a number, 0 or more");
    int kinds = !!k.v[K_SOURCE] + !!k.v[K_CARRIED] + !!k.v[K_ESTIMATE];
    if (kinds != 1)
        return errat(c, n, key, kinds ? "give one provenance only: source, carried_from or "
                                        "estimate"
                                      : "no provenance: give source: KEY (with where:), "
                                        "carried_from: MODEL or estimate: \"why\"");
    if (!k.v[K_SOURCE] != !k.v[K_WHERE])
        return errat(c, k.v[K_WHERE] ? k.at[K_WHERE] : k.at[K_SOURCE], key,
                     k.v[K_WHERE] ? "where: goes with source:"
                                  : "source: needs where: (the table, figure or section)");
    char sub[128];
    if (k.v[K_SOURCE]) {
        snprintf(sub, sizeof sub, "%.90s.source", key);
        p->source = dup(k.v[K_SOURCE]);
        p->where = dup(k.v[K_WHERE]);
        return check_source(c, k.at[K_SOURCE], sub, k.v[K_SOURCE]);
    }
    if (k.v[K_CARRIED]) {
        snprintf(sub, sizeof sub, "%.90s.carried_from", key);
        p->carried_from = dup(k.v[K_CARRIED]);
        return check_carried(c, k.at[K_CARRIED], sub, k.v[K_CARRIED], p);
    }
    p->estimate = dup(k.v[K_ESTIMATE]);
    return 0;
}

static void param_clear(struct model_param *p)
{
    free(p->name);
    free(p->source);
    free(p->where);
    free(p->carried_from);
    free(p->estimate);
    free(p->derived);
    free(p->leaves);
}

/* features: a list of the CPU features that decide which modes a generation could run: vpid (VM
 * exits keep the TLB) and ept (nested paging: mode trap-ept). Stored as "vpid,ept". */
static int parse_features(struct ctx *c, yaml_node_t *v, const char *key)
{
    static const char *const known[] = {"vpid", "ept"};
    if (!v || v->type != YAML_SEQUENCE_NODE)
        return errat(c, v, key, "expected a list of features (vpid, ept)");
    char *out = c->m->features;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *n = node(c, *it);
        const char *f = scalar(n);
        unsigned k = 0;
        while (k < sizeof known / sizeof known[0] && (!f || strcmp(f, known[k]) != 0))
            k++;
        if (k == sizeof known / sizeof known[0])
            return errat(c, n, key, "unknown feature '%s' (vpid, ept)", f ? f : "?");
        if (strstr(out, known[k]))
            return errat(c, n, key, "feature '%s' given twice", f);
        size_t len = strlen(out);
        snprintf(out + len, sizeof c->m->features - len, "%s%s", len ? "," : "", known[k]);
    }
    return 0;
}

/* One param: a known number (parse_known) or a derived EXPR of earlier params. */
static int parse_param(struct ctx *c, yaml_node_t *v, const char *key, struct model_param *p)
{
    double num;
    if (v->type == YAML_MAPPING_NODE) {
        p->leaves = malloc(sizeof *p->leaves);
        if (!p->leaves)
            return errat(c, v, key, "out of memory");
        p->leaves[0] = c->m->nparams;
        p->nleaves = 1;
        return parse_known(c, v, key, p);
    }
    if (parse_number(scalar(v), &num))
        return errat(c, v, key, "no provenance: write { cycles: %s, source: KEY, where: \"...\" },"
                                " { cycles: %s, carried_from: MODEL } or { cycles: %s, estimate:"
                                " \"why\" }", scalar(v), scalar(v), scalar(v));
    struct expr e;
    int rc = parse_expr(c, v, key, 0, &e);
    p->value = e.value;
    p->leaves = e.leaves;
    p->nleaves = e.nleaves;
    p->derived = strdup(e.text);
    return rc;
}

static int parse_params(struct ctx *c, yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE)
        return errat(c, n, "params", "expected a mapping of name: number with its provenance");
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = node(c, pr->key);
        const char *name = scalar(k);
        char sub[96];
        snprintf(sub, sizeof sub, "params.%.80s", name ? name : "?");
        if (!name || !*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name))
            return errat(c, k, sub, "a param name is lower-case letters, digits and _");
        if (param_index(c->m, name) >= 0)
            return errat(c, k, sub, "param given twice");
        struct model_param p = { .name = strdup(name) };
        int rc = parse_param(c, node(c, pr->value), sub, &p);
        struct model_param *np = rc ? NULL : realloc(c->m->params,
                                                     (c->m->nparams + 1) * sizeof *np);
        if (!np) {
            param_clear(&p);
            return rc ? rc : errat(c, k, sub, "out of memory");
        }
        c->m->params = np;
        np[c->m->nparams++] = p;
    }
    return 0;
}

/* --- costs ----------------------------------------------------------------------------------- */

static int class_id(const char *name)
{
    for (unsigned i = 0; i < tdb_class_count; i++)
        if (strcmp(tdb_classes[i].name, name) == 0)
            return (int)i;
    return -1;
}

static struct model_cost *new_cost(struct ctx *c)
{
    struct model_cost *nc = realloc(c->m->costs, (c->m->ncosts + 1) * sizeof *nc);
    if (!nc)
        return NULL;
    c->m->costs = nc;
    struct model_cost *mc = &nc[c->m->ncosts++];
    memset(mc, 0, sizeof *mc);
    return mc;
}

/* One cost: EXPR, or { cycles: EXPR, per_unit: EXPR } (and reasons: at class level). */
static int parse_cost(struct ctx *c, yaml_node_t *n, const char *key, const char *mode, int cls,
                      const char *reason, int allow_reasons);

static int parse_reasons(struct ctx *c, yaml_node_t *n, const char *key, const char *mode,
                         int cls)
{
    if (n->type != YAML_MAPPING_NODE)
        return errat(c, n, key, "expected a mapping of reason: cost");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key);
        const char *reason = scalar(k);
        char sub[96];
        snprintf(sub, sizeof sub, "%.60s.%.32s", key, reason ? reason : "?");
        if (!reason || !*reason)
            return errat(c, k, key, "a reason must be a number or a name");
        int rc = parse_cost(c, node(c, p->value), sub, mode, cls, reason, 0);
        if (rc)
            return rc;
    }
    return 0;
}

/* The cycles and per_unit EXPRs of a cost (per_unit zeroed when absent); reasons: if given. */
static int cost_exprs(struct ctx *c, yaml_node_t *n, const char *key, int allow_reasons,
                      struct expr *cycles, struct expr *per_unit, yaml_node_t **reasons)
{
    memset(cycles, 0, sizeof *cycles);
    memset(per_unit, 0, sizeof *per_unit);
    if (n->type != YAML_MAPPING_NODE)
        return parse_expr(c, n, key, 1, cycles);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        const char *name = scalar(k);
        char sub[96];
        snprintf(sub, sizeof sub, "%.60s.%.32s", key, name ? name : "?");
        int rc;
        if (name && strcmp(name, "cycles") == 0)
            rc = (free(cycles->leaves), parse_expr(c, v, sub, 1, cycles));
        else if (name && strcmp(name, "per_unit") == 0)
            rc = (free(per_unit->leaves), parse_expr(c, v, sub, 1, per_unit));
        else if (name && strcmp(name, "reasons") == 0 && allow_reasons)
            rc = (*reasons = v, 0);
        else
            rc = errat(c, k, sub, allow_reasons ? "unknown key (cycles, per_unit, reasons)"
                                                : "unknown key (cycles, per_unit)");
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_cost(struct ctx *c, yaml_node_t *n, const char *key, const char *mode, int cls,
                      const char *reason, int allow_reasons)
{
    struct expr cycles, per_unit;
    yaml_node_t *reasons = NULL;
    int rc = cost_exprs(c, n, key, allow_reasons, &cycles, &per_unit, &reasons);
    if (rc == 0 && expr_add_leaves(&cycles, per_unit.leaves, per_unit.nleaves))
        rc = errat(c, n, key, "out of memory");
    free(per_unit.leaves);
    struct model_cost *mc = rc ? NULL : new_cost(c);
    if (!mc) {
        free(cycles.leaves);
        return rc ? rc : errat(c, n, key, "out of memory");
    }
    mc->mode = dup(mode);
    mc->ev_class = cls;
    mc->reason = dup(reason);
    mc->cycles = cycles.value;
    mc->per_unit = per_unit.value;
    mc->leaves = cycles.leaves;
    mc->nleaves = cycles.nleaves;
    mc->line = (int)n->start_mark.line + 1;
    snprintf(mc->key, sizeof mc->key, "%s", key);
    if (reasons) {
        char sub[96];
        snprintf(sub, sizeof sub, "%.80s.reasons", key);
        return parse_reasons(c, reasons, sub, mode, cls);
    }
    return 0;
}

static int parse_costs(struct ctx *c, yaml_node_t *n, const char *key, const char *mode)
{
    if (n->type != YAML_MAPPING_NODE)
        return errat(c, n, key, "expected a mapping of event class: cost");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key);
        const char *name = scalar(k);
        char sub[96];
        snprintf(sub, sizeof sub, "%.60s.%.32s", key, name ? name : "?");
        int cls = name ? class_id(name) : -1;
        if (cls < 0)
            return errat(c, k, sub, "unknown event class (see emu/event_classes.def)");
        for (unsigned i = 0; i < c->m->ncosts; i++) {
            const struct model_cost *o = &c->m->costs[i];
            if (o->ev_class == cls && !o->reason &&
                ((!o->mode && !mode) || (o->mode && mode && strcmp(o->mode, mode) == 0)))
                return errat(c, k, sub, "class given twice");
        }
        int rc = parse_cost(c, node(c, p->value), sub, mode, cls, NULL, 1);
        if (rc)
            return rc;
    }
    return 0;
}

/* --- the file -------------------------------------------------------------------------------- */

static int parse_modes(struct ctx *c, yaml_node_t *modes)
{
    if (modes->type != YAML_MAPPING_NODE)
        return errat(c, modes, "modes", "expected a mapping of mode: costs");
    int rc = 0;
    for (yaml_node_pair_t *p = modes->data.mapping.pairs.start;
         rc == 0 && p < modes->data.mapping.pairs.top; p++) {
        const char *mode = scalar(node(c, p->key));
        char sub[96];
        snprintf(sub, sizeof sub, "modes.%.80s", mode ? mode : "?");
        if (!mode)
            return errat(c, node(c, p->key), sub, "a mode name must be a string");
        rc = parse_costs(c, node(c, p->value), sub, mode);
    }
    return rc;
}

static int parse_top(struct ctx *c, yaml_node_t *root)
{
    if (!root)
        return errat(c, NULL, "(file)", "empty file");
    if (root->type != YAML_MAPPING_NODE)
        return errat(c, root, "(top)", "expected a mapping (name, cpu, year, params, costs)");
    yaml_node_t *costs = NULL, *modes = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        const char *key = scalar(k) ? scalar(k) : "?";
        const char *s = scalar(v);
        double num;
        int rc = 0;
        if (strcmp(key, "name") == 0 || strcmp(key, "cpu") == 0 ||
            strcmp(key, "description") == 0) {
            if (!s)
                return errat(c, v, key, "expected a string");
            char **slot = key[0] == 'n' ? &c->m->name : key[0] == 'c' ? &c->m->cpu
                                                                       : &c->m->description;
            if (*slot)
                return errat(c, k, key, "given twice");
            *slot = strdup(s);
        } else if (strcmp(key, "year") == 0) {
            if (!parse_number(s, &num) || num < 1970 || num > 2100 || num != (int)num)
                return errat(c, v, key, "expected a year");
            c->m->year = (int)num;
        } else if (strcmp(key, "ghz") == 0) {
            if (!parse_number(s, &num) || num <= 0)
                return errat(c, v, key, "expected a clock frequency in GHz");
            c->m->ghz = num;
        } else if (strcmp(key, "features") == 0) {
            rc = parse_features(c, v, key);
        } else if (strcmp(key, "params") == 0) {
            rc = parse_params(c, v);
        } else if (strcmp(key, "costs") == 0) {
            costs = v;
        } else if (strcmp(key, "modes") == 0) {
            modes = v;
        } else {
            return errat(c, k, key,
                         "unknown key (name, cpu, year, ghz, description, features, params, "
                         "costs, modes)");
        }
        if (rc)
            return rc;
    }
    if (!c->m->name)
        return errat(c, root, "name", "missing");
    if (!c->m->cpu)
        return errat(c, root, "cpu", "missing");
    if (!costs)
        return errat(c, root, "costs", "missing");
    int rc = parse_costs(c, costs, "costs", NULL);
    return rc || !modes ? rc : parse_modes(c, modes);
}

static void ctx_free(struct ctx *c)
{
    for (unsigned i = 0; i < c->nrefs; i++)
        free(c->refs[i]);
    free(c->refs);
    for (unsigned i = 0; i < c->ncarried; i++) {
        free(c->carried[i].name);
        model_free(c->carried[i].m);
    }
    free(c->carried);
}

/* Parse the YAML document of `f` (the file at `path`) into a new model. */
static int parse_doc(FILE *f, const char *path, const struct chain *up, struct model **out,
                     char *err, unsigned errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%lu: %s%s%s", path, (unsigned long)parser.problem_mark.line + 1,
                 parser.context ? parser.context : "", parser.context ? ": " : "",
                 parser.problem ? parser.problem : "YAML syntax error");
        yaml_parser_delete(&parser);
        return -EINVAL;
    }
    char real[PATH_MAX];
    struct chain here = { realpath(path, real) ? real : path, up };
    struct ctx c = { .file = path, .doc = &doc, .err = err, .errlen = errlen, .chain = &here };
    const char *slash = strrchr(path, '/');
    snprintf(c.dir, sizeof c.dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    int rc = (c.m = calloc(1, sizeof *c.m)) && (c.m->file = strdup(path)) ? 0 : -ENOMEM;
    if (rc)
        snprintf(err, errlen, "%s: out of memory", path);
    else
        rc = parse_top(&c, yaml_document_get_root_node(&doc));
    ctx_free(&c);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc)
        model_free(c.m);
    else
        *out = c.m;
    return rc;
}

static int parse_file(const char *path, const struct chain *up, struct model **out, char *err,
                      unsigned errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    int rc = parse_doc(f, path, up, out, err, errlen);
    fclose(f);
    return rc;
}

int model_parse(const char *path, struct model **out, char *err, unsigned errlen)
{
    return parse_file(path, NULL, out, err, errlen);
}

void model_free(struct model *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < m->nparams; i++)
        param_clear(&m->params[i]);
    for (unsigned i = 0; i < m->ncosts; i++) {
        free(m->costs[i].mode);
        free(m->costs[i].reason);
        free(m->costs[i].leaves);
    }
    free(m->params);
    free(m->costs);
    free(m->file);
    free(m->name);
    free(m->cpu);
    free(m->description);
    free(m);
}

/* Whether the reason of class `cls` is an exception vector (named by its mnemonic in a model). */
static int vector_class(const char *cls)
{
    static const char *const classes[] = { "fault", "montrap", "reflect", "hvtrap", "bounce" };
    for (unsigned i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strcmp(classes[i], cls) == 0)
            return 1;
    return 0;
}

/* A reason: a number, or a name looked up for the class (VT-x exit, hypercall, vector). */
static int resolve_reason(sqlite3 *db, const struct model *m, const struct model_cost *mc,
                          int64_t *out, char *err, unsigned errlen)
{
    char *end;
    long long v = strtoll(mc->reason, &end, 0);
    if (*end == 0) {
        *out = v;
        return 0;
    }
    const char *cls = tdb_classes[mc->ev_class].name;
    const char *sql = strcmp(cls, "exit") == 0 ? "SELECT nr FROM vmx_exit_reason WHERE name = ?1"
                      : strcmp(cls, "hypercall") == 0
                          ? "SELECT nr FROM xen_hypercall WHERE name = ?1"
                      : vector_class(cls)
                          ? "SELECT nr FROM exception_vector WHERE mnemonic IN (?1, '#' || ?1)"
                      : strcmp(cls, "priv") == 0 || strcmp(cls, "callout") == 0 ||
                              strcmp(cls, "incache") == 0 || strcmp(cls, "hole") == 0
                          ? "SELECT nr FROM insn_class WHERE name = ?1"
                          : NULL;
    int found = 0;
    sqlite3_stmt *st;
    if (sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, mc->reason, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            found = 1;
        }
        sqlite3_finalize(st);
    }
    if (found)
        return 0;
    snprintf(err, errlen, "%s:%d: %s: unknown reason '%s' for class %s%s", m->file, mc->line,
             mc->key, mc->reason, cls,
             sql ? "" : " (this class takes numbers only)");
    return -EINVAL;
}

/* The names of the params a cost rests on, as a JSON array (names need no escaping), or NULL. */
static char *leaves_json(const struct model *m, const struct model_cost *mc)
{
    size_t len = 3;
    for (unsigned i = 0; i < mc->nleaves; i++)
        len += strlen(m->params[mc->leaves[i]].name) + 3;
    char *s = malloc(len);
    if (!s)
        return NULL;
    strcpy(s, "[");
    for (unsigned i = 0; i < mc->nleaves; i++) {
        strcat(s, i ? ",\"" : "\"");
        strcat(s, m->params[mc->leaves[i]].name);
        strcat(s, "\"");
    }
    strcat(s, "]");
    return s;
}

static int store(sqlite3 *db, const struct model *m, char *err, unsigned errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    int64_t id;
#define PREP(sql) (sqlite3_finalize(st), st = NULL, sqlite3_prepare_v2(db, sql, -1, &st, NULL))
#define DBFAIL(what) (snprintf(err, errlen, "%s: storing model: %s", m->file, sqlite3_errmsg(db)), \
                      -EIO)
    if (PREP("DELETE FROM model_cost WHERE model_id IN (SELECT id FROM model WHERE name = ?1)") ||
        (sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC), sqlite3_step(st) != SQLITE_DONE) ||
        PREP("DELETE FROM model_param WHERE model_id IN (SELECT id FROM model WHERE name = ?1)") ||
        (sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC), sqlite3_step(st) != SQLITE_DONE) ||
        PREP("INSERT INTO model(name, cpu, year, ghz, file, description, features, loaded_at)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
             " ON CONFLICT(name) DO UPDATE SET cpu = ?2, year = ?3, ghz = ?4, file = ?5,"
             " description = ?6, features = ?7, loaded_at = excluded.loaded_at RETURNING id"))
        return DBFAIL("");
    sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->cpu, -1, SQLITE_STATIC);
    if (m->year)
        sqlite3_bind_int(st, 3, m->year);
    if (m->ghz > 0)
        sqlite3_bind_double(st, 4, m->ghz);
    sqlite3_bind_text(st, 5, m->file, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, m->description, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, m->features, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = DBFAIL("");
        sqlite3_finalize(st);
        return rc;
    }
    id = sqlite3_column_int64(st, 0);
    if (PREP("INSERT INTO model_param(model_id, name, value, source, source_where, carried_from,"
             " estimate, derived_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
        rc = DBFAIL("");
        sqlite3_finalize(st);
        return rc;
    }
    for (unsigned i = 0; rc == 0 && i < m->nparams; i++) {
        const struct model_param *p = &m->params[i];
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 3, p->value);
        sqlite3_bind_text(st, 4, p->source, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, p->where, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, p->carried_from, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, p->estimate, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, p->derived, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = DBFAIL("");
        sqlite3_reset(st);
    }
    if (rc == 0 && PREP("INSERT INTO model_cost(model_id, mode, class, reason, cycles, per_unit,"
                        " params) VALUES (?, ?, ?, ?, ?, ?, ?)"))
        rc = DBFAIL("");
    for (unsigned i = 0; rc == 0 && i < m->ncosts; i++) {
        const struct model_cost *mc = &m->costs[i];
        int64_t reason;
        char *params = leaves_json(m, mc);
        if (!params) {
            snprintf(err, errlen, "%s: out of memory", m->file);
            rc = -ENOMEM;
            break;
        }
        sqlite3_bind_text(st, 7, params, -1, free);
        sqlite3_bind_int64(st, 1, id);
        if (mc->mode)
            sqlite3_bind_text(st, 2, mc->mode, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 2);
        sqlite3_bind_int(st, 3, mc->ev_class);
        if (!mc->reason)
            sqlite3_bind_null(st, 4);
        else if ((rc = resolve_reason(db, m, mc, &reason, err, errlen)) == 0)
            sqlite3_bind_int64(st, 4, reason);
        sqlite3_bind_double(st, 5, mc->cycles);
        sqlite3_bind_double(st, 6, mc->per_unit);
        if (rc == 0 && sqlite3_step(st) != SQLITE_DONE) {
            if (sqlite3_errcode(db) == SQLITE_CONSTRAINT)
                snprintf(err, errlen, "%s:%d: %s: given twice", m->file, mc->line, mc->key), rc = -EINVAL;
            else
                rc = DBFAIL("");
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
#undef PREP
#undef DBFAIL
}

int model_store(sqlite3 *db, const struct model *m, char *err, unsigned errlen)
{
    int rc = tdb_exec(db, "BEGIN IMMEDIATE", err, errlen);
    if (rc)
        return rc;
    rc = store(db, m, err, errlen);
    if (rc) {
        char ignore[8];
        tdb_exec(db, "ROLLBACK", ignore, sizeof ignore);
        return rc;
    }
    return tdb_exec(db, "COMMIT", err, errlen);
}

const char *model_dir(void)
{
    const char *env = getenv("VMLAB_MODELS");
    return env && *env ? env : VMLAB_SOURCE_DIR "/models";
}

static int load_file(sqlite3 *db, const char *path, char *name, unsigned namelen, char *err,
                     unsigned errlen)
{
    struct model *m;
    int rc = model_parse(path, &m, err, errlen);
    if (rc)
        return rc;
    rc = model_store(db, m, err, errlen);
    if (rc == 0 && name)
        snprintf(name, namelen, "%s", m->name);
    model_free(m);
    return rc;
}

int model_ensure(sqlite3 *db, const char *spec, char *name, unsigned namelen, char *err,
                 unsigned errlen)
{
    size_t len = strlen(spec);
    if (strchr(spec, '/') || (len > 5 && strcmp(spec + len - 5, ".yaml") == 0))
        return load_file(db, spec, name, namelen, err, errlen);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.yaml", model_dir(), spec);
    FILE *f = fopen(path, "r");
    if (f) {
        fclose(f);
        return load_file(db, path, name, namelen, err, errlen);
    }
    sqlite3_stmt *st;
    int found = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM model WHERE name = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, spec, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    if (!found) {
        snprintf(err, errlen, "model '%s': no %s and not in the database", spec, path);
        return -ENOENT;
    }
    snprintf(name, namelen, "%s", spec);
    return 0;
}

static int yaml_name(const struct dirent *d)
{
    size_t len = strlen(d->d_name);
    return len > 5 && strcmp(d->d_name + len - 5, ".yaml") == 0;
}

int model_load_all(sqlite3 *db, char *err, unsigned errlen)
{
    struct dirent **names;
    int n = scandir(model_dir(), &names, yaml_name, alphasort);
    if (n < 0) {
        snprintf(err, errlen, "%s: %s", model_dir(), strerror(errno));
        return -errno;
    }
    int rc = 0, loaded = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", model_dir(), names[i]->d_name);
        if (rc == 0 && (rc = load_file(db, path, NULL, 0, err, errlen)) == 0)
            loaded++;
        free(names[i]);
    }
    free(names);
    return rc ? rc : loaded;
}
