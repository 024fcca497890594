/*
 * pv_mm.h — direct paging for the `pv` mode: Xen's x86_32 (non-PAE) page types, as pure functions
 * over guest memory (no CPU, no engine, no machine).
 *
 * Under PV the CPU walks the guest's own page tables: there is no shadow. What keeps the guest in
 * its box is a rule the hypervisor enforces on every frame the guest owns:
 *
 *   A frame has one type at a time: an L1 table (page table), an L2 table (page directory), a
 *   segment-descriptor page (GDT/LDT) or a writable page. The type stays while its type count (the
 *   references of that type) is above zero. A writable PTE takes a `writable` reference on the
 *   frame it maps, so a frame is never a page table and writable at once: the guest can read its
 *   tables but changes them only through the hypervisor, entry by entry, each change validated.
 *
 * A table is validated when it gets its first reference of type L1 or L2 (Xen's get_page_type ->
 * alloc_l1_table / alloc_l2_table): that happens when it is pinned (MMUEXT_PIN_L1/L2_TABLE), made
 * the base pointer (MMUEXT_NEW_BASEPTR), or named by a PDE of an L2 being validated or updated.
 * Validation checks every present entry once:
 *
 *   L1  each PTE names a frame of the domain; a writable PTE takes a writable reference on it (which
 *       fails if the frame is a table in use); a read-only PTE takes none.
 *   L2  each PDE below hv_base names a frame of the domain that gets (and, if new, passes) an L1
 *       reference; 4 MiB (PSE) PDEs are refused; PDEs at or above hv_base must not be present.
 *
 * A table keeps its entries' references while it is in use; when its last type reference goes
 * (unpin, base pointer moved away, PDE replaced) it drops them all and loses `validated`, so using
 * it again validates it again. mmu_update (MMU_NORMAL_PT_UPDATE) changes one entry of a table in
 * use: the new entry is checked like a validated one, its references taken, the old entry's
 * dropped, then the entry is written.
 *
 * Life cycle of one frame (count = type_count):
 *
 *                get(T): L1/L2 validate, or refuse
 *     [count 0] ---------------------------------> [type T, count 1..n] <--+ get(T) / put,
 *         ^                                          |        |            | count stays > 0
 *         |   put, count 1 -> 0: L1/L2 drop every    |        +------------+
 *         +--- entry's references, validated = 0 ----+
 *                                                    get(T') with T' != T: -EBUSY
 *
 * Every request either succeeds or changes nothing: a refused request (negative errno) leaves every
 * frame's type, count and flags as they were and writes no memory, even when a nested validation
 * failed half-way (the engine journals each frame it touches and restores them). Refusals are
 * counted and explained in last_error.
 *
 * Differences from Xen, on purpose:
 *   - One domain owns frames [0, nr_frames); machine frames are pseudo-physical ones (no p2m); no
 *     general reference counts (count_info), only type counts.
 *   - The hypervisor runs outside the guest's address space: its slots in a guest L2 (hv_base and
 *     up; Xen copies its own PDEs there) stay empty, and an L2 that fills them is refused.
 *   - No linear page tables (an L2 named by a PDE as if it were an L1 is refused: -EBUSY inside).
 *   - Segment-descriptor pages are a type only: their descriptors are not checked here.
 *   - Frame 0 cannot be a base pointer: a base of 0 means "none", as Xen's null pagetable.
 *   - No preemption, no TLB: the caller flushes after updates, as the guest asks.
 *
 * The caller (the pv mode's hypercall handlers and domain builder) must not write a table in use
 * other than through pvmm_mmu_update; it writes ordinary memory, and tables not in use, directly.
 */
#ifndef VMLAB_PV_MM_H
#define VMLAB_PV_MM_H

#include <stdint.h>

#define PVMM_PAGE_SHIFT 12
#define PVMM_PAGE_SIZE 4096u
#define PVMM_ENTRIES 1024u       /* entries per L1 or L2 table (4 bytes each) */

enum pvmm_type {
    PVMM_NONE = 0,               /* never typed */
    PVMM_L1 = 1,                 /* page table; equals its level for pvmm_pin */
    PVMM_L2 = 2,                 /* page directory */
    PVMM_SEGDESC = 3,            /* GDT/LDT page */
    PVMM_WRITABLE = 4,           /* mapped writable by some PTE (or taken by the hypervisor) */
};

extern const char *const pvmm_type_name[];   /* "none", "l1", "l2", "segdesc", "writable" */

struct pvmm_frame {
    uint32_t type_count;         /* references of `type`; the type may change only at 0 */
    uint8_t type;                /* enum pvmm_type; kept (meaningless) once the count is 0 */
    uint8_t pinned;              /* 1: one of the references is the guest's pin */
    uint8_t validated;           /* 1: every entry checked and referenced (L1/L2 in use), or a
                                  * non-table type taken; L1/L2 at count 0 are never validated */
};

struct pvmm_counters {
    uint64_t validations;        /* table validations, successful or not */
    uint64_t entries_checked;    /* present entries examined by those validations */
    uint64_t refusals;           /* requests that returned a negative errno */
};

struct pvmm_undo;

