/*
 * decode_cache.c — the monitors' decodings of guest instructions (see decode_cache.h).
 *
 * DCACHE_SLOTS entries, direct-mapped by address; each keeps the instruction's bytes and a copy of
 * Capstone's cs_insn with the x86 part of its detail (copied into the caller's own detail, the
 * pointer is not shared; the whole cs_detail, every architecture's union member, is several times
 * larger and made the copy cost more than the lookup saved).
 */
#include "emu/decode_cache.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The part of cs_detail an x86 decoding fills: the common arrays, then the x86 member of the
 * union (the union's other members are larger and unused here). */
#define X86_DETAIL (offsetof(cs_detail, x86) + sizeof(cs_x86))

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
        memcpy(d, &s->detail, X86_DETAIL);
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
    memcpy(&s->detail, in->detail, X86_DETAIL);
    s->insn.detail = &s->detail;
}
