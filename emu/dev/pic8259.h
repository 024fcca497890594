/*
 * pic8259.h — the PC's pair of 8259A programmable interrupt controllers (master at 0x20/0x21,
 * slave at 0xa0/0xa1 cascaded on master input 2).
 *
 * Devices drive inputs 0..15 through irq_line objects (pic_line()); the CPU side asks whether the
 * INTR output is asserted (pic_intr()) and, when it takes the interrupt, runs the acknowledge cycle
 * (pic_ack()) that returns the vector and moves the request from IRR to ISR. Modelled: ICW1-ICW4
 * initialisation (vector base, cascade, auto-EOI), OCW1 mask, OCW2 non-specific / specific EOI and
 * rotation, OCW3 read of IRR/ISR, special mask mode and the poll command, edge- and level-triggered
 * inputs (ICW1 LTIM; the PIIX ELCR is not modelled), fixed or rotating priority with the slave nested
 * on input 2, spurious IRQ 7/15 when a request vanished.
 *
 * Master input 2 is the cascade: it is driven by the slave's INT output only, and pic_set_irq(2, ..)
 * from a device is ignored (a PC routes the ISA bus's IRQ 2 to input 9).
 */
#ifndef VMLAB_PIC8259_H
#define VMLAB_PIC8259_H

#include <stdbool.h>
#include <stdint.h>
#include "../bus.h"
#include "../irq.h"

struct pic_chip {
    uint8_t irr, isr, imr;   /* request, in-service, mask registers */
    uint8_t last_level;      /* input levels, for edge detection */
    uint8_t vector_base;     /* ICW2, top 5 bits */
    uint8_t icw_step;        /* 0 = operational, 2..4 = next ICW expected */
    uint8_t icw4_needed, single, auto_eoi;
    uint8_t read_isr;        /* OCW3: next read of the command port returns ISR (else IRR) */
    uint8_t priority_add;    /* lowest-priority rotation */
    uint8_t special_mask, poll;
    uint8_t ltim;            /* ICW1 bit 3: inputs level-triggered (else edge) */
    uint8_t rotate_aeoi;     /* OCW2: rotate priorities on automatic EOI */
    uint8_t sfnm;            /* ICW4 bit 4: special fully nested mode */
};

struct pic8259 {
    struct pic_chip chip[2]; /* 0 = master, 1 = slave */
};

/* Power-on state (as after reset: all masked until initialised, vectors 0x08/0x70 as the BIOS
 * would leave them is NOT assumed: a guest must send ICW1..4). */
void pic_init(struct pic8259 *pic);

/* Claim 0x20-0x21 and 0xa0-0xa1 on the bus. Returns 0 or a pio_register() error. */
int pic_attach(struct pic8259 *pic, struct pio_bus *bus);

/* The irq_line a device uses to drive input `irq` (0..15). */
struct irq_line pic_line(struct pic8259 *pic, int irq);

/* Set input `irq` (0..15) to `level`. A 0->1 transition latches a request in IRR. */
void pic_set_irq(struct pic8259 *pic, int irq, int level);

/* True when the master's INTR output is asserted (an unmasked request of higher priority than
 * anything in service). */
bool pic_intr(const struct pic8259 *pic);

/* INTA cycle: returns the vector of the highest-priority request (or the spurious vector of IRQ 7
 * / 15 if the request went away) and updates IRR/ISR (auto-EOI honoured). *irq receives the
 * input number 0..15 (7 or 15 for spurious). Call only when pic_intr() is true. */
uint8_t pic_ack(struct pic8259 *pic, int *irq);

#endif
