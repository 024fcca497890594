/*
 * bt.c — `bt`: binary translation, VMware style, on the ring-compression monitor.
 *
 * The guest kernel runs in ring 1 on the monitor of classic_core.h (its GDT, shadow MMU and
 * virtual CPU), but none of its instructions runs where the guest put it: every block of guest
 * kernel code the CPU is about to enter is translated on demand (bt_xlate.h) into the translation
 * cache (TC), pages of the monitor's window mapped supervisor read-only, and the CPU runs the
 * translation instead. Guest user code (ring 3) runs directly.
 *
 *   window page 3          the virtual CPU block (struct bt_vcpu), supervisor read-write: the TC
 *                          reads and writes the guest's IF there (cli/sti/pushf/popf in cache)
 *                          and reads the guest's CRs, table registers and selectors, which the
 *                          monitor keeps current (sync) whenever it resumes the guest
 *   window pages 4..131    the indirect-branch lookup table (bt_xlate.h), supervisor read-only:
 *                          guest EIP -> TC address of every unit made, direct-mapped; emptied at
 *                          a TC flush
 *   window pages 132..163  the selector map (bt_xlate.h), supervisor read-only: guest selector ->
 *                          1 + the real one a segment load runs on (classic_data_sel), rebuilt
 *                          when the guest's GDT is mirrored anew (lgdt)
 *   window pages 164..     the TC; a unit never crosses a page; units are kept in TC order and
 *                          hashed by guest EIP
 *
 * How control reaches the TC: a block at a guest kernel address is never run. The machine asks
 * the mode (op redirect) for every block its fast path does not know; bt answers with the block's
 * translation, made on first use. Delivery into a guest handler, an emulated iret and the first
 * entry all land on guest addresses and go this way. A guest EIP inside a unit, at a boundary
 * where nothing of an instruction has run (where an interrupt or fault was taken), enters that
 * unit there rather than translating the rest of it again: code is translated once.
 *
 * Indirect branches (ret, jmp/call through a register or memory) look their target up in the
 * table without leaving the TC; a hit is counted where its hit path starts (see Counted).
 *
 * Leaving the TC: exit stubs, callouts and lookup misses are `int $BT_CALLOUT_VECTOR`, which
 * reaches the exception op as a software interrupt at a TC address. By the map entry there:
 *
 *   exit       the target is translated (if new) and the branch that led to the stub is aimed
 *              at it (chained; Unicorn's copy of the patched bytes dropped); resume there
 *   indirect   a lookup miss (or a form the lookup does not handle): emulated on the guest
 *              state (bt_emul.h), the target translated if new and put in the table; counted
 *              as an iblookup miss
 *   callout    emulated with trap-classic's handlers at the guest EIP; one those do not
 *              emulate (int n, iret to user, ...) runs on its own in a trampoline unit (the
 *              guest bytes then an exit), which behaves as trap-classic's ring 1 does; lar, lsl,
 *              verr and verw are answered from the guest's own GDT as ring 0 would see it
 *              (bt_emul.h)
 *
 * A fault in the TC is mapped back to its guest instruction (bt_map_find), the partial state of
 * an in-cache sequence undone, and reflected with the guest's EIP; a hidden shadow fault simply
 * resumes the TC. An interrupt is injected only where the TC EIP is exactly a guest instruction
 * boundary (irq_open says no elsewhere) and is delivered with the guest EIP; the frames delivery
 * pushes carry the guest's own CS.
 *
 * Coherency: every guest frame a unit was read from is traced by the shadow MMU (mapped
 * read-only); the first guest write to one that changes its bytes drops every translation (the
 * write itself is emulated, as the writer may share the page) and everything retranslates on use;
 * a store of the bytes already there drops nothing (shadow `code_same`). Guest state never holds
 * a TC address, so a flush is safe at any exit. Only with guest paging on: the paging-off
 * identity map uses 4 MiB pages, which the tracing does not split.
 *
 * Adaptive BT: an IDENT copy whose write faults on a traced page table (a traced write: a fault
 * round trip per PTE store) is watched by guest EIP. After BT_ADAPT_FAULTS such faults that left
 * the table traced, every copy of it in the TC, and in units made later, is rewritten in place
 * into an ADAPTED callout (`int $BT_CALLOUT_VECTOR` over its first two bytes; the callout resumes
 * at the next guest instruction, so the rest is dead): the monitor emulates the store
 * (emul_write) and applies it to the shadows (shadow_wrote), with no fault. After BT_ADAPT_IDLE
 * such callouts in a row that wrote no traced page table, the copies get their guest bytes back
 * (hysteresis). A store the callout cannot emulate runs in a trampoline, faulting as before.
 *
 *   IDENT --BT_ADAPT_FAULTS traced-write faults--> ADAPTED --BT_ADAPT_IDLE untraced callouts--> IDENT
 *
 * Counted through the funnel: translate (reason 0, count2 = guest instructions), adaptive
 * retranslations (reason 1, `adaptive` or `ident`, count2 = copies rewritten), chain patches
 * (translate reason 2) and TC flushes (reason 3), both with count2 0 since cost models price
 * count2 per translated instruction, callout by mnemonic (an ADAPTED store: class IC_NONE),
 * incache by mnemonic and iblookup hits by ret/jmp/call at the places the translator names
 * (struct bt_count: where a sequence succeeded, a lookup's hit path), which the machine counts
 * with the blocks that hold them, as it counts instructions (mode op counted: no code hooks,
 * whose dispatch in Unicorn scans every hook; no per-event rows), iblookup misses at the
 * callout, trampolines (translate reason 4), and the shared monitor's shadow events (with
 * `code_write` and `code_same`). The emulation records no exits: a callout is bt's exit. A full
 * TC is flushed too (reason 3, frame 0).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/desc.h"
#include "emu/paging.h"
#include "emu/modes/bt_emul.h"
#include "emu/modes/bt_xlate.h"
#include "emu/modes/classic_core.h"
#include "emu/modes/emul_write.h"
#include "emu/modes/mode.h"
#include "emu/run.h"
#include "emu/vmx.h"

#define BT_CALLOUT_VECTOR 0xef
#define BT_VCPU_PAGE CLASSIC_FREE_PAGE
#define BT_IBTC_PAGE (CLASSIC_FREE_PAGE + 1)
#define BT_IBTC_PAGES (BT_IBTC_ENTRIES * sizeof(struct bt_ibtc_entry) / 0x1000u)
#define BT_IBTC_PER_PAGE (0x1000u / sizeof(struct bt_ibtc_entry))
#define BT_SELMAP_PAGE (BT_IBTC_PAGE + BT_IBTC_PAGES)
#define BT_SELMAP_PAGES (BT_SELMAP_ENTRIES * sizeof(uint16_t) / 0x1000u)
#define BT_TC_PAGE (BT_SELMAP_PAGE + BT_SELMAP_PAGES)
#define BT_HASH_BITS 12
#define BT_CODE_READ 256                     /* guest code bytes offered to one translation */
#define BT_ADAPT_SLOTS 256                   /* guest EIPs adaptive BT watches (power of 2) */
#define BT_ADAPT_FAULTS 4                    /* traced-write faults that make an IDENT a callout */
#define BT_ADAPT_IDLE 16                     /* callouts in a row writing no page table that make
                                                it IDENT again */

