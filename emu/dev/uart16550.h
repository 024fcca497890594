/*
 * uart16550.h — a 16550A UART (COM1 at 0x3f8, IRQ 4): the guest console.
 *
 * Transmitted bytes go to a sink callback at once (the line is infinitely fast: THR is always empty
 * again by the next instruction, so LSR reads THRE|TEMT). Nothing is ever received (LSR.DR = 0).
 * Registers: RBR/THR, IER, IIR/FCR, LCR (DLAB), MCR (loopback honoured), LSR, MSR, SCR, DLL/DLM.
 * The THR-empty interrupt (IER bit 1) is raised on IRQ 4 as on real hardware, so an
 * interrupt-driven driver works too. The interrupt output is a level (high while IIR shows a
 * pending interrupt) and, as in QEMU, MCR.OUT2 does not gate it. Reset values are QEMU's (MCR.OUT2
 * set, divisor 12 = 9600 baud, MSR showing DCD, DSR and CTS).
 */
#ifndef VMLAB_UART16550_H
#define VMLAB_UART16550_H

#include <stdint.h>
#include "../bus.h"
#include "../irq.h"

typedef void (*uart_sink_fn)(void *opaque, uint8_t byte);

struct uart16550 {
    uint8_t ier, iir, lcr, mcr, lsr, msr, scr, fcr;
    uint16_t divisor;
    uint8_t rbr;            /* loopback receive */
    uint8_t thr_ipending;   /* THR-empty interrupt pending (cleared by IIR read or THR write) */
    struct irq_line irq;
    uart_sink_fn sink;
    void *sink_opaque;
    uint64_t bytes_out;     /* bytes transmitted */
    uint8_t irq_level;      /* level last driven on `irq` */
    uint16_t base;          /* first port, set by uart_attach() */
};

void uart_init(struct uart16550 *u, struct irq_line irq, uart_sink_fn sink, void *sink_opaque);

/* Claim 8 ports at `base` (0x3f8 for COM1). Returns 0 or a pio_register() error. */
int uart_attach(struct uart16550 *u, struct pio_bus *bus, uint16_t base);

#endif
