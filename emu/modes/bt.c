/*
 * bt.c — `bt`: binary translation, VMware style, on the ring-compression monitor.
 *
 * The guest kernel runs in ring 1 on the monitor of classic_core.h (its GDT, shadow MMU and
 * virtual CPU), but none of its instructions runs where the guest put it: every block of guest
 * kernel code the CPU is about to enter is translated on demand (bt_xlate.h) into the translation
 * cache (TC), pages of the monitor's window mapped supervisor read-only, and the CPU runs the
 * translation instead. Guest user code (ring 3) runs directly.
 *
 * The monitor's window holds, after the shared monitor's pages, bt's virtual CPU block, the
 * indirect-branch lookup table, the selector map, the port map and the TC: bt_tc.c describes the
 * layout and holds the TC and its tables; bt_adapt.c holds adaptive BT; bt_internal.h the state
 * they share. This file enters the TC and handles everything that leaves it.
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
 * Port I/O to a port whose emulation is a register (POST 0x80, the phase marker 0xe0,
 * isa-debug-exit 0xf4: misc_port_register) stays in the TC too ([AA06]'s `in` nanobenchmark): the
 * translation looks the port up in the port map and runs the guest's own IN/OUT (bt_xlate.h).
 * The TC's ring 1 has IOPL 0 and the monitor's TSS no I/O bitmap, and both stay so (user code
 * gets the I/O permission of the guest's own TSS bitmap, classic_io_allowed, else a #GP as
 * natively); instead the machine's site hook asks the mode before its permission check (op
 * io_allowed), and bt lets exactly those copies through, to be recorded at their guest EIP. The access itself goes the machine's port path, as
 * in every mode (funnel: ioemul), at that instruction: a phase-marker write folds the counters
 * there and the rest of the block counts in the new phase, as natively. Its in-cache execution
 * is counted where the sequence succeeded (Counted). Ports with state machines (UART, PIC, PIT,
 * CMOS) are callouts, after which the unit goes on. No code hook is added: an IN/OUT already
 * carries the machine's site hook in every mode.
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
 * a TC address (a lookup hit leaves one only in a dead slot below ESP), so a flush is safe at
 * any exit. Only with guest paging on: the paging-off
 * identity map uses 4 MiB pages, which the tracing does not split.
 *
 * Adaptive BT (bt_adapt.c): a kernel store whose copy keeps faulting on traced page tables
 * becomes a callout that emulates it (ADAPTED), and its guest bytes again once it stops writing
 * page tables.
 *
 * Counted through the funnel: translate (reason 0, count2 = guest instructions), adaptive
 * retranslations (reason 1, `adaptive` or `ident`, count2 = copies rewritten), chain patches
 * (translate reason 2) and TC flushes (reason 3), both with count2 0 since cost models price
 * count2 per translated instruction, callout by mnemonic (an ADAPTED store: class IC_NONE),
 * incache by mnemonic (in/out: reason IC_IN/IC_OUT) and iblookup hits by ret/jmp/call at the
 * places the translator names (struct bt_count: where a sequence succeeded, a lookup's hit
 * path), which the machine counts with the blocks that hold them, as it counts instructions
 * (mode op counted: no code hooks, whose dispatch in Unicorn scans every hook; with --trace
 * full, hooks add a row per execution),
 * iblookup misses at the callout, trampolines (translate reason 4), and the shared monitor's
 * shadow events (with `code_write` and `code_same`). The emulation records no exits: a callout
 * is bt's exit. A full TC is flushed too (reason 3, frame 0).
 */
#include <stdio.h>
#include <stdlib.h>

#include "emu/paging.h"
#include "emu/modes/bt_emul.h"
#include "emu/modes/bt_internal.h"
#include "emu/modes/classic_core.h"
#include "emu/modes/emul_write.h"
#include "emu/modes/mode.h"

static uint32_t reg(struct machine *m, int r)
{
    uint32_t v = 0;
    uc_reg_read(m->uc, r, &v);
    return v;
}

static void set_eip(struct machine *m, uint32_t eip) { machine_set_eip(m, eip); }

