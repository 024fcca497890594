/*
 * bus.h — the port-I/O bus of the PC.
 *
 * Every device that answers on x86 I/O ports registers a region (base port, length, name, read and
 * write callbacks) here; the CPU side of the machine never knows which device sits where, it calls
 * pio_read()/pio_write() with the port and the access size. The PC's port map is listed once, in
 * emu/pc.c. Lookup is a 64 Ki-entry index table, so an access costs one load and one indirect call.
 *
 * Ports nobody claimed read as all ones (the ISA bus floats high) and swallow writes, as QEMU does
 * for unassigned ports; pio_lookup() returns NULL for them so callers can count them separately.
 *
 * A 2- or 4-byte access goes, whole, to the region owning its first port; devices whose registers
 * are a byte wide act on the low byte. Values are cut to the access size in both directions.
 */
#ifndef VMLAB_BUS_H
#define VMLAB_BUS_H

#include <stdint.h>

/* Read `size` (1, 2 or 4) bytes at `port`; the device returns the value in the low bytes. */
typedef uint32_t (*pio_read_fn)(void *opaque, uint16_t port, int size);
/* Write the low `size` bytes of `value` to `port`. */
typedef void (*pio_write_fn)(void *opaque, uint16_t port, int size, uint32_t value);

struct pio_region {
    uint16_t base;          /* first port */
    uint16_t len;           /* number of ports, >= 1 */
    const char *name;       /* device name, for diagnostics and traces */
    pio_read_fn read;       /* NULL: reads return all ones */
    pio_write_fn write;     /* NULL: writes ignored */
    void *opaque;           /* device state passed to the callbacks */
};

#define PIO_MAX_REGIONS 63

struct pio_bus {
    uint8_t index[65536];                           /* port -> region number + 1; 0 = unclaimed */
    struct pio_region regions[PIO_MAX_REGIONS];
    int nregions;
};

/* Empty bus: every port unclaimed. */
void pio_bus_init(struct pio_bus *bus);

/* Claim ports [base, base+len). Returns 0, -EEXIST if any port is already claimed (nothing is
 * changed), -ENOSPC when the region table is full, -EINVAL for len 0 or a range past 0xffff. */
int pio_register(struct pio_bus *bus, uint16_t base, uint16_t len, const char *name,
                 pio_read_fn read, pio_write_fn write, void *opaque);

/* The region owning `port`, or NULL if unclaimed. */
const struct pio_region *pio_lookup(const struct pio_bus *bus, uint16_t port);

/* Dispatch an access. Unclaimed or write-only ports read as all ones of the access size. */
uint32_t pio_read(struct pio_bus *bus, uint16_t port, int size);
void pio_write(struct pio_bus *bus, uint16_t port, int size, uint32_t value);

#endif
