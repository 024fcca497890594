/*
 * tlb.h — the TLB model: every page walk and every flush, counted in every mode.
 *
 * Native execution, shadow paging, Xen's direct paging and nested paging differ most in what a
 * TLB miss and a TLB flush cost. vmlab sees them through Unicorn's virtual-TLB mode: Unicorn never
 * walks the page tables itself; each miss of its soft TLB calls tlb_fill (emu/tlb.c), which walks
 * the tables the real CR3 points to (the guest's natively and under pv, the monitor's shadow
 * tables under trap, trap-classic and bt) with the pure walk of emu/paging.h, sets the accessed
 * and dirty bits as the CPU does, checks U/S and R/W with CR0.WP, and hands Unicorn the frame and
 * the permissions. A walk that faults is walked again by the CPU itself, in the fill
 * (uc_tlb_page_walk_here, emu/link/uc_tlb_page.h), which raises the #PF with the exact CR2 and
 * error code (the fill hook sees only the page) without ending the CPU's run. Where that cannot
 * be (a CPL 3 instruction's implicit supervisor access, a build without the link layer), the walk
 * that faults ends the run; the exit loop then lets the CPU walk that one instruction again
 * itself, and the model goes back to filling (tlb_fault_rerun). Under trap-ept, whose guest
 * tables the CPU's own walk cannot reach, the instruction runs again over a guard frame instead
 * (tlb_capture_begin).
 *
 * Unicorn's soft TLB is not the TLB being modeled: it is large, direct-mapped, split by privilege
 * and flushed whenever vmlab must (a monitor changed entries under it), and it drops global pages
 * at every CR3 write. The model keeps its own tag store per modeled TLB, the set of translations a
 * real TLB of unbounded capacity would hold:
 *
 *   - a fill whose page is in the tag store is a hit (Unicorn had dropped what the real TLB
 *     keeps); one that is not is a miss, counted by kind (instruction or data, from CPL 0-2 or
 *     CPL 3) with the page-table entries its walk read, and enters the store (4 KiB and 4 MiB
 *     pages as one entry each, global when the final entry's G bit is set with CR4.PGE);
 *   - flushes empty the store as the architecture says: a CR3 load drops the non-global entries,
 *     INVLPG one page (both sizes, instruction and data), a change of CR0.PG/WP/PE or CR4.PGE/
 *     PSE/PAE everything, a VM exit and entry without VPID everything (Intel SDM vol. 3A 4.10.4,
 *     vol. 3C 28.3.3.3), a monitor's own flush everything;
 *   - whenever the store drops what Unicorn may still hold, Unicorn is flushed too, so every
 *     access that misses in the modeled TLB reaches tlb_fill. Compulsory and flush-induced misses
 *     are therefore exact; capacity and conflict misses of a real 64- or 512-entry TLB are out of
 *     scope (the store never evicts): a miss count is a lower bound for a real TLB.
 *
 * Two TLBs are modeled side by side in every run, so that one run prices every CPU generation:
 * variant 0 is flushed by every VM exit and entry (VT-x without VPID: Prescott, Merom, Penryn),
 * variant 1 keeps its entries across them (VPID, from Nehalem). Outside the VT-x modes no exit
 * happens and the two count the same. PCID does not apply: CR4.PCIDE can be set only in IA-32e
 * mode (SDM 4.10.1), so a 32-bit guest's CR3 loads always drop its non-global entries, and a
 * 32-bit Xen's hypervisor entries never switch address space (Xen lives in every address space's
 * top 64 MiB): no generation changes either.
 *
 * Events (class `tlb`, emu/tlb_reasons.def): misses are kept on the hot path and folded in at
 * phase boundaries (tlb_fold); flushes go through the event store as they happen.
 *
 * Everything that drops Unicorn's translations goes through here: tlb_cr3_loaded, tlb_invlpg,
 * tlb_flush, tlb_vmexit for the modeled flushes, tlb_sync for vmlab's own (a monitor changed
 * entries and a stale translation must not survive in Unicorn, while the modeled TLB, like the
 * real one, keeps it until the guest flushes), tlb_set_cr for the real CR0/CR3/CR4 written
 * through the API.
 */
#ifndef VMLAB_TLB_H
#define VMLAB_TLB_H

#include <stdbool.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "emu/ept.h"
#include "emu/paging.h"

struct machine;

