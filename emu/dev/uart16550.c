/*
 * uart16550.c — the 16550A serial port that carries the guest's console.
 *
 * The line is infinitely fast: a byte written to THR reaches the sink callback during the `out`
 * instruction itself, and THR and the shift register are empty again at once, so LSR always reads
 * THRE | TEMT and a polling driver never waits. Nothing arrives from outside: the only received
 * bytes are the guest's own, in loopback mode (MCR bit 4), where THR feeds RBR instead of the line
 * (one byte deep: a second byte before RBR is read sets the overrun bit) and the modem outputs
 * (DTR, RTS, OUT1, OUT2) are looped to the MSR inputs (DSR, CTS, RI, DCD) with their delta bits.
 *
 * Interrupts follow the 16550's priority order — line status (overrun), received data, THR empty,
 * modem status — each enabled by its IER bit; IIR names the highest one pending. The THR-empty
 * interrupt is the one a console driver uses, and it behaves as QEMU's does:
 *
 *     IER.ETBEI 0->1 ──> pending ──IIR read──> clear
 *                          ^  │
 *                          │  └──THR write──> clear, byte sent, THR empty again ──> pending
 *
 * so each THR write gives the PIC a fresh rising edge on the line. Register offsets 0 and 1 are the
 * divisor latch while LCR.DLAB is set. Wider accesses act on the low byte.
 */
#include "emu/dev/uart16550.h"

#include <stdbool.h>
#include <string.h>

enum {
    REG_DATA = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3, REG_MCR = 4, REG_LSR = 5,
    REG_MSR = 6, REG_SCR = 7,
    IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08,
    IIR_NONE = 0x01, IIR_MSI = 0x00, IIR_THRI = 0x02, IIR_RDI = 0x04, IIR_RLSI = 0x06,
    IIR_FIFO = 0xc0,
    FCR_ENABLE = 0x01, FCR_CLEAR_RX = 0x02,
    LCR_DLAB = 0x80,
    MCR_LOOP = 0x10,
    LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40,
    MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80, MSR_DELTAS = 0x0f,
};

/* Recompute IIR and drive the interrupt line when its level changes. */
static void uart_update(struct uart16550 *u)
{
    uint8_t id = IIR_NONE;

    if ((u->ier & IER_RLSI) && (u->lsr & LSR_OE))
        id = IIR_RLSI;
    else if ((u->ier & IER_RDI) && (u->lsr & LSR_DR))
        id = IIR_RDI;
    else if ((u->ier & IER_THRI) && u->thr_ipending)
        id = IIR_THRI;
    else if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
        id = IIR_MSI;
    u->iir = id | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0);

    uint8_t level = id != IIR_NONE;
    if (level != u->irq_level) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
}

/* The modem input lines: looped from MCR, or DCD | DSR | CTS from the (ideal) far end. */
static uint8_t modem_lines(const struct uart16550 *u)
{
    uint8_t m = u->mcr;

    if (!(m & MCR_LOOP))
        return MSR_DCD | MSR_DSR | MSR_CTS;
    return (m & 0x02) << 3 | (m & 0x01) << 5 | (m & 0x04) << 4 | (m & 0x08) << 4;
}

static void mcr_write(struct uart16550 *u, uint8_t v)
{
    uint8_t old = u->msr & 0xf0, now;

    u->mcr = v & 0x1f;
    now = modem_lines(u);
    uint8_t changed = old ^ now;
    uint8_t deltas = (changed & MSR_CTS ? 0x01 : 0) | (changed & MSR_DSR ? 0x02 : 0) |
                     ((old & ~now) & MSR_RI ? 0x04 : 0) | (changed & MSR_DCD ? 0x08 : 0);
    u->msr = now | (u->msr & MSR_DELTAS) | deltas;
}

