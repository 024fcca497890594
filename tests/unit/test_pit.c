/*
 * test_pit.c — the 8254 on the deterministic clock: IRQ 0 edges at exact instruction counts, no
 * drift over many periods, counter reads, latches and read-back, the access modes, and channel 2
 * behind port 0x61.
 *
 * The clock is a variable the test sets (`insn`, instructions retired) at 1e9 instructions per
 * second; the IRQ 0 line records each rising edge and the instruction count it arrived at. The
 * literal instruction counts below were computed by hand as ceil(ticks * 1e9 / 1193182).
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "emu/bus.h"
#include "emu/dev/pit8254.h"

static uint64_t insn;
static uint64_t fake_now(void *opaque) { return insn; }
static const struct vclock clock1g = { .ips = 1000000000, .epoch = 0, .now = fake_now };

static struct pio_bus *bus;
static struct pit8254 pit;
static int irq_level, irq_edges;
static uint64_t last_edge_insn;

static void record_irq(void *opaque, int n, int level)
{
    if (level && !irq_level) {
        irq_edges++;
        last_edge_insn = insn;
    }
    irq_level = level;
}

static void outb(uint16_t port, uint8_t v) { pio_write(bus, port, 1, v); }
static uint8_t inb(uint16_t port) { return (uint8_t)pio_read(bus, port, 1); }

static uint16_t read_count_lohi(uint16_t port)
{
    uint8_t lo = inb(port);
    return (uint16_t)(lo | inb(port) << 8);
}

/* Control word, then the count low byte first, as every driver writes it. */
static void program(int ch, int mode, uint16_t count)
{
    outb(0x43, (uint8_t)(ch << 6 | 0x30 | mode << 1));
    outb(0x40 + ch, count & 0xff);
    outb(0x40 + ch, count >> 8);
}

static uint64_t ceil_insn(uint64_t ticks)
{
    return (uint64_t)(((unsigned __int128)ticks * 1000000000u + PIT_HZ - 1) / PIT_HZ);
}

static void setup(void)
{
    insn = 0;
    irq_level = irq_edges = 0;
    bus = malloc(sizeof(*bus));
    cr_assert_not_null(bus);
    pio_bus_init(bus);
    pit_init(&pit, (struct irq_line){ .set = record_irq }, &clock1g);
    cr_assert_eq(pit_attach(&pit, bus), 0);
}

static void teardown(void)
{
    free(bus);
}

TestSuite(pit, .init = setup, .fini = teardown);

Test(pit, power_on_channel_0_runs_at_18_2_hz_as_the_bios_leaves_it)
{
    cr_expect_eq(pit_next_event(&pit), 54925402u);
}

Test(pit, hundred_hz_timer_fires_first_at_the_ceiling_instruction)
{
    program(0, 2, 11932);
    cr_expect_eq(pit_next_event(&pit), 10000151u);
    cr_expect_eq(pit_update(&pit, 10000150), 0u);
    cr_expect_eq(irq_edges, 0);
    insn = 10000151;
    cr_expect_eq(pit_update(&pit, insn), 1u);
    cr_expect_eq(irq_edges, 1);
    cr_expect_eq(last_edge_insn, 10000151u);
}

Test(pit, hundred_hz_timer_does_not_drift_over_1000_periods)
{
    program(0, 2, 11932);
    for (uint64_t k = 1; k <= 1000; k++) {
        uint64_t e = pit_next_event(&pit);
        cr_assert_eq(e, ceil_insn(k * 11932), "edge %lu", (unsigned long)k);
        cr_assert_eq(pit_update(&pit, e - 1), 0u);
        insn = e;
        cr_assert_eq(pit_update(&pit, e), 1u);
    }
    cr_expect_eq(last_edge_insn, 10000150858u, "1000 periods are 10.000150857 s, not 1000 * 10000151");
    cr_expect_eq(irq_edges, 1000);
    cr_expect_eq(pit.edges, 1000u);
}

Test(pit, count_loaded_mid_tick_starts_from_the_tick_already_elapsed)
{
    insn = 12345;                                  /* 14.73 ticks: tick 14 */
    program(0, 2, 11932);
    cr_expect_eq(pit_next_event(&pit), 10011885u);
}

