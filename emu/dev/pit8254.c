/*
 * pit8254.c — the 8254 interval timer on the deterministic clock.
 *
 * Nothing ticks here. A channel remembers the PIT tick at which its count was loaded
 * (`start_tick`) and its reload value R; everything the guest can observe — the counter, the OUT
 * pin, the IRQ 0 edges — is a pure function of d = (ticks now) - start_tick, where
 * ticks now = floor(instructions retired * 1193182 / ips) (vclock_ticks_at()). For the modes:
 *
 *     mode  counter read           OUT                      IRQ 0 edge (channel 0)
 *      0    (R - d) mod 2^16       d >= R                   once, at d = R
 *      1    (R - d) mod 2^16       d >= R                   none
 *      2    R - d mod R            low only at count 1      every d = k*R, k >= 1
 *      3    R - 2d mod R           high in the first half   every d = k*R, k >= 1
 *     4,5   (R - d) mod 2^16       low only at d = R        none
 *
 * Channel 0 keeps the tick of its next edge in `next_edge`; periodic modes add R to it, which is
 * exact integer arithmetic, and the instruction count of an edge is always converted from its
 * absolute tick (vclock_insn_at()), so edge k of a 100 Hz timer is exactly where k * R ticks put it
 * however long the guest runs: no rounding accumulates.
 *
 * The gate: channels 0 and 1 have it tied high. Channel 2's gate is port 0x61 bit 0. While it is low,
 * modes 0, 2, 3 and 4 hold their count (`held` keeps d) and modes 2 and 3 force OUT high; a rising
 * edge resumes modes 0 and 4 and restarts modes 1, 2, 3 and 5 from the full count.
 *
 * The control word resets a channel: it stops counting (OUT low in mode 0, high otherwise) until a
 * count is written. Counter latch and read-back latch a count and/or a status byte, which the next
 * reads of the channel port return (status first); a second latch before they are read is
 * ignored. BCD counting is not modelled: counts are binary. Wider accesses act on the low byte.
 */
#include "emu/dev/pit8254.h"

#include <string.h>

enum {
    PIT_CTRL = 0x43, PORT_61 = 0x61,
    RW_LATCH = 0, RW_LO = 1, RW_HI = 2, RW_LOHI = 3,
    RB_NO_COUNT = 0x20, RB_NO_STATUS = 0x10,
    REFRESH_NS = 15085,                /* port 0x61 bit 4 toggles every 15.085 us (as QEMU) */
};

static uint64_t now_tick(const struct pit8254 *pit)
{
    return vclock_ticks_at(pit->clock, PIT_HZ, vclock_now(pit->clock));
}

static bool holds_when_gated(const struct pit_channel *c)
{
    return c->mode == 0 || c->mode == 2 || c->mode == 3 || c->mode == 4;
}

/* Ticks counted since the count was loaded, as of PIT tick `tick`. */
static uint64_t elapsed(const struct pit_channel *c, uint64_t tick)
{
    if (!c->armed)
        return 0;
    if (!c->gate && holds_when_gated(c))
        return c->held;
    return tick > c->start_tick ? tick - c->start_tick : 0;
}

static uint16_t counter_at(const struct pit_channel *c, uint64_t tick)
{
    uint64_t d = elapsed(c, tick), r = c->reload;

    if (!c->armed)
        return (uint16_t)r;
    switch (c->mode) {
    case 2: return (uint16_t)(r - d % r);
    case 3: return (uint16_t)(r - (2 * d) % r);
    default: return (uint16_t)(r - d);
    }
}

static bool out_at(const struct pit_channel *c, uint64_t tick)
{
    uint64_t d = elapsed(c, tick), r = c->reload;

    if (!c->armed)
        return c->mode != 0;
    switch (c->mode) {
    case 0: case 1: return d >= r;
    case 2: return !c->gate || d % r != r - 1;
    case 3: return !c->gate || d % r < (r + 1) / 2;
    default: return d != r;
    }
}

