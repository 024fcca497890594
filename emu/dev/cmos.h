/*
 * cmos.h — the MC146818 CMOS RAM and real-time clock (index 0x70, data 0x71).
 *
 * The clock reads the machine's deterministic clock (vclock.h): epoch + instructions / ips, so the
 * guest sees the same date on every run. Registers 0x00-0x09 (seconds .. year), 0x32 (century),
 * status A (UIP never set: updates are instantaneous), B (24h/12h and BCD/binary honoured on
 * reads; SET bit freezes and holds guest-written time), C, D (valid RAM and time), the memory-size
 * bytes 0x15-0x18 and 0x30-0x31/0x34-0x35 as a BIOS would leave them, and the rest as plain RAM.
 * Bit 7 of the index port is the NMI mask (stored, no NMI source exists). No periodic or alarm
 * interrupts (IRQ 8 is not connected).
 */
#ifndef VMLAB_CMOS_H
#define VMLAB_CMOS_H

#include <stdint.h>
#include "../bus.h"
#include "../vclock.h"

struct cmos {
    uint8_t index;
    uint8_t nmi_masked;
    uint8_t ram[128];
    int64_t offset;          /* seconds added by guest writes of the time */
    const struct vclock *clock;
};

/* `ram_bytes` sets the BIOS memory-size bytes. */
void cmos_init(struct cmos *c, const struct vclock *clock, uint64_t ram_bytes);

/* Claim 0x70-0x71. Returns 0 or a pio_register() error. */
int cmos_attach(struct cmos *c, struct pio_bus *bus);

#endif
