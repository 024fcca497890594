/*
 * suite.c — the suite file reader (suite.h has the format), on libyaml's document API: the root
 * mapping's keys, then each workload entry's, every value checked as it is read, so that the
 * first thing wrong is the one reported, with its line.
 */
#include "emu/suite.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static int suite_err(char *err, unsigned len, const char *file, const yaml_node_t *n,
                     const char *key, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, len, "%s:%lu: %s: %s", file, n ? (unsigned long)n->start_mark.line + 1 : 0ul,
             key, msg);
    return -EINVAL;
}

static const char *scalar_of(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int parse_count(const char *s, long long *v)
{
    char *end;
    if (!s || !*s)
        return -1;
    *v = strtoll(s, &end, 0);
    return *end || *v <= 0 ? -1 : 0;
}

static int group_name_ok(const char *v)
{
    if (!*v || strlen(v) > 32)
        return 0;
    for (const char *c = v; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
            return 0;
    return 1;
}

static int parse_workload(yaml_document_t *d, yaml_node_t *n, struct suite_workload *w,
                          const char *file, char *err, unsigned len)
{
    if (n->type != YAML_MAPPING_NODE)
        return suite_err(err, len, file, n, "workloads", "each entry is a mapping");
    *w = (struct suite_workload){ .paper_n = -1 };
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(d, p->key), *vn = yaml_document_get_node(d, p->value);
        const char *k = scalar_of(kn) ? scalar_of(kn) : "?", *v = scalar_of(vn);
        char key[96];
        snprintf(key, sizeof key, "workloads.%.60s", k);
        if (!v)
            return suite_err(err, len, file, vn, key, "expected a scalar");
        if ((strcmp(k, "workload") == 0 && w->name) || (strcmp(k, "args") == 0 && w->args) ||
            (strcmp(k, "group") == 0 && w->group))
            return suite_err(err, len, file, kn, key, "given twice");
        if (strcmp(k, "workload") == 0)
            w->name = strdup(v);
        else if (strcmp(k, "args") == 0)
            w->args = strdup(v);
        else if (strcmp(k, "group") == 0 && group_name_ok(v))
            w->group = strdup(v);
        else if (strcmp(k, "group") == 0)
            return suite_err(err, len, file, vn, key,
                             "a group is a name of letters, digits, '_' and '-', not '%s'", v);
        else if (strcmp(k, "n") == 0 && parse_count(v, &w->n) == 0)
            continue;
        else if (strcmp(k, "paper_n") == 0 && parse_count(v, &w->paper_n) == 0)
            continue;
        else if (strcmp(k, "n") == 0 || strcmp(k, "paper_n") == 0)
            return suite_err(err, len, file, vn, key, "expected a positive count, got '%s'", v);
        else
            return suite_err(err, len, file, kn, key,
                             "unknown key (workload, n, paper_n, args, group)");
    }
    if (!w->name || !*w->name)
        return suite_err(err, len, file, n, "workloads.workload", "missing");
    if (w->n <= 0)
        return suite_err(err, len, file, n, "workloads.n", "missing");
    return 0;
}

int suite_parse(const char *file, struct suite *s, char *err, unsigned len)
{
    memset(s, 0, sizeof *s);                 /* the caller frees it, whatever this returns */
    FILE *f = fopen(file, "rb");
    if (!f) {
        snprintf(err, len, "%s: %s", file, strerror(errno));
        return -errno;
    }
    yaml_parser_t parser;
    yaml_document_t d;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    int rc = 0;
    if (!yaml_parser_load(&parser, &d)) {
        snprintf(err, len, "%s:%lu: %s", file, (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "YAML syntax error");
        yaml_parser_delete(&parser);
        fclose(f);
        return -EINVAL;
    }
    yaml_node_t *root = yaml_document_get_root_node(&d);
    if (!root || root->type != YAML_MAPPING_NODE)
        rc = suite_err(err, len, file, root, "(top)",
                       "expected a mapping (name, guest, initrd, workloads)");
    for (yaml_node_pair_t *p = rc ? NULL : root->data.mapping.pairs.start;
         rc == 0 && p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(&d, p->key), *vn = yaml_document_get_node(&d, p->value);
        const char *k = scalar_of(kn) ? scalar_of(kn) : "?";
        if ((strcmp(k, "name") == 0 && s->name) || (strcmp(k, "guest") == 0 && s->guest) ||
            (strcmp(k, "initrd") == 0 && s->initrd) || (strcmp(k, "workloads") == 0 && s->w) ||
            (strcmp(k, "modes") == 0 && s->modes)) {
            /* A repeated key would leak the first value (and a second workloads list would be
             * filled past its end, counted on from the first). */
            rc = suite_err(err, len, file, kn, k, "given twice");
        } else if ((strcmp(k, "name") == 0 || strcmp(k, "guest") == 0 ||
                    strcmp(k, "initrd") == 0 || strcmp(k, "modes") == 0) && scalar_of(vn)) {
            char **dst = k[0] == 'n' ? &s->name : k[0] == 'g' ? &s->guest
                         : k[0] == 'm' ? &s->modes : &s->initrd;
            *dst = strdup(scalar_of(vn));
        } else if (strcmp(k, "workloads") == 0 && vn->type == YAML_SEQUENCE_NODE) {
            int n = (int)(vn->data.sequence.items.top - vn->data.sequence.items.start);
            s->w = calloc(n ? n : 1, sizeof *s->w);
            for (int i = 0; rc == 0 && i < n; i++, s->nw++)
                rc = parse_workload(&d, yaml_document_get_node(&d, vn->data.sequence.items.start[i]),
                                    &s->w[i], file, err, len);
        } else if (strcmp(k, "name") == 0 || strcmp(k, "guest") == 0 ||
                   strcmp(k, "initrd") == 0 || strcmp(k, "workloads") == 0 ||
                   strcmp(k, "modes") == 0) {
            rc = suite_err(err, len, file, vn, k,
                           strcmp(k, "workloads") ? "expected a string" : "expected a list");
        } else {
            rc = suite_err(err, len, file, kn, k,
                           "unknown key (name, guest, initrd, modes, workloads)");
        }
    }
    if (rc == 0 && !s->name)
        rc = suite_err(err, len, file, root, "name", "missing");
    if (rc == 0 && !s->guest)
        rc = suite_err(err, len, file, root, "guest", "missing");
    if (rc == 0 && s->initrd && !*s->initrd)
        rc = suite_err(err, len, file, root, "initrd", "empty");
    if (rc == 0 && s->modes && !*s->modes)
        rc = suite_err(err, len, file, root, "modes", "empty");
    if (rc == 0 && s->nw == 0)
        rc = suite_err(err, len, file, root, "workloads", "missing or empty");
    yaml_document_delete(&d);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

void suite_path(const char *dir, const char *name, char *out, size_t len)
{
    if (name[0] == '/')
        snprintf(out, len, "%s", name);
    else
        snprintf(out, len, "%s/guests/%s", dir, name);
}

static void workload_free(struct suite_workload *w)
{
    free(w->name);
    free(w->args);
    free(w->group);
}

void suite_free(struct suite *s)
{
    for (int i = 0; i < s->nw; i++)
        workload_free(&s->w[i]);
    free(s->w);
    free(s->name);
    free(s->guest);
    free(s->initrd);
    free(s->modes);
}

static int in_group(const struct suite_workload *w, const char *group)
{
    return w->group && strcmp(w->group, group) == 0;
}

/* "(groups: a b c)" of the suite, each group once, in the order of the file. */
static void list_groups(const struct suite *s, char *out, unsigned len)
{
    size_t n = (size_t)snprintf(out, len, "(groups:");
    for (int i = 0; i < s->nw && n < len; i++) {
        int seen = !s->w[i].group;
        for (int j = 0; j < i && !seen; j++)
            seen = in_group(&s->w[j], s->w[i].group);
        if (!seen)
            n += (size_t)snprintf(out + n, len - n, " %s", s->w[i].group);
    }
    if (n < len)
        snprintf(out + n, len - n, ")");
}

int suite_keep_group(struct suite *s, const char *group, char *err, unsigned len)
{
    int kept = 0;
    for (int i = 0; i < s->nw; i++)
        kept += in_group(&s->w[i], group);
    if (kept == 0) {
        char groups[256];
        list_groups(s, groups, sizeof groups);
        snprintf(err, len, "no group '%.64s' in suite %.64s %s", group, s->name, groups);
        return -1;
    }
    kept = 0;
    for (int i = 0; i < s->nw; i++) {
        if (in_group(&s->w[i], group))
            s->w[kept++] = s->w[i];
        else
            workload_free(&s->w[i]);
    }
    s->nw = kept;
    return 0;
}
