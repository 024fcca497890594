/*
 * vcpu.h — the guest's virtual control registers, kept by a monitor.
 *
 * Under a monitor the real CR0/CR3/CR4 belong to the monitor (paging always on, CR3 at a shadow
 * page directory, CR0.WP set so that writes to traced page tables fault even in ring 0); what the
 * guest loaded and reads back lives here. CR2 is the last fault address reflected into the guest
 * (hidden faults change the real CR2, so it is put back before the guest runs again).
 */
#ifndef VMLAB_VCPU_H
#define VMLAB_VCPU_H

#include <stdint.h>

struct vcpu {
    uint32_t cr0, cr2, cr3, cr4;
};

#endif
