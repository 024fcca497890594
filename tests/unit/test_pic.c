/*
 * test_pic.c — the 8259A pair, driven through its ports the way a kernel drives it.
 *
 * Most tests start from Linux's initialisation (ICW1 0x11, ICW2 0x20 / 0x28, ICW3 4 / 2, ICW4 1,
 * then everything unmasked), raise inputs with edges as devices do, and check INTR, the vector an
 * INTA cycle yields, and the IRR / ISR / IMR the guest can read back.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "emu/bus.h"
#include "emu/dev/pic8259.h"

static struct pio_bus *bus;
static struct pic8259 pic;

static void outb(uint16_t port, uint8_t v) { pio_write(bus, port, 1, v); }
static uint8_t inb(uint16_t port) { return (uint8_t)pio_read(bus, port, 1); }

static void pulse(int irq)
{
    pic_set_irq(&pic, irq, 1);
    pic_set_irq(&pic, irq, 0);
}

static void program_like_linux(uint8_t master_mask, uint8_t slave_mask)
{
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    outb(0x20, 0x11);
    outb(0x21, 0x20);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    outb(0xa0, 0x11);
    outb(0xa1, 0x28);
    outb(0xa1, 0x02);
    outb(0xa1, 0x01);
    outb(0x21, master_mask);
    outb(0xa1, slave_mask);
}

static void setup(void)
{
    bus = malloc(sizeof(*bus));
    cr_assert_not_null(bus);
    pio_bus_init(bus);
    pic_init(&pic);
    cr_assert_eq(pic_attach(&pic, bus), 0);
}

static void setup_linux(void)
{
    setup();
    program_like_linux(0x00, 0x00);
}

static void teardown(void)
{
    free(bus);
}

static uint8_t ack(int *irq)
{
    cr_assert(pic_intr(&pic), "INTA without INTR");
    return pic_ack(&pic, irq);
}

TestSuite(pic, .init = setup_linux, .fini = teardown);

Test(pic_power_on, masks_every_input_until_initialised, .init = setup, .fini = teardown)
{
    pulse(0);
    pulse(12);
    cr_expect_not(pic_intr(&pic));
    cr_expect_eq(inb(0x21), 0xff);
    cr_expect_eq(inb(0xa1), 0xff);
}

Test(pic, attaching_twice_is_refused)
{
    cr_expect_lt(pic_attach(&pic, bus), 0);
}

Test(pic, linux_programming_delivers_irq0_as_vector_0x20)
{
    int irq = -1;

    cr_expect_not(pic_intr(&pic));
    pulse(0);
    cr_expect(pic_intr(&pic));
    cr_expect_eq(ack(&irq), 0x20);
    cr_expect_eq(irq, 0);
    cr_expect_not(pic_intr(&pic), "the request moved to ISR");
}

Test(pic, slave_irq12_is_delivered_as_vector_0x2c_through_the_cascade)
{
    int irq = -1;

    pulse(12);
    cr_expect(pic_intr(&pic));
    cr_expect_eq(ack(&irq), 0x2c);
    cr_expect_eq(irq, 12);
    outb(0x20, 0x0b);
    outb(0xa0, 0x0b);
    cr_expect_eq(inb(0x20), 0x04, "master ISR holds the cascade input");
    cr_expect_eq(inb(0xa0), 0x10, "slave ISR holds input 4");
}

Test(pic, masked_request_does_not_assert_intr)
{
    outb(0x21, 0x02);
    pulse(1);
    cr_expect_not(pic_intr(&pic));
    cr_expect_eq(inb(0x20), 0x02, "the request is latched in IRR all the same");
}

Test(pic, unmasking_delivers_a_request_latched_while_masked)
{
    int irq;

    outb(0x21, 0x02);
    pulse(1);
    outb(0x21, 0x00);
    cr_expect(pic_intr(&pic));
    cr_expect_eq(ack(&irq), 0x21);
}

Test(pic, masking_slave_input_masks_it_without_touching_the_master)
{
    outb(0xa1, 0x10);
    pulse(12);
    cr_expect_not(pic_intr(&pic));
    pulse(1);
    cr_expect(pic_intr(&pic));
}

Test(pic, data_port_reads_back_the_mask)
{
    outb(0x21, 0xb8);
    outb(0xa1, 0x5a);
    cr_expect_eq(inb(0x21), 0xb8);
    cr_expect_eq(inb(0xa1), 0x5a);
}

Test(pic, lower_number_wins_when_two_requests_are_pending)
{
    int irq;

    pulse(5);
    pulse(3);
    pulse(1);
    cr_expect_eq(ack(&irq), 0x21);
    outb(0x20, 0x20);
    cr_expect_eq(ack(&irq), 0x23);
    outb(0x20, 0x20);
    cr_expect_eq(ack(&irq), 0x25);
}

Test(pic, slave_inputs_rank_between_master_inputs_1_and_3)
{
    int irq;

    pulse(3);
    pulse(15);
    cr_expect_eq(ack(&irq), 0x2f);
    cr_expect_eq(irq, 15);
}

Test(pic, in_service_request_blocks_equal_and_lower_priority_until_eoi)
{
    int irq;

    pulse(3);
    cr_expect_eq(ack(&irq), 0x23);
    pulse(3);
    pulse(4);
    cr_expect_not(pic_intr(&pic));
    outb(0x20, 0x20);
    cr_expect(pic_intr(&pic));
    cr_expect_eq(ack(&irq), 0x23, "the second edge on input 3 was latched");
}

Test(pic, higher_priority_request_nests_over_one_in_service)
{
    int irq;

    pulse(4);
    cr_expect_eq(ack(&irq), 0x24);
    pulse(0);
    cr_expect(pic_intr(&pic));
    cr_expect_eq(ack(&irq), 0x20);
    outb(0x20, 0x0b);
    cr_expect_eq(inb(0x20), 0x11);
}

Test(pic, non_specific_eoi_clears_the_highest_priority_in_service_bit)
{
    int irq;

    pulse(4);
    ack(&irq);
    pulse(0);
    ack(&irq);
    outb(0x20, 0x20);
    outb(0x20, 0x0b);
    cr_expect_eq(inb(0x20), 0x10);
}

Test(pic, specific_eoi_clears_only_the_named_bit)
{
    int irq;

    pulse(4);
    ack(&irq);
    pulse(0);
    ack(&irq);
    outb(0x20, 0x64);
    outb(0x20, 0x0b);
    cr_expect_eq(inb(0x20), 0x01);
}

Test(pic, ocw3_selects_irr_or_isr_for_command_port_reads)
{
    int irq;

    outb(0x21, 0x40);
    pulse(6);
    pulse(1);
    ack(&irq);
    outb(0x20, 0x0a);
    cr_expect_eq(inb(0x20), 0x40, "IRR: the masked request");
    outb(0x20, 0x0b);
    cr_expect_eq(inb(0x20), 0x02, "ISR: the request in service");
    cr_expect_eq(inb(0x20), 0x02, "the selection persists");
}

Test(pic, edge_input_held_high_makes_one_request)
{
    int irq;

    pic_set_irq(&pic, 1, 1);
    ack(&irq);
    outb(0x20, 0x20);
    pic_set_irq(&pic, 1, 1);
    cr_expect_not(pic_intr(&pic));
    pic_set_irq(&pic, 1, 0);
    pic_set_irq(&pic, 1, 1);
    cr_expect(pic_intr(&pic));
}

Test(pic, auto_eoi_leaves_nothing_in_service)
{
    int irq;

    outb(0x20, 0x11);
    outb(0x21, 0x20);
    outb(0x21, 0x04);
    outb(0x21, 0x03);
    outb(0x21, 0x00);
    pulse(3);
    cr_expect_eq(ack(&irq), 0x23);
    outb(0x20, 0x0b);
    cr_expect_eq(inb(0x20), 0x00);
    pulse(3);
    cr_expect(pic_intr(&pic), "no EOI needed before the next one");
}

Test(pic, icw1_unmasks_and_forgets_pending_requests)
{
    pulse(1);
    outb(0x21, 0xff);
    outb(0x20, 0x11);
    outb(0x21, 0x30);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    cr_expect_eq(inb(0x21), 0x00);
    cr_expect_not(pic_intr(&pic));
    pulse(1);
    cr_expect_eq(pic_ack(&pic, NULL), 0x31, "the new vector base applies");
}

Test(pic, slave_request_masked_after_the_cascade_latched_gives_spurious_irq15)
{
    int irq;

    pulse(12);
    outb(0xa1, 0x10);
    cr_expect(pic_intr(&pic), "the master latched the cascade edge");
    cr_expect_eq(ack(&irq), 0x2f);
    cr_expect_eq(irq, 15);
    outb(0xa0, 0x0b);
    cr_expect_eq(inb(0xa0), 0x00, "a spurious request never enters the slave ISR");
}

Test(pic_level_triggered, vanished_request_gives_spurious_irq7, .init = setup, .fini = teardown)
{
    int irq;

    outb(0x20, 0x19);                              /* ICW1 with LTIM: level-triggered */
    outb(0x21, 0x20);
    outb(0x21, 0x04);
    outb(0x21, 0x01);
    pic_set_irq(&pic, 5, 1);
    cr_expect(pic_intr(&pic));
    pic_set_irq(&pic, 5, 0);
    cr_expect_not(pic_intr(&pic));
    cr_expect_eq(pic_ack(&pic, &irq), 0x27);
    cr_expect_eq(irq, 7);
    outb(0x20, 0x0b);
    cr_expect_eq(inb(0x20), 0x00);
}