/* Keep the vcpu block current with the guest's view before the TC runs again. */
static void sync_vcpu(struct machine *m)
{
    struct bt *t = bt_of(m);
    struct bt_vcpu *v = t->vcpu;
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
    /* The real selectors from the direct view (uc_quirks.h), ES..GS as uq_segreg orders them:
     * six API reads were 5% of bt syscall. */
    for (int i = 0; i < UQ_NSEG; i++)
        v->sel[i] = classic_guest_sel(&t->c, uq_selector(&m->quirks, m->uc, (enum uq_segreg)i));
}

/* After the monitor changed the guest state: the guest kernel resumes in the TC. */
static int resume(struct machine *m)
{
    struct bt *t = bt_of(m);
    sync_vcpu(m);
    uint32_t eip = reg(m, UC_X86_REG_EIP);
    if (m->end || machine_cpl(m) != 1 || in_tc(t, eip))
        return m->end ? -1 : 0;
    uint32_t tc = bt_enter(m, eip, false, NULL);
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
    uint32_t dest = bt_enter(m, e->guest_eip, false, NULL);
    if (!dest)
        return -1;
    for (unsigned i = 0; bt_of(m)->flushes == flushes && i < tu->u.nexits; i++) {
        const struct bt_exit *x = &tu->u.exits[i];
        if (x->stub_off != off)
            continue;
        bt_chain(tu->host, tu->u.tc_addr, x, dest);
        tlb_remove_cache(m, tu->u.tc_addr, (uint64_t)tu->u.tc_addr + tu->u.tc_len);
        funnel_work(m, WK_TRANSLATE, 2, "chain", 0, e->guest_eip, 0, NULL);
    }
    set_eip(m, dest);
    return 0;
}

static int callout(struct machine *m, const struct bt_map *e)
{
    const cs_insn *in = classic_decoded(m, e->guest_eip);
    if (!in) {
        /* Bytes no instruction decodes from: the #UD the hardware raises there. */
        struct xevent ud = {.kind = XK_FAULT, .vector = 6, .eip = e->guest_eip,
                            .insn_eip = e->guest_eip};
        set_eip(m, e->guest_eip);
        return funnel_deliver(m, &ud, DLV_MODE);
    }
    int r = 0;
    uint32_t target;
    set_eip(m, e->guest_eip);
    if (e->kind == BT_INDIRECT && bt_emul_indirect(m, in, e->guest_eip, &target) == 0) {
        bool hit;
        uint32_t dest = bt_enter(m, target, false, &hit);
        if (dest)
            bt_ibtc_set(bt_of(m), target, dest);
        funnel_work(m, WK_IBLOOKUP, hit ? 0 : 1, in->mnemonic, 0, e->guest_eip, 0, NULL);
        machine_retire_emulated(m, -1);
        if (!dest)
            return -1;
        set_eip(m, dest);
        return 0;
    }
    if (e->kind == BT_ADAPTED)
        r = bt_adapted_write(m, e->guest_eip);
    else if (bt_emul_descriptor_query(m, in, e->guest_eip) < 0)
        r = classic_emulate_at(m, e->guest_eip);
    if (r == 1) {
        uint32_t tramp = bt_enter(m, e->guest_eip, true, NULL);
        r = tramp ? 0 : -1;
        if (tramp)
            set_eip(m, tramp);
    }
    return r < 0 ? -1 : r;   /* 2: an emulated hlt, the guest waits */
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
    if (seq && shadow_in_window(t->c.mon.sh, ev->cr2)) {
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
            /* The write hit translated code and was not emulated (an instruction emul_write
             * does not know, such as inc): it re-executes once from a trampoline that leaves
             * its page untraced — a new translation would trace the page again, and a store to
             * data that shares a page with the code writing it would fault for ever. The next
             * translation traces the page again. */
            rewind_sequence(m, e);
            uint32_t once = bt_enter_untraced(m, e->guest_eip);
            if (!once)
                return -1;
            set_eip(m, once);
        }
        /* A write that left its page a traced table (not unshadowed) will fault again. tu may
         * be gone (a code write empties the TC). */
        if (table_write && shadow_traces_table(t->c.mon.sh, &t->c.mon.v, ev->cr2))
            bt_adapt_fault(m, e->guest_eip);
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
        return funnel_deliver(m, &pf, DLV_MODE);
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
    const struct bt_map *found = bt_map_at(t, at, &tu);
    if (!found) {
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                    "bt: %s %u at TC address 0x%08x, which maps to no guest instruction",
                    soft ? "software interrupt" : "fault", ev->vector, at);
        return -1;
    }
    const struct bt_map copy = *found, *e = &copy;   /* a TC flush may free the unit */
    if (soft || ev->vector != 14)
        shadow_desc_sync(t->c.mon.sh);
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
        const struct bt_map *n = bt_map_at(t, ev->eip, NULL);
        g.eip = n ? n->guest_eip : e->guest_eip + e->guest_len;
    }
    if (!soft && ev->vector == 14)
        return tc_page_fault(m, tu, e, ev);
    rewind_sequence(m, e);
    set_eip(m, g.eip);
    if (!soft && ev->vector == 13) {
        int r = classic_emulate_at(m, e->guest_eip);
        if (r != 1)
            return r;
    }
    return funnel_deliver(m, &g, DLV_MODE);
}