struct tunit {
    struct bt_unit u;
    uint8_t *host;                           /* its bytes in the TC page */
    bool tramp;                              /* a trampoline for one instruction */
    struct tunit *hnext;
    unsigned nentries;
    struct entry {                           /* a guest instruction boundary inside the unit */
        uint32_t guest_eip, tc_addr;
        struct entry *next;
    } entries[BT_UNIT_INSNS];
};

/* Adaptive BT: a guest kernel instruction whose IDENT copy faults on traced page tables. */
struct adapt {
    uint32_t eip;                            /* its guest EIP; 0 for a free slot */
    uint32_t faults;                         /* traced-write faults since it was last IDENT */
    uint32_t idle;                           /* callouts in a row that wrote no page table */
    bool callout;                            /* its copies are ADAPTED callouts */
    uint8_t orig[2];                         /* the guest bytes the callout covers */
};

struct bt {
    struct classic c;                        /* first: the shared monitor uses it */
    struct bt_vcpu *vcpu;
    struct bt_env env;
    struct bt_ibtc_entry *ibtc[BT_IBTC_PAGES]; /* host pointers of the lookup table's pages */
    uint16_t *selmap[BT_SELMAP_PAGES];       /* host pointers of the selector map's pages */
    uint32_t tc_base;                        /* linear: TC start */
    uint64_t tc_next;                        /* linear: next free byte (may be 4 GiB) */
    uint64_t tc_limit;                       /* linear: TC end (may be 4 GiB) */
    uint8_t *pages[1024];                    /* host pointers of the TC pages */
    struct tunit **units;                    /* in TC order */
    unsigned nunits, cap;
    struct tunit *hash[1u << BT_HASH_BITS];
    struct entry *ehash[1u << BT_HASH_BITS]; /* the units' inner boundaries, by guest EIP */
    uint64_t flushes;                        /* TC flushes so far (a translated page written) */
    struct adapt adapt[BT_ADAPT_SLOTS];      /* open addressing by hash_of(eip); full: no more */
    unsigned nadapted;                       /* slots with callout set */
};

static struct bt *bt_of(struct machine *m) { return m->mode_state; }

static uint32_t reg(struct machine *m, int r)
{
    uint32_t v = 0;
    uc_reg_read(m->uc, r, &v);
    return v;
}

static void set_eip(struct machine *m, uint32_t eip) { uc_reg_write(m->uc, UC_X86_REG_EIP, &eip); }

static unsigned hash_of(uint32_t eip) { return (eip * 2654435761u) >> (32 - BT_HASH_BITS); }

static bool in_tc(const struct bt *t, uint32_t lin) { return lin >= t->tc_base && lin < t->tc_next; }

/* ---- the indirect-branch lookup table (bt_xlate.h), read by the TC ------------------------- */

static struct bt_ibtc_entry *ibtc_entry(struct bt *t, uint32_t slot)
{
    return &t->ibtc[slot / BT_IBTC_PER_PAGE][slot % BT_IBTC_PER_PAGE];
}

/* Empty every slot: slot i holds -(i + 1), the negation of an EIP of another slot. */
static void ibtc_clear(struct bt *t)
{
    for (uint32_t i = 0; i < BT_IBTC_ENTRIES; i++)
        *ibtc_entry(t, i) = (struct bt_ibtc_entry){.neg_guest_eip = -(i + 1), .tc_addr = 0};
}

/* From now on an in-cache lookup of guest_eip goes to tc_addr (replacing what shared its slot). */
static void ibtc_set(struct bt *t, uint32_t guest_eip, uint32_t tc_addr)
{
    *ibtc_entry(t, bt_ibtc_slot(guest_eip)) = (struct bt_ibtc_entry){-guest_eip, tc_addr};
}

