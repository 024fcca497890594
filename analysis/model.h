/*
 * model.h — cost models: YAML files under models/ (one per CPU generation) that give the cycles
 * each event class costs. A model is parsed with libyaml, then stored in the trace database
 * (tables model, model_param, model_cost), where the views of analysis/views.sql apply it.
 *
 * File format (models/README.md has the full description):
 *
 *   name: p4-prescott              # the name --model takes
 *   cpu: "Pentium 4 672 (Prescott), 3.8 GHz"
 *   year: 2005
 *   ghz: 3.8
 *   description: ...               # optional
 *   params:                        # named numbers, each with its source in a comment
 *     exit_round_trip: 4340        # [AA06] Table 1
 *   costs:                         # per event class (emu/event_classes.def names)
 *     insn: 1.0                    # a VALUE: cycles per event (for insn: per instruction)
 *     exit: [exit_round_trip, exit_handling]        # a list is summed
 *     translate: { per_unit: bt_translate_insn }    # cycles per unit of count2
 *     iblookup: { cycles: 40, reasons: { 1: bt_callout } }   # per reason (number or name)
 *   modes:                         # optional per-mode overrides, same shape as costs
 *     trap-classic: { exit: trap_and_emulate }
 *
 * A VALUE is a number, a param name, or a list of those (summed). Errors are one line:
 * "FILE:LINE: KEY: what is wrong".
 */
#ifndef VMLAB_MODEL_H
#define VMLAB_MODEL_H

#include <stdint.h>

struct sqlite3;

struct model_param {
    char *name;
    double value;
};

struct model_cost {
    char *mode;        /* NULL: every mode */
    int ev_class;      /* index in emu/event_classes.def */
    char *reason;      /* NULL: every reason; else a number or a name (VT-x exit, hypercall, #PF) */
    double cycles;     /* per event */
    double per_unit;   /* per unit of count2 */
    int line;          /* 1-based line in the file, for errors found when storing */
    char key[96];      /* e.g. "costs.exit.reasons.HLT", for errors */
};

struct model {
    char *file, *name, *cpu, *description;
    int year;
    double ghz;
    struct model_param *params;
    unsigned nparams;
    struct model_cost *costs;
    unsigned ncosts;
};

/* Parse the model file at `path`. 0 and *out (free with model_free), or -errno with a one-line
 * message naming file, line and key in err. */
int model_parse(const char *path, struct model **out, char *err, unsigned errlen);
void model_free(struct model *m);

/* Store `m` in the database, replacing a model of the same name (one transaction). Reason names
 * are resolved through the lookup tables (vmx_exit_reason, xen_hypercall, exception_vector). */
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
