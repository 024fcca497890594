/*
 * bt_adapt.c — adaptive BT: guest kernel stores that keep faulting on traced page tables are
 * emulated by a callout instead (VMware's adaptive binary translation), and run as guest bytes
 * again once they stop writing page tables.
 *
 * Adaptive BT: an IDENT copy whose write faults on a traced page table (a traced write: a fault
 * round trip per PTE store) is watched by guest EIP. After BT_ADAPT_FAULTS such faults that left
 * the table traced, every copy of it in the TC, and in units made later, is rewritten in place
 * into an ADAPTED callout (`int $BT_CALLOUT_VECTOR` over its first two bytes; the callout resumes
 * at the next guest instruction, so the rest is dead): the monitor emulates the store
 * (emul_write) and applies it to the shadows (shadow_wrote), with no fault. After BT_ADAPT_IDLE
 * such callouts in a row that wrote no traced page table, the copies get their guest bytes back
 * (hysteresis). Each return to IDENT doubles the faults that make it a callout again (up to
 * BT_ADAPT_FAULTS << BT_ADAPT_BACKOFF), so a store that alternates between page tables and data
 * settles instead of being retranslated back and forth at a fixed rate. A store the callout
 * cannot emulate runs in a trampoline, faulting as before.
 *
 *   IDENT   --(BT_ADAPT_FAULTS << backoff) traced-write faults-->  ADAPTED
 *   ADAPTED --BT_ADAPT_IDLE untraced callouts------------------->  IDENT, backoff + 1
 *
 * The rest of bt reaches this file at three points: a traced-write fault of an IDENT copy
 * (bt_adapt_fault, from the TC's page-fault path), the callout of an ADAPTED copy
 * (bt_adapted_write) and every unit put in the TC (bt_adapt_new_unit).
 */
#include <string.h>

#include "emu/modes/bt_internal.h"
#include "emu/modes/emul_write.h"

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
    tlb_remove_cache(m, tu->u.tc_addr, end);
    blocks_forget(m, tu->u.tc_addr, end);
    funnel_work(m, WK_TRANSLATE, 1, a->callout ? "adaptive" : "ident", n, a->eip, 0, NULL);
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
        if (a->backoff < BT_ADAPT_BACKOFF)
            a->backoff++;
    }
    a->callout = to_callout;
    a->faults = a->idle = 0;
    for (unsigned i = 0; i < t->nunits; i++)
        unit_adapt(m, t->units[i], a);
}

/* The IDENT copy of the guest instruction at eip took a traced-write fault. */
void bt_adapt_fault(struct machine *m, uint32_t eip)
{
    struct adapt *a = adapt_slot(bt_of(m), eip, true);
    if (a && !a->callout && ++a->faults >= (uint32_t)BT_ADAPT_FAULTS << a->backoff)
        adapt_switch(m, a, true);
}

/* A new unit: its copies of instructions already made callouts are callouts too. */
void bt_adapt_new_unit(struct machine *m, struct tunit *tu)
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
int bt_adapted_write(struct machine *m, uint32_t eip)
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