Test(pit, late_update_delivers_every_edge_it_missed)
{
    program(0, 2, 1000);
    insn = ceil_insn(10 * 1000);
    cr_expect_eq(pit_update(&pit, insn), 10u);
    cr_expect_eq(irq_edges, 10);
    cr_expect_eq(pit_next_event(&pit), ceil_insn(11 * 1000));
}

Test(pit, counter_latch_mid_period_reads_the_count_at_that_instant)
{
    program(0, 2, 11932);
    insn = 4190476;                                /* first instruction of tick 5000 */
    outb(0x43, 0x00);
    insn += 1000000;                               /* the latch holds while time goes on */
    cr_expect_eq(read_count_lohi(0x40), 11932 - 5000);
}

Test(pit, unlatched_read_shows_the_live_count)
{
    program(0, 2, 11932);
    insn = 4190476 - 1;                            /* last instruction of tick 4999 */
    cr_expect_eq(read_count_lohi(0x40), 11932 - 4999);
    insn = ceil_insn(11932 + 7);                   /* seventh tick of the second period */
    cr_expect_eq(read_count_lohi(0x40), 11932 - 7);
}

Test(pit, second_latch_before_reading_keeps_the_first)
{
    program(0, 2, 11932);
    insn = ceil_insn(100);
    outb(0x43, 0x00);
    insn = ceil_insn(200);
    outb(0x43, 0x00);
    cr_expect_eq(read_count_lohi(0x40), 11932 - 100);
    cr_expect_eq(read_count_lohi(0x40), 11932 - 200, "the latch was consumed: live again");
}

Test(pit, read_back_returns_status_then_count)
{
    program(0, 2, 11932);
    insn = ceil_insn(300);
    outb(0x43, 0xc2);                              /* read-back: count and status of channel 0 */
    cr_expect_eq(inb(0x40), 0xb4, "OUT high, count loaded, lohi access, mode 2");
    cr_expect_eq(read_count_lohi(0x40), 11932 - 300);
}

Test(pit, read_back_status_shows_null_count_before_the_count_is_written)
{
    outb(0x43, 0x34);
    outb(0x43, 0xe2);                              /* read-back: status only */
    cr_expect_eq(inb(0x40) & 0x40, 0x40);
}

Test(pit, control_word_stops_channel_0_until_a_count_is_written)
{
    outb(0x43, 0x34);
    cr_expect_eq(pit_next_event(&pit), UINT64_MAX);
    outb(0x40, 0xe8);
    cr_expect_eq(pit_next_event(&pit), UINT64_MAX, "half a lohi count loads nothing");
    outb(0x40, 0x03);
    cr_expect_eq(pit_next_event(&pit), ceil_insn(1000));
}

Test(pit, mode_0_interrupts_once_at_terminal_count)
{
    program(0, 0, 1000);
    cr_expect_eq(pit_next_event(&pit), 838096u);
    insn = 838096;
    cr_expect_eq(pit_update(&pit, insn), 1u);
    cr_expect_eq(pit_next_event(&pit), UINT64_MAX);
    cr_expect_eq(pit_update(&pit, 100000000), 0u);
    insn = ceil_insn(1001);
    cr_expect_eq(read_count_lohi(0x40), 0xffff, "the counter wraps on after terminal count");
}

Test(pit, mode_3_interrupts_every_period)
{
    program(0, 3, 2000);
    insn = ceil_insn(3 * 2000);
    cr_expect_eq(pit_update(&pit, insn), 3u);
    cr_expect_eq(pit_next_event(&pit), ceil_insn(4 * 2000));
}

Test(pit, modes_1_4_and_5_do_not_interrupt)
{
    static const int modes[] = { 1, 4, 5 };

    for (int i = 0; i < 3; i++) {
        program(0, modes[i], 1000);
        cr_expect_eq(pit_next_event(&pit), UINT64_MAX, "mode %d", modes[i]);
    }
}

