/*
 * ept.h — an extended page table (Intel EPT) and the guest memory layout behind it.
 *
 * Under `trap-ept` the guest's page tables translate guest-linear to guest-physical addresses and
 * an EPT, built by the monitor in its own (host) memory, translates guest-physical to
 * host-physical ones. The EPT is Intel's format (SDM vol. 3C, 29.3): four levels of 512 64-bit
 * entries (PML4, PDPT, PD, PT), bits 0-2 read/write/execute, bits 3-5 a leaf's memory type (6,
 * write-back), bits 12-51 the next table or the frame. vmlab maps every guest frame with a 4 KiB
 * leaf, so every translation reads four entries.
 *
 * It is consulted for real: under trap-ept Unicorn's physical memory holds guest RAM at
 * host-physical addresses that are not the guest-physical ones — RAM is mapped from 4 GiB up in
 * chunks in reverse order (guest chunk i at host chunk n-1-i) — and the TLB model's fill
 * hook (emu/tlb.c) hands Unicorn what the EPT says. A translation that skipped the EPT would land
 * in unmapped memory. The chunks are the largest power of two of at least 1 MiB that divides RAM
 * into four or more (64 MiB for 256 MiB): Unicorn looks a frame's RAM block up by scanning its
 * blocks, so few chunks keep that cheap. The host's own view of guest memory (m->ram, indexed by guest-physical
 * address) is unchanged, so the machine's page walks, delivery and decoding need no EPT.
 *
 * Population: on first touch. The EPT starts empty; the first access to a guest frame is an EPT
 * violation (VM exit 48), whose handler (ept_populate) maps that frame, and the instruction runs
 * again — as KVM fills its EPT. A guest-physical address beyond RAM cannot be populated: the run
 * ends. An entry that is present but malformed (write without read, a reserved memory type) is
 * an EPT misconfiguration (VM exit 49); the monitor rebuilds it from its own map (ept_repair).
 */
#ifndef VMLAB_EPT_H
#define VMLAB_EPT_H

#include <stdbool.h>
#include <stdint.h>

#define EPT_R (1ull << 0)
#define EPT_W (1ull << 1)
#define EPT_X (1ull << 2)
#define EPT_MT_WB (6ull << 3)
#define EPT_ADDR 0x000ffffffffff000ull
#define EPT_LEVELS 4
#define EPT_HOST_BASE (1ull << 32)      /* where guest RAM starts in host-physical space */
#define EPT_CHUNK (1u << 20)            /* the smallest unit of the reversed layout */

/* Why a translation failed. */
enum ept_fault { EPT_OK = 0, EPT_VIOLATION, EPT_MISCONFIG };

struct ept {
    uint64_t *pool;              /* the EPT's tables, 4 KiB each (host memory) */
    uint32_t npages, used;       /* tables in the pool, tables in use (page 0: the PML4) */
    uint64_t ram_size;           /* guest RAM: guest-physical 0 .. ram_size */
    uint64_t chunk;              /* the layout's unit (a power of two, >= EPT_CHUNK) */
    uint8_t *ram;                /* the host's view of guest RAM, by guest-physical address */
    unsigned refs;               /* EPT entries read since the caller last cleared it */
    enum ept_fault fault;        /* the last failed translation: why, */
    uint32_t fault_gpa;          /* where, */
    int fault_level;             /* at which level (4 = PML4 .. 1 = PT) */
    uint64_t leaf;               /* the last successful translation's leaf entry */
};

/* An empty EPT for `ram_size` bytes of guest RAM at host pointer `ram` (a multiple of EPT_CHUNK).
 * NULL with a one-line reason in errbuf. */
struct ept *ept_create(uint8_t *ram, uint64_t ram_size, char *errbuf, unsigned errlen);
void ept_free(struct ept *e);

/* The host-physical address guest RAM byte `gpa` lives at in the reversed layout (what
 * ept_populate maps it to); RAM is mapped into the engine in e->chunk pieces accordingly. */
uint64_t ept_layout_hpa(const struct ept *e, uint32_t gpa);

/* The host pointer behind host-physical address `hpa`, or NULL outside guest RAM. */
uint8_t *ept_hpa_ptr(const struct ept *e, uint64_t hpa);

/* Walk the EPT for guest-physical `gpa` and an access needing `need` (EPT_R, EPT_W, EPT_X):
 * 0 and the host-physical address in *hpa (the leaf entry in e->leaf, whose permissions the TLB
 * entry may carry), or -1 with e->fault, fault_gpa and fault_level set.
 * Adds the entries it read to e->refs. */
int ept_translate(struct ept *e, uint32_t gpa, uint64_t need, uint64_t *hpa);

/* Map guest frame `gpa` (EPT violation handling): 0, or -1 if it lies beyond RAM or the pool is
 * full. */
int ept_populate(struct ept *e, uint32_t gpa);

/* Rebuild the entries on the path to `gpa` that are malformed (EPT misconfiguration handling):
 * the number of entries rewritten. */
int ept_repair(struct ept *e, uint32_t gpa);

/* The leaf entry of `gpa`, read without counting (NULL if its path is not populated), to corrupt it. */
uint64_t *ept_leaf(struct ept *e, uint32_t gpa);

#endif
