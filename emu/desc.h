/*
 * desc.h — x86 segment and gate descriptors as pure functions (Intel SDM vol. 3, 3.4.5 and 6.11).
 *
 * Used by exception delivery (emu/deliver.c) and unit-tested on raw descriptor words.
 */
#ifndef VMLAB_DESC_H
#define VMLAB_DESC_H

#include <stdbool.h>
#include <stdint.h>

struct desc {
    uint32_t lo, hi;     /* raw descriptor words */
    uint32_t base, limit;/* limit scaled by the granularity bit */
    uint8_t type;        /* 4-bit type field */
    uint8_t s, dpl, p, db, g;
};

/* Gate types in the IDT (S = 0). */
enum gate_type {
    GATE_TASK = 0x05,
    GATE_INT16 = 0x06,
    GATE_TRAP16 = 0x07,
    GATE_INT32 = 0x0e,
    GATE_TRAP32 = 0x0f,
};

struct gate {
    uint16_t selector;   /* target code segment */
    uint32_t offset;     /* handler entry */
    uint8_t type;        /* 5 bits: S (0) and the 4-bit type, compare with enum gate_type */
    uint8_t dpl;
    bool present;
};

/* Decode a segment descriptor from its two words. */
void desc_decode(uint32_t lo, uint32_t hi, struct desc *d);

/* Decode an IDT gate from its two words. */
void gate_decode(uint32_t lo, uint32_t hi, struct gate *g);

/* A code segment (S = 1, type bit 3 set)? Conforming (type bit 2)? */
static inline bool desc_is_code(const struct desc *d) { return d->s && (d->type & 0x8); }
static inline bool desc_is_conforming(const struct desc *d) { return desc_is_code(d) && (d->type & 0x4); }

/* A writable data segment (what SS must be)? */
static inline bool desc_is_writable_data(const struct desc *d)
{
    return d->s && !(d->type & 0x8) && (d->type & 0x2);
}

#endif