Test(pit, mode_6_and_7_alias_modes_2_and_3)
{
    program(0, 6, 500);
    cr_expect_eq(pit_next_event(&pit), ceil_insn(500));
    outb(0x43, 0xe2);
    cr_expect_eq((inb(0x40) >> 1) & 7, 2);
}

Test(pit, lobyte_only_access_loads_a_count_in_one_write)
{
    outb(0x43, 0x14);                              /* channel 0, lobyte, mode 2 */
    outb(0x40, 100);
    cr_expect_eq(pit_next_event(&pit), 83810u);
    insn = ceil_insn(40);
    cr_expect_eq(inb(0x40), 60);
    cr_expect_eq(inb(0x40), 60, "every read is the low byte");
}

Test(pit, hibyte_only_access_loads_count_times_256)
{
    outb(0x43, 0x24);                              /* channel 0, hibyte, mode 2 */
    outb(0x40, 2);
    cr_expect_eq(pit_next_event(&pit), ceil_insn(512));
    insn = ceil_insn(256);
    cr_expect_eq(inb(0x40), 1);
}

Test(pit, count_zero_means_65536)
{
    program(0, 2, 0);
    cr_expect_eq(pit_next_event(&pit), 54925402u);
}

Test(pit, new_count_restarts_the_period_and_delivers_what_was_due)
{
    program(0, 2, 1000);
    insn = ceil_insn(2500);
    program(0, 2, 3000);
    cr_expect_eq(irq_edges, 2, "the two edges due before the write were delivered");
    cr_expect_eq(pit_next_event(&pit), ceil_insn(2500 + 3000));
}

Test(pit, channel_1_does_not_disturb_channel_0)
{
    program(0, 2, 1000);
    program(1, 2, 18);
    cr_expect_eq(pit_next_event(&pit), ceil_insn(1000));
    insn = ceil_insn(5);
    cr_expect_eq(read_count_lohi(0x41), 13);
}

Test(pit, channel_2_output_shows_on_port_61_after_linux_style_calibration)
{
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);        /* gate 2 high, speaker off */
    program(2, 0, 0xffff);
    cr_expect_eq(inb(0x61) & 0x21, 0x01, "gate high, OUT 2 low while counting");
    insn = 54924564 - 1;                           /* last instruction before tick 0xffff */
    cr_expect_eq(inb(0x61) & 0x20, 0);
    insn = 54924564;
    cr_expect_eq(inb(0x61) & 0x20, 0x20);
    cr_expect_eq(pit_next_event(&pit), 54925402u, "channel 2 never touches IRQ 0");
}

Test(pit, channel_2_holds_its_count_while_the_gate_is_low)
{
    outb(0x61, 0x00);
    program(2, 0, 1000);
    insn = ceil_insn(500);
    cr_expect_eq(read_count_lohi(0x42), 1000);
    outb(0x61, 0x01);
    insn = ceil_insn(500 + 300);
    cr_expect_eq(read_count_lohi(0x42), 700);
    outb(0x61, 0x00);
    insn = ceil_insn(2000);
    cr_expect_eq(read_count_lohi(0x42), 700);
}

Test(pit, channel_2_square_wave_is_high_for_the_first_half_period)
{
    outb(0x61, 0x01);
    program(2, 3, 100);
    insn = ceil_insn(49);
    cr_expect_eq(inb(0x61) & 0x20, 0x20);
    insn = ceil_insn(50);
    cr_expect_eq(inb(0x61) & 0x20, 0);
    insn = ceil_insn(100);
    cr_expect_eq(inb(0x61) & 0x20, 0x20);
}

Test(pit, port_61_refresh_bit_toggles_every_15085_ns)
{
    insn = 15084;
    uint8_t a = inb(0x61) & 0x10;
    insn = 15085;
    uint8_t b = inb(0x61) & 0x10;
    cr_expect_eq(a, 0);
    cr_expect_eq(b, 0x10);
}

Test(pit, port_61_keeps_the_speaker_bits_the_guest_wrote)
{
    outb(0x61, 0xf3);
    cr_expect_eq(inb(0x61) & 0x0f, 0x03);
}

Test(pit, control_port_reads_zero)
{
    cr_expect_eq(inb(0x43), 0);
}
