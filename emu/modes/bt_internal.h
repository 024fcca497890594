/*
 * bt_internal.h — private state of the `bt` mode, shared by its files and by no one else:
 *
 *   bt.c           the mode: entering the translation cache (TC) and leaving it (exit stubs,
 *                  callouts, lookup misses), faults and interrupts in TC code mapped back to the
 *                  guest, the mode operations
 *   bt_tc.c        the TC and the tables the TC reads (the indirect-branch lookup table, the
 *                  selector map, the port map): units made on first use, found by guest EIP,
 *                  flushed when a page they were read from is written; the TC's layout in the
 *                  monitor's window
 *   bt_adapt.c     adaptive BT: IDENT copies that keep faulting on traced page tables become
 *                  callouts that emulate the store, and back
 *
 * The translator itself (guest code in, TC code and its map out) is bt_xlate.h, the instructions
 * the monitor performs for the TC bt_emul.h; the ring-compression monitor underneath all of it is
 * classic_core.h.
 */
#ifndef VMLAB_BT_INTERNAL_H
#define VMLAB_BT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/machine.h"
#include "emu/modes/bt_xlate.h"
#include "emu/modes/classic_core.h"

#define BT_CALLOUT_VECTOR 0xef
#define BT_VCPU_PAGE CLASSIC_FREE_PAGE
#define BT_IBTC_PAGE (CLASSIC_FREE_PAGE + 1)
#define BT_IBTC_PAGES (BT_IBTC_ENTRIES * sizeof(struct bt_ibtc_entry) / 0x1000u)
#define BT_IBTC_PER_PAGE (0x1000u / sizeof(struct bt_ibtc_entry))
#define BT_SELMAP_PAGE (BT_IBTC_PAGE + BT_IBTC_PAGES)
#define BT_SELMAP_PAGES (BT_SELMAP_ENTRIES * sizeof(uint16_t) / 0x1000u)
#define BT_SELMAP_PER_PAGE (0x1000u / sizeof(uint16_t))
#define BT_PORTMAP_PAGE (BT_SELMAP_PAGE + BT_SELMAP_PAGES)
#define BT_PORTMAP_PAGES (BT_PORTMAP_ENTRIES / 0x1000u)
#define BT_TC_PAGE (BT_PORTMAP_PAGE + BT_PORTMAP_PAGES)
#define BT_HASH_BITS 12
#define BT_CODE_READ 256                     /* guest code bytes offered to one translation */
#define BT_ADAPT_SLOTS 256                   /* guest EIPs adaptive BT watches (power of 2) */
#define BT_ADAPT_FAULTS 4                    /* traced-write faults that make an IDENT a callout */
#define BT_ADAPT_BACKOFF 4                   /* at most 4 << 4 = 64 faults to switch again */
#define BT_ADAPT_IDLE 16                     /* callouts in a row writing no page table that make
                                                it IDENT again */

struct tunit {
    struct bt_unit u;
    uint8_t *host;                           /* its bytes in the TC page */
    bool tramp;                              /* a trampoline for one instruction */
    struct tunit *hnext;
    unsigned nhooks;                         /* full traces: code hooks on its counted places */
    uc_hook hooks[BT_UNIT_INSNS];
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
    uint8_t backoff;                         /* times it went back to IDENT (at most
                                                BT_ADAPT_BACKOFF): each doubles the faults
                                                that make it a callout again */
    uint8_t orig[2];                         /* the guest bytes the callout covers */
};

struct bt {
    struct classic c;                        /* first: the shared monitor uses it */
    struct bt_vcpu *vcpu;
    struct bt_env env;
    struct bt_ibtc_entry *ibtc[BT_IBTC_PAGES]; /* host pointers of the lookup table's pages */
    uint16_t *selmap[BT_SELMAP_PAGES];       /* host pointers of the selector map's pages */
    uint8_t *portmap[BT_PORTMAP_PAGES];      /* host pointers of the port map's pages */
    uint32_t tc_base;                        /* linear: TC start */
    uint64_t tc_next;                        /* linear: next free byte (may be 4 GiB) */
    uint64_t tc_limit;                       /* linear: TC end (may be 4 GiB) */
    uint8_t *pages[1024];                    /* host pointers of the TC pages */
    struct tunit **units;                    /* in TC order */
    unsigned nunits, cap;
    struct tunit *hash[1u << BT_HASH_BITS];
    struct entry *ehash[1u << BT_HASH_BITS]; /* the units' inner boundaries, by guest EIP */
    uint64_t flushes;                        /* TC flushes so far (a translated page written) */
    bool untraced;                           /* translating without tracing the code's frames
                                                (bt_enter_untraced) */
    struct adapt adapt[BT_ADAPT_SLOTS];      /* open addressing by hash_of(eip); full: no more */
    unsigned nadapted;                       /* slots with callout set */
};