/* The reasons of class tlb (reason column; the qualifier names them). */
enum tlb_reason {
#define TLB_REASON(id, nr, qual, doc) TLB_##id = nr,
#include "emu/tlb_reasons.def"
#undef TLB_REASON
};

#define TLB_VARIANTS 2          /* 0: flushed by VM exits (no VPID); 1: tagged by VPID */
#define TLB_KINDS 4             /* itlb/kernel, itlb/user, dtlb/kernel, dtlb/user */

/* One modeled TLB: a tag store (open addressing) whose flushes are epoch bumps. */
struct tlb_slot {
    uint32_t key;               /* 0: empty; else 1 + (vpn | large << 20 | code << 21) */
    uint32_t epoch_all, epoch_ng;
    uint8_t global;
};

#define TLB_TAGS_LISTED 64      /* keyed slots listed for emptying by a flush of every entry */

struct tlb_tags {
    struct tlb_slot *slot;
    uint32_t mask;              /* slots - 1 (a power of two) */
    /* While at most TLB_TAGS_LISTED slots hold keys, which ones (nkeyed of them, in keyed): a
     * flush of every entry then empties them instead of leaving stale keys for lookups to probe
     * past (every VM exit flushes the no-VPID TLB). nkeyed past the limit: not listed. */
    uint32_t keyed[TLB_TAGS_LISTED];
    uint32_t nkeyed;
    uint32_t used;              /* slots holding a key, valid or not */
    uint32_t epoch_all;         /* bumped by a flush of every entry */
    uint32_t epoch_ng;          /* bumped by a flush of the non-global entries (CR3 load) */
    uint64_t nglobal;           /* valid global entries */
};

#define TLB_FILL_PAGES 10   /* pages flushed one by one; more: Unicorn's TLB is emptied whole */

struct tlb_model {
    struct tlb_tags v[TLB_VARIANTS];
    struct phys_mem pm;          /* RAM and the monitor's memory: where real page tables live */
    uint64_t miss[TLB_VARIANTS][TLB_KINDS], refs[TLB_VARIANTS][TLB_KINDS];
    uint64_t miss_folded[TLB_VARIANTS][TLB_KINDS], refs_folded[TLB_VARIANTS][TLB_KINDS];
    struct ept *ept;             /* trap-ept: the EPT every fill walks too (NULL: none) */
    struct phys_mem ept_pm;      /* the guest's tables, reached through the EPT */
    uint64_t ept_miss[TLB_VARIANTS], ept_refs[TLB_VARIANTS];
    uint64_t ept_miss_folded[TLB_VARIANTS], ept_refs_folded[TLB_VARIANTS];
    int quiet;                   /* > 0: fills asked by the host (translation-cache calls) */
    bool poisoned;               /* a quiet fill happened: flush Unicorn after the call */
    /* What Unicorn's TLB may hold, so that emptying it costs what it holds: the pages filled
     * since it was last emptied (nfill of them, in fill_page), or anything (nfill past
     * TLB_FILL_PAGES: a full flush). nfill 0: empty, unicorn_flush does nothing. */
    uint32_t fill_page[TLB_FILL_PAGES];  /* page | 1 << MMU index, each index filled for */
    unsigned nfill;
    void *cpu;                   /* the engine's CPU for single-page flushes (uc_tlb_page.h) */
    bool fault;                  /* the last fill's walk faulted: the CPU must walk again */
    enum ept_fault ept_fault;    /* ... or the EPT refused it (a VM exit): why, */
    uint32_t ept_gpa;            /* and at which guest-physical address */
    uint32_t fault_err;          /* the page-fault error code of the guest's walk */
    uint32_t fault_lin;          /* the page whose walk faulted */
    bool fault_fetch;            /* ... for an instruction fetch */
    bool capture;                /* trap-ept: the second pass of a guest #PF is running */
    bool captured;               /* ... and its access reached the guard frame at capture_cr2 */
    uint32_t capture_eip, capture_cr2;
    bool cpu_walk;               /* the CPU walks (UC_TLB_CPU) until the next stop */
    uint64_t flushes;            /* flushes of any kind so far (CR3 loads, INVLPG, whole
                                  * flushes, VM exits, syncs): a translation kept outside the
                                  * model is as valid as a TLB entry while this stays the same */
};

/* Put the engine in virtual-TLB mode with tlb_fill as its fill hook, the model empty. 0, or -1
 * with a one-line reason in errbuf. Call once, after the monitor's memory is mapped or not. */
int tlb_init(struct machine *m, char *errbuf, unsigned errlen);
void tlb_free(struct machine *m);