/* ---- what entered the monitor ------------------------------------------------------------- */

static uint32_t boundary(struct machine *m, uint32_t eip);

/* A software interrupt from the TC at `at` that leaves it for the monitor (BT_CALLOUT_VECTOR):
 * an exit stub or a lookup that will find its target records its own work (translate chain,
 * iblookup); anything else is a callout, by the guest instruction's class and mnemonic. */
static void classify_tc_exit(struct machine *m, const struct bt_map *e, struct exit_decl *d)
{
    if (e->kind == BT_EXIT)
        return;
    const cs_insn *in = classic_decoded(m, e->guest_eip);
    uint32_t target;
    if (in && e->kind == BT_INDIRECT &&
        bt_emul_indirect_target(m, in, e->guest_eip, &target) == 0)
        return;
    d->cls = EV_CALLOUT;
    d->reason = in ? e->cls : IC_UNDEFINED;   /* undecodable: the callout raises #UD */
    emul_put_str(d->qual, sizeof d->qual, in ? in->mnemonic : "(undefined)");
}

/* In the TC: callouts (above), and faults or int n of translated code, which are monitor traps
 * like trap-classic's, recorded at the guest instruction. Elsewhere (user code, entry points):
 * the ring-compression monitor's traps. */
static void bt_classify(struct machine *m, const struct vexit *x, struct exit_decl *d)
{
    const struct xevent *ev = x->ev;
    struct bt *t = bt_of(m);
    t->c.dec_ok = false;     /* the decode cache lives from a classify to its handler */
    if (x->kind != VX_EXCEPTION || machine_cpl(m) != 1 || !in_tc(t, x->eip)) {
        if (x->kind == VX_INTERRUPT && machine_cpl(m) == 1 && in_tc(t, x->eip))
            d->eip = boundary(m, x->eip);
        classic_classify(m, x, d);
        return;
    }
    const struct bt_map *e = bt_map_at(t, x->eip, NULL);
    if (!e)
        return;    /* the handler ends the run: no guest instruction there */
    d->eip = e->guest_eip;
    if (ev->kind == XK_SOFTINT && ev->vector == BT_CALLOUT_VECTOR) {
        classify_tc_exit(m, e, d);
        return;
    }
    const char *n = vector_name(ev->vector);
    d->cls = EV_MONTRAP;
    d->reason = ev->vector;
    emul_put_str(d->qual, sizeof d->qual, ev->kind == XK_SOFTINT ? "int" : n ? n : "");
}

/* ---- mode operations ---------------------------------------------------------------------- */

/* The guest mapped the monitor's window's region and the shadow MMU moved it (classic_core.c has
 * reloaded the monitor's tables): a guest instruction the CPU was in the middle of in the TC
 * restarts at its guest EIP (the old TC addresses are the guest's now), and the TC starts afresh
 * at the new place (bt_tc_relocate); resume() enters it. */