/* Channel 0: the tick of the first edge after a (re)load, from the table in the header. */
static void schedule_ch0(struct pit8254 *pit)
{
    struct pit_channel *c = &pit->ch[0];
    bool edges = c->mode == 0 || c->mode == 2 || c->mode == 3;

    c->next_edge = c->armed && edges ? c->start_tick + c->reload : UINT64_MAX;
}

static void load_count(struct pit8254 *pit, int i, uint32_t count)
{
    struct pit_channel *c = &pit->ch[i];

    c->reload = count ? count : 65536;
    c->start_tick = now_tick(pit);
    c->held = 0;
    c->armed = true;
    if (i == 0)
        schedule_ch0(pit);
}

static void stop_counting(struct pit8254 *pit, int i)
{
    pit->ch[i].armed = false;
    if (i == 0)
        schedule_ch0(pit);
}

static void latch_count(struct pit_channel *c, uint64_t tick)
{
    if (c->latched)
        return;
    c->latch = counter_at(c, tick);
    c->latched = 1;
    c->read_hi = 0;
}

static void latch_status(struct pit_channel *c, uint64_t tick)
{
    if (c->status_latched)
        return;
    c->status = (uint8_t)(out_at(c, tick) << 7 | !c->armed << 6 | c->access << 4 | c->mode << 1 |
                          c->bcd);
    c->status_latched = 1;
}

static void read_back(struct pit8254 *pit, uint8_t v)
{
    uint64_t tick = now_tick(pit);

    for (int i = 0; i < 3; i++) {
        if (!(v & (2u << i)))
            continue;
        if (!(v & RB_NO_COUNT))
            latch_count(&pit->ch[i], tick);
        if (!(v & RB_NO_STATUS))
            latch_status(&pit->ch[i], tick);
    }
}

static void control_write(struct pit8254 *pit, uint8_t v)
{
    int i = v >> 6, rw = (v >> 4) & 3, mode = (v >> 1) & 7;
    struct pit_channel *c = &pit->ch[i & 3];

    if (i == 3) {
        read_back(pit, v);
        return;
    }
    if (rw == RW_LATCH) {
        latch_count(c, now_tick(pit));
        return;
    }
    c->mode = mode > 5 ? mode - 4 : mode;          /* 6 and 7 are aliases of 2 and 3 */
    c->access = rw;
    c->bcd = v & 1;
    c->write_hi = c->read_hi = 0;
    c->latched = c->status_latched = 0;
    stop_counting(pit, i);
}

static void count_write(struct pit8254 *pit, int i, uint8_t v)
{
    struct pit_channel *c = &pit->ch[i];

    switch (c->access) {
    case RW_LO: load_count(pit, i, v); break;
    case RW_HI: load_count(pit, i, (uint32_t)v << 8); break;
    default:
        if (!c->write_hi) {
            c->reload_lo = v;
            c->write_hi = 1;
            if (c->mode == 0)                      /* the first byte stops a mode 0 count */
                stop_counting(pit, i);
        } else {
            c->write_hi = 0;
            load_count(pit, i, c->reload_lo | (uint32_t)v << 8);
        }
        break;
    }
}

/* One byte of a count, per the access mode; `word` is the latched or live counter. */
static uint8_t count_byte(struct pit_channel *c, uint16_t word, bool from_latch)
{
    bool hi;

    if (c->access == RW_LO || c->access == RW_HI) {
        hi = c->access == RW_HI;
    } else {
        hi = c->read_hi;
        c->read_hi = !hi;
    }
    if (from_latch && (hi || c->access == RW_LO))
        c->latched = 0;                            /* the last byte of the latch was read */
    return hi ? word >> 8 : word & 0xff;
}

static uint8_t channel_read(struct pit8254 *pit, int i)
{
    struct pit_channel *c = &pit->ch[i];

    if (c->status_latched) {
        c->status_latched = 0;
        return c->status;
    }
    if (c->latched)
        return count_byte(c, c->latch, true);
    return count_byte(c, counter_at(c, now_tick(pit)), false);
}

