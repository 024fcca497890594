/*
 * tlb.c — the TLB model (see tlb.h): the fill hook, the tag stores and the flushes.
 *
 * The fill hook runs once per page per Unicorn flush epoch, so it is the model's only per-access
 * work: read CR0/CR3/CR4 and the CPL from the live CPU state (uc_quirks' direct view, or the API),
 * walk, look the page up in the two tag stores, count a miss where it is absent. Flushes are
 * epoch bumps (a CR3 load bumps the non-global epoch, everything else the all-entries epoch), so
 * none of them touches the store; INVLPG marks up to four slots stale. The store is rebuilt with
 * only its valid entries when half its slots hold keys. A flush of every entry when few slots hold
 * keys (the no-VPID TLB at every VM exit) empties those slots instead, so that lookups do not
 * probe past stale keys.
 */
#include "emu/tlb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/events_record.h"
#include "emu/link/uc_tlb_page.h"
#include "emu/machine.h"

static const char *const reason_qual[] = {
#define TLB_REASON(id, nr, qual, doc) [nr] = qual,
#include "emu/tlb_reasons.def"
#undef TLB_REASON
};

#define INITIAL_SLOTS 4096u
#define GUARD_HPA (EPT_HOST_BASE - 0x1000u)   /* unmapped under trap-ept (RAM is above 4 GiB) */

/* ---- the tag store -------------------------------------------------------------------------- */

static uint32_t make_key(uint32_t lin, bool large, bool code)
{
    uint32_t vpn = large ? (lin >> 12) & ~0x3ffu : lin >> 12;
    return 1u + (vpn | (large ? 1u << 20 : 0) | (code ? 1u << 21 : 0));
}

static bool valid(const struct tlb_tags *t, const struct tlb_slot *s)
{
    return s->key && s->epoch_all == t->epoch_all && (s->global || s->epoch_ng == t->epoch_ng);
}

static uint32_t hash(uint32_t key)
{
    key *= 0x9e3779b1u;
    return key ^ (key >> 15);
}

/* The slot holding key, or the empty slot where it would go. */
static struct tlb_slot *find(struct tlb_tags *t, uint32_t key)
{
    for (uint32_t i = hash(key) & t->mask;; i = (i + 1) & t->mask) {
        struct tlb_slot *s = &t->slot[i];
        if (s->key == key || s->key == 0)
            return s;
    }
}

static int tags_alloc(struct tlb_tags *t, uint32_t slots)
{
    struct tlb_slot *n = calloc(slots, sizeof *n);
    if (!n)
        return -1;
    t->slot = n;
    t->mask = slots - 1;
    t->used = 0;
    t->nkeyed = 0;
    return 0;
}

/* Slot s has just received a key in an empty slot. */
static void keyed(struct tlb_tags *t, const struct tlb_slot *s)
{
    if (t->nkeyed < TLB_TAGS_LISTED)
        t->keyed[t->nkeyed] = (uint32_t)(s - t->slot);
    if (t->nkeyed <= TLB_TAGS_LISTED)
        t->nkeyed++;
}

/* Keep only the valid entries, in a table twice as large when they fill a quarter of it. */
static void rebuild(struct tlb_tags *t)
{
    struct tlb_slot *old = t->slot;
    uint32_t nold = t->mask + 1, live = 0;
    for (uint32_t i = 0; i < nold; i++)
        live += valid(t, &old[i]);
    uint32_t slots = live * 4 > nold ? nold * 2 : nold;
    if (tags_alloc(t, slots) < 0) {
        t->slot = old;      /* out of memory: keep probing the full table (never full: < 1/2) */
        return;
    }
    for (uint32_t i = 0; i < nold; i++)
        if (valid(t, &old[i])) {
            struct tlb_slot *s = find(t, old[i].key);
            *s = old[i];
            t->used++;
            keyed(t, s);
        }
    free(old);
}

/* Look key up; if absent, enter it. Returns true on a hit. */
static bool touch(struct tlb_tags *t, uint32_t key, bool global)
{
    struct tlb_slot *s = find(t, key);
    if (s->key && valid(t, s))
        return true;
    if (!s->key) {
        t->used++;
        keyed(t, s);
    }
    *s = (struct tlb_slot){.key = key, .epoch_all = t->epoch_all, .epoch_ng = t->epoch_ng,
                           .global = global};
    t->nglobal += global;
    if (t->used * 2 > t->mask + 1)
        rebuild(t);
    return false;
}

