/*
 * frames.c — the physical frame pool (see frames.h for the life cycle). Pure code.
 */
#include "frames.h"

#define FRAME_SHIFT 12

void frames_init(struct frame_pool *p, uint32_t npfn, uint16_t *refs, uint32_t *stack)
{
    p->npfn = npfn;
    p->refs = refs;
    p->stack = stack;
    p->nfree = 0;
    p->nusable = 0;
    for (uint32_t i = 0; i < npfn; i++)
        refs[i] = FRAME_RESERVED;
}

void frames_add_range(struct frame_pool *p, uint64_t start, uint64_t end)
{
    uint64_t first = (start + 0xFFF) >> FRAME_SHIFT;
    uint64_t last = end >> FRAME_SHIFT;               /* exclusive */
    for (uint64_t f = first; f < last && f < p->npfn; f++)
        p->refs[f] = 0;
}

void frames_reserve_range(struct frame_pool *p, uint64_t start, uint64_t end)
{
    uint64_t first = start >> FRAME_SHIFT;
    uint64_t last = (end + 0xFFF) >> FRAME_SHIFT;     /* exclusive */
    for (uint64_t f = first; f < last && f < p->npfn; f++)
        p->refs[f] = FRAME_RESERVED;
}

uint32_t frames_seal(struct frame_pool *p)
{
    p->nfree = 0;
    for (uint32_t f = p->npfn; f > 0; f--)
        if (p->refs[f - 1] == 0)
            p->stack[p->nfree++] = f - 1;
    p->nusable = p->nfree;
    return p->nfree;
}

uint32_t frames_alloc(struct frame_pool *p)
{
    if (p->nfree == 0)
        return 0;
    uint32_t f = p->stack[--p->nfree];
    p->refs[f] = 1;
    return f << FRAME_SHIFT;
}

static int allocated(const struct frame_pool *p, uint32_t f)
{
    return f < p->npfn && p->refs[f] != 0 && p->refs[f] != FRAME_RESERVED;
}

int frames_ref(struct frame_pool *p, uint32_t pa)
{
    uint32_t f = pa >> FRAME_SHIFT;
    if (!allocated(p, f) || p->refs[f] == FRAME_RESERVED - 1)
        return -1;
    return ++p->refs[f];
}

int frames_unref(struct frame_pool *p, uint32_t pa)
{
    uint32_t f = pa >> FRAME_SHIFT;
    if (!allocated(p, f))
        return -1;
    if (--p->refs[f] == 0)
        p->stack[p->nfree++] = f;
    return p->refs[f];
}

uint32_t frames_count(const struct frame_pool *p, uint32_t pa)
{
    uint32_t f = pa >> FRAME_SHIFT;
    return f < p->npfn ? p->refs[f] : FRAME_RESERVED;
}
