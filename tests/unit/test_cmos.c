/*
 * test_cmos.c — the MC146818 on the deterministic clock: the epoch date in BCD and binary, 12- and
 * 24-hour hours, time moving with retired instructions, the guest setting the clock under the SET
 * bit, the status registers, the BIOS memory-size bytes and the NMI mask bit.
 *
 * The epoch is Unix time 1700000000: Tuesday 2023-11-14 22:13:20 UTC.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "emu/bus.h"
#include "emu/dev/cmos.h"

#define IPS 1000000u

static uint64_t insn;
static uint64_t fake_now(void *opaque) { return insn; }
static const struct vclock clk = { .ips = IPS, .epoch = 1700000000, .now = fake_now };

static struct pio_bus *bus;
static struct cmos cmos;

static uint8_t rd(uint8_t reg)
{
    pio_write(bus, 0x70, 1, reg);
    return (uint8_t)pio_read(bus, 0x71, 1);
}

static void wr(uint8_t reg, uint8_t v)
{
    pio_write(bus, 0x70, 1, reg);
    pio_write(bus, 0x71, 1, v);
}

static void setup(void)
{
    insn = 0;
    bus = malloc(sizeof(*bus));
    cr_assert_not_null(bus);
    pio_bus_init(bus);
    cmos_init(&cmos, &clk, 128u << 20);
    cr_assert_eq(cmos_attach(&cmos, bus), 0);
}

static void teardown(void)
{
    free(bus);
}

TestSuite(cmos, .init = setup, .fini = teardown);

Test(cmos, reset_clock_reads_the_epoch_date_in_bcd_24_hour)
{
    cr_expect_eq(rd(0x00), 0x20);
    cr_expect_eq(rd(0x02), 0x13);
    cr_expect_eq(rd(0x04), 0x22);
    cr_expect_eq(rd(0x06), 0x03, "Tuesday (Sunday = 1)");
    cr_expect_eq(rd(0x07), 0x14);
    cr_expect_eq(rd(0x08), 0x11);
    cr_expect_eq(rd(0x09), 0x23);
    cr_expect_eq(rd(0x32), 0x20);
}

Test(cmos, binary_mode_reads_the_epoch_date_in_binary)
{
    wr(0x0b, 0x06);
    cr_expect_eq(rd(0x00), 20);
    cr_expect_eq(rd(0x02), 13);
    cr_expect_eq(rd(0x04), 22);
    cr_expect_eq(rd(0x07), 14);
    cr_expect_eq(rd(0x08), 11);
    cr_expect_eq(rd(0x09), 23);
    cr_expect_eq(rd(0x32), 20);
}

Test(cmos, twelve_hour_mode_reports_pm_in_bit_7)
{
    wr(0x0b, 0x00);
    cr_expect_eq(rd(0x04), 0x80 | 0x10, "10 PM in BCD");
    wr(0x0b, 0x04);
    cr_expect_eq(rd(0x04), 0x80 | 10, "10 PM in binary");
}

Test(cmos, twelve_hour_mode_shows_midnight_as_12_am)
{
    insn = (uint64_t)(1700006400 - 1700000000) * IPS;             /* 2023-11-15 00:00:00 */
    wr(0x0b, 0x00);
    cr_expect_eq(rd(0x04), 0x12);
    cr_expect_eq(rd(0x07), 0x15);
    cr_expect_eq(rd(0x06), 0x04, "Wednesday");
}

Test(cmos, clock_advances_with_retired_instructions)
{
    insn = 61u * IPS - 1;
    cr_expect_eq(rd(0x00), 0x20, "one instruction short of 61 s: still in the old minute");
    cr_expect_eq(rd(0x02), 0x14);
    insn = 61u * IPS;
    cr_expect_eq(rd(0x00), 0x21);
}

Test(cmos, date_rolls_over_month_and_year)
{
    insn = (uint64_t)(1704067200 - 1700000000) * IPS;             /* 2024-01-01 00:00:00 */
    cr_expect_eq(rd(0x09), 0x24);
    cr_expect_eq(rd(0x08), 0x01);
    cr_expect_eq(rd(0x07), 0x01);
    cr_expect_eq(rd(0x04), 0x00);
    cr_expect_eq(rd(0x06), 0x02, "Monday");
}

