/*
 * pvops.c — the live paravirt-ops table and the choice of implementation.
 *
 * The kernel calls pv_ops.<op>() everywhere; this file decides at boot what those are. Only the
 * native implementation exists today. A paravirtual port adds its own table (say pvops_xen.c)
 * and a test here for its start-of-day signature (Xen passes a start_info page in ESI instead of
 * the Multiboot magic in EAX).
 */
#include "pvops.h"

struct pv_ops pv_ops;

void pvops_select(void)
{
    pv_ops = pvops_native;
}
