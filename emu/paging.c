/*
 * paging.c — the i386 non-PAE page walk (see paging.h).
 *
 * Permission rules (Intel SDM vol. 3, 4.6, for 32-bit paging): the effective U/S and R/W of a
 * translation are the AND of the PDE's and the PTE's bits. A user access needs U at both levels;
 * a user write needs W at both levels; a supervisor write to a read-only page faults only when
 * CR0.WP is set. A not-present entry at either level gives error code P=0; anything else P=1.
 */
#include "emu/paging.h"

#include <string.h>

/* Where physical address pa lives on the host (4 bytes), or NULL outside both regions. */
static uint8_t *at(struct phys_mem *pm, uint32_t pa, bool write)
{
    if (pm->xlate)
        return pm->xlate(pm, pa, write);
    if ((uint64_t)pa + 4 <= pm->size)
        return pm->ram + pa;
    if (pm->hi && pa >= pm->hi_base && (uint64_t)pa + 4 <= pm->hi_base + pm->hi_size)
        return pm->hi + (pa - pm->hi_base);
    return NULL;
}

static bool load32(struct phys_mem *pm, uint32_t pa, uint32_t *v)
{
    uint8_t *p = at(pm, pa, false);
    if (!p)
        return false;
    memcpy(v, p, 4);
    return true;
}

static void store32(struct phys_mem *pm, uint32_t pa, uint32_t v)
{
    uint8_t *p = at(pm, pa, true);
    if (p)
        memcpy(p, &v, 4);
}

static bool allowed(uint32_t perm, const struct paging_access *acc, bool wp)
{
    if (acc->user && !(perm & PTE_U))
        return false;
    if (acc->write && !(perm & PTE_W) && (acc->user || wp))
        return false;
    return true;
}

int paging_walk(const struct paging_regs *r, struct phys_mem *pm, uint32_t lin,
                const struct paging_access *acc, struct paging_walk *w, uint32_t *pf_err)
{
    uint32_t err_base = (acc->write ? PFE_W : 0) | (acc->user ? PFE_U : 0);
    if (!(r->cr0 & CR0_PG)) {
        *w = (struct paging_walk){.phys = lin, .perm = PTE_U | PTE_W};
        return 0;
    }
    bool wp = (r->cr0 & CR0_WP) != 0, pge = (r->cr4 & CR4_PGE) != 0;
    uint32_t pde_pa = (r->cr3 & 0xfffff000u) + ((lin >> 22) << 2);
    uint32_t pde;
    w->refs = 1;
    if (!load32(pm, pde_pa, &pde) || !(pde & PTE_P)) {
        *pf_err = err_base;
        return -1;
    }
    if ((pde & PTE_PS) && (r->cr4 & CR4_PSE)) {
        if (!allowed(pde, acc, wp)) {
            *pf_err = err_base | PFE_P;
            return -1;
        }
        if (acc->set_ad) {
            uint32_t n = pde | PTE_A | (acc->write ? PTE_D : 0);
            if (n != pde)
                store32(pm, pde_pa, n);
            pde = n;
        }
        *w = (struct paging_walk){.phys = (pde & 0xffc00000u) | (lin & 0x003fffffu), .entry = pde,
                                  .perm = pde & (PTE_U | PTE_W), .large = true,
                                  .global = pge && (pde & PTE_G), .refs = 1};
        return 0;
    }
    uint32_t pte_pa = (pde & 0xfffff000u) + (((lin >> 12) & 0x3ffu) << 2);
    uint32_t pte;
    w->refs = 2;
    if (!load32(pm, pte_pa, &pte) || !(pte & PTE_P)) {
        *pf_err = err_base;
        return -1;
    }
    if (!allowed(pde & pte, acc, wp)) {
        *pf_err = err_base | PFE_P;
        return -1;
    }
    if (acc->set_ad) {
        if (!(pde & PTE_A))
            store32(pm, pde_pa, pde | PTE_A);
        uint32_t n = pte | PTE_A | (acc->write ? PTE_D : 0);
        if (n != pte)
            store32(pm, pte_pa, n);
        pte = n;
    }
    *w = (struct paging_walk){.phys = (pte & 0xfffff000u) | (lin & 0xfffu), .entry = pte,
                              .perm = pde & pte & (PTE_U | PTE_W), .large = false,
                              .global = pge && (pte & PTE_G), .refs = 2};
    return 0;
}

