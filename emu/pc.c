/*
 * pc.c — wire the PC's devices to the bus, the interrupt controller and the machine (see pc.h).
 *
 * The devices only know their irq_line and callbacks; this file is the only place that knows
 * COM1 is on IRQ 4 or that a write to isa-debug-exit ends the run.
 */
#include "emu/pc.h"

#include <stdio.h>

#include "emu/machine.h"

static uint64_t clock_now(void *opaque) { return machine_now(opaque); }

static void on_debug_exit(void *opaque, int status)
{
    struct machine *m = opaque;
    m->guest_exit = status >> 1;
    machine_end(m, END_GUEST_EXIT, status, "guest wrote 0x%x to isa-debug-exit", status >> 1);
}

static void on_phase(void *opaque, uint32_t phase)
{
    struct machine *m = opaque;
    if (phase >= MACHINE_PHASES)
        phase = MACHINE_PHASES - 1;
    machine_fold_counters(m);
    ev_set_phase(&m->ev, phase);
    if (!(m->phase_seen & (1u << phase)))
        m->phase_start[phase] = machine_now(m);
    m->phase_seen |= 1u << phase;
}

int pc_build(struct machine *m, char *errbuf, unsigned errlen)
{
    m->clock.ips = m->cfg.ips;
    m->clock.epoch = m->cfg.epoch;
    m->clock.now = clock_now;
    m->clock.opaque = m;
    pio_bus_init(&m->bus);
    pic_init(&m->pic);
    pit_init(&m->pit, pic_line(&m->pic, 0), &m->clock);
    uart_init(&m->uart, pic_line(&m->pic, 4), m->cfg.console, m->cfg.console_opaque);
    cmos_init(&m->cmos, &m->clock, m->ram_size);
    m->dbgexit.request_exit = on_debug_exit;
    m->dbgexit.opaque = m;
    m->phase.on_phase = on_phase;
    m->phase.opaque = m;
    int r = pic_attach(&m->pic, &m->bus);
    if (!r) r = pit_attach(&m->pit, &m->bus);
    if (!r) r = uart_attach(&m->uart, &m->bus, 0x3f8);
    if (!r) r = cmos_attach(&m->cmos, &m->bus);
    if (!r) r = post_port_attach(&m->bus);
    if (!r) r = phase_port_attach(&m->phase, &m->bus);
    if (!r) r = debug_exit_attach(&m->dbgexit, &m->bus);
    if (r) {
        snprintf(errbuf, errlen, "board: device port ranges overlap (error %d)", r);
        return -1;
    }
    return 0;
}
