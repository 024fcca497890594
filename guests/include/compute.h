/*
 * compute.h — the compute workload's body, one definition for both guests: vmlab's own kernel's
 * user space (guests/user/wl_misc.c) and the Linux init (guests/linux/init.c), so that the two
 * compute the same checksum for the same n by construction, not by copy.
 *
 * ONE operation is one step of integer work: a xorshift step, a table update and a sum; no system
 * call, no fault after the table's first touch. COMPUTE_STEPS steps per n.
 *
 * The includer provides uint32_t (types.h in the freestanding guest, <stdint.h> on Linux).
 */
#ifndef GUEST_COMPUTE_H
#define GUEST_COMPUTE_H

#define COMPUTE_STEPS 1000
#define COMPUTE_SEED 2463534242u

static inline uint32_t compute_mix(uint32_t x)
{
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

/* n rounds of COMPUTE_STEPS steps over `table` (256 words, zero when the first round starts);
 * returns the checksum. */
static inline uint32_t compute_rounds(uint32_t *table, int n)
{
    uint32_t x = COMPUTE_SEED, sum = 0;
    for (int round = 0; round < n; round++) {
        for (int i = 0; i < COMPUTE_STEPS; i++) {
            x = compute_mix(x);
            table[x & 255] += x >> 8;
            sum += table[(x >> 8) & 255] ^ (uint32_t)i;
        }
    }
    return sum;
}

#endif