static void set_gate2(struct pit8254 *pit, uint8_t level)
{
    struct pit_channel *c = &pit->ch[2];
    uint64_t tick = now_tick(pit);

    if (level == c->gate)
        return;
    if (!level) {
        c->held = elapsed(c, tick);
    } else if (c->mode == 0 || c->mode == 4) {
        c->start_tick = tick - c->held;            /* resume where the count was held */
    } else {
        c->start_tick = tick;                      /* trigger: restart from the full count */
    }
    c->gate = level;
}

static uint8_t port61_read(const struct pit8254 *pit)
{
    const struct vclock *clk = pit->clock;
    uint64_t now = vclock_now(clk);
    unsigned refresh = (unsigned)(((unsigned __int128)now * 1000000000u /
                                   ((unsigned __int128)clk->ips * REFRESH_NS)) & 1);

    return (pit->port61 & 0x0f) | refresh << 4 | out_at(&pit->ch[2], now_tick(pit)) << 5;
}

static uint32_t pit_port_read(void *opaque, uint16_t port, int size)
{
    struct pit8254 *pit = opaque;

    if (port == PORT_61)
        return port61_read(pit);
    if (port == PIT_CTRL)
        return 0;                                  /* write-only; QEMU answers 0 */
    return channel_read(pit, port - 0x40);
}

static void pit_port_write(void *opaque, uint16_t port, int size, uint32_t value)
{
    struct pit8254 *pit = opaque;
    uint8_t v = value;

    if (port == PORT_61) {
        pit->port61 = v & 0x0f;
        set_gate2(pit, v & 1);
        return;
    }
    if (port == 0x40 || (port == PIT_CTRL && (v >> 6) == 0 && ((v >> 4) & 3) != RW_LATCH))
        pit_update(pit, vclock_now(pit->clock));  /* deliver what was due before reprogramming */
    if (port == PIT_CTRL)
        control_write(pit, v);
    else
        count_write(pit, port - 0x40, v);
}

/* Power-on state (see the header): mode 3, count 65536, counting since instruction 0. */
void pit_init(struct pit8254 *pit, struct irq_line irq0, const struct vclock *clock)
{
    memset(pit, 0, sizeof(*pit));
    pit->irq0 = irq0;
    pit->clock = clock;
    for (int i = 0; i < 3; i++) {
        struct pit_channel *c = &pit->ch[i];
        c->mode = 3;
        c->access = RW_LOHI;
        c->reload = 65536;
        c->armed = true;
        c->gate = i != 2;
    }
    schedule_ch0(pit);
}

/* Claim 0x40-0x43 and 0x61; 0 or the pio_register() error. */
int pit_attach(struct pit8254 *pit, struct pio_bus *bus)
{
    int rc = pio_register(bus, 0x40, 4, "pit", pit_port_read, pit_port_write, pit);
    if (rc)
        return rc;
    return pio_register(bus, PORT_61, 1, "port61", pit_port_read, pit_port_write, pit);
}

/* Instruction count of channel 0's next IRQ 0 edge, UINT64_MAX if none is due. */
uint64_t pit_next_event(const struct pit8254 *pit)
{
    uint64_t t = pit->ch[0].next_edge;

    return t == UINT64_MAX ? UINT64_MAX : vclock_insn_at(pit->clock, PIT_HZ, t);
}

/* Pulse IRQ 0 for every edge due at or before instruction `now`; the number of edges. */
unsigned pit_update(struct pit8254 *pit, uint64_t now)
{
    struct pit_channel *c = &pit->ch[0];
    uint64_t tick = vclock_ticks_at(pit->clock, PIT_HZ, now);
    unsigned n = 0;

    while (c->next_edge <= tick) {
        irq_pulse(&pit->irq0);
        pit->edges++;
        n++;
        c->next_edge = c->mode == 0 ? UINT64_MAX : c->next_edge + c->reload;
    }
    return n;
}
