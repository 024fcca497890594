/*
 * pv_mm.c — Xen-style page types for direct paging (see pv_mm.h for the model).
 *
 * The chain reads as Xen's: a request (pin, mmu_update, NEW_BASEPTR) takes type references with
 * type_get, which on a frame's first L1/L2 reference calls validate_l1 / validate_l2; those take
 * each entry's references with l1e_get / l2e_get, which call type_get on the frames the entries
 * name (writable for a PTE, L1 for a PDE: depth three at most). type_put is the way back: a table's
 * last reference calls free_table, which drops each entry's references with l1e_put / l2e_put.
 *
 * All-or-nothing: every request runs between req_begin and req_end. Before a frame's state first
 * changes in a request, frame_w saves it in the undo journal (once per frame per request, so the
 * journal never holds more than nr_frames entries); req_end on a refusal writes the saved states
 * back. Validation therefore never unwinds by hand: a refused entry refuses its table, the table
 * its request, and the journal undoes every reference taken on the way. Memory is written only by
 * a successful mmu_update, as its last step.
 */
#include "emu/modes/pv_mm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/paging.h"

#define PDE_SPAN_SHIFT 22        /* one PDE maps 4 MiB */

struct pvmm_undo {
    uint32_t frame;
    struct pvmm_frame was;
};

const char *const pvmm_type_name[] = {
    [PVMM_NONE] = "none",
    [PVMM_L1] = "l1",
    [PVMM_L2] = "l2",
    [PVMM_SEGDESC] = "segdesc",
    [PVMM_WRITABLE] = "writable",
};

/* ---- requests, journal, diagnostics ---- */

static void req_begin(struct pvmm *pm)
{
    if (++pm->epoch == 0) {
        memset(pm->touched, 0, pm->nr_frames * sizeof *pm->touched);
        pm->epoch = 1;
    }
    pm->undo_len = 0;
    pm->last_error[0] = '\0';
}

/* End a request with result rc: on a refusal, restore every frame it touched and count it. */
static int req_end(struct pvmm *pm, int rc)
{
    if (rc < 0) {
        while (pm->undo_len > 0) {
            const struct pvmm_undo *u = &pm->undo[--pm->undo_len];
            pm->frames[u->frame] = u->was;
        }
        pm->counters.refusals++;
    }
    return rc;
}

/* The frame's state, for writing: journaled first if this request has not touched it yet. */
static struct pvmm_frame *frame_w(struct pvmm *pm, uint32_t frame)
{
    if (pm->touched[frame] != pm->epoch) {
        pm->touched[frame] = pm->epoch;
        pm->undo[pm->undo_len++] = (struct pvmm_undo){frame, pm->frames[frame]};
    }
    return &pm->frames[frame];
}