/* ---- the selector map (bt_xlate.h), read by the TC's segment loads ------------------------ */

/* Refill the map from the monitor's GDT: after the guest's GDT is mirrored anew (lgdt). */
static void selmap_build(struct machine *m)
{
    struct bt *t = bt_of(m);
    for (uint32_t sel = 0; sel < BT_SELMAP_ENTRIES; sel++) {
        uint16_t real;
        uint16_t v = classic_data_sel(&t->c, (uint16_t)sel, &real) == 0 ? real + 1 : 0;
        t->selmap[sel / 2048][sel % 2048] = v;
    }
}

/* The unit whose bytes hold TC address lin, or NULL. */
static struct tunit *unit_at(const struct bt *t, uint32_t lin)
{
    unsigned lo = 0, hi = t->nunits;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (t->units[mid]->u.tc_addr <= lin)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    struct tunit *tu = t->units[lo - 1];
    return lin < tu->u.tc_addr + tu->u.tc_len ? tu : NULL;
}

static const struct bt_map *map_at(const struct bt *t, uint32_t lin, struct tunit **tup)
{
    struct tunit *tu = unit_at(t, lin);
    if (tup)
        *tup = tu;
    return tu ? bt_map_find(&tu->u, lin - tu->u.tc_addr) : NULL;
}

/* Keep the vcpu block current with the guest's view before the TC runs again. */
static void sync_vcpu(struct machine *m)
{
    struct bt *t = bt_of(m);
    struct bt_vcpu *v = t->vcpu;
    static const int segs[6] = {UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS,
                                UC_X86_REG_DS, UC_X86_REG_FS, UC_X86_REG_GS};
    v->cr[0] = t->c.mon.v.cr0;
    v->cr[2] = t->c.mon.v.cr2;
    v->cr[3] = t->c.mon.v.cr3;
    v->cr[4] = t->c.mon.v.cr4;
    v->gdt_base = t->c.gdt_base;
    v->gdt_limit = t->c.gdt_limit;
    v->idt_base = t->c.idt_base;
    v->idt_limit = t->c.idt_limit;
    v->ldtr = t->c.ldt_sel;
    v->tr = t->c.tr_sel;
    for (int i = 0; i < 6; i++)
        v->sel[i] = classic_guest_sel(&t->c, (uint16_t)reg(m, segs[i]));
}

/* ---- the translation cache ---------------------------------------------------------------- */

/* Drop every translation: a page some translation was made from has been written, or the TC is
 * full. Guest state never holds a TC address (pushed returns and frames are guest EIPs), so
 * everything retranslates on use. New units go on above the old ones until the TC is full, so
 * the machine's decoded blocks of TC code stay true until the bottom is reused. */
static void tc_flush(struct machine *m, uint32_t frame)
{
    struct bt *t = bt_of(m);
    ev_record(&m->ev, machine_now(m), EV_TRANSLATE, 3, "flush", 0, frame, 0);
    for (unsigned i = 0; i < t->nunits; i++) {
        free(t->units[i]);
    }
    t->nunits = 0;
    memset(t->hash, 0, sizeof t->hash);
    memset(t->ehash, 0, sizeof t->ehash);
    ibtc_clear(t);
    uc_ctl_remove_cache(m->uc, t->tc_base, t->tc_next);
    t->flushes++;
}

/* Room for `len` bytes that do not cross a page: its linear address and host pointer. */
static int tc_reserve(struct machine *m, uint32_t len, uint32_t *lin, uint8_t **host)
{
    struct bt *t = bt_of(m);
    uint64_t a = t->tc_next;
    if ((a & 0xfffu) + len > 0x1000u)
        a = (a + 0xfffu) & ~0xfffull;
    if (a + len > t->tc_limit && a != t->tc_base) {
        /* Full: start again at the bottom; the machine forgets the blocks it decoded there. */
        tc_flush(m, 0);
        blocks_forget(m, t->tc_base, t->tc_limit);
        a = t->tc_next = t->tc_base;
    }
    if (a + len > t->tc_limit) {
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                    "bt: the translation cache (%u bytes) cannot hold one unit",
                    (unsigned)(t->tc_limit - t->tc_base));
        return -1;
    }
    unsigned pg = (a - t->tc_base) >> 12;
    if (!t->pages[pg]) {
        unsigned idx = (a - m->cfg.monitor_window) >> 12;
        t->pages[pg] = shadow_window_page(t->c.mon.sh, idx);
        if (!t->pages[pg]) {
            machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                        "bt: no monitor memory left for the translation cache");
            return -1;
        }
    }
    *lin = (uint32_t)a;
    *host = t->pages[pg] + (a & 0xfffu);
    return 0;
}

/* ---- adaptive BT -------------------------------------------------------------------------- */

/* The slot of guest EIP eip, made if `create` and there is room; NULL otherwise. */
static struct adapt *adapt_slot(struct bt *t, uint32_t eip, bool create)
{
    unsigned h = hash_of(eip);
    for (unsigned i = 0; i < BT_ADAPT_SLOTS; i++) {
        struct adapt *a = &t->adapt[(h + i) & (BT_ADAPT_SLOTS - 1)];
        if (a->eip == eip)
            return a;
        if (!a->eip) {
            if (create)
                a->eip = eip;
            return create ? a : NULL;
        }
    }
    return NULL;
}

