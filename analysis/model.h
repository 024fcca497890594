/*
 * model.h — cost models: YAML files under models/ (one per CPU generation) that give the cycles
 * each mechanism costs. A model is parsed with libyaml, checked, then stored in the trace database
 * (tables model, model_param, model_cost), where the views of analysis/views.sql apply it.
 *
 * File format (models/README.md has the full description):
 *
 *   name: core2-merom              # the name --model takes
 *   cpu: "Intel Core 2 (Merom)"
 *   year: 2006
 *   description: ...               # optional; so is ghz: (the clock in GHz)
 *   params:                        # every number, each with its provenance
 *     exit_round_trip: { cycles: 1579, source: AMRS12, where: "Table 1, Merom" }
 *     exc_delivery:    { cycles: 889, carried_from: p4-prescott }
 *     monitor_dispatch: { cycles: 300, estimate: "no figure published; ..." }
 *     page_fault:      { cycles: 1093, carried_from: p4-prescott }
 *     pf_extra:        [page_fault, -exc_delivery]     # derived: a sum of params (- subtracts)
 *   costs:                         # per event class (emu/event_classes.def names)
 *     insn: insn_cpi               # an EXPR: cycles per event (for insn: per instruction)
 *     exit: [exit_round_trip, exit_handling]           # a list is summed
 *     translate: { per_unit: bt_translate_insn }       # cycles per unit of count2
 *     fault: { cycles: exc_delivery, reasons: { PF: [exc_delivery, pf_extra] } }
 *     halt: 0                      # 0 is the only number allowed outside params
 *   modes:                         # optional per-mode overrides, same shape as costs
 *     trap-classic: { priv: { cycles: 0, reasons: { popf: priv_flag } } }
 *
 * Provenance, checked by the parser: a param is either a number with exactly one of
 * `source: KEY` (a key of REFERENCES.md beside the file, else the repository's
 * models/REFERENCES.md; `where:` says which table or figure), `carried_from: MODEL` (MODEL.yaml
 * beside the file has the same param, sourced or itself carried, with the same value) or
 * `estimate: "why"`; or derived, an EXPR of earlier params whose provenance is that of its parts.
 * An EXPR is a param name, `-name`, or a list of those (summed); in costs it may also be 0.
 * Errors are one line: "FILE:LINE: KEY: what is wrong".
 */
#ifndef VMLAB_MODEL_H
#define VMLAB_MODEL_H

#include <stdint.h>

struct sqlite3;

/* A param. Exactly one of source, carried_from, estimate, derived is how it is known; a carried
 * param also holds the source and where of the model it was carried from. */
struct model_param {
    char *name;
    double value;
    char *source, *where; /* a key of REFERENCES.md, and which table or figure */
    char *carried_from;   /* the model whose value it repeats */
    char *estimate;       /* why there is no published number */
    char *derived;        /* the sum it is made of, e.g. "page_fault - exc_delivery" */
    unsigned *leaves;     /* the non-derived params it rests on (itself if not derived), as */
    unsigned nleaves;     /* indices into model.params */
};

struct model_cost {
    char *mode;        /* NULL: every mode */
    int ev_class;      /* index in emu/event_classes.def */
    char *reason;      /* NULL: every reason; else a number or a name (VT-x exit, hypercall, #PF) */
    double cycles;     /* per event */
    double per_unit;   /* per unit of count2 */
    unsigned *leaves;  /* the non-derived params the cost rests on, indices into model.params */
    unsigned nleaves;
    int line;          /* 1-based line in the file, for errors found when storing */
    char key[96];      /* e.g. "costs.exit.reasons.HLT", for errors */
};

struct model {
    char *file, *name, *cpu, *description;
    char features[32];           /* what the CPU has that changes which modes it runs: "vpid,ept" */
    int year;
    double ghz;
    struct model_param *params;
    unsigned nparams;
    struct model_cost *costs;
    unsigned ncosts;
};

/* Parse the model file at `path` and check its provenance (the references file and every model
 * a param is carried from are read). 0 and *out (free with model_free), or -errno with a one-line
 * message naming file, line and key in err. */
int model_parse(const char *path, struct model **out, char *err, unsigned errlen);
void model_free(struct model *m);

/* Store `m` in the database, replacing a model of the same name (one transaction): its params
 * with their provenance, its costs with the params they rest on (model_cost.params, JSON). Reason
 * names are resolved through the lookup tables (vmx_exit_reason, xen_hypercall, exception_vector,
 * insn_class). */
int model_store(struct sqlite3 *db, const struct model *m, char *err, unsigned errlen);

/* The directory of the model files: $VMLAB_MODELS, else <source dir>/models. */
const char *model_dir(void);

/* Make model `spec` available in the database and return its name in `name`: `spec` is a file
 * path (contains '/' or ends in .yaml) or a model name, looked up as model_dir()/NAME.yaml (and
 * reloaded from there so edits are seen), else taken from the database as stored. */
int model_ensure(struct sqlite3 *db, const char *spec, char *name, unsigned namelen, char *err,
                 unsigned errlen);

/* Load every model_dir()/ *.yaml into the database. Returns the number loaded or -errno. */
int model_load_all(struct sqlite3 *db, char *err, unsigned errlen);

#endif
