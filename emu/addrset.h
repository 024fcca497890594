/*
 * addrset.h — a set of 32-bit guest addresses (open addressing, grows when half full).
 * Used for the instruction sites that already carry a code hook.
 */
#ifndef VMLAB_ADDRSET_H
#define VMLAB_ADDRSET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct addrset {
    uint32_t *slot;      /* value + 1; 0 = empty */
    unsigned size, count;
};

static inline unsigned addrset_h(uint32_t a, unsigned size)
{
    return (unsigned)((a * 0x9e3779b1u) >> 7) & (size - 1);
}

static inline bool sites_has(const struct addrset *s, uint32_t a)
{
    if (!s->size)
        return false;
    for (unsigned i = addrset_h(a, s->size);; i = (i + 1) & (s->size - 1)) {
        if (s->slot[i] == 0)
            return false;
        if (s->slot[i] == a + 1)
            return true;
    }
}

/* Add `a`. Returns 0, or -1 when out of memory. */
static inline int sites_add(struct addrset *s, uint32_t a)
{
    if ((s->count + 1) * 2 > s->size) {
        unsigned nsize = s->size ? s->size * 2 : 64;
        uint32_t *n = calloc(nsize, sizeof *n);
        if (!n)
            return -1;
        for (unsigned i = 0; i < s->size; i++)
            if (s->slot[i]) {
                unsigned j = addrset_h(s->slot[i] - 1, nsize);
                while (n[j])
                    j = (j + 1) & (nsize - 1);
                n[j] = s->slot[i];
            }
        free(s->slot);
        s->slot = n;
        s->size = nsize;
    }
    unsigned j = addrset_h(a, s->size);
    while (s->slot[j] && s->slot[j] != a + 1)
        j = (j + 1) & (s->size - 1);
    if (!s->slot[j])
        s->count++;
    s->slot[j] = a + 1;
    return 0;
}

static inline void sites_free(struct addrset *s)
{
    free(s->slot);
    s->slot = NULL;
    s->size = s->count = 0;
}

#endif
