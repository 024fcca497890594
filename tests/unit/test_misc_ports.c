/*
 * test_misc_ports.c — isa-debug-exit's QEMU exit status, the phase marker and its callback, the
 * POST port's QEMU answers, and which ports are these registers (misc_port_register).
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "emu/bus.h"
#include "emu/dev/misc_ports.h"

static struct pio_bus *bus;
static int exit_status, exit_requests;
static uint32_t phases[8];
static int nphases;

static void on_exit_request(void *opaque, int status)
{
    cr_assert_eq(opaque, &exit_status);
    exit_status = status;
    exit_requests++;
}

static void on_phase(void *opaque, uint32_t phase)
{
    if (nphases < 8)
        phases[nphases++] = phase;
}

static struct debug_exit dbg = { .request_exit = on_exit_request, .opaque = &exit_status };
static struct phase_port ph = { .on_phase = on_phase };

static void setup(void)
{
    exit_requests = nphases = 0;
    bus = malloc(sizeof(*bus));
    cr_assert_not_null(bus);
    pio_bus_init(bus);
    cr_assert_eq(debug_exit_attach(&dbg, bus), 0);
    cr_assert_eq(phase_port_attach(&ph, bus), 0);
    cr_assert_eq(post_port_attach(bus), 0);
}

static void teardown(void)
{
    free(bus);
}

TestSuite(misc, .init = setup, .fini = teardown);

Test(misc, debug_exit_write_requests_status_v_shifted_left_or_one)
{
    pio_write(bus, 0xf4, 1, 0x10);
    cr_expect_eq(exit_requests, 1);
    cr_expect_eq(exit_status, 0x21);
}

Test(misc, debug_exit_zero_gives_status_one_never_zero)
{
    pio_write(bus, 0xf4, 1, 0);
    cr_expect_eq(exit_status, 1);
}

Test(misc, debug_exit_answers_on_all_four_ports_and_every_size)
{
    pio_write(bus, 0xf7, 1, 3);
    cr_expect_eq(exit_status, 7);
    pio_write(bus, 0xf4, 4, 0x100);
    cr_expect_eq(exit_status, 0x201);
    cr_expect_eq(exit_requests, 2);
    cr_expect_null(pio_lookup(bus, 0xf8));
}

Test(misc, debug_exit_reads_zero)
{
    cr_expect_eq(pio_read(bus, 0xf4, 1), 0u);
    cr_expect_eq(exit_requests, 0);
}

Test(misc, phase_write_sets_the_phase_and_calls_back)
{
    pio_write(bus, 0xe0, 1, 1);
    pio_write(bus, 0xe0, 1, 2);
    cr_expect_eq(nphases, 2);
    cr_expect_eq(phases[0], 1u);
    cr_expect_eq(phases[1], 2u);
    cr_expect_eq(pio_read(bus, 0xe0, 1), 2u);
}

Test(misc, phase_takes_a_full_dword)
{
    pio_write(bus, 0xe0, 4, 0x12345678);
    cr_expect_eq(ph.phase, 0x12345678u);
    cr_expect_eq(pio_read(bus, 0xe0, 4), 0x12345678u);
    cr_expect_eq(pio_read(bus, 0xe0, 1), 0x78u);
}

Test(misc, phase_port_works_without_a_callback)
{
    struct pio_bus *b2 = malloc(sizeof(*b2));
    struct phase_port quiet = { 0 };

    pio_bus_init(b2);
    phase_port_attach(&quiet, b2);
    pio_write(b2, 0xe3, 1, 9);
    cr_expect_eq(quiet.phase, 9u);
    free(b2);
}

Test(misc, post_port_reads_ff_and_swallows_writes)
{
    pio_write(bus, 0x80, 1, 0x55);
    cr_expect_eq(pio_read(bus, 0x80, 1), 0xffu);
    cr_expect_not_null(pio_lookup(bus, 0x80), "claimed, so it is counted by name");
    cr_expect_str_eq(pio_lookup(bus, 0x80)->name, "post");
}

Test(misc, ports_cannot_be_attached_twice)
{
    cr_expect_lt(debug_exit_attach(&dbg, bus), 0);
    cr_expect_lt(phase_port_attach(&ph, bus), 0);
    cr_expect_lt(post_port_attach(bus), 0);
}

Test(misc, the_register_ports_are_exactly_the_ones_the_three_devices_claim)
{
    for (uint32_t p = 0; p < 0x10000; p++)
        cr_expect_eq(misc_port_register((uint16_t)p), pio_lookup(bus, (uint16_t)p) != NULL,
                     "port %#x", p);
}
