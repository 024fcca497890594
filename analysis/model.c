/*
 * model.c — cost-model files: parse (libyaml document API, so every node keeps its line), check,
 * and store into the trace database. The format is in model.h and models/README.md.
 *
 * Parsing checks the shape (known keys only, numbers where numbers go, params defined before use,
 * class names from emu/event_classes.def); storing resolves reason names through the database's
 * lookup tables. Either failure is one line: "FILE:LINE: KEY: what is wrong".
 */
#include <dirent.h>
#include <errno.h>
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

struct ctx {
    const char *file;
    yaml_document_t *doc;
    struct model *m;
    char *err;
    unsigned errlen;
};

static int errat(struct ctx *c, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    char msg[256];
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
    return *end == 0;
}

static int find_param(const struct model *m, const char *name, double *v)
{
    for (unsigned i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0) {
            *v = m->params[i].value;
            return 1;
        }
    return 0;
}

/* VALUE: number | param name | [ number | param name, ... ] (summed) */
static int parse_value(struct ctx *c, yaml_node_t *n, const char *key, double *out)
{
    if (n->type == YAML_SEQUENCE_NODE) {
        double sum = 0;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            yaml_node_t *item = node(c, *it);
            double v;
            if (item->type != YAML_SCALAR_NODE)
                return errat(c, item, key, "a list element must be a number or a param name");
            int rc = parse_value(c, item, key, &v);
            if (rc)
                return rc;
            sum += v;
        }
        *out = sum;
        return 0;
    }
    const char *s = scalar(n);
    if (!s)
        return errat(c, n, key, "expected a number, a param name or a list of them");
    if (parse_number(s, out))
        return 0;
    if (find_param(c->m, s, out))
        return 0;
    return errat(c, n, key, "'%s' is neither a number nor a param defined under params", s);
}

static char *dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

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

/* One cost: VALUE, or { cycles: VALUE, per_unit: VALUE } (and reasons: at class level). */
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

static int parse_cost(struct ctx *c, yaml_node_t *n, const char *key, const char *mode, int cls,
                      const char *reason, int allow_reasons)
{
    double cycles = 0, per_unit = 0;
    yaml_node_t *reasons = NULL;
    if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
            const char *name = scalar(k);
            char sub[96];
            snprintf(sub, sizeof sub, "%.60s.%.32s", key, name ? name : "?");
            int rc = 0;
            if (name && strcmp(name, "cycles") == 0)
                rc = parse_value(c, v, sub, &cycles);
            else if (name && strcmp(name, "per_unit") == 0)
                rc = parse_value(c, v, sub, &per_unit);
            else if (name && strcmp(name, "reasons") == 0 && allow_reasons)
                reasons = v;
            else
                return errat(c, k, sub,
                             allow_reasons ? "unknown key (cycles, per_unit, reasons)"
                                           : "unknown key (cycles, per_unit)");
            if (rc)
                return rc;
        }
    } else {
        int rc = parse_value(c, n, key, &cycles);
        if (rc)
            return rc;
    }
    struct model_cost *mc = new_cost(c);
    if (!mc)
        return errat(c, n, key, "out of memory");
    mc->mode = dup(mode);
    mc->ev_class = cls;
    mc->reason = dup(reason);
    mc->cycles = cycles;
    mc->per_unit = per_unit;
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

static int parse_params(struct ctx *c, yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE)
        return errat(c, n, "params", "expected a mapping of name: number");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        const char *name = scalar(k);
        char sub[96];
        snprintf(sub, sizeof sub, "params.%.80s", name ? name : "?");
        double value, dummy;
        if (!name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name) ||
            !*name)
            return errat(c, k, sub, "a param name is lower-case letters, digits and _");
        if (find_param(c->m, name, &dummy))
            return errat(c, k, sub, "param given twice");
        int rc = parse_value(c, v, sub, &value); /* may refer to earlier params */
        if (rc)
            return rc;
        struct model_param *np = realloc(c->m->params, (c->m->nparams + 1) * sizeof *np);
        if (!np)
            return errat(c, k, sub, "out of memory");
        c->m->params = np;
        np[c->m->nparams].name = strdup(name);
        np[c->m->nparams++].value = value;
    }
    return 0;
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
        } else if (strcmp(key, "params") == 0) {
            rc = parse_params(c, v);
        } else if (strcmp(key, "costs") == 0) {
            costs = v;
        } else if (strcmp(key, "modes") == 0) {
            modes = v;
        } else {
            return errat(c, k, key,
                         "unknown key (name, cpu, year, ghz, description, params, costs, modes)");
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
    if (rc || !modes)
        return rc;
    if (modes->type != YAML_MAPPING_NODE)
        return errat(c, modes, "modes", "expected a mapping of mode: costs");
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

int model_parse(const char *path, struct model **out, char *err, unsigned errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -errno;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    int rc = 0;
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%lu: %s%s%s", path, (unsigned long)parser.problem_mark.line + 1,
                 parser.context ? parser.context : "", parser.context ? ": " : "",
                 parser.problem ? parser.problem : "YAML syntax error");
        yaml_parser_delete(&parser);
        fclose(f);
        return -EINVAL;
    }
    struct model *m = calloc(1, sizeof *m);
    struct ctx c = { path, &doc, m, err, errlen };
    if (!m) {
        snprintf(err, errlen, "%s: out of memory", path);
        rc = -ENOMEM;
    } else {
        m->file = strdup(path);
        rc = parse_top(&c, yaml_document_get_root_node(&doc));
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    if (rc) {
        model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

void model_free(struct model *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < m->nparams; i++)
        free(m->params[i].name);
    for (unsigned i = 0; i < m->ncosts; i++) {
        free(m->costs[i].mode);
        free(m->costs[i].reason);
    }
    free(m->params);
    free(m->costs);
    free(m->file);
    free(m->name);
    free(m->cpu);
    free(m->description);
    free(m);
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
                      : strcmp(cls, "fault") == 0
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
        PREP("INSERT INTO model(name, cpu, year, ghz, file, description, loaded_at)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
             " ON CONFLICT(name) DO UPDATE SET cpu = ?2, year = ?3, ghz = ?4, file = ?5,"
             " description = ?6, loaded_at = excluded.loaded_at RETURNING id"))
        return DBFAIL("");
    sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->cpu, -1, SQLITE_STATIC);
    if (m->year)
        sqlite3_bind_int(st, 3, m->year);
    if (m->ghz > 0)
        sqlite3_bind_double(st, 4, m->ghz);
    sqlite3_bind_text(st, 5, m->file, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, m->description, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = DBFAIL("");
        sqlite3_finalize(st);
        return rc;
    }
    id = sqlite3_column_int64(st, 0);
    if (PREP("INSERT INTO model_param VALUES (?, ?, ?)")) {
        rc = DBFAIL("");
        sqlite3_finalize(st);
        return rc;
    }
    for (unsigned i = 0; rc == 0 && i < m->nparams; i++) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, m->params[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 3, m->params[i].value);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = DBFAIL("");
        sqlite3_reset(st);
    }
    if (rc == 0 && PREP("INSERT INTO model_cost(model_id, mode, class, reason, cycles, per_unit)"
                        " VALUES (?, ?, ?, ?, ?, ?)"))
        rc = DBFAIL("");
    for (unsigned i = 0; rc == 0 && i < m->ncosts; i++) {
        const struct model_cost *mc = &m->costs[i];
        int64_t reason;
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