static void transmit(struct uart16550 *u, uint8_t byte)
{
    u->thr_ipending = 0;
    uart_update(u);
    if (u->mcr & MCR_LOOP) {
        if (u->lsr & LSR_DR)
            u->lsr |= LSR_OE;
        u->rbr = byte;
        u->lsr |= LSR_DR;
    } else {
        if (u->sink)
            u->sink(u->sink_opaque, byte);
        u->bytes_out++;
    }
    u->thr_ipending = 1;                           /* THR is empty again at once */
}

static void ier_write(struct uart16550 *u, uint8_t v)
{
    uint8_t changed = (u->ier ^ v) & 0x0f;

    u->ier = v & 0x0f;
    if ((changed & IER_THRI) && (u->ier & IER_THRI))
        u->thr_ipending = 1;                       /* THR is empty: enabling ETBEI fires it */
}

static void fcr_write(struct uart16550 *u, uint8_t v)
{
    u->fcr = v & 0xc9;
    if (v & FCR_CLEAR_RX)
        u->lsr &= ~LSR_DR;
}

static uint8_t uart_reg_read(struct uart16550 *u, int reg)
{
    bool dlab = u->lcr & LCR_DLAB;
    uint8_t v;

    switch (reg) {
    case REG_DATA:
        if (dlab)
            return u->divisor & 0xff;
        u->lsr &= ~LSR_DR;
        return u->rbr;
    case REG_IER: return dlab ? u->divisor >> 8 : u->ier;
    case REG_IIR_FCR:
        v = u->iir;
        if ((v & 0x0f) == IIR_THRI)
            u->thr_ipending = 0;                   /* reading IIR acknowledges THR empty */
        return v;
    case REG_LCR: return u->lcr;
    case REG_MCR: return u->mcr;
    case REG_LSR:
        v = u->lsr;
        u->lsr &= ~LSR_OE;                         /* error bits clear on read */
        return v;
    case REG_MSR:
        v = u->msr;
        u->msr &= ~MSR_DELTAS;
        return v;
    default: return u->scr;
    }
}

static void uart_reg_write(struct uart16550 *u, int reg, uint8_t v)
{
    bool dlab = u->lcr & LCR_DLAB;

    switch (reg) {
    case REG_DATA:
        if (dlab)
            u->divisor = (u->divisor & 0xff00) | v;
        else
            transmit(u, v);
        break;
    case REG_IER:
        if (dlab)
            u->divisor = (u->divisor & 0x00ff) | (uint16_t)(v << 8);
        else
            ier_write(u, v);
        break;
    case REG_IIR_FCR: fcr_write(u, v); break;
    case REG_LCR: u->lcr = v; break;
    case REG_MCR: mcr_write(u, v); break;
    case REG_SCR: u->scr = v; break;
    default: break;                                /* LSR, MSR: read-only */
    }
}

static uint32_t uart_port_read(void *opaque, uint16_t port, int size)
{
    struct uart16550 *u = opaque;
    uint8_t v = uart_reg_read(u, (port - u->base) & 7);

    uart_update(u);
    return v;
}

static void uart_port_write(void *opaque, uint16_t port, int size, uint32_t value)
{
    struct uart16550 *u = opaque;

    uart_reg_write(u, (port - u->base) & 7, (uint8_t)value);
    uart_update(u);
}

/* Reset state (QEMU's): no interrupts enabled, THR empty, 9600 baud, MCR.OUT2 set. */
void uart_init(struct uart16550 *u, struct irq_line irq, uart_sink_fn sink, void *sink_opaque)
{
    memset(u, 0, sizeof(*u));
    u->irq = irq;
    u->sink = sink;
    u->sink_opaque = sink_opaque;
    u->iir = IIR_NONE;
    u->lsr = LSR_THRE | LSR_TEMT;
    u->msr = MSR_DCD | MSR_DSR | MSR_CTS;
    u->mcr = 0x08;
    u->divisor = 12;
}

/* Claim the 8 ports at `base`; 0 or the pio_register() error. */
int uart_attach(struct uart16550 *u, struct pio_bus *bus, uint16_t base)
{
    u->base = base;
    return pio_register(bus, base, 8, "uart16550", uart_port_read, uart_port_write, u);
}