/* Bring unit tu's copies of a->eip to what a says: an ADAPTED callout (`int $BT_CALLOUT_VECTOR`
 * over the first two bytes of the IDENT copy; the rest is never reached, as the callout resumes
 * at the next guest instruction) or the guest's bytes again. Counted as translate reason 1,
 * count2 the copies rewritten. Trampolines stay as they are: they run what a callout could not. */
static void unit_adapt(struct machine *m, struct tunit *tu, const struct adapt *a)
{
    uint8_t from = a->callout ? BT_IDENT : BT_ADAPTED;
    unsigned n = 0;
    for (unsigned i = 0; !tu->tramp && i < tu->u.nmap; i++) {
        struct bt_map *e = &tu->u.map[i];
        if (e->guest_eip != a->eip || e->kind != from || e->guest_len < 2)
            continue;
        uint8_t *p = tu->host + e->tc_off;
        if (a->callout) {
            p[0] = 0xcd;
            p[1] = BT_CALLOUT_VECTOR;
        } else {
            memcpy(p, a->orig, 2);
        }
        e->kind = a->callout ? BT_ADAPTED : BT_IDENT;
        n++;
    }
    if (!n)
        return;
    uint64_t end = (uint64_t)tu->u.tc_addr + tu->u.tc_len;
    uc_ctl_remove_cache(m->uc, tu->u.tc_addr, end);
    blocks_forget(m, tu->u.tc_addr, end);
    ev_record(&m->ev, machine_now(m), EV_TRANSLATE, 1, a->callout ? "adaptive" : "ident", n,
              a->eip, 0);
}

/* Turn a's instruction into a callout everywhere it is translated (to_callout), or back. */
static void adapt_switch(struct machine *m, struct adapt *a, bool to_callout)
{
    struct bt *t = bt_of(m);
    if (to_callout) {
        uint32_t fl, pf;
        if (machine_read_lin(m, a->eip, a->orig, 2, false, &fl, &pf) != 0)
            return;
        t->nadapted++;
    } else {
        t->nadapted--;
    }
    a->callout = to_callout;
    a->faults = a->idle = 0;
    for (unsigned i = 0; i < t->nunits; i++)
        unit_adapt(m, t->units[i], a);
}

/* The IDENT copy of the guest instruction at eip took a traced-write fault. */
static void adapt_fault(struct machine *m, uint32_t eip)
{
    struct adapt *a = adapt_slot(bt_of(m), eip, true);
    if (a && !a->callout && ++a->faults >= BT_ADAPT_FAULTS)
        adapt_switch(m, a, true);
}

/* A new unit: its copies of instructions already made callouts are callouts too. */
static void adapt_new_unit(struct machine *m, struct tunit *tu)
{
    struct bt *t = bt_of(m);
    for (unsigned i = 0; t->nadapted && i < tu->u.nmap; i++) {
        const struct adapt *a = tu->u.map[i].kind == BT_IDENT
                                ? adapt_slot(t, tu->u.map[i].guest_eip, false) : NULL;
        if (a && a->callout)
            unit_adapt(m, tu, a);
    }
}

/* The callout of an ADAPTED instruction: its write done here and applied to the shadows, no
 * fault. After BT_ADAPT_IDLE such callouts in a row that wrote no page table, it is IDENT again.
 * 0 done, 1 not a write the monitor emulates here (run it in a trampoline). */
static int adapted_write(struct machine *m, uint32_t eip)
{
    struct bt *t = bt_of(m);
    struct emul_write w;
    if (emul_write(m, eip, &w) < 0)
        return 1;
    machine_retire_emulated(m, -1);
    unsigned tables = shadow_wrote(t->c.mon.sh, &t->c.mon.v, w.lin, w.len, eip);
    struct adapt *a = adapt_slot(t, eip, false);
    if (!a || !a->callout)
        return 0;
    a->idle = tables ? 0 : a->idle + 1;
    if (a->idle >= BT_ADAPT_IDLE)
        adapt_switch(m, a, false);
    return 0;
}

/* Mode op counted: a unit's counted place (struct bt_count) is an in-cache emulation done or an
 * in-cache lookup's hit; the machine counts it with the blocks that hold it. */
static int bt_counted(struct machine *m, uint32_t addr, enum ev_class *cls, int64_t *reason,
                      const char **qual)
{
    struct tunit *tu = unit_at(bt_of(m), addr);
    for (unsigned i = 0; tu && i < tu->u.ncounts; i++) {
        const struct bt_count *c = &tu->u.counts[i];
        if (tu->u.tc_addr + c->tc_off != addr)
            continue;
        *cls = c->lookup ? EV_IBLOOKUP : EV_INCACHE;
        *reason = c->lookup ? 0 : c->cls;
        *qual = c->lookup ? bt_ib_name[c->cls] : insn_class_name[c->cls];
        return 1;
    }
    return 0;
}

/* Map entry e begins a guest instruction at which the TC may be entered or interrupted: nothing
 * of it has run and no scratch state is live. */
static bool clean_boundary(const struct tunit *tu, const struct bt_map *e)
{
    return e->before_effect && !e->sp_undo && !e->saved_reg && e->kind != BT_EXIT &&
           (e == tu->u.map || e[-1].guest_eip != e->guest_eip || e[-1].kind == BT_EXIT);
}

/* Index the unit's inner guest instruction boundaries, so that a return into the middle of its
 * guest code (from an interrupt or a fault taken there) enters the unit instead of translating
 * the rest again. */