struct pvmm {
    uint8_t *ram;                /* the domain's memory, nr_frames * 4096 bytes (not owned) */
    uint32_t nr_frames;          /* frames [0, nr_frames) are the domain's; 1 .. 2^20 */
    uint32_t hv_base;            /* linear base of the hypervisor's range, 4 MiB aligned, > 0 */
    struct pvmm_frame *frames;   /* [nr_frames] */

    /* Called once per table validation, after it ends: the table's frame, its level (1 or 2), the
     * present entries examined (all of them, or up to the one refused) and 0 or the negative errno.
     * A validation nested in a request that is then refused has still happened and is reported. */
    void (*on_validate)(void *opaque, uint32_t frame, int level, unsigned entries_checked,
                        int outcome);
    void *opaque;

    struct pvmm_counters counters;
    char last_error[192];        /* why the last request was refused; "" after a success */

    /* Private: the undo journal of the current request (each touched frame's state once). */
    uint32_t *touched;           /* [nr_frames] request epoch in which the frame was journaled */
    struct pvmm_undo *undo;      /* [nr_frames] */
    uint32_t undo_len;
    uint32_t epoch;
};

/* Set up the engine for a domain of `nr_frames` frames at `ram` (nr_frames * 4096 bytes), the
 * hypervisor owning linear addresses from `hv_base` (4 MiB aligned, not 0) up. Every frame starts
 * untyped. 0, -EINVAL for bad arguments, -ENOMEM. Callbacks and counters start cleared. */
int pvmm_init(struct pvmm *pm, uint8_t *ram, uint32_t nr_frames, uint32_t hv_base);

/* Release what pvmm_init allocated (not the RAM). Safe on a zeroed or already freed struct. */
void pvmm_free(struct pvmm *pm);

/* Take a reference of `type` (PVMM_L1, PVMM_L2, PVMM_SEGDESC, PVMM_WRITABLE) on `frame`. At count
 * 0 the frame takes the type, and an L1/L2 is validated. 0; -EINVAL: not the domain's frame, bad
 * type, or the table failed validation; -EBUSY: the frame holds another type. */
int pvmm_get_type(struct pvmm *pm, uint32_t frame, int type);

/* Drop one type reference from `frame`. The last reference of an L1/L2 drops the references of all
 * its entries (which may free the L1s an L2 names, and so on) and clears `validated`. A put on a
 * frame without references, outside the domain, or taking a pinned frame's pin reference, is a
 * caller bug: ignored, counted as a refusal, explained in last_error. */
void pvmm_put_type(struct pvmm *pm, uint32_t frame);

/* MMUEXT_PIN_L1_TABLE (level 1) / MMUEXT_PIN_L2_TABLE (level 2): take a type reference of that
 * level, validating the table if it is new, and mark the frame pinned, so that it stays validated
 * while the guest does not use it. 0; -EEXIST: already pinned; -EBUSY: the frame holds another
 * type; -EINVAL: not the domain's frame, bad level, or the table failed validation. */
int pvmm_pin(struct pvmm *pm, uint32_t frame, int level);

/* MMUEXT_UNPIN_TABLE: clear the pin and drop its reference. 0; -EINVAL: not the domain's frame or
 * not pinned. */
int pvmm_unpin(struct pvmm *pm, uint32_t frame);

/* MMU_NORMAL_PT_UPDATE: write `val` to the entry at machine address `ptr` (the caller has taken the
 * command out of the low two bits), which must be 4-byte aligned, in a frame of the domain that is
 * an L1 or L2 in use (pinned or referenced). The new entry is checked and referenced, the old one's
 * references dropped, then the entry written. 0; -EINVAL: misaligned, outside the domain, not a
 * table in use (ordinary memory is written directly by the guest), or the new entry names a frame
 * outside the domain, a 4 MiB page, or an L1 that fails validation; -EPERM: an L2 entry in the
 * hypervisor's range; -EBUSY: the new entry's frame holds a conflicting type (a writable PTE to a
 * table in use, a PDE to a frame that is writable or an L2). */
int pvmm_mmu_update(struct pvmm *pm, uint32_t ptr, uint32_t val);

/* MMUEXT_NEW_BASEPTR: make `frame` the base (CR3) of the vCPU whose current base is *base (0:
 * none). Takes an L2 reference on `frame` (validating it if new), then drops the one on the old
 * base, and sets *base = frame. 0; -EINVAL: frame 0 or outside the domain, the current base is not
 * an L2 in use (a caller bug), or `frame` fails validation; -EBUSY: `frame` holds another type.
 * On refusal *base is unchanged. */
int pvmm_new_baseptr(struct pvmm *pm, uint32_t frame, uint32_t *base);

/* For update_va_mapping: the machine address of the L1 entry that maps linear `va` through the L2
 * `l2_frame` (an L2 in use). 0 and *ptr; -EINVAL: l2_frame is not an L2 in use or the PDE is not
 * present; -EPERM: va is in the hypervisor's range. Changes nothing. */
int pvmm_va_to_l1e(struct pvmm *pm, uint32_t l2_frame, uint32_t va, uint32_t *ptr);

#endif
