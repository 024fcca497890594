/*
 * misc_ports.c — three one-register ports that carry no state worth a file each.
 *
 * isa-debug-exit (0xf4..0xf7) is how a test guest ends the run with a status: a write of V of any
 * size asks the machine to exit with (V << 1) | 1, QEMU's formula, so status 1 can never mean
 * "passed by accident" and the same guest reports the same status under both. The machine decides
 * when to stop; this port only forwards the request. Reads return 0, as QEMU's device does.
 *
 * The phase marker (0xe0..0xe3) records which part of a workload the guest is in; the callback lets
 * the machine attribute the exits that follow to the new phase. It takes the full value of a byte,
 * word or dword write, and reads give it back (cut to the access size by the bus).
 *
 * Port 0x80 is claimed with no callbacks at all: the bus then swallows writes and reads all ones,
 * 0xff for a byte, which is what QEMU answers there. It is claimed, rather than left unassigned, so
 * the exit counts show it by name.
 *
 * Behind none of the three is a state machine, so a monitor may let its own code access them in
 * place rather than emulate the instruction (misc_port_register; bt's in-cache IN/OUT).
 */
#include "emu/dev/misc_ports.h"

#include <stddef.h>

static uint32_t debug_exit_read(void *opaque, uint16_t port, int size)
{
    return 0;
}

static void debug_exit_write(void *opaque, uint16_t port, int size, uint32_t value)
{
    struct debug_exit *d = opaque;

    if (d->request_exit)
        d->request_exit(d->opaque, (int)((value << 1) | 1u));
}

static uint32_t phase_read(void *opaque, uint16_t port, int size)
{
    const struct phase_port *p = opaque;

    return p->phase;
}

static void phase_write(void *opaque, uint16_t port, int size, uint32_t value)
{
    struct phase_port *p = opaque;

    p->phase = value;
    if (p->on_phase)
        p->on_phase(p->opaque, value);
}

/* Claim 0xf4-0xf7 for isa-debug-exit; 0 or the pio_register() error. */
int debug_exit_attach(struct debug_exit *d, struct pio_bus *bus)
{
    return pio_register(bus, DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS, "isa-debug-exit", debug_exit_read,
                        debug_exit_write, d);
}

/* Claim 0xe0-0xe3 for the phase marker; 0 or the pio_register() error. */
int phase_port_attach(struct phase_port *p, struct pio_bus *bus)
{
    return pio_register(bus, PHASE_PORT, PHASE_PORTS, "phase", phase_read, phase_write, p);
}

/* Claim 0x80 (POST code / I/O delay); 0 or the pio_register() error. */
int post_port_attach(struct pio_bus *bus)
{
    return pio_register(bus, POST_PORT, POST_PORTS, "post", NULL, NULL, NULL);
}

static bool within(uint16_t port, uint16_t base, uint16_t n)
{
    return port >= base && port - base < n;
}

/* Whether an access starting at `port` reaches one of the three (the bus dispatches by the first
 * port). */
bool misc_port_register(uint16_t port)
{
    return within(port, DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS) ||
           within(port, PHASE_PORT, PHASE_PORTS) || within(port, POST_PORT, POST_PORTS);
}
