/*
 * vm.c — user address spaces (the user half of a page directory; the kernel half is shared).
 *
 * Fork is COPY-ON-WRITE, with a Unix kernel's page-table work (Linux 2.6's copy_page_range and
 * exit_mmap). vm_clone_cow() walks the parent's tables: every present PTE is stored into the
 * child's new table, entry by entry, pointing at the same frame read-only (PTE_COW marks the
 * pages that were writable); every parent PTE that is writable is write-protected the same way
 * (through pv_ops.set_ptes batches: the parent's tables are live); a frame reference is taken per
 * sharer. The child's table is filled as ordinary memory and only then announced
 * (pv_ops.pt_alloc) and linked into the child's directory — under pv that is one pin, one
 * validation, per table, as XenoLinux built a child's tables and pinned them before first use.
 * The first write by either side faults and vm_fix_cow() copies the page, or just makes it
 * writable again when the other side has gone (reference count 1, as Linux's do_wp_page reuses
 * it). A PTE already read-only (text, or still COW from an earlier fork) is not stored again in
 * the parent: like Linux, fork write-protects only what is writable.
 *
 * Exit clears every PTE, entry by entry, before the tables are freed (vm_exit_mmap, Linux's
 * zap_pte_range): natively and under the shadow monitors on the dying process's own live tables;
 * under pv after pv_ops.exit_mmap has left them and unpinned them (xen_exit_mmap), so the clears
 * are stores to ordinary memory.
 *
 * Why copy-on-write rather than an eager copy: it is what Unix kernels do, and it makes fork
 * what the virtualization literature measures — a burst of page-table updates (one per mapped
 * page) followed by protection faults — rather than a memcpy benchmark. forkwait is the worst
 * case of shadow paging precisely because of this pattern.
 *
 * vm_counters (vmstat.h, SYS_VMSTAT) counts that work as the guest sees it.
 *
 * Frames that become page tables are zeroed first, then announced with pv_ops.pt_alloc; all later
 * entry writes use pv_ops.set_pte/set_ptes (pvops.h contract).
 */
#include "kernel.h"
#include "layout.h"
#include "mm.h"
#include "pvops.h"
#include "syscall_nr.h"
#include "vmstat.h"

struct vm_counters vm_counters;

#define USER_PDE_END KERNEL_PDE_FIRST
#define BATCH 64

/*
 * A batch of entry writes. When `live`, the entries belong to the running address space and lose
 * their mapping: after the writes the TLB is fixed up (INVLPG per page for small batches, a full
 * flush otherwise), and only then are the frames that lost their last mapping freed.
 */
struct batch {
    struct pte_update u[BATCH];
    uint32_t va[BATCH];         /* live batches: the linear address of each entry */
    uint32_t drop[BATCH];       /* frames to unreference once the entries are written */
    uint32_t n, ndrop;
    bool live;
};

#define INVLPG_MAX 16

static void batch_flush(struct batch *b)
{
    if (b->n)
        pv_ops.set_ptes(b->u, b->n);
    if (b->live && b->n) {
        if (b->n <= INVLPG_MAX) {
            for (uint32_t i = 0; i < b->n; i++)
                pv_ops.invlpg(b->va[i]);
        } else {
            pv_ops.flush_tlb();
        }
    }
    for (uint32_t i = 0; i < b->ndrop; i++)
        frame_free(b->drop[i]);
    b->n = b->ndrop = 0;
}

static void batch_add(struct batch *b, pte_t *ptep, pte_t val, uint32_t va)
{
    if (b->n == BATCH)
        batch_flush(b);
    b->u[b->n].ptep = ptep;
    b->u[b->n].val = val;
    b->va[b->n] = va;
    b->n++;
}

uint32_t vm_create(void)
{
    uint32_t pd = frame_alloc_zeroed();
    if (!pd)
        return 0;
    pte_t *dst = P2V(pd), *src = P2V(kernel_pgdir);
    for (uint32_t i = KERNEL_PDE_FIRST; i < KERNEL_PDE_END; i++)
        dst[i] = src[i];
    pv_ops.pt_alloc(pd, 2);
    return pd;
}

pte_t *vm_pte(uint32_t pgdir, uint32_t va, bool create)
{
    pte_t *pd = P2V(pgdir);
    pte_t pde = pd[pde_index(va)];
    if (!pte_present(pde)) {
        if (!create)
            return NULL;
        uint32_t pt = frame_alloc_zeroed();
        if (!pt)
            return NULL;
        pv_ops.pt_alloc(pt, 1);
        pde = pte_make(pt, PTE_P | PTE_W | PTE_U);
        pv_ops.set_pte(&pd[pde_index(va)], pde);
    }
    return (pte_t *)P2V(pte_frame(pde)) + pte_index(va);
}

int vm_map(uint32_t pgdir, uint32_t va, uint32_t pa, uint32_t flags)
{
    pte_t *pte = vm_pte(pgdir, va, true);
    if (!pte)
        return -ENOMEM;
    pv_ops.set_pte(pte, pte_make(pa, flags | PTE_P));
    return 0;
}