Test(cmos, guest_set_time_under_set_bit_holds_then_runs_from_there)
{
    wr(0x0b, 0x82);                                /* SET, 24h, BCD */
    wr(0x00, 0x00);
    wr(0x02, 0x30);
    wr(0x04, 0x08);
    wr(0x07, 0x01);
    wr(0x08, 0x02);
    wr(0x09, 0x99);
    wr(0x32, 0x19);
    insn = 100u * IPS;
    cr_expect_eq(rd(0x02), 0x30, "held while SET");
    cr_expect_eq(rd(0x00), 0x00);
    wr(0x0b, 0x02);
    insn = 105u * IPS;
    cr_expect_eq(rd(0x00), 0x05);
    cr_expect_eq(rd(0x02), 0x30);
    cr_expect_eq(rd(0x04), 0x08);
    cr_expect_eq(rd(0x09), 0x99);
    cr_expect_eq(rd(0x32), 0x19);
    cr_expect_eq(rd(0x06), 0x02, "1999-02-01 was a Monday");
}

Test(cmos, setting_set_bit_snapshots_the_running_time)
{
    insn = 7u * IPS;
    wr(0x0b, 0x82);
    insn = 50u * IPS;
    cr_expect_eq(rd(0x00), 0x27);
}

Test(cmos, writing_a_time_register_while_running_moves_the_clock)
{
    wr(0x04, 0x05);
    cr_expect_eq(rd(0x04), 0x05);
    cr_expect_eq(rd(0x02), 0x13, "the other fields are kept");
    insn = 3u * IPS;
    cr_expect_eq(rd(0x00), 0x23);
}

Test(cmos, nonsense_time_fields_are_decoded_without_complaint)
{
    wr(0x0b, 0x82);
    wr(0x08, 0xff);
    wr(0x07, 0x00);
    wr(0x04, 0xff);
    wr(0x0b, 0x02);
    uint8_t month = rd(0x08);
    cr_expect(month >= 0x01 && month <= 0x12);
}

Test(cmos, status_a_never_shows_update_in_progress)
{
    cr_expect_eq(rd(0x0a), 0x26);
    wr(0x0a, 0xa6);
    cr_expect_eq(rd(0x0a), 0x26);
}

Test(cmos, status_c_reads_zero_and_status_d_reports_valid_ram)
{
    wr(0x0c, 0xff);
    wr(0x0d, 0x00);
    cr_expect_eq(rd(0x0c), 0x00);
    cr_expect_eq(rd(0x0d), 0x80);
}

Test(cmos, setting_set_bit_clears_update_interrupt_enable)
{
    wr(0x0b, 0x92);
    cr_expect_eq(rd(0x0b), 0x82);
}

Test(cmos, memory_size_bytes_describe_128_mib)
{
    cr_expect_eq(rd(0x15) | rd(0x16) << 8, 640);
    cr_expect_eq(rd(0x17) | rd(0x18) << 8, 0xffff, "127 MiB in KiB is capped at 65535");
    cr_expect_eq(rd(0x30) | rd(0x31) << 8, 0xffff);
    cr_expect_eq(rd(0x34) | rd(0x35) << 8, (128 - 16) * 16, "64 KiB blocks above 16 MiB");
}

Test(cmos, memory_size_bytes_describe_32_mib)
{
    cmos_init(&cmos, &clk, 32u << 20);
    cr_expect_eq(rd(0x17) | rd(0x18) << 8, 31 * 1024);
    cr_expect_eq(rd(0x30) | rd(0x31) << 8, 31 * 1024);
    cr_expect_eq(rd(0x34) | rd(0x35) << 8, 16 * 16);
}

Test(cmos, plain_ram_bytes_keep_what_the_guest_writes)
{
    wr(0x40, 0x5a);
    wr(0x7f, 0xa5);
    cr_expect_eq(rd(0x40), 0x5a);
    cr_expect_eq(rd(0x7f), 0xa5);
}

Test(cmos, index_bit_7_masks_nmi_and_does_not_change_the_register)
{
    pio_write(bus, 0x70, 1, 0x80 | 0x0d);
    cr_expect_eq(cmos.nmi_masked, 1);
    cr_expect_eq(pio_read(bus, 0x71, 1), 0x80u);
    pio_write(bus, 0x70, 1, 0x0d);
    cr_expect_eq(cmos.nmi_masked, 0);
}

Test(cmos, index_port_reads_all_ones)
{
    pio_write(bus, 0x70, 1, 0x0a);
    cr_expect_eq(pio_read(bus, 0x70, 1), 0xffu);
}