static inline struct bt *bt_of(struct machine *m) { return m->mode_state; }

/* The bucket of guest EIP eip in the unit and entry hashes (and adaptive BT's first slot). */
static inline unsigned hash_of(uint32_t eip) { return (eip * 2654435761u) >> (32 - BT_HASH_BITS); }

/* Whether linear address lin holds TC code made since the last flush. */
static inline bool in_tc(const struct bt *t, uint32_t lin)
{
    return lin >= t->tc_base && lin < t->tc_next;
}

/* ---- bt_tc.c: the translation cache and its tables ---------------------------------------- */

/* Lay the TC and its tables out in the monitor's window at linear `win` (at set-up, and after the
 * window moved): the addresses the translator builds into TC code (bt_env), an empty TC. */
void bt_place(struct machine *m, uint32_t win);

/* The monitor's window moved to `to` (shadow_on_window_move): every translation is
 * dropped (TC code holds the window's addresses; counted as a TC flush, translate reason 3), the
 * machine forgets the blocks it decoded at both places, and the TC starts again at the bottom of
 * the new place (bt_place). The guest EIP must already be out of the TC. */
void bt_tc_relocate(struct machine *m, uint32_t to);

/* Empty the indirect-branch lookup table: every in-cache lookup misses until a unit is made. */
void bt_ibtc_clear(struct bt *t);

/* From now on an in-cache lookup of guest_eip goes to tc_addr (replacing what shared its slot). */
void bt_ibtc_set(struct bt *t, uint32_t guest_eip, uint32_t tc_addr);

/* Refill the selector map from the monitor's GDT (classic's gdt_rebuilt, after a guest lgdt). */
void bt_selmap_build(struct machine *m);

/* Refill the selector map's entries for GDT entry i (the guest wrote it: classic's
 * gdt_entry_changed). */
void bt_selmap_entry(struct machine *m, uint32_t i);

/* Fill the port map: nonzero for the ports whose emulation is a register (misc_port_register),
 * which the TC's IN/OUT access in the cache. */
void bt_portmap_build(struct bt *t);

/* Whether the port map lets an IN/OUT whose access starts at `port` run in the cache. */
bool bt_port_incache(const struct bt *t, uint16_t port);

/* The map entry of the guest instruction whose TC code holds lin, or NULL; *tup (if tup) gets
 * the unit holding lin, or NULL. */
const struct bt_map *bt_map_at(const struct bt *t, uint32_t lin, struct tunit **tup);

/* The TC address running guest_eip (a trampoline for its one instruction if tramp), translated
 * if new; 0 when the run ended. *hit (if hit) tells whether it was there already. */
uint32_t bt_enter(struct machine *m, uint32_t guest_eip, bool tramp, bool *hit);

/* A trampoline for the one guest instruction at guest_eip, made (if new) without tracing the
 * frame it was read from: a store of that instruction into its own page runs once before the
 * page is traced again. 0 when the run ended. */
uint32_t bt_enter_untraced(struct machine *m, uint32_t guest_eip);

/* Mode op read_code: the len bytes of TC code at linear lin into buf; 0, or -1 when lin is not
 * TC code or the range leaves the TC. */
int bt_read_code(struct machine *m, uint32_t lin, void *buf, uint32_t len);

/* Mode op counted: 1 with the event of the unit's counted place (struct bt_count) at TC address
 * addr (an in-cache emulation done, an in-cache lookup's hit), else 0. */
int bt_counted(struct machine *m, uint32_t addr, enum ev_class *cls, int64_t *reason,
               const char **qual);

/* ---- bt_adapt.c: adaptive BT -------------------------------------------------------------- */

/* The IDENT copy of the guest instruction at eip took a traced-write fault that left the table
 * traced; the BT_ADAPT_FAULTS-th makes its copies ADAPTED callouts. */
void bt_adapt_fault(struct machine *m, uint32_t eip);

/* A unit just put in the TC: its copies of instructions already made callouts become callouts. */
void bt_adapt_new_unit(struct machine *m, struct tunit *tu);

/* The callout of the ADAPTED instruction at eip: its write emulated and applied to the shadows.
 * 0 done, 1 not a write the monitor emulates here (run it in a trampoline). */
int bt_adapted_write(struct machine *m, uint32_t eip);

#endif