static void add_entries(struct bt *t, struct tunit *tu)
{
    for (unsigned i = 1; !tu->tramp && i < tu->u.nmap && tu->nentries < BT_UNIT_INSNS; i++) {
        const struct bt_map *e = &tu->u.map[i];
        if (!clean_boundary(tu, e) || e->guest_eip == tu->u.guest_eip)
            continue;
        struct entry *en = &tu->entries[tu->nentries++];
        unsigned h = hash_of(e->guest_eip);
        *en = (struct entry){e->guest_eip, tu->u.tc_addr + e->tc_off, t->ehash[h]};
        t->ehash[h] = en;
    }
}

/* Put a built unit in the TC: its bytes, the lookup structures, its counts and hooks. */
static int tc_commit(struct machine *m, struct tunit *tu, uint8_t *bytes)
{
    struct bt *t = bt_of(m);
    if (t->nunits == t->cap) {
        unsigned cap = t->cap ? t->cap * 2 : 256;
        struct tunit **n = realloc(t->units, cap * sizeof *n);
        if (!n)
            return -1;
        t->units = n;
        t->cap = cap;
    }
    memcpy(tu->host, bytes, tu->u.tc_len);
    tu->u.tc = tu->host;
    t->units[t->nunits++] = tu;
    t->tc_next = (uint64_t)tu->u.tc_addr + tu->u.tc_len;
    unsigned h = hash_of(tu->u.guest_eip);
    tu->hnext = t->hash[h];
    t->hash[h] = tu;
    add_entries(t, tu);
    uc_ctl_remove_cache(m->uc, tu->u.tc_addr, (uint64_t)tu->u.tc_addr + tu->u.tc_len);
    struct ev_unit made = {tu->u.guest_eip, tu->u.guest_len, tu->u.ninsns, tu->u.tc_addr,
                           (uint32_t)tu->u.tc_len, tu->tramp};
    ev_translation(&m->ev, machine_now(m), &made);
    if (!tu->tramp)
        ibtc_set(t, tu->u.guest_eip, tu->u.tc_addr);
    adapt_new_unit(m, tu);
    return 0;
}

/* Trace the guest frames the unit was read from, so that a write to them flushes the TC. */
static void trace_code(struct machine *m, const struct bt_unit *u)
{
    struct bt *t = bt_of(m);
    struct paging_regs pr;
    machine_paging_regs(m, &pr);
    struct paging_access acc = {.write = false, .user = false, .set_ad = false};
    uint32_t ends[2] = {u->guest_eip, u->guest_eip + (u->guest_len ? u->guest_len - 1 : 0)};
    for (int i = 0; i < 2; i++) {
        uint32_t pa, pferr;
        if (paging_translate(&pr, &m->pm, ends[i], &acc, &pa, &pferr) == 0)
            shadow_trace_code(t->c.mon.sh, pa, tc_flush);
    }
}

static int read_code(struct machine *m, uint32_t eip, uint8_t *buf, size_t *len)
{
    uint32_t fl, pf;
    *len = BT_CODE_READ;
    if (machine_read_lin(m, eip, buf, (uint32_t)*len, false, &fl, &pf) == 0)
        return 0;
    *len = 0x1000u - (eip & 0xfffu);
    if (*len < BT_CODE_READ && machine_read_lin(m, eip, buf, (uint32_t)*len, false, &fl, &pf) == 0)
        return 0;
    machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                "bt: cannot read the guest kernel code at 0x%08x", eip);
    return -1;
}

/* A unit holding one guest instruction at guest_eip: the instruction itself (trampoline) followed
 * by an exit to the next one, or a callout for it. */
static int single(struct machine *m, struct tunit *tu, uint8_t *out, uint32_t guest_eip,
                  const uint8_t *code, bool tramp)
{
    cs_insn *in = cs_malloc(m->cs);
    int r = emul_decode(m, guest_eip, in);
    unsigned len = in->size;
    int cr;
    uint8_t cls = r == 0 ? (uint8_t)insn_classify(in, &cr) : IC_NONE;
    cs_free(in, 1);
    if (r < 0) {
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "bt: undecodable guest kernel instruction at 0x%08x", guest_eip);
        return -1;
    }
    struct bt_unit *u = &tu->u;
    u->guest_eip = guest_eip;
    u->guest_len = len;
    u->next_eip = guest_eip + len;
    u->ninsns = 1;
    u->end = BT_END_CALLOUT;
    unsigned n = 0;
    if (tramp) {
        memcpy(out, code, len);
        u->map[u->nmap++] = (struct bt_map){.tc_off = 0, .kind = BT_IDENT, .cls = cls,
                                            .guest_eip = guest_eip, .guest_len = (uint8_t)len,
                                            .before_effect = 1};
        n = len;
    }
    u->map[u->nmap++] = (struct bt_map){.tc_off = (uint16_t)n,
                                        .kind = tramp ? BT_EXIT : BT_CALLOUT, .cls = cls,
                                        .guest_eip = tramp ? guest_eip + len : guest_eip,
                                        .guest_len = tramp ? 0 : (uint8_t)len, .before_effect = 1};
    out[n++] = 0xcd;
    out[n++] = BT_CALLOUT_VECTOR;
    u->tc_len = n;
    tu->tramp = tramp;
    return 0;
}