static void drop(struct tlb_tags *t, uint32_t key)
{
    struct tlb_slot *s = find(t, key);
    if (s->key && valid(t, s)) {
        t->nglobal -= s->global;
        s->epoch_all = t->epoch_all - 1;
    }
}

static void drop_all(struct tlb_tags *t)
{
    t->epoch_all++;
    t->nglobal = 0;
    if (t->nkeyed <= TLB_TAGS_LISTED) {
        /* Every keyed slot is listed: empty them all (no probe chain is left half). */
        for (uint32_t i = 0; i < t->nkeyed; i++)
            t->slot[t->keyed[i]].key = 0;
        t->used = 0;
        t->nkeyed = 0;
    }
}

/* ---- Unicorn's TLB ---------------------------------------------------------------------------- */

/* Empty Unicorn's soft TLB. Every entry comes through tlb_fill (or the CPU's own walk of a rerun,
 * tlb_fault_rerun), which notes its page: nothing noted, nothing to do (exits often follow one
 * another with no access between them); a few pages, each flushed as INVLPG does, when the
 * executable links the single-page flush (emu/link/uc_tlb_page.h); else the whole TLB, a memset
 * of Unicorn's every table and of its 32 KB jump cache (12.5% of trap pgfault when every VM exit
 * paid it). Measured on trap pgfault: the whole flush costs about 0.45 us, a page about 70 ns
 * flushed in every MMU index, less in the indexes it was filled for only (its share of the jump
 * cache stays). The list's length, TLB_FILL_PAGES, is the best of 6, 10 and 16 on trap pgfault,
 * ptemod and forkwait (10: pgfault 0.948 -> 0.892 s, ptemod 0.283 -> 0.234 s against 6). */
static void absorb_cpu_fills(struct tlb_model *t);

static void unicorn_flush(struct machine *m)
{
    struct tlb_model *t = &m->tlb;
    absorb_cpu_fills(t);
    if (!t->nfill)
        return;
    if (t->nfill <= TLB_FILL_PAGES && t->cpu) {
        for (unsigned i = 0; i < t->nfill; i++)
            uc_tlb_page_flush(t->cpu, t->fill_page[i] & ~0xfffu, t->fill_page[i] & 0xfffu);
    } else {
        uc_ctl_flush_tlb(m->uc);
        if (uc_tlb_page_flushed_whole)
            uc_tlb_page_flushed_whole();
    }
    t->nfill = 0;
}

/* Unicorn's TLB may now hold anything: the next unicorn_flush empties it whole. */
static void unicorn_unknown(struct tlb_model *t)
{
    t->nfill = TLB_FILL_PAGES + 1;
}

/* Page `lin` may enter Unicorn's TLB for the MMU indexes in idxmap (low 12 bits). */
static void note_page(struct tlb_model *t, uint32_t lin, uint32_t idxmap)
{
    uint32_t page = lin & ~0xfffu;
    if (t->nfill > TLB_FILL_PAGES)
        return;
    for (unsigned i = 0; i < t->nfill; i++)
        if ((t->fill_page[i] & ~0xfffu) == page) {
            t->fill_page[i] |= idxmap & 0xfffu;
            return;
        }
    if (t->nfill < TLB_FILL_PAGES)
        t->fill_page[t->nfill] = page | (idxmap & 0xfffu);
    t->nfill++;
}

/* tlb_fill lets page `lin` into Unicorn's TLB (and learns the CPU to flush it from). */
static void note_fill(struct tlb_model *t, uint32_t lin)
{
    if (!t->cpu && uc_tlb_page_cpu && uc_tlb_page_flush && uc_tlb_page_cpu_fills &&
        uc_tlb_page_fill_idx)
        t->cpu = uc_tlb_page_cpu();
    note_page(t, lin, t->cpu ? 1u << (uc_tlb_page_fill_idx() & 0x7u) : 0xfffu);
}

/* While the CPU walks by itself (tlb_fault_rerun), the pages it entered, as the link layer lists
 * them; without that list, the rerun made Unicorn's TLB unknown already. */
static void absorb_cpu_fills(struct tlb_model *t)
{
    if (!t->cpu_walk || !t->cpu)
        return;
    uint64_t pages[TLB_FILL_PAGES];
    unsigned n = uc_tlb_page_cpu_fills(pages, TLB_FILL_PAGES);
    if (n > TLB_FILL_PAGES) {
        unicorn_unknown(t);
        return;
    }
    for (unsigned i = 0; i < n; i++)
        note_page(t, (uint32_t)pages[i], (uint32_t)pages[i] & 0xfffu);
}

