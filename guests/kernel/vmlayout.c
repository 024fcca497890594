/*
 * vmlayout.c — user address-space ranges and page-fault classification (see vmlayout.h).
 * Pure code.
 */
#include "vmlayout.h"
#include "layout.h"

static bool in_heap_or_stack(const struct vm_layout *l, uint32_t addr)
{
    return (addr >= l->heap_start && addr < ALIGN_UP(l->brk, PAGE_SIZE)) ||
           (addr >= USER_STACK_LO && addr < USER_STACK_TOP);
}

bool vm_layout_demand_zero(const struct vm_layout *l, uint32_t addr)
{
    const struct region *r;
    return in_heap_or_stack(l, addr) || ((r = vm_layout_region(l, addr)) && !r->file);
}

const struct region *vm_layout_region(const struct vm_layout *l, uint32_t addr)
{
    for (int i = 0; i < l->nmmap; i++)
        if (addr >= l->mmap[i].start && addr < l->mmap[i].end)
            return &l->mmap[i];
    return NULL;
}

enum fault_kind fault_classify(const struct vm_layout *l, uint32_t addr, uint32_t err, pte_t pte)
{
    if (addr >= KERNEL_BASE)
        return FAULT_FATAL;
    if (!(err & PF_P)) {
        if (pte_present(pte))
            return FAULT_FATAL;
        if (in_heap_or_stack(l, addr))
            return FAULT_DEMAND_ZERO;
        const struct region *r = vm_layout_region(l, addr);
        if (!r || ((err & PF_W) && !r->writable))
            return FAULT_FATAL;
        return r->file ? FAULT_FILE : FAULT_DEMAND_ZERO;
    }
    if ((err & PF_W) && pte_present(pte) && (pte & PTE_COW) && !(pte & PTE_W))
        return FAULT_COW;
    return FAULT_FATAL;
}

uint32_t vm_layout_mmap(struct vm_layout *l, uint32_t len, void *file, uint32_t pgoff,
                        bool writable)
{
    if (len == 0 || len > USER_MMAP_END - USER_MMAP_BASE || l->nmmap == MAX_MMAPS)
        return 0;
    len = ALIGN_UP(len, PAGE_SIZE);
    uint32_t start = USER_MMAP_BASE;
    int i = 0;
    for (; i < l->nmmap; i++) {
        if (l->mmap[i].start - start >= len)
            break;
        start = l->mmap[i].end;
    }
    if (USER_MMAP_END - start < len)
        return 0;
    for (int j = l->nmmap; j > i; j--)
        l->mmap[j] = l->mmap[j - 1];
    l->mmap[i] = (struct region){ .start = start, .end = start + len, .file = file,
                                  .pgoff = pgoff, .writable = writable || !file };
    l->nmmap++;
    return start;
}

int vm_layout_munmap(struct vm_layout *l, uint32_t addr, uint32_t len, struct region *gone)
{
    uint32_t end = addr + ALIGN_UP(len, PAGE_SIZE);
    for (int i = 0; i < l->nmmap; i++) {
        if (l->mmap[i].start == addr && l->mmap[i].end == end && len > 0) {
            *gone = l->mmap[i];
            for (int j = i; j + 1 < l->nmmap; j++)
                l->mmap[j] = l->mmap[j + 1];
            l->nmmap--;
            return 0;
        }
    }
    return -1;
}
