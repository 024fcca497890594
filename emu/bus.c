/*
 * bus.c — the port-I/O bus: a 64 Ki-entry index from port to region, and the dispatch.
 *
 * A region is claimed once, at machine set-up, and never released. pio_register() checks the whole
 * range before it writes a single index entry, so a refused claim leaves the bus as it was. An
 * access goes to the region that owns the first port of the access, with the access size; devices
 * whose registers are one byte wide act on the low byte of a wider access. Values are cut to the
 * access size here, in both directions, so a device never leaks stray high bits into EAX.
 *
 * Ports nobody claimed, and claimed ports without a read callback, read as all ones of the access
 * size, the value a floating ISA bus shows and QEMU answers for unassigned ports.
 */
#include "emu/bus.h"

#include <errno.h>
#include <string.h>

static uint32_t size_mask(int size)
{
    if (size == 1)
        return 0xffu;
    if (size == 2)
        return 0xffffu;
    return 0xffffffffu;
}

/* Empty bus: every port unclaimed. */
void pio_bus_init(struct pio_bus *bus)
{
    memset(bus, 0, sizeof(*bus));
}

/* Claim [base, base+len): 0, or -EINVAL / -EEXIST / -ENOSPC with the bus unchanged. */
int pio_register(struct pio_bus *bus, uint16_t base, uint16_t len, const char *name,
                 pio_read_fn read, pio_write_fn write, void *opaque)
{
    uint32_t end = (uint32_t)base + len;

    if (len == 0 || end > 0x10000u)
        return -EINVAL;
    for (uint32_t p = base; p < end; p++)
        if (bus->index[p])
            return -EEXIST;
    if (bus->nregions >= PIO_MAX_REGIONS)
        return -ENOSPC;

    bus->regions[bus->nregions] = (struct pio_region){
        .base = base, .len = len, .name = name, .read = read, .write = write, .opaque = opaque,
    };
    bus->nregions++;
    memset(&bus->index[base], bus->nregions, len);
    return 0;
}

/* The region owning `port`, or NULL when nobody claimed it. */
const struct pio_region *pio_lookup(const struct pio_bus *bus, uint16_t port)
{
    uint8_t slot = bus->index[port];

    return slot ? &bus->regions[slot - 1] : NULL;
}

/* Read `size` bytes at `port`; all ones of that size when no callback answers. */
uint32_t pio_read(struct pio_bus *bus, uint16_t port, int size)
{
    const struct pio_region *r = pio_lookup(bus, port);

    if (!r || !r->read)
        return size_mask(size);
    return r->read(r->opaque, port, size) & size_mask(size);
}

/* Write the low `size` bytes of `value` to `port`; dropped when no callback listens. */
void pio_write(struct pio_bus *bus, uint16_t port, int size, uint32_t value)
{
    const struct pio_region *r = pio_lookup(bus, port);

    if (r && r->write)
        r->write(r->opaque, port, size, value & size_mask(size));
}
