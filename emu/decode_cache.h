/*
 * decode_cache.h — the monitors' decodings of guest instructions, kept by address and bytes.
 *
 * A monitor decodes the instruction that trapped (emul_decode: a shadow MMU's write to a guest page
 * table, ring compression's privileged instruction, a PV guest's INVLPG): the same few kernel
 * instructions, again and again. Capstone formats its mnemonic and operand text on every call, a
 * third of the decode: under trap, pgfault spent 9% of its time in cs_disasm_iter. This cache
 * answers a decoding it has seen at the same address whose bytes are the same: x86 decoding reads
 * an instruction's bytes in order and stops at its end, so equal bytes up to the instruction's
 * size decode the same (an instruction rewritten in place misses and is decoded again). The
 * address is part of the key because Capstone's operands may depend on it (relative targets).
 * Direct-mapped by address; nothing here is modeled, so nothing counted depends on it.
 */
#ifndef VMLAB_DECODE_CACHE_H
#define VMLAB_DECODE_CACHE_H

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stdint.h>

struct decode_cache;

/* An empty cache, or NULL when out of memory (the caller then decodes every time). */
struct decode_cache *dcache_new(void);
void dcache_free(struct decode_cache *c);

/* If an instruction decoded at `eip` had bytes that `code` (`n` bytes read at eip) starts with,
 * copy its decoding into `out` (allocated by cs_malloc, detail on) and return true. */
bool dcache_get(struct decode_cache *c, uint32_t eip, const uint8_t *code, uint32_t n,
                cs_insn *out);

/* Remember `in`, decoded at `eip` from `code` (at least in->size bytes). */
void dcache_put(struct decode_cache *c, uint32_t eip, const uint8_t *code, const cs_insn *in);

#endif