void vm_unmap(uint32_t pgdir, uint32_t start, uint32_t end, bool live)
{
    struct batch b = { .n = 0, .ndrop = 0, .live = live };
    for (uint32_t va = start; va < end; va += PAGE_SIZE) {
        pte_t *pte = vm_pte(pgdir, va, false);
        if (!pte) {
            va = ALIGN_DOWN(va, PTES_PER_TABLE * PAGE_SIZE) + (PTES_PER_TABLE - 1) * PAGE_SIZE;
            continue;
        }
        if (!pte_present(*pte))
            continue;
        if (b.n == BATCH)
            batch_flush(&b);
        b.drop[b.ndrop++] = pte_frame(*pte);
        batch_add(&b, pte, 0, va);
    }
    batch_flush(&b);
}

int vm_clone_cow(uint32_t parent, uint32_t child)
{
    pte_t *ppd = P2V(parent), *cpd = P2V(child);
    struct batch b = { .n = 0, .ndrop = 0, .live = false };
    int r = 0;
    for (uint32_t di = 0; di < USER_PDE_END; di++) {
        if (!pte_present(ppd[di]))
            continue;
        uint32_t cpt = frame_alloc_zeroed();
        if (!cpt) {
            r = -ENOMEM;
            break;
        }
        pte_t *pe = P2V(pte_frame(ppd[di]));
        volatile pte_t *ce = P2V(cpt);
        for (uint32_t i = 0; i < PTES_PER_TABLE; i++) {
            if (!pte_present(pe[i]))
                continue;
            pte_t shared = pte_share_cow(pe[i]);
            if (shared != pe[i]) {
                batch_add(&b, &pe[i], shared, 0);
                vm_counters.fork_wrprotects++;
            }
            ce[i] = shared;          /* the table is not announced yet: an ordinary store */
            vm_counters.fork_child_ptes++;
            frames_ref(&frame_pool, pte_frame(shared));
        }
        pv_ops.pt_alloc(cpt, 1);
        vm_counters.fork_tables++;
        pv_ops.set_pte(&cpd[di], pte_make(cpt, PTE_P | PTE_W | PTE_U));
    }
    batch_flush(&b);
    pv_ops.flush_tlb();
    if (r == 0)
        vm_counters.forks++;
    return r;
}

void vm_exit_mmap(uint32_t pgdir)
{
    pte_t *pd = P2V(pgdir);
    struct batch b = { .n = 0, .ndrop = 0, .live = false };
    pv_ops.exit_mmap(pgdir);
    for (uint32_t di = 0; di < USER_PDE_END; di++) {
        if (!pte_present(pd[di]))
            continue;
        pte_t *e = P2V(pte_frame(pd[di]));
        for (uint32_t i = 0; i < PTES_PER_TABLE; i++) {
            if (!pte_present(e[i]))
                continue;
            if (b.n == BATCH)
                batch_flush(&b);
            b.drop[b.ndrop++] = pte_frame(e[i]);
            batch_add(&b, &e[i], 0, 0);
            vm_counters.exit_clears++;
        }
    }
    /* No TLB work per batch: nothing runs in this address space again, and the directory switch
     * the caller makes next flushes it before a freed frame can be handed out again. */
    batch_flush(&b);
    vm_counters.exits++;
}

void vm_destroy(uint32_t pgdir)
{
    pte_t *pd = P2V(pgdir);
    pv_ops.pt_release(pgdir, 2);
    for (uint32_t di = 0; di < USER_PDE_END; di++) {
        if (!pte_present(pd[di]))
            continue;
        uint32_t pt = pte_frame(pd[di]);
        pte_t *e = P2V(pt);
        for (uint32_t i = 0; i < PTES_PER_TABLE; i++)
            if (pte_present(e[i]))
                frame_free(pte_frame(e[i]));
        pv_ops.pt_release(pt, 1);
        frame_free(pt);
    }
    frame_free(pgdir);
}

int vm_fix_demand_zero(uint32_t pgdir, uint32_t va)
{
    uint32_t pa = frame_alloc_zeroed();
    if (!pa)
        return -ENOMEM;
    if (vm_map(pgdir, ALIGN_DOWN(va, PAGE_SIZE), pa, PTE_W | PTE_U) < 0) {
        frame_free(pa);
        return -ENOMEM;
    }
    vm_counters.fault_ptes++;
    return 0;
}

int vm_fix_cow(uint32_t pgdir, uint32_t va)
{
    pte_t *pte = vm_pte(pgdir, va, false);
    KASSERT(pte && pte_present(*pte) && (*pte & PTE_COW));
    uint32_t old = pte_frame(*pte);
    if (frames_count(&frame_pool, old) == 1) {
        pv_ops.set_pte(pte, pte_break_cow(*pte, old));
    } else {
        uint32_t pa = frames_alloc(&frame_pool);
        if (!pa)
            return -ENOMEM;
        memcpy(P2V(pa), P2V(old), PAGE_SIZE);
        pv_ops.set_pte(pte, pte_break_cow(*pte, pa));
        frame_free(old);
    }
    vm_counters.fault_ptes++;
    pv_ops.invlpg(ALIGN_DOWN(va, PAGE_SIZE));
    return 0;
}
