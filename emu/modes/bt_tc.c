/*
 * bt_tc.c — bt's translation cache (TC) and the tables the TC reads, all in the monitor's window
 * (classic_core.h: pages 0..2 are the shared monitor's, the rest bt's):
 *
 *   window page 3          the virtual CPU block (struct bt_vcpu), supervisor read-write: the TC
 *                          reads and writes the guest's IF there (cli/sti/pushf/popf in cache)
 *                          and its selectors (segment loads), and reads the guest's CRs and
 *                          table registers, which the monitor keeps current (sync) whenever it
 *                          resumes the guest. Being writable at ring 1, it is writable by guest
 *                          kernel code that addresses the window (Unicorn ignores the segment
 *                          limits VMware protected it with); the monitor only ever takes the
 *                          guest's own IF from it, so that reaches nothing but the guest.
 *   window pages 4..131    the indirect-branch lookup table (bt_xlate.h), supervisor read-only:
 *                          guest EIP -> TC address of every unit made, direct-mapped; emptied at
 *                          a TC flush
 *   window pages 132..163  the selector map (bt_xlate.h), supervisor read-only: guest selector ->
 *                          1 + the real one a segment load runs on (classic_data_sel), rebuilt
 *                          when the guest's GDT is mirrored anew (lgdt)
 *   window pages 164..179  the port map (bt_xlate.h), supervisor read-only: port -> 1 where the
 *                          TC's IN/OUT access it in the cache (a register: misc_port_register),
 *                          0 where they call out; filled once, at set-up
 *   window pages 180..     the TC; a unit never crosses a page; units are kept in TC order and
 *                          hashed by guest EIP
 *
 * A unit is made on first use (bt_enter): the translator's (bt_xlate.h) or, for code it does not
 * take, a single-instruction unit (a callout, or a trampoline running the guest bytes then an
 * exit). It is put in the TC (tc_commit), indexed by guest EIP at its start and at its inner clean
 * boundaries, put in the lookup table, and the guest frames it was read from are traced (a write
 * that changes them flushes the TC: tc_flush). A full TC is flushed and refilled from the bottom.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu/dev/misc_ports.h"
#include "emu/paging.h"
#include "emu/modes/bt_internal.h"
#include "emu/modes/emul_write.h"

/* ---- the indirect-branch lookup table (bt_xlate.h), read by the TC ------------------------- */

static struct bt_ibtc_entry *ibtc_entry(struct bt *t, uint32_t slot)
{
    return &t->ibtc[slot / BT_IBTC_PER_PAGE][slot % BT_IBTC_PER_PAGE];
}

/* Empty every slot: slot i holds -(i + 1), the negation of an EIP of another slot. */
void bt_ibtc_clear(struct bt *t)
{
    for (uint32_t i = 0; i < BT_IBTC_ENTRIES; i++)
        *ibtc_entry(t, i) = (struct bt_ibtc_entry){.neg_guest_eip = -(i + 1), .tc_addr = 0};
}

/* From now on an in-cache lookup of guest_eip goes to tc_addr (replacing what shared its slot). */
void bt_ibtc_set(struct bt *t, uint32_t guest_eip, uint32_t tc_addr)
{
    *ibtc_entry(t, bt_ibtc_slot(guest_eip)) = (struct bt_ibtc_entry){-guest_eip, tc_addr};
}

/* ---- the selector map (bt_xlate.h), read by the TC's segment loads ------------------------ */

/* Refill the map's selectors [from, to) from the monitor's GDT. */
static void selmap_fill(struct bt *t, uint32_t from, uint32_t to)
{
    for (uint32_t sel = from; sel < to && sel < BT_SELMAP_ENTRIES; sel++) {
        uint16_t real;
        uint16_t v = classic_data_sel(&t->c, (uint16_t)sel, &real) == 0 ? real + 1 : 0;
        t->selmap[sel / BT_SELMAP_PER_PAGE][sel % BT_SELMAP_PER_PAGE] = v;
    }
}

/* Refill the map from the monitor's GDT: after the guest's GDT is mirrored anew (lgdt). */
void bt_selmap_build(struct machine *m) { selmap_fill(bt_of(m), 0, BT_SELMAP_ENTRIES); }

void bt_selmap_entry(struct machine *m, uint32_t i) { selmap_fill(bt_of(m), i << 3, (i + 1) << 3); }

/* ---- the port map (bt_xlate.h), read by the TC's IN/OUT ---------------------------------- */

void bt_portmap_build(struct bt *t)
{
    for (uint32_t port = 0; port < BT_PORTMAP_ENTRIES; port++)
        t->portmap[port / 0x1000u][port % 0x1000u] = misc_port_register((uint16_t)port);
}

