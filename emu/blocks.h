/*
 * blocks.h — what vmlab knows about each translated block the CPU runs.
 *
 * Unicorn calls the block hook at the start of every translated block (TB) it executes, with the
 * block's linear address and size. The first time a (address, size) pair is seen, the block is
 * decoded once with Capstone: number of instructions,
 * instruction offsets (to count exactly when an exception stops the block half-way), and the
 * privileged / sensitive instructions it contains (its "sites"). Every later execution is a hash
 * lookup and a few additions — the only per-block work on the hot path.
 *
 * The key is the linear address, so a block of user code at the same address in another address
 * space could be a different block: blocks decoded at CPL 3 carry a hash of their bytes and are
 * re-verified once per epoch (the epoch is bumped whenever an address space may have changed:
 * CR3 loads, INVLPG).
 *
 * Kernel code changes too: Linux rewrites its own text at boot (alternatives: `rdtsc; nop3`
 * becomes `lfence; rdtsc`). Unicorn retranslates rewritten code itself; what vmlab decoded must
 * follow without watching every store (a memory-write hook costs 14x on store-heavy code, and
 * write-protecting code frames with uc_mem_protect costs 4-125 ms per call in 2.1.1: see
 * emu/UNICORN.md). So kernel blocks carry the hash of their bytes as well and are re-verified
 * once per kernel-code epoch (m->kepoch), which is bumped (a) when a site hook finds that the
 * instruction under it is no longer the one decoded there — every site checks its bytes before the
 * machine or the mode acts on it, so an intercepted or emulated instruction is always the one in
 * memory — and (b) at the serializing instructions the SDM prescribes after cross-modifying code
 * (vol. 3A, 8.1.3: CPUID, WRMSR). The hot path is unchanged: the block hook compares the block's
 * epoch with the current one, as it did for user blocks.
 */
#ifndef VMLAB_BLOCKS_H
#define VMLAB_BLOCKS_H

#include <stdbool.h>
#include <stdint.h>

/* A privileged or sensitive instruction inside a block. */
struct site {
    uint16_t off;        /* byte offset in the block */
    uint16_t idx;        /* instruction index in the block */
    uint8_t cls;         /* enum insn_class */
    int8_t cr;           /* CR number for mov to/from CR, else -1 */
    uint8_t len;         /* instruction length */
    uint8_t port_imm;    /* in/out with an immediate port: 1 (port in `port`) */
    uint8_t port;
    uint8_t io_size;     /* in/out/ins/outs: access size in bytes */
    uint8_t mc;          /* 1 + index in m->mcounts: an event the mode's own code counts here
                            (cls is then IC_NONE); 0 for a privileged instruction */
    uint32_t sum;        /* hash of the instruction's bytes when decoded (blocks_site_current) */
};

struct block {
    uint32_t addr;       /* linear address */
    uint16_t size;       /* bytes */
    uint16_t n;          /* instructions */
    uint8_t cpl;         /* privilege level it was decoded at */
    uint16_t nsites;
    uint8_t ends_hlt;    /* last instruction is hlt */
    uint8_t ends_shadow; /* last instruction opens an interrupt shadow (sti, mov/pop ss) */
    uint32_t epoch;      /* epoch of the last verification: m->epoch for user blocks, m->kepoch
                            for kernel blocks */
    uint64_t hash;       /* hash of the bytes */
    uint16_t *offs;      /* n instruction offsets */
    struct site *sites;
    struct block *next;
};

struct block_cache {
    struct block **slots;    /* hash on (addr, size) -> chain */
    unsigned nslots;         /* power of two */
    unsigned nblocks;
    uint64_t decodes;        /* blocks decoded (first sight or content changed) */
    uint64_t verifies;       /* user blocks re-verified after an epoch change */
    struct block *retired;   /* forgotten blocks (blocks_forget), freed with the cache */
};

int bc_init(struct block_cache *bc);
void bc_free(struct block_cache *bc);

static inline unsigned bc_hash(uint32_t addr, uint32_t size, unsigned nslots)
{
    uint32_t h = (addr ^ (addr >> 13) ^ (size << 7)) * 0x9e3779b1u;
    return (h >> 12) & (nslots - 1);
}

static inline struct block *bc_lookup(const struct block_cache *bc, uint32_t addr, uint32_t size)
{
    struct block *b = bc->slots[bc_hash(addr, size, bc->nslots)];
    while (b && (b->addr != addr || b->size != size))
        b = b->next;
    return b;
}

/* Index of the instruction starting at or containing `eip` within b: the number of instructions
 * of b that start before eip (so eip == block end gives b->n). */
int block_index_of(const struct block *b, uint32_t eip);

struct machine;

/* Decode the block at (addr, size) from guest memory at the current privilege level and insert it
 * (replacing a stale entry for the same key). Returns the block, or NULL with a diagnostic ending
 * the run (unreadable code, a decode that disagrees with the CPU). */
struct block *blocks_decode(struct machine *m, uint32_t addr, uint32_t size, struct block *stale);

/* Forget the blocks decoded at linear addresses [lo, hi): the code there was replaced (a
 * translation cache reused), so they are decoded again when next run. Their memory stays valid
 * until the cache is freed (the machine may still point at one). */
void blocks_forget(struct machine *m, uint32_t lo, uint64_t hi);

/* Re-verify a block after its epoch changed (m->epoch for user blocks, m->kepoch for kernel
 * blocks): returns true, with the block's epoch brought up to date, if its bytes are unchanged. */
bool blocks_verify(struct machine *m, struct block *b);

/* The epoch a block must carry to be current: m->epoch at CPL 3, else m->kepoch. */
#define BLOCK_EPOCH_NOW(m, cpl) ((cpl) == 3 ? (m)->epoch : (m)->kepoch)

/* Whether the instruction of site s in block b is still the one decoded there (its bytes, read
 * as the CPU fetches them now, hash as at decode time; bytes the page tables no longer map count
 * as unchanged: the CPU runs them from its TLB). */
bool blocks_site_current(struct machine *m, const struct block *b, const struct site *s);

#endif
