/*
 * test_mode_classes.c — each mode records only the mechanisms it has, by construction.
 *
 * A mode declares the event classes it can produce (mode_ops.classes); the funnel (emu/funnel.h)
 * checks every event against that set. These tests pin the sets to the mechanisms of issue 11:
 * a VM exit exists only under VT-x; monitor traps and reflections only under the ring-compression
 * monitors; hypervisor traps, bounces, upcalls, hypercalls and validations only under pv;
 * callouts, in-cache emulations, translations and lookups only under bt; a port reaches a device
 * natively and under pv, and a device model elsewhere. Then they check the funnel refuses a class
 * a mode did not declare, and that each mode's deliveries land in the class it declares.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "emu/funnel.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"

static const struct mode_ops *mode(const char *name)
{
    const struct mode_ops *m = mode_find(name);
    cr_assert_not_null(m, "mode %s is not registered", name);
    return m;
}

/* Whether `cls` is declared by exactly the modes listed (NULL-terminated). */
static void only(enum ev_class cls, const char *const *modes)
{
    for (const struct mode_ops *const *p = vmlab_modes; *p; p++) {
        bool listed = false;
        for (const char *const *n = modes; *n; n++)
            listed |= strcmp(*n, (*p)->name) == 0;
        bool has = ((*p)->classes >> cls) & 1;
        cr_assert_eq(has, listed, "class %s %s declared by mode %s", ev_class_name[cls],
                     has ? "is" : "is not", (*p)->name);
    }
}

Test(mode_classes, vm_exits_exist_only_in_vt_x_modes)
{
    only(EV_EXIT, (const char *const[]){"trap", "trap-ept", NULL});
}

Test(mode_classes, monitor_traps_and_reflections_only_under_ring_compression)
{
    only(EV_MONTRAP, (const char *const[]){"trap-classic", "bt", NULL});
    only(EV_REFLECT, (const char *const[]){"trap-classic", "bt", NULL});
    only(EV_HOLE, (const char *const[]){"trap-classic", NULL});
}

Test(mode_classes, hypervisor_mechanisms_only_under_pv)
{
    const char *const pv[] = {"pv", NULL};
    only(EV_HVTRAP, pv);
    only(EV_BOUNCE, pv);
    only(EV_UPCALL, pv);
    only(EV_HYPERCALL, pv);
    only(EV_VALIDATION, pv);
}

Test(mode_classes, translation_mechanisms_only_under_bt)
{
    const char *const bt[] = {"bt", NULL};
    only(EV_CALLOUT, bt);
    only(EV_INCACHE, bt);
    only(EV_TRANSLATE, bt);
    only(EV_IBLOOKUP, bt);
}

Test(mode_classes, ports_reach_devices_natively_and_under_pv_and_models_elsewhere)
{
    only(EV_IO, (const char *const[]){"native", "pv", NULL});
    only(EV_IOEMUL, (const char *const[]){"trap", "trap-ept", "trap-classic", "bt", NULL});
    for (const struct mode_ops *const *p = vmlab_modes; *p; p++)
        cr_assert_eq((*p)->io_emulated, (((*p)->classes >> EV_IOEMUL) & 1) != 0, "%s",
                     (*p)->name);
}

Test(mode_classes, cpu_deliveries_only_where_the_cpu_enters_the_guest_handler)
{
    only(EV_FAULT, (const char *const[]){"native", "trap", "trap-ept", NULL});
    only(EV_INTERRUPT, (const char *const[]){"native", "trap", "trap-ept", NULL});
    only(EV_SOFTINT, (const char *const[]){"native", "trap", "trap-ept", "pv", NULL});
    cr_assert_eq(mode("native")->deliver_class, EV_FAULT);
    cr_assert_eq(mode("trap")->deliver_class, EV_FAULT);
    cr_assert_eq(mode("trap-ept")->deliver_class, EV_FAULT);
    cr_assert_eq(mode("trap-classic")->deliver_class, EV_REFLECT);
    cr_assert_eq(mode("bt")->deliver_class, EV_REFLECT);
    cr_assert_eq(mode("pv")->deliver_class, EV_BOUNCE);
}

Test(mode_classes, every_mode_declares_its_delivery_and_instruction_counts)
{
    for (const struct mode_ops *const *p = vmlab_modes; *p; p++) {
        uint64_t c = (*p)->classes;
        cr_assert(c & EV_BIT(INSN), "%s", (*p)->name);
        cr_assert(c & EV_BIT(PRIV), "%s", (*p)->name);
        unsigned d = (*p)->deliver_class;
        cr_assert(d == EV_FAULT || (c >> d) & 1, "%s delivers as undeclared %s", (*p)->name,
                  ev_class_name[d]);
        cr_assert_eq((*p)->classify == NULL, strcmp((*p)->name, "native") == 0,
                     "only native has nothing that enters a monitor (%s)", (*p)->name);
    }
}

static struct machine *bare(const struct mode_ops *mo)
{
    struct machine_config cfg;
    machine_config_defaults(&cfg);
    cfg.ram_bytes = 4u << 20;
    char err[256] = "";
    struct machine *m = machine_create(&cfg, err, sizeof err);
    cr_assert_not_null(m, "%s", err);
    m->mode = mo;
    return m;
}

Test(mode_classes, the_funnel_refuses_a_class_the_mode_did_not_declare)
{
    struct machine *m = bare(mode("native"));
    funnel_work(m, WK_SHADOW, 0, "traced_write", 0, 0x1000, 0, NULL);
    cr_assert_eq(m->end, END_INTERNAL);
    cr_assert(strstr(m->message, "native") && strstr(m->message, "shadow"), "%s", m->message);
    cr_assert_eq(ev_class_total(&m->ev, EV_SHADOW), 0, "nothing counted under the wrong name");
    machine_destroy(m);
}

Test(mode_classes, a_port_access_is_io_natively_and_ioemul_under_a_monitor)
{
    struct machine *n = bare(mode("native")), *t = bare(mode("trap"));
    uint32_t v = 0;
    funnel_port(n, 0x80, 1, true, &v, 0, 0);
    funnel_port(t, 0x80, 1, true, &v, 0, 0);
    cr_assert_eq(ev_count(&n->ev, 0, EV_IO, 0x80, "in1"), 1);
    cr_assert_eq(ev_count(&n->ev, 0, EV_IOEMUL, 0x80, NULL), 0);
    cr_assert_eq(ev_count(&t->ev, 0, EV_IOEMUL, 0x80, "in1"), 1);
    cr_assert_eq(ev_count(&t->ev, 0, EV_IO, 0x80, NULL), 0);
    cr_assert_eq(n->end, END_NONE);
    cr_assert_eq(t->end, END_NONE);
    machine_destroy(n);
    machine_destroy(t);
}