/* Translate the guest code at guest_eip (a trampoline for its one instruction if tramp). */
static struct tunit *translate(struct machine *m, uint32_t guest_eip, bool tramp)
{
    struct bt *t = bt_of(m);
    uint8_t code[BT_CODE_READ], out[BT_TC_MAX];
    size_t len;
    struct tunit *tu = calloc(1, sizeof *tu);
    if (!tu || read_code(m, guest_eip, code, &len) < 0 ||
        tc_reserve(m, BT_TC_MAX, &tu->u.tc_addr, &tu->host) < 0) {
        free(tu);
        return NULL;
    }
    uint32_t tc_addr = tu->u.tc_addr;
    int r = -EINVAL;
    if (!tramp) {
        tu->u.tc = out;
        tu->u.tc_cap = sizeof out;
        r = bt_translate(&t->env, code, len, guest_eip, tc_addr, &tu->u);
        tu->u.tc_addr = tc_addr;
    }
    if (r == -EINVAL || tramp) {
        memset(&tu->u, 0, sizeof tu->u);
        tu->u.tc_addr = tc_addr;
        r = single(m, tu, out, guest_eip, code, tramp);
        if (r < 0) {
            free(tu);
            return NULL;
        }
    } else if (r < 0) {
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                    "bt: cannot translate the guest code at 0x%08x (error %d)", guest_eip, r);
        free(tu);
        return NULL;
    }
    if (tc_commit(m, tu, out) < 0) {
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL, "bt: cannot record a translation");
        return NULL;
    }
    trace_code(m, &tu->u);
    return tu;
}

/* The TC address already running guest_eip: a unit (trampoline if tramp) starting there or,
 * for a unit, a boundary inside one; 0 if none. */
static uint32_t lookup(struct bt *t, uint32_t guest_eip, bool tramp)
{
    for (struct tunit *tu = t->hash[hash_of(guest_eip)]; tu; tu = tu->hnext)
        if (tu->u.guest_eip == guest_eip && tu->tramp == tramp)
            return tu->u.tc_addr;
    for (struct entry *en = t->ehash[hash_of(guest_eip)]; !tramp && en; en = en->next)
        if (en->guest_eip == guest_eip)
            return en->tc_addr;
    return 0;
}

/* The TC address running guest_eip, translated if new; 0 when the run ended. */
static uint32_t enter(struct machine *m, uint32_t guest_eip, bool tramp, bool *hit)
{
    uint32_t tc = lookup(bt_of(m), guest_eip, tramp);
    if (hit)
        *hit = tc != 0;
    if (!tc) {
        struct tunit *tu = translate(m, guest_eip, tramp);
        tc = tu ? tu->u.tc_addr : 0;
    }
    return tc;
}

/* After the monitor changed the guest state: the guest kernel resumes in the TC. */
static int resume(struct machine *m)
{
    struct bt *t = bt_of(m);
    sync_vcpu(m);
    uint32_t eip = reg(m, UC_X86_REG_EIP);
    if (m->end || machine_cpl(m) != 1 || in_tc(t, eip))
        return m->end ? -1 : 0;
    uint32_t tc = enter(m, eip, false, NULL);
    if (!tc)
        return -1;
    set_eip(m, tc);
    return 0;
}

/* ---- leaving the TC: exits, indirect branches, callouts ----------------------------------- */

/* An exit stub: go to its target's translation and chain the branch that led here. */
static int take_exit(struct machine *m, struct tunit *tu, const struct bt_map *e, uint32_t off)
{
    uint64_t flushes = bt_of(m)->flushes;
    uint32_t dest = enter(m, e->guest_eip, false, NULL);
    if (!dest)
        return -1;
    for (unsigned i = 0; bt_of(m)->flushes == flushes && i < tu->u.nexits; i++) {
        const struct bt_exit *x = &tu->u.exits[i];
        if (x->stub_off != off)
            continue;
        bt_chain(tu->host, tu->u.tc_addr, x, dest);
        uc_ctl_remove_cache(m->uc, tu->u.tc_addr, (uint64_t)tu->u.tc_addr + tu->u.tc_len);
        ev_record(&m->ev, machine_now(m), EV_TRANSLATE, 2, "chain", 0, e->guest_eip, 0);
    }
    set_eip(m, dest);
    return 0;
}

static int callout(struct machine *m, const struct bt_map *e)
{
    cs_insn *in = cs_malloc(m->cs);
    if (emul_decode(m, e->guest_eip, in) < 0) {
        cs_free(in, 1);
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "bt: undecodable guest kernel instruction at 0x%08x", e->guest_eip);
        return -1;
    }
    int r = 0;
    uint32_t target;
    set_eip(m, e->guest_eip);
    if (e->kind == BT_INDIRECT && bt_emul_indirect(m, in, e->guest_eip, &target) == 0) {
        bool hit;
        uint32_t dest = enter(m, target, false, &hit);
        if (dest)
            ibtc_set(bt_of(m), target, dest);
        ev_record(&m->ev, machine_now(m), EV_IBLOOKUP, hit ? 0 : 1, in->mnemonic, 0,
                  e->guest_eip, 0);
        machine_retire_emulated(m, -1);
        if (!dest)
            r = -1;
        else
            set_eip(m, dest);
        cs_free(in, 1);
        return r;
    }
    ev_record(&m->ev, machine_now(m), EV_CALLOUT, e->cls, in->mnemonic, 0, e->guest_eip, 0);
    if (e->kind == BT_ADAPTED)
        r = adapted_write(m, e->guest_eip);
    else if (bt_emul_descriptor_query(m, in, e->guest_eip) < 0)
        r = classic_emulate_at(m, e->guest_eip);
    if (r == 1) {
        uint32_t tramp = enter(m, e->guest_eip, true, NULL);
        r = tramp ? 0 : -1;
        if (tramp)
            set_eip(m, tramp);
    }
    cs_free(in, 1);
    return r < 0 ? -1 : 0;
}