static void bt_window_moved(struct machine *m, uint32_t from, uint32_t to)
{
    struct bt *t = bt_of(m);
    uint32_t eip = reg(m, UC_X86_REG_EIP);
    if (machine_cpl(m) == 1 && in_tc(t, eip)) {
        const struct bt_map *e = bt_map_at(t, eip, NULL);
        if (e) {
            rewind_sequence(m, e);
            set_eip(m, e->guest_eip);
        }
    }
    bt_tc_relocate(m, to);
}

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
    if (classic_init(m, &t->c, bi, errbuf, errlen) < 0)
        return -1;
    uint32_t win = MON_WINDOW(m);
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
    bt_ibtc_clear(t);
    for (unsigned i = 0; i < BT_SELMAP_PAGES; i++)
        if (!(t->selmap[i] = (uint16_t *)shadow_window_page(t->c.mon.sh, BT_SELMAP_PAGE + i))) {
            snprintf(errbuf, errlen, "cannot map bt's selector map in the monitor's window");
            return -1;
        }
    bt_selmap_build(m);
    t->c.gdt_rebuilt = bt_selmap_build;
    t->c.gdt_entry_changed = bt_selmap_entry;
    for (unsigned i = 0; i < BT_PORTMAP_PAGES; i++)
        if (!(t->portmap[i] = shadow_window_page(t->c.mon.sh, BT_PORTMAP_PAGE + i))) {
            snprintf(errbuf, errlen, "cannot map bt's port map in the monitor's window");
            return -1;
        }
    bt_portmap_build(t);
    bt_place(m, win);
    t->c.window_moved = bt_window_moved;
    if (t->tc_limit <= t->tc_base) {
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
    classic_teardown(m);
}

static uint32_t bt_redirect(struct machine *m, uint32_t addr)
{
    struct bt *t = bt_of(m);
    if (machine_cpl(m) != 1 || in_tc(t, addr))
        return addr;
    sync_vcpu(m);
    uint32_t tc = bt_enter(m, addr, false, NULL);
    return tc ? tc : addr;
}


/* The guest instruction boundary at TC EIP where an interrupt may be taken: its guest EIP, or 0 in
 * the middle of a sequence or in sti's interrupt shadow. */
static uint32_t boundary(struct machine *m, uint32_t eip)
{
    struct bt *t = bt_of(m);
    if (!in_tc(t, eip))
        return eip;
    struct tunit *tu;
    const struct bt_map *e = bt_map_at(t, eip, &tu);
    if (!e || e->tc_off != eip - tu->u.tc_addr || !e->before_effect || e->sp_undo || e->saved_reg)
        return 0;
    if (e > tu->u.map && e[-1].cls == IC_STI)
        return 0;     /* the instruction after sti runs before any interrupt, as natively */
    return e->guest_eip;
}

/* Mode op io_allowed: an IN/OUT of the TC runs in the cache when it is the guest's own
 * instruction in an in-cache sequence (its map entry INCACHE, class in or out) and the port map
 * lets its port through; the guest kernel has I/O privilege at its ring 0, the TC's ring 1 with
 * IOPL 0 and no I/O bitmap does not. User code gets what the guest's own TSS bitmap permits
 * (classic_io_allowed); anything else (a trampoline) meets the CPU's check. */
static bool bt_io_allowed(struct machine *m, uint32_t addr, uint16_t port, uint32_t *eip)
{
    struct bt *t = bt_of(m);
    if (machine_cpl(m) == 3)
        return classic_io_allowed(m, addr, port, eip);   /* user code: the guest's TSS bitmap */
    if (!in_tc(t, addr) || !bt_port_incache(t, port) || machine_cpl(m) != 1)
        return false;
    const struct bt_map *e = bt_map_at(t, addr, NULL);
    if (!e || e->kind != BT_INCACHE || (e->cls != IC_IN && e->cls != IC_OUT))
        return false;
    *eip = e->guest_eip;
    return true;
}