bool bt_port_incache(const struct bt *t, uint16_t port)
{
    return t->portmap[port / 0x1000u][port % 0x1000u] != 0;
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

const struct bt_map *bt_map_at(const struct bt *t, uint32_t lin, struct tunit **tup)
{
    struct tunit *tu = unit_at(t, lin);
    if (tup)
        *tup = tu;
    return tu ? bt_map_find(&tu->u, lin - tu->u.tc_addr) : NULL;
}

/* ---- the translation cache ---------------------------------------------------------------- */

/* Drop every translation: a page some translation was made from has been written, or the TC is
 * full. Guest state never holds a TC address (pushed returns and frames are guest EIPs), so
 * everything retranslates on use. New units go on above the old ones until the TC is full, so
 * the machine's decoded blocks of TC code stay true until the bottom is reused. */
static void tc_flush(struct machine *m, uint32_t frame)
{
    struct bt *t = bt_of(m);
    funnel_work(m, WK_TRANSLATE, 3, "flush", 0, frame, 0, NULL);
    for (unsigned i = 0; i < t->nunits; i++) {
        for (unsigned k = 0; k < t->units[i]->nhooks; k++)
            uc_hook_del(m->uc, t->units[i]->hooks[k]);
        free(t->units[i]);
    }
    t->nunits = 0;
    memset(t->hash, 0, sizeof t->hash);
    memset(t->ehash, 0, sizeof t->ehash);
    bt_ibtc_clear(t);
    tlb_remove_cache(m, t->tc_base, t->tc_next);
    t->flushes++;
}

void bt_place(struct machine *m, uint32_t win)
{
    struct bt *t = bt_of(m);
    t->env = (struct bt_env){.vcpu_state = win + BT_VCPU_PAGE * 0x1000u,
                             .callout_vector = BT_CALLOUT_VECTOR,
                             .ibtc = win + BT_IBTC_PAGE * 0x1000u,
                             .selmap = win + BT_SELMAP_PAGE * 0x1000u,
                             .portmap = win + BT_PORTMAP_PAGE * 0x1000u};
    uint64_t pages = (0x100000000ull - win) >> 12;
    if (pages > 1024)
        pages = 1024;
    t->tc_base = t->tc_next = win + BT_TC_PAGE * 0x1000u;
    t->tc_limit = win + (pages << 12);
}

void bt_tc_relocate(struct machine *m, uint32_t to)
{
    struct bt *t = bt_of(m);
    uint64_t used = t->tc_next - t->tc_base, was_limit = t->tc_limit;
    uint32_t was_base = t->tc_base;
    tc_flush(m, 0);
    blocks_forget(m, was_base, was_limit);
    bt_place(m, to);
    /* The same monitor pages now sit at the new place: translations Unicorn made of the old code
     * there are dropped through the new addresses (it invalidates by physical page). */
    if (used)
        tlb_remove_cache(m, t->tc_base, t->tc_base + used);
    blocks_forget(m, t->tc_base, t->tc_limit);
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
        unsigned idx = (a - MON_WINDOW(m)) >> 12;
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

/* The counted place of unit tu at TC address addr: what it counts. 0, or -1 if none is there. */
static int counted_at(const struct tunit *tu, uint32_t addr, enum ev_class *cls, int64_t *reason,
                      const char **qual)
{
    for (unsigned i = 0; tu && i < tu->u.ncounts; i++) {
        const struct bt_count *c = &tu->u.counts[i];
        if (tu->u.tc_addr + c->tc_off != addr)
            continue;
        *cls = c->lookup ? EV_IBLOOKUP : EV_INCACHE;
        *reason = c->lookup ? 0 : c->cls;
        *qual = c->lookup ? bt_ib_name[c->cls] : insn_class_name[c->cls];
        return 0;
    }
    return -1;
}

/* Mode op counted: a unit's counted place (struct bt_count) is an in-cache emulation done or an
 * in-cache lookup's hit; the machine counts it with the blocks that hold it. In full traces a
 * code hook on each place also writes a row per execution (slower: Unicorn scans all code hooks
 * at each hooked instruction); the counts stay the blocks'. */
int bt_counted(struct machine *m, uint32_t addr, enum ev_class *cls, int64_t *reason,
               const char **qual)
{
    return counted_at(unit_at(bt_of(m), addr), addr, cls, reason, qual) == 0;
}

/* Full traces: a counted place is running; its event row. */
static void count_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    struct machine *m = opaque;
    struct tunit *tu;
    const struct bt_map *e = bt_map_at(bt_of(m), (uint32_t)addr, &tu);
    enum ev_class cls;
    int64_t reason;
    const char *qual;
    if (e && counted_at(tu, (uint32_t)addr, &cls, &reason, &qual) == 0)
        funnel_counted_row(m, cls, reason, qual, e->guest_eip, 1);
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
    tlb_remove_cache(m, tu->u.tc_addr, (uint64_t)tu->u.tc_addr + tu->u.tc_len);
    struct ev_unit made = {tu->u.guest_eip, tu->u.guest_len, tu->u.ninsns, tu->u.tc_addr,
                           (uint32_t)tu->u.tc_len, tu->tramp};
    funnel_translation(m, &made);
    if (!tu->tramp)
        bt_ibtc_set(t, tu->u.guest_eip, tu->u.tc_addr);
    bt_adapt_new_unit(m, tu);
    for (unsigned i = 0; m->ev.sink && i < tu->u.ncounts; i++) {
        uint32_t a = tu->u.tc_addr + tu->u.counts[i].tc_off;
        if (uc_hook_add(m->uc, &tu->hooks[tu->nhooks], UC_HOOK_CODE, (void *)count_hook, m, a,
                        a) != UC_ERR_OK)
            return -1;
        tu->nhooks++;
    }
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
    int cr;
    /* Bytes no instruction decodes from: a callout, which raises the #UD the hardware would. */
    unsigned len = r == 0 ? in->size : 1;
    uint8_t cls = r == 0 ? (uint8_t)insn_classify(in, &cr) : IC_UNDEFINED;
    cs_free(in, 1);
    if (r < 0)
        tramp = false;
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
    if (!t->untraced)
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
uint32_t bt_enter(struct machine *m, uint32_t guest_eip, bool tramp, bool *hit)
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

uint32_t bt_enter_untraced(struct machine *m, uint32_t guest_eip)
{
    struct bt *t = bt_of(m);
    t->untraced = true;
    uint32_t tc = bt_enter(m, guest_eip, true, NULL);
    t->untraced = false;
    return tc;
}

int bt_read_code(struct machine *m, uint32_t lin, void *buf, uint32_t len)
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