static void rewind_sequence(struct machine *m, const struct bt_map *e)
{
    if (e->sp_undo) {
        uint32_t esp = reg(m, UC_X86_REG_ESP) + e->sp_undo;
        uc_reg_write(m->uc, UC_X86_REG_ESP, &esp);
    }
    if (e->saved_reg) {
        static const int r[4] = {UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX};
        uc_reg_write(m->uc, r[(e->saved_reg - 1) & 3], &bt_of(m)->vcpu->scratch);
    }
}

/* A page fault raised by TC code: hidden ones resume the TC, true ones go to the guest. One that
 * an in-cache sequence raised but its guest instruction might not (a scratch write below ESP) is
 * undone and the instruction emulated as a callout instead. */
static int tc_page_fault(struct machine *m, struct tunit *tu, const struct bt_map *e,
                         const struct xevent *ev)
{
    struct bt *t = bt_of(m);
    bool seq = e->kind != BT_IDENT;
    ev_record(&m->ev, machine_now(m), EV_EXIT, VMX_EXCEPTION_NMI, "#PF", 0, e->guest_eip, 1);
    if (seq && ev->cr2 >= m->cfg.monitor_window) {
        rewind_sequence(m, e);
        if (uq_exception_done(&m->quirks, m->uc, &t->c.mon.v.cr2) < 0)
            return -1;
        return callout(m, e);
    }
    uint32_t gerr = 0;
    uint64_t flushes = t->flushes;
    bool table_write = !seq && !tu->tramp && (ev->error & PFE_W) &&
                       shadow_traces_table(t->c.mon.sh, &t->c.mon.v, ev->cr2);
    switch (shadow_page_fault(t->c.mon.sh, &t->c.mon.v, ev->cr2, ev->error, e->guest_eip, &gerr)) {
    case SHADOW_FIXED:
        if (t->flushes != flushes && reg(m, UC_X86_REG_EIP) == ev->eip) {
            /* The write hit translated code and was not emulated: it re-executes from a new
             * translation. */
            rewind_sequence(m, e);
            set_eip(m, e->guest_eip);
        }
        /* A write that left its page a traced table (not unshadowed) will fault again. tu may
         * be gone (a code write empties the TC). */
        if (table_write && shadow_traces_table(t->c.mon.sh, &t->c.mon.v, ev->cr2))
            adapt_fault(m, e->guest_eip);
        return uq_exception_done(&m->quirks, m->uc, &t->c.mon.v.cr2);
    case SHADOW_REFLECT: {
        if (seq) {
            rewind_sequence(m, e);
            if (uq_exception_done(&m->quirks, m->uc, &t->c.mon.v.cr2) < 0)
                return -1;
            return callout(m, e);
        }
        struct xevent pf = *ev;
        pf.error = gerr;
        pf.eip = pf.insn_eip = e->guest_eip;
        t->c.mon.v.cr2 = ev->cr2;
        rewind_sequence(m, e);
        set_eip(m, e->guest_eip);
        return shadow_deliver_recorded(m, &pf);
    }
    default:
        return -1;
    }
}

/* An exception with EIP in the TC. */
static int tc_exception(struct machine *m, const struct xevent *ev)
{
    struct bt *t = bt_of(m);
    struct tunit *tu;
    bool soft = ev->kind == XK_SOFTINT;
    uint32_t at = soft ? ev->insn_eip : ev->eip;
    const struct bt_map *found = map_at(t, at, &tu);
    if (!found) {
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                    "bt: %s %u at TC address 0x%08x, which maps to no guest instruction",
                    soft ? "software interrupt" : "fault", ev->vector, at);
        return -1;
    }
    const struct bt_map copy = *found, *e = &copy;   /* a TC flush may free the unit */
    if (soft && ev->vector == BT_CALLOUT_VECTOR) {
        if (uq_exception_done(&m->quirks, m->uc, NULL) < 0)
            return -1;
        if (e->kind == BT_EXIT)
            return take_exit(m, tu, e, at - tu->u.tc_addr);
        return callout(m, e);
    }
    struct xevent g = *ev;
    g.eip = g.insn_eip = e->guest_eip;
    if (soft) {
        const struct bt_map *n = map_at(t, ev->eip, NULL);
        g.eip = n ? n->guest_eip : e->guest_eip + e->guest_len;
    }
    if (!soft && ev->vector == 14)
        return tc_page_fault(m, tu, e, ev);
    if (!soft)   /* translated code faulting on its own (a #GP here would be a translator bug) */
        ev_record(&m->ev, machine_now(m), EV_EXIT, VMX_EXCEPTION_NMI, vector_name(ev->vector), 0,
                  e->guest_eip, 1);
    rewind_sequence(m, e);
    set_eip(m, g.eip);
    if (!soft && ev->vector == 13) {
        int r = classic_emulate_at(m, e->guest_eip);
        if (r != 1)
            return r;
    }
    return shadow_deliver_recorded(m, &g);
}

/* ---- mode operations ---------------------------------------------------------------------- */

