/*
 * misc_ports.h — the small one-register ports of the machine:
 *
 *  - isa-debug-exit (QEMU's `-device isa-debug-exit,iobase=0xf4,iosize=0x04`): a write of V asks
 *    the machine to stop with process exit status (V << 1) | 1, exactly as QEMU does; reads 0.
 *  - the phase marker (vmlab's, at 0xe0, 4 ports): a write of N says "the guest is now in phase N"
 *    (workloads use 0 = set-up, 1 = measured region, 2 = tear-down). QEMU leaves the port
 *    unassigned, so a guest that writes it boots unchanged there. Reads return the current phase.
 *  - port 0x80, the POST-code / I/O-delay port: writes are swallowed, reads return 0xff (what QEMU
 *    answers). The `in` nanobenchmark reads it.
 *
 * None of the three has a state machine behind it: an access is one register read or write, so a
 * monitor may let its own code perform it where it stands instead of emulating the instruction
 * (misc_port_register: bt's in-cache IN/OUT).
 */
#ifndef VMLAB_MISC_PORTS_H
#define VMLAB_MISC_PORTS_H

#include <stdbool.h>
#include <stdint.h>
#include "../bus.h"

#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_PORTS 4
#define PHASE_PORT      0xe0
#define PHASE_PORTS     4
#define POST_PORT       0x80
#define POST_PORTS      1

struct debug_exit {
    void (*request_exit)(void *opaque, int status);   /* status = (V << 1) | 1 */
    void *opaque;
};

struct phase_port {
    uint32_t phase;
    void (*on_phase)(void *opaque, uint32_t phase);  /* called on every write */
    void *opaque;
};

int debug_exit_attach(struct debug_exit *d, struct pio_bus *bus);
int phase_port_attach(struct phase_port *p, struct pio_bus *bus);
int post_port_attach(struct pio_bus *bus);

/* Whether an access starting at `port` goes to one of these ports (the bus dispatches an access
 * by its first port): a register with no state machine behind it. */
bool misc_port_register(uint16_t port);

#endif