/* trap-ept: every fill from now on walks the guest's tables through `e` and hands Unicorn the
 * host-physical address the EPT gives (a two-dimensional walk: class tlb reasons 8 and 9 count
 * the EPT entries read per miss). Host calls (tlb_host_begin) use the monitor's own layout. */
void tlb_set_ept(struct machine *m, struct ept *e);

/* The monitor mapped memory above RAM (machine_map_monitor): page tables there are walked. */
void tlb_add_region(struct machine *m, uint8_t *host, uint32_t phys, uint64_t bytes);

/* Modeled flushes. tlb_cr3_loaded: the real CR3 was loaded (by the CPU's mov, or through the
 * API: either way Unicorn flushed itself). tlb_invlpg: the translation of `lin` was invalidated;
 * by_cpu says the CPU executes the INVLPG itself (Unicorn drops the page), else Unicorn is
 * flushed here. tlb_flush: every entry, for `reason` (TLB_FLUSH_MONITOR, TLB_FLUSH_CR0_CR4);
 * by_cpu as for tlb_invlpg. tlb_vmexit: a VM exit and entry (variant 0 only). */
void tlb_cr3_loaded(struct machine *m);
void tlb_invlpg(struct machine *m, uint32_t lin, bool by_cpu);
void tlb_flush(struct machine *m, enum tlb_reason reason, bool by_cpu);
void tlb_vmexit(struct machine *m);

/* Not a modeled flush: Unicorn drops its translations because a monitor changed page-table
 * entries under it; the modeled TLB, like the hardware's, keeps them until the guest flushes. */
void tlb_sync(struct machine *m);

/* Write the real CR0, CR4 or CR3 (cr = 0, 3, 4) through the API, with the modeled flush that
 * the write implies: a CR3 load, or everything when CR0.PG/WP/PE or CR4.PGE/PSE/PAE change
 * (Unicorn does not flush on API writes of CR0 and CR4; it is flushed here). */
void tlb_set_cr(struct machine *m, int cr, uint64_t value);

/* The CPU is about to execute `mov crN, value` itself (native, or where no monitor intercepts
 * it): the modeled flush it implies (Unicorn does its own). */
void tlb_cpu_mov_cr(struct machine *m, int cr, uint32_t value);

/* Host calls into the engine that translate linear addresses to find translated blocks
 * (uc_ctl_remove_cache, uc_hook_del of a code hook) are bracketed by tlb_host_begin/end: the
 * fills they cause are not the guest's (not counted, no accessed bit set; a page the guest has
 * not mapped is handed a dummy frame instead of a fault that would unwind out of the call), and
 * whatever they left in Unicorn's TLB is flushed by tlb_host_end, so that Unicorn never holds a
 * translation the modeled TLB does not (counts would then hang on Unicorn's own evictions). tlb_remove_cache is uc_ctl_remove_cache so bracketed; every removal
 * of translated code goes through it. */
void tlb_host_begin(struct machine *m);
void tlb_host_end(struct machine *m);
void tlb_remove_cache(struct machine *m, uint64_t begin, uint64_t end);

/* The CPU's run ended because a fill's walk faulted (uc_emu_start returned UC_ERR_EXCEPTION
 * with tlb.fault set): switch the engine to its own walk until the next stop, so that the
 * instruction at EIP raises its #PF with the exact CR2 and error code. Returns true if that was
 * the case (the caller resumes the CPU), false if the error is not the model's. */
bool tlb_fault_rerun(struct machine *m);

/* trap-ept: the CPU's own walk would read guest-physical tables where only host-physical memory
 * is, so the exact CR2 of a guest #PF is found by a second pass instead: the instruction at
 * `eip` runs again with the faulting page mapped to a guard frame outside memory, and the
 * access's offset in it (Unicorn's unmapped-memory hook gets the physical address) completes
 * the page's address. tlb_capture_begin arms it; after the run, tlb_capture_found says whether
 * the access reached the guard, with the address in *cr2 (the pass is then over). */
void tlb_capture_begin(struct machine *m, uint32_t eip);
bool tlb_capture_found(struct machine *m, uint32_t *cr2);

/* After any stop of the CPU: back to the model's fills if tlb_fault_rerun left the CPU walking.*/
void tlb_after_stop(struct machine *m);

/* Fold the misses counted since the last fold into the current phase (machine_fold_counters). */
void tlb_fold(struct machine *m);

#endif
