/*
 * uc_fast_ld.h — what the helper-load fast path (uc_fast_ld.c) offers besides its wrappers.
 *
 * The fast path works by itself: linked into an executable with Unicorn's static archive and the
 * --wrap options of cmake/static_engine.cmake (vmlab_hook_table), it answers the loads Unicorn's
 * x86 helpers make (iret's pops, a segment load's descriptor) from the soft TLB. This header is
 * for the other link-layer files, which tell it when it must stand aside, and for its test.
 */
#ifndef VMLAB_UC_FAST_LD_H
#define VMLAB_UC_FAST_LD_H

#include <stdbool.h>
#include <stdint.h>

/* From now on, in this process, every helper load goes to Unicorn's own load_helper: a hook that
 * sees reads (UC_HOOK_MEM_READ, UC_HOOK_MEM_READ_AFTER) was added, or a region was mapped or
 * protected without UC_PROT_READ (load_helper checks the region's permissions; the TLB entry does
 * not). Declared weak: absent in builds without the fast path. */
__attribute__((weak)) void uc_fast_ld_refuse(void);

struct uc_fast_ld_stats {
    int state;          /* 1 answering, 0 still checking its reading of the TLB, -1 refused */
    uint64_t answered;  /* helper loads answered from the TLB */
    uint64_t passed;    /* helper loads passed to Unicorn (TLB miss, flagged entry, page cross,
                           or not answering) */
};

/* The process's counts (all zero, state -1, for a Unicorn release it was not written for). */
void uc_fast_ld_stats(struct uc_fast_ld_stats *st);

#endif