/* ---- recording ------------------------------------------------------------------------------ */

static void record(struct machine *m, enum tlb_reason r, uint64_t count2)
{
    uint64_t eip = 0;
    uc_reg_read(m->uc, UC_X86_REG_EIP, &eip);
    ev_record(&m->ev, m->time, EV_TLB, r, reason_qual[r], count2, (uint32_t)eip, machine_cpl(m));
}

void tlb_fold(struct machine *m)
{
    struct tlb_model *t = &m->tlb;
    for (int v = 0; v < TLB_VARIANTS; v++)
        for (int k = 0; k < TLB_KINDS; k++) {
            uint64_t d = t->miss[v][k] - t->miss_folded[v][k];
            uint64_t r = t->refs[v][k] - t->refs_folded[v][k];
            if (d || r)
                ev_add(&m->ev, EV_TLB, v * TLB_KINDS + k, reason_qual[v * TLB_KINDS + k], d, r);
            t->miss_folded[v][k] = t->miss[v][k];
            t->refs_folded[v][k] = t->refs[v][k];
        }
    for (int v = 0; v < TLB_VARIANTS; v++) {
        uint64_t d = t->ept_miss[v] - t->ept_miss_folded[v];
        uint64_t r = t->ept_refs[v] - t->ept_refs_folded[v];
        int reason = v ? TLB_EPT_WALK_VPID : TLB_EPT_WALK;
        if (d || r)
            ev_add(&m->ev, EV_TLB, reason, reason_qual[reason], d, r);
        t->ept_miss_folded[v] = t->ept_miss[v];
        t->ept_refs_folded[v] = t->ept_refs[v];
    }
}

/* A miss of modeled TLB v: counted on the hot path (folded by tlb_fold); with a full trace, also
 * its row, at the instruction that missed (Unicorn has put EIP there before calling the hook). */
static void count_miss(struct machine *m, int v, unsigned kind, unsigned refs, int cpl)
{
    m->tlb.miss[v][kind]++;
    m->tlb.refs[v][kind] += refs;
    if (m->tlb.ept) {
        m->tlb.ept_miss[v]++;
        m->tlb.ept_refs[v] += m->tlb.ept->refs;
    }
    if (m->ev.sink) {
        uint64_t eip = 0;
        uc_reg_read(m->uc, UC_X86_REG_EIP, &eip);
        unsigned r = (unsigned)v * TLB_KINDS + kind;
        ev_trace_row(&m->ev, m->time, EV_TLB, r, reason_qual[r], (uint32_t)eip, cpl);
    }
}

/* ---- the fill hook -------------------------------------------------------------------------- */

struct cpu_paging {
    struct paging_regs r;
    int cpl;
};

static void read_paging(struct machine *m, struct cpu_paging *p)
{
    uint32_t cr[3];
    uq_paging(&m->quirks, m->uc, cr, &p->cpl);
    p->r = (struct paging_regs){cr[0], cr[1], cr[2]};
}

/* trap-ept: a guest-table entry's guest-physical address through the EPT (ept_pm's xlate). */
static uint8_t *ept_xlate(struct phys_mem *pm, uint32_t gpa, bool write)
{
    struct ept *e = pm->opaque;
    uint64_t hpa;
    if (ept_translate(e, gpa, write ? EPT_R | EPT_W : EPT_R, &hpa) < 0)
        return NULL;
    return ept_hpa_ptr(e, hpa);     /* entries are 4-byte aligned: never across frames */
}

/* Where the fill's final frame is in host-physical space, and what the EPT allows there: 0, or -1
 * (the EPT refused: t->ept_fault set). Without an EPT, the guest-physical address itself. */
static int final_frame(struct tlb_model *t, uint32_t gpa, uc_mem_type type, uint64_t *hpa,
                       bool *ept_write)
{
    *ept_write = true;
    if (!t->ept) {
        *hpa = gpa;
        return 0;
    }
    if (t->quiet) {              /* a host call: the monitor's own layout, no EPT consulted */
        *hpa = (uint64_t)gpa < t->ept->ram_size ? ept_layout_hpa(t->ept, gpa) : gpa;
        return 0;
    }
    uint64_t need = type == UC_MEM_FETCH ? EPT_X : type == UC_MEM_WRITE ? EPT_W | EPT_R : EPT_R;
    if (ept_translate(t->ept, gpa, need, hpa) < 0)
        return -1;
    *ept_write = (t->ept->leaf & EPT_W) != 0;
    return 0;
}

