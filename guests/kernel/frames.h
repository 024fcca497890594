/*
 * frames.h — the physical frame pool: which 4 KiB frames are free, and how many users each has.
 *
 * Life of a frame:
 *
 *     RESERVED --frames_add_range--> usable --frames_seal--> FREE <--unref to 0-- IN USE (refs>=1)
 *                                        |                     |                    ^   |
 *                 frames_reserve_range <-+                     +---frames_alloc-----+   +--ref-->
 *
 * Frames start reserved (firmware, the kernel image, memory above the managed limit). The boot
 * code adds the usable ranges from the Multiboot memory map, takes back the kernel image, and
 * seals the pool; from then on frames are handed out from a stack of free frame numbers (lowest
 * address first after sealing, then last-freed first), so allocation is O(1) and deterministic.
 *
 * Reference counts let copy-on-write share a frame between address spaces: fork takes a
 * reference per sharer, a COW fault or an unmap drops one, and the frame returns to the pool when
 * the count reaches zero. Pure code: the caller supplies the arrays; tested on the host.
 */
#ifndef KERNEL_FRAMES_H
#define KERNEL_FRAMES_H

#include "types.h"

#define FRAME_RESERVED 0xFFFFu

struct frame_pool {
    uint32_t npfn;      /* frames covered: physical [0, npfn * 4 KiB) */
    uint16_t *refs;     /* npfn entries: FRAME_RESERVED, or the reference count (0 = free) */
    uint32_t *stack;    /* npfn entries: free frame numbers, top at nfree - 1 */
    uint32_t nfree;     /* frames on the free stack */
    uint32_t nusable;   /* frames that were free when the pool was sealed */
};

/* Covers physical [0, npfn * 4 KiB); every frame starts reserved. */
void frames_init(struct frame_pool *p, uint32_t npfn, uint16_t *refs, uint32_t *stack);
/* Marks the whole frames inside physical [start, end) usable (before sealing). */
void frames_add_range(struct frame_pool *p, uint64_t start, uint64_t end);
/* Marks every frame touching physical [start, end) reserved (before sealing). */
void frames_reserve_range(struct frame_pool *p, uint64_t start, uint64_t end);
/* Puts every usable frame on the free stack; returns how many. */
uint32_t frames_seal(struct frame_pool *p);

/* A free frame with reference count 1; returns its physical address, or 0 if none is left. */
uint32_t frames_alloc(struct frame_pool *p);
/* Takes one more reference on an allocated frame; returns the new count, -1 if not allocated. */
int frames_ref(struct frame_pool *p, uint32_t pa);
/* Drops a reference; the frame is free again at 0. Returns the new count, -1 if not allocated. */
int frames_unref(struct frame_pool *p, uint32_t pa);
/* Current count (0 free, FRAME_RESERVED reserved or out of range). */
uint32_t frames_count(const struct frame_pool *p, uint32_t pa);

#endif
