/*
 * pvops.c — the live paravirt-ops table and the choice of implementation.
 *
 * The kernel calls pv_ops.<op>() everywhere; this file decides at boot what those are: the
 * paravirtual table when the kernel came in through its PV entry point with a start-info page
 * carrying the PV magic (pvops_pv.c; Xen passes start_info in ESI instead of the Multiboot magic
 * in EAX), the native one otherwise.
 */
#include "pvops.h"

struct pv_ops pv_ops;

void pvops_select(void)
{
    pv_ops = pvops_pv_detect() ? pvops_pv : pvops_native;
}