static bool tlb_fill(uc_engine *uc, uint64_t vaddr, uc_mem_type type, uc_tlb_entry *e,
                     void *opaque)
{
    (void)uc;
    struct machine *m = opaque;
    struct tlb_model *t = &m->tlb;
    uint32_t lin = (uint32_t)vaddr;
    note_fill(t, lin);           /* whatever this returns may enter Unicorn's TLB */
    struct cpu_paging p;
    read_paging(m, &p);
    if (t->capture && !t->quiet && lin == t->fault_lin && type != UC_MEM_FETCH) {
        e->paddr = GUARD_HPA;     /* the second pass of a guest #PF: tlb_capture_begin */
        e->perms = UC_PROT_ALL;
        return true;
    }
    bool code = type == UC_MEM_FETCH, user = p.cpl == 3;
    struct paging_access acc = {.write = type == UC_MEM_WRITE, .user = user,
                                .set_ad = t->quiet == 0};
    struct paging_walk w;
    uint32_t err;
    struct phys_mem *pm = t->ept && !t->quiet ? &t->ept_pm : &t->pm;
    if (t->ept) {
        t->ept->refs = 0;
        t->ept->fault = EPT_OK;
    }
    int walked = paging_walk(&p.r, pm, lin, &acc, &w, &err);
    uint64_t hpa = 0;
    bool ept_write = true;
    if (walked == 0 && final_frame(t, w.phys, type, &hpa, &ept_write) < 0)
        walked = -1;
    if (walked < 0) {
        if (t->quiet) {
            /* A host call asked for a page the guest has not mapped: give Unicorn something to
             * hold and flush it as soon as the call returns (tlb_host_end). */
            t->poisoned = true;
            e->paddr = t->ept ? EPT_HOST_BASE : 0;
            e->perms = UC_PROT_READ | UC_PROT_EXEC;
            return true;
        }
        if (t->ept && t->ept->fault != EPT_OK) {
            /* The EPT refused a guest-table entry or the frame: a VM exit, not a guest fault;
             * the walk is taken again after the monitor's handling. */
            t->ept_fault = t->ept->fault;
            t->ept_gpa = t->ept->fault_gpa;
            t->fault = true;
            return false;
        }
        /* A not-present walk is a miss that found nothing (nothing enters the TLB); a
         * protection fault on a page already held is not. */
        unsigned kind = (code ? 0u : 2u) + (user ? 1u : 0u);
        uint32_t key4k = make_key(lin, false, code), key4m = make_key(lin, true, code);
        for (int v = 0; v < TLB_VARIANTS; v++) {
            struct tlb_tags *tg = &t->v[v];
            struct tlb_slot *a = find(tg, key4k), *b = find(tg, key4m);
            if ((a->key && valid(tg, a)) || (b->key && valid(tg, b)))
                continue;
            count_miss(m, v, kind, w.refs, p.cpl);
        }
        t->ept_fault = EPT_OK;
        t->fault_err = err;
        t->fault_lin = lin & ~0xfffu;
        t->fault_fetch = code;
        /* The CPU walks the same tables here and raises the #PF itself, exact CR2 and all
         * (uc_tlb_page_walk_here does not return then), instead of the run ending for a rerun
         * of the instruction with the CPU walking (tlb_fault_rerun). Not under trap-ept, whose
         * guest tables the CPU's walk cannot read. If the CPU's walk did not fault after all, the
         * fill is refused and the instruction rerun as before. */
        if (!t->ept && !t->capture && uc_tlb_page_walk_here)
            uc_tlb_page_walk_here(user);
        t->fault = true;
        return false;
    }
    e->paddr = hpa & ~0xfffull;
    /* Write permission only where a write would not fault and the dirty bit is already set:
     * the first write to a clean page comes back here to set it, as the CPU's walk does. */
    bool wp = (p.r.cr0 & CR0_WP) != 0;
    bool may_write = (w.perm & PTE_W) ? true : (!user && !wp);
    if (user && !(w.perm & PTE_U))
        may_write = false;
    if (!(p.r.cr0 & CR0_PG))
        e->perms = ept_write ? UC_PROT_ALL : UC_PROT_READ | UC_PROT_EXEC;
    else
        e->perms = UC_PROT_READ | UC_PROT_EXEC |
                   (may_write && ept_write && (w.entry & PTE_D) ? UC_PROT_WRITE : 0);
    if (t->quiet) {
        /* A host call's translation: Unicorn now holds an entry the modeled TLB does not, and
         * whether it survives until the guest's next access would depend on Unicorn's own
         * evictions (its TLB resizes by wall-clock time): flushed when the call returns. */
        t->poisoned = true;
        return true;
    }
    if (!(p.r.cr0 & CR0_PG) && !t->ept)
        return true;
    unsigned kind = (code ? 0u : 2u) + (user ? 1u : 0u);
    uint32_t key = make_key(lin, w.large, code);
    for (int v = 0; v < TLB_VARIANTS; v++)
        if (!touch(&t->v[v], key, w.global))
            count_miss(m, v, kind, w.refs, p.cpl);
    return true;
}