static bool bt_irq_open(struct machine *m)
{
    if (machine_cpl(m) == 3)
        return machine_if_set(m);
    return classic_vif(&bt_of(m)->c) && boundary(m, reg(m, UC_X86_REG_EIP)) != 0;
}

static struct action bt_interrupt(struct machine *m, const struct xevent *ev)
{
    struct xevent g = *ev;
    if (machine_cpl(m) == 1) {
        g.eip = g.insn_eip = boundary(m, ev->eip);
        set_eip(m, g.eip);
    }
    int r = funnel_deliver(m, &g, DLV_MODE);
    return act_rc(r < 0 ? r : resume(m));
}

/* A hlt the monitor emulated leaves the guest waiting at its guest EIP: the interrupt that wakes
 * it enters the TC again through bt_interrupt. */
/* Handled in the interrupt hook (mode.h, exception_in_hook): in the TC, an exit stub (a
 * translation and its chaining, in the monitor's own memory), an indirect branch's lookup, and
 * any other exception whose guest instruction classic_insn_in_hook allows; outside it, what
 * trap-classic's rules allow (classic_exception_in_hook). */
static bool bt_exception_in_hook(struct machine *m, const struct xevent *ev)
{
    struct bt *t = bt_of(m);
    uint32_t at = ev->kind == XK_SOFTINT ? ev->insn_eip : ev->eip;
    if (machine_cpl(m) != 1 || !in_tc(t, at))
        return classic_exception_in_hook(m, ev);
    if (shadow_desc_pending(t->c.mon.sh))
        return false;
    const struct bt_map *e = bt_map_at(t, at, NULL);
    if (!e)
        return false;
    if (ev->kind == XK_SOFTINT && ev->vector == BT_CALLOUT_VECTOR &&
        (e->kind == BT_EXIT || e->kind == BT_INDIRECT))
        return true;
    /* The class the translator found (code tracing keeps translations in step with the guest's
     * bytes; should an untraced trampoline's not be, and its instruction halt or raise an
     * interrupt, exception_here hands the rest to the exit loop). Decoding afresh here cost 5%
     * of bt syscall. */
    return classic_insn_in_hook(m, e->cls);
}

static struct action bt_exception(struct machine *m, const struct xevent *ev)
{
    uint32_t at = ev->kind == XK_SOFTINT ? ev->insn_eip : ev->eip;
    int r = machine_cpl(m) == 1 && in_tc(bt_of(m), at) ? tc_exception(m, ev)
                                                     : classic_handle(m, ev);
    if (r == 2)
        return act(ACT_HALT);
    return act_rc(r < 0 ? r : resume(m));
}

const struct mode_ops mode_bt = {
    .name = "bt",
    .summary = "binary translation, VMware style: guest kernel code runs only from a translation "
               "cache in ring 1; shadow paging",
    .classes = EV_BIT(INSN) | EV_BIT(PRIV) | EV_BIT(MONTRAP) | EV_BIT(REFLECT) | EV_BIT(IOEMUL) |
               EV_BIT(HALT) | EV_BIT(SHADOW) | EV_BIT(REFUSAL) | EV_BIT(CALLOUT) |
               EV_BIT(INCACHE) | EV_BIT(TRANSLATE) | EV_BIT(IBLOOKUP),
    .deliver_class = EV_REFLECT,
    .io_emulated = true,
    .keep_walks = true,
    .classify = bt_classify,
    .setup = bt_setup,
    .exception = bt_exception,
    .exception_in_hook = bt_exception_in_hook,
    .interrupt = bt_interrupt,
    .irq_open = bt_irq_open,
    .teardown = bt_teardown,
    .paging_regs = shadow_monitor_paging_regs,
    .cpu_view = classic_cpu_view,
    .delivered = classic_delivered,
    .task_sys = classic_task_sys,
    .real_seg = classic_real_seg,
    .redirect = bt_redirect,
    .read_code = bt_read_code,
    .counted = bt_counted,
    .io_allowed = bt_io_allowed,
};
