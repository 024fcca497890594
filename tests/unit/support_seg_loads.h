/*
 * support_seg_loads.h — the segment-load loop the link layer's tests run on a bare engine
 * (test_uc_mem_cache.c, test_uc_fast_ld.c): every segment load is a helper's read of a descriptor
 * (cpu_ld*_mmuidx_ra -> load_helper), the path both the memory-region cache and the helper-load
 * fast path answer.
 *
 * seg_loads_open() opens the engine of tests/unit/support_uc.h with memory in three regions:
 * [0, GDT), the GDT's page, and [CODE, 64 KiB); loads seg_flat_gdt, enters flat ring 0 (paging
 * off) and puts at CODE a loop that loads DS and ES from the GDT SEG_LOAD_ROUNDS times and halts:
 *     mov ecx, ROUNDS; L: mov ax, 0x10; mov ds, ax; mov es, ax; dec ecx; jnz L; hlt
 */
#ifndef VMLAB_TESTS_SUPPORT_SEG_LOADS_H
#define VMLAB_TESTS_SUPPORT_SEG_LOADS_H

#include <stddef.h>
#include <stdint.h>

#define SEG_LOAD_ROUNDS 100

extern const uint8_t seg_loads[17];                /* the loop above */
extern const uint64_t seg_flat_gdt[3];             /* null, flat code 0x08, flat data 0x10 */
extern const uint64_t seg_absent_gdt[3];           /* the same with 0x10 not present: #NP(0x10) */

/* The engine described above, as `uc` (support_uc.h). Asserts every step. */
void seg_loads_open(void);

#endif
