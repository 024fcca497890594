/*
 * desc.c — decode segment descriptors and IDT gates (see desc.h).
 */
#include "emu/desc.h"

void desc_decode(uint32_t lo, uint32_t hi, struct desc *d)
{
    d->lo = lo;
    d->hi = hi;
    d->base = (lo >> 16) | ((hi & 0xffu) << 16) | (hi & 0xff000000u);
    d->limit = (lo & 0xffffu) | (hi & 0x000f0000u);
    d->type = (hi >> 8) & 0xf;
    d->s = (hi >> 12) & 1;
    d->dpl = (hi >> 13) & 3;
    d->p = (hi >> 15) & 1;
    d->db = (hi >> 22) & 1;
    d->g = (hi >> 23) & 1;
    if (d->g)
        d->limit = (d->limit << 12) | 0xfffu;
}

void gate_decode(uint32_t lo, uint32_t hi, struct gate *g)
{
    g->selector = (uint16_t)(lo >> 16);
    g->offset = (lo & 0xffffu) | (hi & 0xffff0000u);
    g->type = (hi >> 8) & 0x1f;
    g->dpl = (hi >> 13) & 3;
    g->present = (hi >> 15) & 1;
}
