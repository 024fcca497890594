/*
 * pit8254.h — the 8254 programmable interval timer (ports 0x40-0x43), channel 0 wired to IRQ 0.
 *
 * The PIT counts at 1 193 182 Hz of simulated time; simulated time comes from the machine's
 * deterministic clock (vclock.h: instructions retired). Nothing runs "in the background": the
 * machine asks pit_next_event() for the instruction count at which the next output edge of channel
 * 0 is due, runs the CPU exactly up to it, and calls pit_update() which pulses IRQ 0 for every
 * edge due by then. So the timer fires at exact, repeatable instruction counts.
 *
 * Modelled: all three channels' counters and latches (counter latch, read-back command, lobyte /
 * hibyte / lohi access, BCD not supported: treated as binary), modes 0 (interrupt on terminal
 * count), 2 (rate generator) and 3 (square wave) on channel 0 with interrupts; modes 1, 4, 5 count
 * but do not interrupt (the gate of channels 0 and 1 is tied high; channel 2's gate is port 0x61
 * bit 0, which this device also answers, with bit 5 = channel 2 output).
 *
 * As in QEMU, a count is loaded the moment it is written (no extra load clock) and a new count
 * restarts the period at once, so with reload R loaded at tick T0 the k-th edge of modes 2 and 3
 * is at tick T0 + k*R and the single edge of mode 0 at T0 + R. Writes that reprogram channel 0
 * first deliver the edges already due (pit_update() at the current instruction).
 */
#ifndef VMLAB_PIT8254_H
#define VMLAB_PIT8254_H

#include <stdbool.h>
#include <stdint.h>
#include "../bus.h"
#include "../irq.h"
#include "../vclock.h"

#define PIT_HZ 1193182u

struct pit_channel {
    uint8_t mode;           /* 0..5 */
    uint8_t access;         /* 1 lobyte, 2 hibyte, 3 lobyte/hibyte */
    uint8_t write_hi;       /* lohi write: next byte is the high byte */
    uint8_t read_hi;        /* lohi read: next byte is the high byte */
    uint8_t latched;        /* a counter latch is pending */
    uint8_t status_latched; /* a read-back status is pending */
    uint16_t latch;         /* latched count */
    uint8_t status;
    uint32_t reload;        /* 1..65536 (0 programmed means 65536) */
    uint16_t reload_lo;     /* low byte received during a lohi write */
    bool armed;             /* a count was written: the channel is counting */
    uint64_t start_tick;    /* PIT tick at which the current count was loaded */
    uint64_t next_edge;     /* PIT tick of the next IRQ edge (channel 0), UINT64_MAX if none */
    uint64_t held;          /* ticks counted when the gate fell (count frozen while it is low) */
    uint8_t gate;           /* gate input: 1 for channels 0 and 1, port 0x61 bit 0 for channel 2 */
    uint8_t bcd;            /* control word bit 0, reported in the status byte only */
};

struct pit8254 {
    struct pit_channel ch[3];
    struct irq_line irq0;
    const struct vclock *clock;
    uint8_t port61;          /* speaker / gate 2 bits */
    uint64_t edges;          /* IRQ 0 edges produced so far */
};

/* Power-on state as QEMU's reset and SeaBIOS leave it: every channel in mode 3, lobyte/hibyte
 * access, count 65536, counting since instruction 0 (channel 2 held by its low gate). So IRQ 0 edges
 * come at 18.2 Hz until the guest reprograms channel 0; the PIC keeps them masked until the guest
 * unmasks input 0. The clock is not read here. */
void pit_init(struct pit8254 *pit, struct irq_line irq0, const struct vclock *clock);

/* Claim 0x40-0x43 and 0x61. Returns 0 or a pio_register() error. */
int pit_attach(struct pit8254 *pit, struct pio_bus *bus);

/* Instruction count at which channel 0's next interrupt edge is due, UINT64_MAX if none. */
uint64_t pit_next_event(const struct pit8254 *pit);

/* Bring the PIT up to instruction count `now`: pulse IRQ 0 once for each edge due at or before
 * `now` (periodic modes re-arm). Returns the number of edges produced. */
unsigned pit_update(struct pit8254 *pit, uint64_t now);

#endif
