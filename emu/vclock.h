/*
 * vclock.h — the machine's deterministic clock.
 *
 * Time in vmlab is the guest's retired-instruction count. A simulated second is `ips` instructions
 * (configurable, default 1e9: a 1 GHz machine retiring one instruction per cycle). Devices that
 * keep time (PIT, CMOS/RTC) read `now()` and convert with the helpers below, so the same run gives
 * the same device readings, byte for byte, whatever the host is doing.
 */
#ifndef VMLAB_VCLOCK_H
#define VMLAB_VCLOCK_H

#include <stdint.h>

struct vclock {
    uint64_t ips;                        /* instructions per simulated second, > 0 */
    uint64_t epoch;                      /* Unix time of instruction 0 (CMOS/RTC start) */
    uint64_t (*now)(void *opaque);       /* instructions retired so far */
    void *opaque;
};

static inline uint64_t vclock_now(const struct vclock *c) { return c->now(c->opaque); }

/* Number of ticks of a `hz` clock that have elapsed by instruction `insn` (floor). */
static inline uint64_t vclock_ticks_at(const struct vclock *c, uint64_t hz, uint64_t insn)
{
    return (uint64_t)(((unsigned __int128)insn * hz) / c->ips);
}

/* First instruction count at which `ticks` ticks of a `hz` clock have elapsed (ceiling). */
static inline uint64_t vclock_insn_at(const struct vclock *c, uint64_t hz, uint64_t ticks)
{
    return (uint64_t)(((unsigned __int128)ticks * c->ips + hz - 1) / hz);
}

#endif