Test(pic, second_slave_request_arrives_after_slave_and_master_eoi)
{
    int irq;

    pulse(12);
    pulse(14);
    cr_expect_eq(ack(&irq), 0x2c);
    cr_expect_not(pic_intr(&pic));
    outb(0xa0, 0x20);
    outb(0x20, 0x20);
    cr_expect(pic_intr(&pic));
    cr_expect_eq(ack(&irq), 0x2e);
    cr_expect_eq(irq, 14);
}

Test(pic, rotate_on_eoi_makes_the_serviced_input_lowest)
{
    int irq;

    pulse(1);
    ack(&irq);
    pulse(0);
    outb(0x20, 0xa0);                              /* rotate on non-specific EOI */
    pulse(1);
    cr_expect_eq(ack(&irq), 0x20, "input 0 now outranks input 1");
    outb(0x20, 0x20);
    pulse(1);
    pulse(3);
    cr_expect_eq(ack(&irq), 0x23, "the order is now 2, 3, ..., 7, 0, 1: input 3 beats input 1");
}

Test(pic, set_priority_command_names_the_lowest_input)
{
    int irq;

    outb(0x20, 0xc4);                              /* input 4 lowest: 5 is highest */
    pulse(0);
    pulse(5);
    cr_expect_eq(ack(&irq), 0x25);
}

Test(pic, poll_command_acknowledges_and_reports_the_request)
{
    pulse(6);
    outb(0x20, 0x0c);
    cr_expect_eq(inb(0x20), 0x86);
    cr_expect_not(pic_intr(&pic));
    outb(0x20, 0x0b);
    cr_expect_eq(inb(0x20), 0x40);
}

Test(pic, special_mask_mode_lets_lower_inputs_through_a_masked_one_in_service)
{
    int irq;

    pulse(1);
    ack(&irq);
    outb(0x21, 0x02);
    outb(0x20, 0x68);                              /* OCW3: set special mask */
    pulse(5);
    cr_expect(pic_intr(&pic));
    cr_expect_eq(ack(&irq), 0x25);
}

Test(pic, irq_line_object_drives_the_input)
{
    struct irq_line l = pic_line(&pic, 9);
    int irq;

    irq_pulse(&l);
    cr_expect_eq(ack(&irq), 0x29);
    cr_expect_eq(irq, 9);
}

Test(pic, out_of_range_and_cascade_inputs_are_ignored)
{
    pic_set_irq(&pic, -1, 1);
    pic_set_irq(&pic, 16, 1);
    pic_set_irq(&pic, 2, 1);
    cr_expect_not(pic_intr(&pic));
}
