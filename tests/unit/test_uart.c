/*
 * test_uart.c — the 16550A console: bytes reach the sink at once, LSR never makes a driver wait,
 * the THR-empty interrupt follows IER and IIR as on the chip, and the divisor latch, scratch and
 * loopback registers behave.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "emu/bus.h"
#include "emu/dev/uart16550.h"

#define COM1 0x3f8

static struct pio_bus *bus;
static struct uart16550 uart;
static char out[64];
static int nout;
static int irq_level, irq_edges;

static void sink(void *opaque, uint8_t byte)
{
    if (nout < (int)sizeof(out) - 1)
        out[nout++] = (char)byte;
}

static void record_irq(void *opaque, int n, int level)
{
    cr_assert_eq(n, 4);
    if (level && !irq_level)
        irq_edges++;
    irq_level = level;
}

static void outb(uint16_t port, uint8_t v) { pio_write(bus, port, 1, v); }
static uint8_t inb(uint16_t port) { return (uint8_t)pio_read(bus, port, 1); }

static void setup(void)
{
    nout = 0;
    irq_level = irq_edges = 0;
    bus = malloc(sizeof(*bus));
    cr_assert_not_null(bus);
    pio_bus_init(bus);
    uart_init(&uart, (struct irq_line){ .set = record_irq, .n = 4 }, sink, NULL);
    cr_assert_eq(uart_attach(&uart, bus, COM1), 0);
}

static void teardown(void)
{
    free(bus);
}

TestSuite(uart, .init = setup, .fini = teardown);

Test(uart, thr_writes_reach_the_sink_in_order)
{
    for (const char *s = "hello\n"; *s; s++)
        outb(COM1, (uint8_t)*s);
    cr_expect_eq(nout, 6);
    cr_expect_arr_eq(out, "hello\n", 6);
    cr_expect_eq(uart.bytes_out, 6u);
}

Test(uart, lsr_always_shows_transmitter_empty)
{
    cr_expect_eq(inb(COM1 + 5) & 0x60, 0x60);
    outb(COM1, 'x');
    cr_expect_eq(inb(COM1 + 5) & 0x60, 0x60);
    cr_expect_eq(inb(COM1 + 5) & 0x01, 0, "nothing is ever received");
}

Test(uart, thr_empty_interrupt_is_not_raised_when_disabled)
{
    outb(COM1, 'a');
    outb(COM1, 'b');
    cr_expect_eq(irq_edges, 0);
    cr_expect_eq(inb(COM1 + 2) & 0x0f, 0x01, "IIR: no interrupt pending");
}

Test(uart, enabling_thr_empty_interrupt_raises_it_at_once)
{
    outb(COM1 + 1, 0x02);
    cr_expect_eq(irq_level, 1);
    cr_expect_eq(irq_edges, 1);
    cr_expect_eq(inb(COM1 + 2) & 0x0f, 0x02, "IIR names THR empty");
}

Test(uart, iir_read_acknowledges_the_thr_empty_interrupt)
{
    outb(COM1 + 1, 0x02);
    inb(COM1 + 2);
    cr_expect_eq(irq_level, 0);
    cr_expect_eq(inb(COM1 + 2) & 0x0f, 0x01);
}

Test(uart, each_thr_write_gives_a_fresh_edge_when_enabled)
{
    outb(COM1 + 1, 0x02);
    inb(COM1 + 2);
    outb(COM1, 'a');
    outb(COM1, 'b');
    cr_expect_eq(irq_edges, 3);
    cr_expect_eq(irq_level, 1);
}

Test(uart, disabling_interrupts_lowers_the_line)
{
    outb(COM1 + 1, 0x02);
    outb(COM1 + 1, 0x00);
    cr_expect_eq(irq_level, 0);
}

Test(uart, dlab_exposes_the_divisor_latch_instead_of_thr_and_ier)
{
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 0x01);
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);
    cr_expect_eq(uart.divisor, 1, "115200 baud");
    cr_expect_eq(nout, 0, "divisor writes are not transmitted");
    cr_expect_eq(inb(COM1 + 1), 0, "IER untouched");
    cr_expect_eq(inb(COM1 + 3), 0x03);
    outb(COM1 + 3, 0x83);
    cr_expect_eq(inb(COM1 + 0), 0x01);
    cr_expect_eq(inb(COM1 + 1), 0x00);
}

Test(uart, reset_divisor_is_9600_baud)
{
    outb(COM1 + 3, 0x80);
    cr_expect_eq(inb(COM1) | inb(COM1 + 1) << 8, 12);
}

Test(uart, scratch_register_holds_a_byte)
{
    outb(COM1 + 7, 0xa5);
    cr_expect_eq(inb(COM1 + 7), 0xa5);
}

Test(uart, fifo_enable_shows_in_iir_top_bits)
{
    outb(COM1 + 2, 0xc7);
    cr_expect_eq(inb(COM1 + 2) & 0xc0, 0xc0);
    outb(COM1 + 2, 0x00);
    cr_expect_eq(inb(COM1 + 2) & 0xc0, 0x00);
}

Test(uart, loopback_returns_the_byte_instead_of_sending_it)
{
    outb(COM1 + 4, 0x10);
    outb(COM1, 'Z');
    cr_expect_eq(nout, 0);
    cr_expect_eq(inb(COM1 + 5) & 0x01, 0x01, "data ready");
    cr_expect_eq(inb(COM1), 'Z');
    cr_expect_eq(inb(COM1 + 5) & 0x01, 0x00);
}

Test(uart, loopback_byte_raises_received_data_interrupt_when_enabled)
{
    outb(COM1 + 4, 0x10);
    outb(COM1 + 1, 0x01);
    cr_expect_eq(irq_level, 0);
    outb(COM1, 'Z');
    cr_expect_eq(irq_level, 1);
    cr_expect_eq(inb(COM1 + 2) & 0x0f, 0x04);
    inb(COM1);
    cr_expect_eq(irq_level, 0);
}

Test(uart, loopback_overrun_sets_oe_until_lsr_is_read)
{
    outb(COM1 + 4, 0x10);
    outb(COM1, 'a');
    outb(COM1, 'b');
    cr_expect_eq(inb(COM1 + 5) & 0x02, 0x02);
    cr_expect_eq(inb(COM1 + 5) & 0x02, 0x00);
    cr_expect_eq(inb(COM1), 'b');
}

Test(uart, loopback_wires_modem_outputs_to_modem_inputs)
{
    outb(COM1 + 4, 0x10 | 0x01 | 0x02);            /* loop, DTR, RTS */
    inb(COM1 + 6);
    cr_expect_eq(inb(COM1 + 6) & 0xf0, 0x30, "DSR and CTS follow DTR and RTS");
    outb(COM1 + 4, 0x10 | 0x08);                   /* loop, OUT2 */
    cr_expect_eq(inb(COM1 + 6), 0x80 | 0x01 | 0x02 | 0x08, "DCD, with the three deltas");
    cr_expect_eq(inb(COM1 + 6) & 0x0f, 0, "deltas clear on read");
}

Test(uart, modem_status_shows_carrier_and_clear_to_send_outside_loopback)
{
    cr_expect_eq(inb(COM1 + 6), 0xb0);
}

Test(uart, writes_to_lsr_and_msr_are_ignored)
{
    outb(COM1 + 5, 0x00);
    outb(COM1 + 6, 0x00);
    cr_expect_eq(inb(COM1 + 5) & 0x60, 0x60);
    cr_expect_eq(inb(COM1 + 6), 0xb0);
}

Test(uart, uart_at_another_base_decodes_offsets_from_that_base)
{
    struct uart16550 com2;

    uart_init(&com2, (struct irq_line){ 0 }, sink, NULL);
    cr_assert_eq(uart_attach(&com2, bus, 0x2f8), 0);
    pio_write(bus, 0x2f8 + 7, 1, 0x3c);
    cr_expect_eq(com2.scr, 0x3c);
    pio_write(bus, 0x2f8, 1, 'q');
    cr_expect_eq(out[0], 'q');
}
