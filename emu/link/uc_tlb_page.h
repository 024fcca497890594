/*
 * uc_tlb_page.h — flushing single pages of Unicorn's soft TLB, and walking a refused fill in place
 * (uc_tlb_page.c).
 *
 * Unicorn's API empties its TLB only whole (uc_ctl_flush_tlb): a memset of every MMU index's
 * table and of the virtual-PC jump cache, which was 12-15% of trap pgfault, where every VM exit
 * empties it so that the modeled TLB's refills reach the fill hook (emu/tlb.c). QEMU itself
 * flushes one page at a time for INVLPG (tlb_flush_page). Linked into the vmlab executable with
 * Unicorn's static archive (cmake/static_engine.cmake, vmlab_hook_table), uc_tlb_page.c offers
 * that page flush to emu/tlb.c, which knows every page it let into Unicorn's TLB since the last
 * flush. In any other build (the unit tests link the shared library) these functions do not
 * exist: they are declared weak, so their addresses are NULL and tlb.c empties the whole TLB as
 * before.
 */
#ifndef VMLAB_UC_TLB_PAGE_H
#define VMLAB_UC_TLB_PAGE_H

#include <stdbool.h>
#include <stdint.h>

/* The CPU whose TLB fill is in progress on this thread (called from inside a UC_HOOK_TLB_FILL
 * callback), or NULL before the first fill or with a Unicorn release this file was not written
 * for. The pointer is the engine's CPU (QEMU's CPUState), valid as long as the engine. */
__attribute__((weak)) void *uc_tlb_page_cpu(void);

/* The MMU index (QEMU's: kernel or user access) of the fill in progress on this thread (called
 * from inside a UC_HOOK_TLB_FILL callback). */
__attribute__((weak)) unsigned uc_tlb_page_fill_idx(void);

/* Inside a UC_HOOK_TLB_FILL callback that is about to refuse the fill because the guest's page
 * tables fault for a `user` (CPL 3) access, or not: have QEMU's own walker (x86_cpu_tlb_fill, what
 * the UC_TLB_CPU mode calls) make this fill instead, with the access's own size, MMU index and
 * return address. The CPU's walk of the same tables faults too, raises the #PF with the exact
 * CR2 and error code (which the callback, given only the page, cannot know) and never returns:
 * the CPU goes on to the interrupt hook, in the same run, as for any fault. Returns false at
 * once, walking nothing, for a probe (QEMU's walker must not fault on one), when the access is
 * not the kind `user` says (a CPL 3 instruction's implicit supervisor access, which only the
 * CPU's walk tells apart), or with another Unicorn release; true if the CPU's walk did not fault
 * after all (it then entered the page itself, for the fill's MMU index). */
__attribute__((weak)) bool uc_tlb_page_walk_here(bool user);

/* Remove the translations of the 4 KiB page holding `vaddr` from the MMU indexes in `idxmap`
 * (bit i: index i) of `cpu`'s TLB, with the jump-cache entries of code on it, as the guest's
 * INVLPG does for every index. `cpu` is what uc_tlb_page_cpu returned for the same engine. */
__attribute__((weak)) void uc_tlb_page_flush(void *cpu, uint64_t vaddr, uint16_t idxmap);

/* The pages the CPU's own walk (UC_TLB_CPU mode) entered into a TLB on this thread since the last
 * call, each as its address | 1 << its MMU index: up to `max` of them in `pages`; returns how
 * many there were (more than `max`: some were not listed). The list starts empty again. */
__attribute__((weak)) unsigned uc_tlb_page_cpu_fills(uint64_t *pages, unsigned max);

/* Unicorn's whole TLB and jump cache were just emptied (uc_ctl_flush_tlb): every page's jump-cache
 * entries are gone (uc_tlb_page.c then skips the jump-cache clear of a page flush where no code
 * was looked up since). Calling it less often than that only costs clears. */
__attribute__((weak)) void uc_tlb_page_flushed_whole(void);

#endif