/* ---- set-up --------------------------------------------------------------------------------- */

int tlb_init(struct machine *m, char *errbuf, unsigned errlen)
{
    struct tlb_model *t = &m->tlb;
    memset(t, 0, sizeof *t);
    t->pm = (struct phys_mem){.ram = m->ram, .size = m->ram_size};
    for (int v = 0; v < TLB_VARIANTS; v++)
        if (tags_alloc(&t->v[v], INITIAL_SLOTS) < 0) {
            snprintf(errbuf, errlen, "out of memory for the TLB model");
            return -1;
        }
    uc_hook h;
    if (uc_ctl_tlb_mode(m->uc, UC_TLB_VIRTUAL) != UC_ERR_OK ||
        uc_hook_add(m->uc, &h, UC_HOOK_TLB_FILL, (void *)tlb_fill, m, 1, 0) != UC_ERR_OK) {
        snprintf(errbuf, errlen, "unicorn: cannot switch to the virtual TLB with a fill hook");
        return -1;
    }
    unicorn_unknown(t);          /* whatever the engine held before the switch goes */
    unicorn_flush(m);
    return 0;
}

void tlb_free(struct machine *m)
{
    for (int v = 0; v < TLB_VARIANTS; v++) {
        free(m->tlb.v[v].slot);
        m->tlb.v[v].slot = NULL;
    }
}

/* trap-ept: an access reached unmapped host-physical memory; the guard frame's is the second
 * pass of a guest #PF (tlb_capture_begin). Returning false stops the CPU either way. */
static bool tlb_unmapped(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
                         void *opaque)
{
    (void)uc;
    (void)type;
    (void)size;
    (void)value;
    struct tlb_model *t = &((struct machine *)opaque)->tlb;
    if (t->capture && addr >= GUARD_HPA && addr < GUARD_HPA + 0x1000u) {
        t->captured = true;
        t->capture_cr2 = t->fault_lin | (uint32_t)(addr - GUARD_HPA);
    }
    return false;
}

void tlb_set_ept(struct machine *m, struct ept *e)
{
    m->tlb.ept = e;
    m->tlb.ept_pm = (struct phys_mem){.xlate = ept_xlate, .opaque = e};
    uc_hook h;
    uc_hook_add(m->uc, &h, UC_HOOK_MEM_UNMAPPED, (void *)tlb_unmapped, m, 1, 0);
    unicorn_unknown(&m->tlb);    /* RAM moved in host-physical space: nothing held may stay */
    unicorn_flush(m);
}

void tlb_capture_begin(struct machine *m, uint32_t eip)
{
    m->tlb.fault = false;
    m->tlb.capture = true;
    m->tlb.captured = false;
    m->tlb.capture_eip = eip;
}

bool tlb_capture_found(struct machine *m, uint32_t *cr2)
{
    struct tlb_model *t = &m->tlb;
    if (!t->capture)
        return false;
    bool found = t->captured;
    *cr2 = t->capture_cr2;
    t->capture = t->captured = false;
    unicorn_flush(m);      /* the guard's translation goes */
    return found;
}

void tlb_add_region(struct machine *m, uint8_t *host, uint32_t phys, uint64_t bytes)
{
    m->tlb.pm.hi = host;
    m->tlb.pm.hi_base = phys;
    m->tlb.pm.hi_size = bytes;
}

/* ---- flushes -------------------------------------------------------------------------------- */

