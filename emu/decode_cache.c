/*
 * decode_cache.c — the monitors' decodings of guest instructions (see decode_cache.h).
 *
 * DCACHE_SLOTS entries, direct-mapped by address; each keeps the instruction's bytes and a copy of
 * Capstone's cs_insn with its detail (the detail is copied into the caller's own, the pointer is
 * not shared).
 */
#include "emu/decode_cache.h"

#include <stdlib.h>
#include <string.h>

#define DCACHE_SLOTS 64u

struct slot {
    bool used;
    uint32_t eip;
    cs_insn insn;            /* insn.detail points at detail below */
    cs_detail detail;
};

struct decode_cache {
    struct slot slot[DCACHE_SLOTS];
};

static struct slot *slot_of(struct decode_cache *c, uint32_t eip)
{
    return &c->slot[(eip ^ (eip >> 7)) & (DCACHE_SLOTS - 1)];
}

struct decode_cache *dcache_new(void)
{
    return calloc(1, sizeof(struct decode_cache));
}

void dcache_free(struct decode_cache *c)
{
    free(c);
}

bool dcache_get(struct decode_cache *c, uint32_t eip, const uint8_t *code, uint32_t n,
                cs_insn *out)
{
    if (!c)
        return false;
    const struct slot *s = slot_of(c, eip);
    if (!s->used || s->eip != eip || s->insn.size > n || memcmp(s->insn.bytes, code, s->insn.size))
        return false;
    cs_detail *d = out->detail;
    *out = s->insn;
    out->detail = d;
    if (d)
        *d = s->detail;
    return true;
}

void dcache_put(struct decode_cache *c, uint32_t eip, const uint8_t *code, const cs_insn *in)
{
    if (!c || !in->detail || in->size > sizeof in->bytes || memcmp(in->bytes, code, in->size))
        return;
    struct slot *s = slot_of(c, eip);
    s->used = true;
    s->eip = eip;
    s->insn = *in;
    s->detail = *in->detail;
    s->insn.detail = &s->detail;
}