static int bt_setup(struct machine *m, const struct boot_info *bi, char *errbuf, unsigned errlen)
{
    struct bt *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    m->mode_state = t;
    t->c.vifp = &t->c.vif;
    t->c.guest_sels = true;
    t->c.callouts = true;
    if (classic_init(m, &t->c, bi, errbuf, errlen) < 0)
        return -1;
    uint32_t win = m->cfg.monitor_window;
    t->vcpu = (struct bt_vcpu *)shadow_window_page_rw(t->c.mon.sh, BT_VCPU_PAGE, true);
    if (!t->vcpu) {
        snprintf(errbuf, errlen, "cannot map bt's virtual CPU block in the monitor's window");
        return -1;
    }
    t->vcpu->eflags = t->c.vif;
    t->c.vifp = &t->vcpu->eflags;
    for (unsigned i = 0; i < BT_IBTC_PAGES; i++)
        if (!(t->ibtc[i] = (struct bt_ibtc_entry *)shadow_window_page(t->c.mon.sh,
                                                                      BT_IBTC_PAGE + i))) {
            snprintf(errbuf, errlen, "cannot map bt's lookup table in the monitor's window");
            return -1;
        }
    ibtc_clear(t);
    for (unsigned i = 0; i < BT_SELMAP_PAGES; i++)
        if (!(t->selmap[i] = (uint16_t *)shadow_window_page(t->c.mon.sh, BT_SELMAP_PAGE + i))) {
            snprintf(errbuf, errlen, "cannot map bt's selector map in the monitor's window");
            return -1;
        }
    selmap_build(m);
    t->c.gdt_rebuilt = selmap_build;
    t->env = (struct bt_env){.vcpu_state = win + BT_VCPU_PAGE * 0x1000u,
                             .callout_vector = BT_CALLOUT_VECTOR,
                             .ibtc = win + BT_IBTC_PAGE * 0x1000u,
                             .selmap = win + BT_SELMAP_PAGE * 0x1000u};
    uint64_t pages = (0x100000000ull - win) >> 12;
    if (pages > 1024)
        pages = 1024;
    t->tc_base = t->tc_next = win + BT_TC_PAGE * 0x1000u;
    t->tc_limit = win + (pages << 12);
    if (pages <= BT_TC_PAGE) {
        snprintf(errbuf, errlen, "the monitor's window is too small for a translation cache");
        return -1;
    }
    sync_vcpu(m);
    return 0;
}

static void bt_teardown(struct machine *m)
{
    struct bt *t = bt_of(m);
    if (t) {
        for (unsigned i = 0; i < t->nunits; i++)
            free(t->units[i]);
        free(t->units);
    }
    shadow_monitor_teardown(m);
}

static uint32_t bt_redirect(struct machine *m, uint32_t addr)
{
    struct bt *t = bt_of(m);
    if (machine_cpl(m) != 1 || in_tc(t, addr))
        return addr;
    sync_vcpu(m);
    uint32_t tc = enter(m, addr, false, NULL);
    return tc ? tc : addr;
}

static int bt_read_code(struct machine *m, uint32_t lin, void *buf, uint32_t len)
{
    struct bt *t = bt_of(m);
    uint8_t *out = buf;
    if (!in_tc(t, lin) || (uint64_t)lin + len > t->tc_limit)
        return -1;
    while (len) {
        uint32_t n = 0x1000u - (lin & 0xfffu);
        n = n < len ? n : len;
        const uint8_t *page = t->pages[(lin - t->tc_base) >> 12];
        if (!page)
            return -1;
        memcpy(out, page + (lin & 0xfffu), n);
        out += n;
        lin += n;
        len -= n;
    }
    return 0;
}

/* The guest instruction boundary at TC EIP where an interrupt may be taken: its guest EIP, or 0 in
 * the middle of a sequence or in sti's interrupt shadow. */
static uint32_t boundary(struct machine *m, uint32_t eip)
{
    struct bt *t = bt_of(m);
    if (!in_tc(t, eip))
        return eip;
    struct tunit *tu;
    const struct bt_map *e = map_at(t, eip, &tu);
    if (!e || e->tc_off != eip - tu->u.tc_addr || !e->before_effect || e->sp_undo || e->saved_reg)
        return 0;
    if (e > tu->u.map && e[-1].cls == IC_STI)
        return 0;     /* the instruction after sti runs before any interrupt, as natively */
    return e->guest_eip;
}

static bool bt_irq_open(struct machine *m)
{
    if (machine_cpl(m) == 3)
        return machine_if_set(m);
    return classic_vif(&bt_of(m)->c) && boundary(m, reg(m, UC_X86_REG_EIP)) != 0;
}

static int bt_interrupt(struct machine *m, const struct xevent *ev)
{
    struct xevent g = *ev;
    if (machine_cpl(m) == 1) {
        g.eip = g.insn_eip = boundary(m, ev->eip);
        set_eip(m, g.eip);
    }
    int r = classic_interrupt(m, &g);
    return r < 0 ? r : resume(m);
}

static int bt_exception(struct machine *m, const struct xevent *ev)
{
    uint32_t at = ev->kind == XK_SOFTINT ? ev->insn_eip : ev->eip;
    int r = machine_cpl(m) == 1 && in_tc(bt_of(m), at) ? tc_exception(m, ev)
                                                     : classic_exception(m, ev);
    return r < 0 ? r : resume(m);
}

const struct mode_ops mode_bt = {
    .name = "bt",
    .summary = "binary translation, VMware style: guest kernel code runs only from a translation "
               "cache in ring 1; shadow paging",
    .setup = bt_setup,
    .exception = bt_exception,
    .interrupt = bt_interrupt,
    .irq_open = bt_irq_open,
    .teardown = bt_teardown,
    .paging_regs = shadow_monitor_paging_regs,
    .cpu_view = classic_cpu_view,
    .delivered = classic_delivered,
    .real_seg = classic_real_seg,
    .redirect = bt_redirect,
    .read_code = bt_read_code,
    .counted = bt_counted,
};