void tlb_cr3_loaded(struct machine *m)
{
    struct tlb_model *t = &m->tlb;
    t->flushes++;
    m->epoch++;                  /* another address space: user blocks are verified again */
    for (int v = 0; v < TLB_VARIANTS; v++)
        t->v[v].epoch_ng++;
    record(m, TLB_FLUSH_CR3, t->v[1].nglobal);
}

void tlb_invlpg(struct machine *m, uint32_t lin, bool by_cpu)
{
    struct tlb_model *t = &m->tlb;
    t->flushes++;
    for (int v = 0; v < TLB_VARIANTS; v++)
        for (int code = 0; code < 2; code++) {
            drop(&t->v[v], make_key(lin, false, code));
            drop(&t->v[v], make_key(lin, true, code));
        }
    if (!by_cpu)
        unicorn_flush(m);
    record(m, TLB_FLUSH_INVLPG, 0);
}

void tlb_flush(struct machine *m, enum tlb_reason reason, bool by_cpu)
{
    m->tlb.flushes++;
    for (int v = 0; v < TLB_VARIANTS; v++)
        drop_all(&m->tlb.v[v]);
    if (!by_cpu)
        unicorn_flush(m);
    record(m, reason, 0);
}

void tlb_vmexit(struct machine *m)
{
    m->tlb.flushes++;
    drop_all(&m->tlb.v[0]);
    unicorn_flush(m);
    record(m, TLB_FLUSH_VMEXIT, 0);
}

void tlb_sync(struct machine *m)
{
    m->tlb.flushes++;
    unicorn_flush(m);
}

/* Whether replacing CR0 (cr 0) or CR4 (cr 4) value old by new flushes every entry. */
static bool flushes_all(int cr, uint32_t old, uint32_t new)
{
    uint32_t bits = cr == 0 ? (CR0_PG | CR0_WP | CR0_PE) : (CR4_PGE | CR4_PSE | CR4_PAE);
    return ((old ^ new) & bits) != 0;
}

void tlb_set_cr(struct machine *m, int cr, uint64_t value)
{
    int reg = cr == 0 ? UC_X86_REG_CR0 : cr == 3 ? UC_X86_REG_CR3 : UC_X86_REG_CR4;
    uint64_t old = 0;
    uc_reg_read(m->uc, reg, &old);
    uc_reg_write(m->uc, reg, &value);
    if (cr == 3)
        tlb_cr3_loaded(m);
    else if (flushes_all(cr, (uint32_t)old, (uint32_t)value))
        tlb_flush(m, TLB_FLUSH_CR0_CR4, false);
}

void tlb_cpu_mov_cr(struct machine *m, int cr, uint32_t value)
{
    if (cr == 3) {
        tlb_cr3_loaded(m);
        return;
    }
    uint64_t old = 0;
    uc_reg_read(m->uc, cr == 0 ? UC_X86_REG_CR0 : UC_X86_REG_CR4, &old);
    if ((cr == 0 || cr == 4) && flushes_all(cr, (uint32_t)old, value))
        tlb_flush(m, TLB_FLUSH_CR0_CR4, true);
}

void tlb_host_begin(struct machine *m)
{
    m->tlb.quiet++;
}

void tlb_host_end(struct machine *m)
{
    if (--m->tlb.quiet == 0 && m->tlb.poisoned) {
        m->tlb.poisoned = false;
        unicorn_flush(m);
    }
}

void tlb_remove_cache(struct machine *m, uint64_t begin, uint64_t end)
{
    tlb_host_begin(m);
    uc_ctl_remove_cache(m->uc, begin, end);
    tlb_host_end(m);
}

/* ---- faults --------------------------------------------------------------------------------- */

bool tlb_fault_rerun(struct machine *m)
{
    struct tlb_model *t = &m->tlb;
    if (!t->fault)
        return false;
    t->fault = false;
    t->cpu_walk = true;
    if (t->cpu)
        uc_tlb_page_cpu_fills(NULL, 0);      /* the CPU's fills are listed from now on */
    else
        unicorn_unknown(t);      /* the CPU's own walk fills Unicorn's TLB, unlisted */
    uc_ctl_tlb_mode(m->uc, UC_TLB_CPU);
    return true;
}

void tlb_after_stop(struct machine *m)
{
    if (m->tlb.cpu_walk) {
        absorb_cpu_fills(&m->tlb);
        m->tlb.cpu_walk = false;
        uc_ctl_tlb_mode(m->uc, UC_TLB_VIRTUAL);
    }
}
