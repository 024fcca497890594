/*
 * test_bus.c — the port-I/O bus: claiming ranges, refusing overlaps, dispatching accesses, and the
 * all-ones answer of unclaimed ports.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "emu/bus.h"

struct probe {
    uint16_t last_port;
    int last_size;
    uint32_t last_value;
    int writes;
    uint32_t answer;
};

static uint32_t probe_read(void *opaque, uint16_t port, int size)
{
    struct probe *p = opaque;

    p->last_port = port;
    p->last_size = size;
    return p->answer;
}

static void probe_write(void *opaque, uint16_t port, int size, uint32_t value)
{
    struct probe *p = opaque;

    p->last_port = port;
    p->last_size = size;
    p->last_value = value;
    p->writes++;
}

static struct pio_bus *new_bus(void)
{
    struct pio_bus *bus = malloc(sizeof(*bus));

    cr_assert_not_null(bus);
    pio_bus_init(bus);
    return bus;
}

Test(bus, unclaimed_ports_read_all_ones_of_the_access_size)
{
    struct pio_bus *bus = new_bus();

    cr_expect_eq(pio_read(bus, 0x1234, 1), 0xffu);
    cr_expect_eq(pio_read(bus, 0x1234, 2), 0xffffu);
    cr_expect_eq(pio_read(bus, 0x1234, 4), 0xffffffffu);
    cr_expect_null(pio_lookup(bus, 0x1234));
    free(bus);
}

Test(bus, write_to_unclaimed_port_is_swallowed)
{
    struct pio_bus *bus = new_bus();

    pio_write(bus, 0x300, 4, 0xdeadbeef);
    cr_expect_eq(pio_read(bus, 0x300, 4), 0xffffffffu);
    free(bus);
}

Test(bus, access_reaches_the_claiming_device_with_port_and_size)
{
    struct pio_bus *bus = new_bus();
    struct probe p = { .answer = 0x5a };

    cr_assert_eq(pio_register(bus, 0x3f8, 8, "probe", probe_read, probe_write, &p), 0);
    cr_expect_eq(pio_read(bus, 0x3fd, 1), 0x5au);
    cr_expect_eq(p.last_port, 0x3fd);
    cr_expect_eq(p.last_size, 1);
    pio_write(bus, 0x3ff, 2, 0x1234);
    cr_expect_eq(p.last_port, 0x3ff);
    cr_expect_eq(p.last_size, 2);
    cr_expect_eq(p.last_value, 0x1234u);
    free(bus);
}

Test(bus, device_answer_is_cut_to_the_access_size)
{
    struct pio_bus *bus = new_bus();
    struct probe p = { .answer = 0x12345678 };

    pio_register(bus, 0x40, 4, "probe", probe_read, probe_write, &p);
    cr_expect_eq(pio_read(bus, 0x40, 1), 0x78u);
    cr_expect_eq(pio_read(bus, 0x40, 2), 0x5678u);
    cr_expect_eq(pio_read(bus, 0x40, 4), 0x12345678u);
    free(bus);
}

Test(bus, write_value_is_cut_to_the_access_size)
{
    struct pio_bus *bus = new_bus();
    struct probe p = { 0 };

    pio_register(bus, 0x40, 4, "probe", probe_read, probe_write, &p);
    pio_write(bus, 0x40, 1, 0xabcd);
    cr_expect_eq(p.last_value, 0xcdu);
    free(bus);
}

Test(bus, overlapping_claim_is_refused_and_changes_nothing)
{
    struct pio_bus *bus = new_bus();
    struct probe a = { .answer = 1 }, b = { .answer = 2 };

    cr_assert_eq(pio_register(bus, 0x20, 2, "a", probe_read, probe_write, &a), 0);
    cr_expect_eq(pio_register(bus, 0x18, 9, "b", probe_read, probe_write, &b), -EEXIST);
    cr_expect_eq(bus->nregions, 1);
    cr_expect_null(pio_lookup(bus, 0x18), "a refused claim must not claim its free ports");
    cr_expect_eq(pio_read(bus, 0x21, 1), 1u);
    free(bus);
}

Test(bus, adjacent_ranges_both_claim)
{
    struct pio_bus *bus = new_bus();
    struct probe a = { .answer = 1 }, b = { .answer = 2 };

    cr_assert_eq(pio_register(bus, 0x20, 2, "a", probe_read, probe_write, &a), 0);
    cr_assert_eq(pio_register(bus, 0x22, 2, "b", probe_read, probe_write, &b), 0);
    cr_expect_eq(pio_read(bus, 0x21, 1), 1u);
    cr_expect_eq(pio_read(bus, 0x22, 1), 2u);
    cr_expect_str_eq(pio_lookup(bus, 0x23)->name, "b");
    free(bus);
}

Test(bus, empty_or_wrapping_range_is_invalid)
{
    struct pio_bus *bus = new_bus();

    cr_expect_eq(pio_register(bus, 0x100, 0, "zero", NULL, NULL, NULL), -EINVAL);
    cr_expect_eq(pio_register(bus, 0xfffe, 3, "wrap", NULL, NULL, NULL), -EINVAL);
    cr_expect_eq(pio_register(bus, 0xfffe, 2, "top", NULL, NULL, NULL), 0);
    cr_expect_not_null(pio_lookup(bus, 0xffff));
    free(bus);
}

Test(bus, region_table_full_returns_enospc)
{
    struct pio_bus *bus = new_bus();

    for (int i = 0; i < PIO_MAX_REGIONS; i++)
        cr_assert_eq(pio_register(bus, (uint16_t)(0x1000 + i), 1, "r", NULL, NULL, NULL), 0);
    cr_expect_eq(pio_register(bus, 0x2000, 1, "one too many", NULL, NULL, NULL), -ENOSPC);
    cr_expect_null(pio_lookup(bus, 0x2000));
    free(bus);
}

Test(bus, claimed_port_without_read_callback_reads_all_ones)
{
    struct pio_bus *bus = new_bus();
    struct probe p = { 0 };

    pio_register(bus, 0x80, 1, "write-only", NULL, probe_write, &p);
    cr_expect_eq(pio_read(bus, 0x80, 1), 0xffu);
    pio_write(bus, 0x80, 1, 0x42);
    cr_expect_eq(p.writes, 1);
    cr_expect_not_null(pio_lookup(bus, 0x80));
    free(bus);
}
