/*
 * ept.c — the extended page table (see ept.h): layout, walk, population, repair.
 *
 * The tables come from one pool sized for the worst case (a PML4, a PDPT, four page directories
 * for the 32-bit guest-physical space and one page table per 2 MiB of RAM), so population never
 * allocates. Every walk reads all four levels: vmlab maps guest frames with 4 KiB leaves.
 */
#include "emu/ept.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTRIES 512

static uint64_t *table(struct ept *e, uint64_t entry_or_page)
{
    return e->pool + (size_t)entry_or_page * ENTRIES;
}

/* Table addresses in entries are pool indices shifted into the address field: the EPT lives in
 * the monitor's memory, which the guest cannot reach, so its "host-physical" addresses are the
 * monitor's own numbering. */
static uint64_t table_ref(uint32_t page) { return (uint64_t)page << 12; }
static uint32_t table_page(uint64_t entry) { return (uint32_t)((entry & EPT_ADDR) >> 12); }

static unsigned index_at(uint32_t gpa, int level)
{
    return (unsigned)(((uint64_t)gpa >> (12 + 9 * (level - 1))) & (ENTRIES - 1));
}

struct ept *ept_create(uint8_t *ram, uint64_t ram_size, char *errbuf, unsigned errlen)
{
    if (ram_size % EPT_CHUNK) {
        snprintf(errbuf, errlen, "trap-ept needs RAM in whole MiB (got %llu bytes)",
                 (unsigned long long)ram_size);
        return NULL;
    }
    struct ept *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    e->npages = 2 + 4 + (uint32_t)((ram_size + (2u << 20) - 1) >> 21);
    e->pool = calloc((size_t)e->npages * ENTRIES, sizeof *e->pool);
    if (!e->pool) {
        free(e);
        snprintf(errbuf, errlen, "out of memory for the EPT");
        return NULL;
    }
    e->used = 1;                 /* page 0: the PML4 */
    e->chunk = EPT_CHUNK;
    while (ram_size % (e->chunk * 2) == 0 && ram_size / (e->chunk * 2) >= 4)
        e->chunk *= 2;
    e->ram = ram;
    e->ram_size = ram_size;
    return e;
}

void ept_free(struct ept *e)
{
    if (!e)
        return;
    free(e->pool);
    free(e);
}

uint64_t ept_layout_hpa(const struct ept *e, uint32_t gpa)
{
    uint64_t chunks = e->ram_size / e->chunk, c = gpa / e->chunk;
    return EPT_HOST_BASE + (chunks - 1 - c) * e->chunk + gpa % e->chunk;
}

uint8_t *ept_hpa_ptr(const struct ept *e, uint64_t hpa)
{
    if (hpa < EPT_HOST_BASE || hpa >= EPT_HOST_BASE + e->ram_size)
        return NULL;
    uint64_t chunks = e->ram_size / e->chunk, j = (hpa - EPT_HOST_BASE) / e->chunk;
    return e->ram + (chunks - 1 - j) * e->chunk + (hpa - EPT_HOST_BASE) % e->chunk;
}

/* A present entry that the CPU would refuse to use (SDM vol. 3C, 29.3.3.1): write without read,
 * or a leaf's memory type 2, 3 or 7. */
static bool misconfigured(uint64_t entry, bool leaf)
{
    if ((entry & (EPT_R | EPT_W)) == EPT_W)
        return true;
    unsigned mt = (unsigned)((entry >> 3) & 7);
    return leaf && (mt == 2 || mt == 3 || mt == 7);
}

int ept_translate(struct ept *e, uint32_t gpa, uint64_t need, uint64_t *hpa)
{
    uint64_t *t = table(e, 0);
    for (int level = EPT_LEVELS; level >= 1; level--) {
        uint64_t entry = t[index_at(gpa, level)];
        e->refs++;
        if (!(entry & (EPT_R | EPT_W | EPT_X))) {
            e->fault = EPT_VIOLATION;
        } else if (misconfigured(entry, level == 1)) {
            e->fault = EPT_MISCONFIG;
        } else if (level > 1 && table_page(entry) >= e->used) {
            e->fault = EPT_MISCONFIG;      /* points outside the monitor's tables */
        } else if (level == 1 && (entry & need) != need) {
            e->fault = EPT_VIOLATION;
        } else {
            if (level == 1) {
                e->leaf = entry;
                *hpa = (entry & EPT_ADDR) | (gpa & 0xfffu);
                return 0;
            }
            t = table(e, table_page(entry));
            continue;
        }
        e->fault_gpa = gpa;
        e->fault_level = level;
        return -1;
    }
    return -1;
}

int ept_populate(struct ept *e, uint32_t gpa)
{
    if ((uint64_t)gpa >= e->ram_size)
        return -1;
    uint64_t *t = table(e, 0);
    for (int level = EPT_LEVELS; level > 1; level--) {
        uint64_t *entry = &t[index_at(gpa, level)];
        if (!(*entry & (EPT_R | EPT_W | EPT_X))) {
            if (e->used == e->npages)
                return -1;
            *entry = table_ref(e->used++) | EPT_R | EPT_W | EPT_X;
        }
        t = table(e, table_page(*entry));
    }
    t[index_at(gpa, 1)] = (ept_layout_hpa(e, gpa & ~0xfffu) & EPT_ADDR) | EPT_R | EPT_W | EPT_X |
                          EPT_MT_WB;
    return 0;
}

int ept_repair(struct ept *e, uint32_t gpa)
{
    int fixed = 0;
    uint64_t *t = table(e, 0);
    for (int level = EPT_LEVELS; level >= 1; level--) {
        uint64_t *entry = &t[index_at(gpa, level)];
        if (!(*entry & (EPT_R | EPT_W | EPT_X)))
            break;
        bool bad = misconfigured(*entry, level == 1) ||
                   (level > 1 && table_page(*entry) >= e->used);
        if (bad && level == 1) {
            *entry = (ept_layout_hpa(e, gpa & ~0xfffu) & EPT_ADDR) | EPT_R | EPT_W | EPT_X |
                     EPT_MT_WB;
            fixed++;
        } else if (bad) {
            *entry = 0;          /* the path below is lost: refilled on the next violation */
            fixed++;
            break;
        }
        if (level > 1)
            t = table(e, table_page(*entry));
    }
    return fixed;
}

uint64_t *ept_leaf(struct ept *e, uint32_t gpa)
{
    uint64_t *t = table(e, 0);
    for (int level = EPT_LEVELS; level > 1; level--) {
        uint64_t entry = t[index_at(gpa, level)];
        if (!(entry & (EPT_R | EPT_W | EPT_X)) || table_page(entry) >= e->used)
            return NULL;
        t = table(e, table_page(entry));
    }
    return &t[index_at(gpa, 1)];
}