int paging_translate(const struct paging_regs *r, struct phys_mem *pm, uint32_t lin,
                     const struct paging_access *acc, uint32_t *phys, uint32_t *pf_err)
{
    struct paging_memo *mm = (r->cr0 & CR0_PG) ? acc->memo : NULL;
    unsigned slot = PAGING_MEMO_PAGES;
    if (mm) {
        uint32_t key = (lin & 0xfffff000u) | 1u;
        for (unsigned i = 0; i < PAGING_MEMO_PAGES; i++) {
            if (mm->e[i].page != key)
                continue;
            if (allowed(mm->e[i].perm, acc, (r->cr0 & CR0_WP) != 0) &&
                (!acc->set_ad || (acc->write ? mm->e[i].dirty : mm->e[i].accessed))) {
                *phys = mm->e[i].frame | (lin & 0xfffu);
                return 0;
            }
            slot = i;       /* walk again (a fault, or bits to set) and note what it did */
            break;
        }
    }
    struct paging_walk w;
    if (paging_walk(r, pm, lin, acc, &w, pf_err) < 0)
        return -1;
    *phys = w.phys;
    if (mm) {
        if (slot == PAGING_MEMO_PAGES) {
            slot = mm->next;
            mm->next = (mm->next + 1) % PAGING_MEMO_PAGES;
            mm->e[slot].accessed = mm->e[slot].dirty = false;
        }
        mm->e[slot].page = (lin & 0xfffff000u) | 1u;
        mm->e[slot].frame = w.phys & 0xfffff000u;
        mm->e[slot].perm = w.perm;
        mm->e[slot].accessed |= acc->set_ad;
        mm->e[slot].dirty |= acc->set_ad && acc->write;
    }
    return 0;
}

/* memcpy for copy's chunks. Most are short and whole words (8-byte gates and descriptors, frames
 * of up to 28 bytes, a TSS stack pointer): moved a word at a time, as the inline rep movs GCC
 * makes of a memcpy of unknown length starts slower than such a copy takes. */
static inline void move(uint8_t *to, const uint8_t *from, uint32_t n)
{
    if (n > 32 || (n & 3)) {
        memcpy(to, from, n);
        return;
    }
    for (uint32_t i = 0; i < n; i += 4) {
        uint32_t w;
        memcpy(&w, from + i, 4);
        memcpy(to + i, &w, 4);
    }
}

static int copy(const struct paging_regs *r, struct phys_mem *pm, uint32_t lin, uint8_t *buf,
                uint32_t len, const struct paging_access *acc, uint32_t *fault_lin,
                uint32_t *pf_err, bool to_guest)
{
    while (len > 0) {
        uint32_t chunk = 0x1000u - (lin & 0xfffu);
        if (chunk > len)
            chunk = len;
        uint32_t pa;
        if (paging_translate(r, pm, lin, acc, &pa, pf_err) < 0) {
            *fault_lin = lin;
            return -1;
        }
        if ((uint64_t)pa + chunk > pm->size) {
            *fault_lin = lin;
            return -2;
        }
        if (to_guest)
            move(pm->ram + pa, buf, chunk);
        else
            move(buf, pm->ram + pa, chunk);
        buf += chunk;
        lin += chunk;
        len -= chunk;
    }
    return 0;
}

int paging_read(const struct paging_regs *r, struct phys_mem *pm, uint32_t lin, void *buf,
                uint32_t len, const struct paging_access *acc, uint32_t *fault_lin,
                uint32_t *pf_err)
{
    return copy(r, pm, lin, buf, len, acc, fault_lin, pf_err, false);
}

int paging_write(const struct paging_regs *r, struct phys_mem *pm, uint32_t lin, const void *buf,
                 uint32_t len, const struct paging_access *acc, uint32_t *fault_lin,
                 uint32_t *pf_err)
{
    return copy(r, pm, lin, (uint8_t *)buf, len, acc, fault_lin, pf_err, true);
}