/* Record why the request is refused (the innermost reason wins) and return rc. */
static int refuse(struct pvmm *pm, int rc, const char *fmt, ...)
{
    if (pm->last_error[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(pm->last_error, sizeof pm->last_error, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Append where the refusal happened (", in L1 9 entry 7") to the reason. */
static void refused_in(struct pvmm *pm, int level, uint32_t frame, unsigned index)
{
    size_t n = strlen(pm->last_error);
    snprintf(pm->last_error + n, sizeof pm->last_error - n, ", in L%d %u entry %u", level, frame,
             index);
}

static uint32_t entry_read(const struct pvmm *pm, uint32_t maddr)
{
    uint32_t v;
    memcpy(&v, pm->ram + maddr, sizeof v);
    return v;
}

static uint32_t table_entry(const struct pvmm *pm, uint32_t frame, unsigned index)
{
    return entry_read(pm, (frame << PVMM_PAGE_SHIFT) + 4 * index);
}

static bool owned(const struct pvmm *pm, uint32_t frame) { return frame < pm->nr_frames; }

static bool hv_slot(const struct pvmm *pm, unsigned index)
{
    return ((uint64_t)index << PDE_SPAN_SHIFT) >= pm->hv_base;
}

static bool table_in_use(const struct pvmm_frame *f, int type)
{
    return f->type == type && f->type_count > 0;
}

/* ---- type references ---- */

static int validate_table(struct pvmm *pm, uint32_t frame, int level);
static void free_table(struct pvmm *pm, uint32_t frame, int level);

/* get_page_type: one more reference of `type` on an owned frame. */
static int type_get(struct pvmm *pm, uint32_t frame, int type)
{
    const struct pvmm_frame *f = &pm->frames[frame];
    if (f->type_count > 0) {
        if (f->type != type)
            return refuse(pm, -EBUSY, "frame %u is %s (%u references), cannot be %s", frame,
                          pvmm_type_name[f->type], f->type_count, pvmm_type_name[type]);
        frame_w(pm, frame)->type_count++;
        return 0;
    }
    struct pvmm_frame *w = frame_w(pm, frame);
    w->type = (uint8_t)type;
    w->type_count = 1;
    w->validated = 0;
    if (type == PVMM_L1 || type == PVMM_L2) {
        int rc = validate_table(pm, frame, type);
        if (rc < 0)
            return rc;
    }
    w->validated = 1;
    return 0;
}

/* put_page_type: one reference less; the last one of a table frees its entries. */
static void type_put(struct pvmm *pm, uint32_t frame)
{
    struct pvmm_frame *w = frame_w(pm, frame);
    if (w->type_count == 1 && (w->type == PVMM_L1 || w->type == PVMM_L2)) {
        free_table(pm, frame, w->type);
        w->validated = 0;
    }
    w->type_count--;
}

/* ---- entries ---- */

/* get_page_from_l1e: a present PTE names an owned frame; a writable one references it. */
static int l1e_get(struct pvmm *pm, uint32_t pte)
{
    uint32_t target = pte >> PVMM_PAGE_SHIFT;
    if (!(pte & PTE_P))
        return 0;
    if (!owned(pm, target))
        return refuse(pm, -EINVAL, "PTE 0x%08x names frame %u, beyond the domain's %u", pte,
                      target, pm->nr_frames);
    return (pte & PTE_W) ? type_get(pm, target, PVMM_WRITABLE) : 0;
}

static void l1e_put(struct pvmm *pm, uint32_t pte)
{
    if ((pte & PTE_P) && (pte & PTE_W))
        type_put(pm, pte >> PVMM_PAGE_SHIFT);
}

/* get_page_from_l2e: a present guest PDE names an owned frame that is (or becomes) an L1. */
static int l2e_get(struct pvmm *pm, uint32_t pde)
{
    uint32_t target = pde >> PVMM_PAGE_SHIFT;
    if (!(pde & PTE_P))
        return 0;
    if (pde & PTE_PS)
        return refuse(pm, -EINVAL, "PDE 0x%08x maps a 4 MiB page", pde);
    if (!owned(pm, target))
        return refuse(pm, -EINVAL, "PDE 0x%08x names frame %u, beyond the domain's %u", pde,
                      target, pm->nr_frames);
    return type_get(pm, target, PVMM_L1);
}

static void l2e_put(struct pvmm *pm, uint32_t pde)
{
    if (pde & PTE_P)
        type_put(pm, pde >> PVMM_PAGE_SHIFT);
}

/* ---- tables ---- */

/* Reference every present entry of a new L1/L2 table, or refuse it (-EINVAL; the request's journal
 * drops what was taken). Reported once, counted once. */
static int validate_table(struct pvmm *pm, uint32_t frame, int level)
{
    unsigned checked = 0;
    int rc = 0;
    for (unsigned i = 0; i < PVMM_ENTRIES && rc == 0; i++) {
        uint32_t e = table_entry(pm, frame, i);
        if (!(e & PTE_P))
            continue;
        checked++;
        if (level == PVMM_L1)
            rc = l1e_get(pm, e);
        else if (hv_slot(pm, i))
            rc = refuse(pm, -EINVAL, "PDE 0x%08x is in the hypervisor's range (from 0x%08x)", e,
                        pm->hv_base);
        else
            rc = l2e_get(pm, e);
        if (rc < 0) {
            refused_in(pm, level, frame, i);
            rc = -EINVAL;
        }
    }
    pm->counters.validations++;
    pm->counters.entries_checked += checked;
    if (pm->on_validate)
        pm->on_validate(pm->opaque, frame, level, checked, rc);
    return rc;
}

/* The last reference of a table went: drop the references its entries hold. */
static void free_table(struct pvmm *pm, uint32_t frame, int level)
{
    for (unsigned i = 0; i < PVMM_ENTRIES; i++) {
        uint32_t e = table_entry(pm, frame, i);
        if (level == PVMM_L1)
            l1e_put(pm, e);
        else if (!hv_slot(pm, i))
            l2e_put(pm, e);
    }
}

/* ---- requests ---- */

int pvmm_init(struct pvmm *pm, uint8_t *ram, uint32_t nr_frames, uint32_t hv_base)
{
    memset(pm, 0, sizeof *pm);
    if (!ram || nr_frames == 0 || nr_frames > (1u << 20) || hv_base == 0 ||
        (hv_base & ((1u << PDE_SPAN_SHIFT) - 1)) != 0)
        return -EINVAL;
    pm->ram = ram;
    pm->nr_frames = nr_frames;
    pm->hv_base = hv_base;
    pm->frames = calloc(nr_frames, sizeof *pm->frames);
    pm->touched = calloc(nr_frames, sizeof *pm->touched);
    pm->undo = calloc(nr_frames, sizeof *pm->undo);
    if (!pm->frames || !pm->touched || !pm->undo) {
        pvmm_free(pm);
        return -ENOMEM;
    }
    return 0;
}

void pvmm_free(struct pvmm *pm)
{
    free(pm->frames);
    free(pm->touched);
    free(pm->undo);
    memset(pm, 0, sizeof *pm);
}

int pvmm_get_type(struct pvmm *pm, uint32_t frame, int type)
{
    req_begin(pm);
    if (!owned(pm, frame))
        return req_end(pm, refuse(pm, -EINVAL, "frame %u is not the domain's", frame));
    if (type != PVMM_L1 && type != PVMM_L2 && type != PVMM_SEGDESC && type != PVMM_WRITABLE)
        return req_end(pm, refuse(pm, -EINVAL, "no page type %d", type));
    return req_end(pm, type_get(pm, frame, type));
}

void pvmm_put_type(struct pvmm *pm, uint32_t frame)
{
    req_begin(pm);
    if (!owned(pm, frame))
        req_end(pm, refuse(pm, -EINVAL, "put of frame %u, not the domain's", frame));
    else if (pm->frames[frame].type_count == 0)
        req_end(pm, refuse(pm, -EINVAL, "put of frame %u, which has no type reference", frame));
    else if (pm->frames[frame].pinned && pm->frames[frame].type_count == 1)
        req_end(pm, refuse(pm, -EINVAL, "put of frame %u would drop its pin's reference", frame));
    else {
        type_put(pm, frame);
        req_end(pm, 0);
    }
}

int pvmm_pin(struct pvmm *pm, uint32_t frame, int level)
{
    req_begin(pm);
    if (!owned(pm, frame))
        return req_end(pm, refuse(pm, -EINVAL, "pin of frame %u, not the domain's", frame));
    if (level != 1 && level != 2)
        return req_end(pm, refuse(pm, -EINVAL, "pin at level %d", level));
    if (pm->frames[frame].pinned)
        return req_end(pm, refuse(pm, -EEXIST, "frame %u is already pinned", frame));
    int rc = type_get(pm, frame, level == 1 ? PVMM_L1 : PVMM_L2);
    if (rc == 0)
        frame_w(pm, frame)->pinned = 1;
    return req_end(pm, rc);
}

int pvmm_unpin(struct pvmm *pm, uint32_t frame)
{
    req_begin(pm);
    if (!owned(pm, frame) || !pm->frames[frame].pinned)
        return req_end(pm, refuse(pm, -EINVAL, "unpin of frame %u, not a pinned frame", frame));
    frame_w(pm, frame)->pinned = 0;
    type_put(pm, frame);
    return req_end(pm, 0);
}

int pvmm_mmu_update(struct pvmm *pm, uint32_t ptr, uint32_t val)
{
    uint32_t frame = ptr >> PVMM_PAGE_SHIFT;
    unsigned index = (ptr & (PVMM_PAGE_SIZE - 1)) / 4;
    req_begin(pm);
    if (ptr & 3)
        return req_end(pm, refuse(pm, -EINVAL, "update of 0x%08x, not 4-byte aligned", ptr));
    if (!owned(pm, frame))
        return req_end(pm, refuse(pm, -EINVAL, "update of 0x%08x, outside the domain", ptr));
    const struct pvmm_frame *f = &pm->frames[frame];
    int level = f->type;
    if (!table_in_use(f, PVMM_L1) && !table_in_use(f, PVMM_L2))
        return req_end(pm, refuse(pm, -EINVAL, "update of 0x%08x: frame %u is not a table in use "
                                  "(%s, %u references)", ptr, frame, pvmm_type_name[f->type],
                                  f->type_count));
    if (level == PVMM_L2 && hv_slot(pm, index))
        return req_end(pm, refuse(pm, -EPERM, "update of 0x%08x: PDE %u is the hypervisor's",
                                  ptr, index));
    uint32_t old = entry_read(pm, ptr);
    int rc = level == PVMM_L1 ? l1e_get(pm, val) : l2e_get(pm, val);
    if (rc < 0) {
        refused_in(pm, level, frame, index);
        return req_end(pm, rc);
    }
    if (level == PVMM_L1)
        l1e_put(pm, old);
    else
        l2e_put(pm, old);
    memcpy(pm->ram + ptr, &val, sizeof val);
    return req_end(pm, 0);
}

int pvmm_new_baseptr(struct pvmm *pm, uint32_t frame, uint32_t *base)
{
    uint32_t cur = *base;
    req_begin(pm);
    if (frame == 0 || !owned(pm, frame))
        return req_end(pm, refuse(pm, -EINVAL, "base pointer to frame %u: %s", frame,
                                  frame == 0 ? "0 means none" : "not the domain's"));
    if (cur != 0 && (!owned(pm, cur) || !table_in_use(&pm->frames[cur], PVMM_L2)))
        return req_end(pm, refuse(pm, -EINVAL, "current base %u is not an L2 in use", cur));
    int rc = type_get(pm, frame, PVMM_L2);
    if (rc < 0)
        return req_end(pm, rc);
    if (cur != 0)
        type_put(pm, cur);
    *base = frame;
    return req_end(pm, 0);
}

int pvmm_va_to_l1e(struct pvmm *pm, uint32_t l2_frame, uint32_t va, uint32_t *ptr)
{
    unsigned index = va >> PDE_SPAN_SHIFT;
    req_begin(pm);
    if (!owned(pm, l2_frame) || !table_in_use(&pm->frames[l2_frame], PVMM_L2))
        return req_end(pm, refuse(pm, -EINVAL, "frame %u is not an L2 in use", l2_frame));
    if (hv_slot(pm, index))
        return req_end(pm, refuse(pm, -EPERM, "va 0x%08x is the hypervisor's", va));
    uint32_t pde = table_entry(pm, l2_frame, index);
    if (!(pde & PTE_P))
        return req_end(pm, refuse(pm, -EINVAL, "va 0x%08x: PDE %u not present", va, index));
    *ptr = (pde & ~(PVMM_PAGE_SIZE - 1)) + ((va >> PVMM_PAGE_SHIFT) & (PVMM_ENTRIES - 1)) * 4;
    return req_end(pm, 0);
}
