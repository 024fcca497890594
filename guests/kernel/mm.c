/*
 * mm.c — boot-time memory set-up and frame allocation.
 *
 * The Multiboot memory map gives the usable RAM; the kernel manages at most KERNEL_PHYS_MAX
 * (64 MiB) of it, from 1 MiB up, minus its own image. It then builds its page directory: a direct
 * map of physical memory at KERNEL_BASE in 4 KiB pages (every frame the pool can hand out is
 * reachable at P2V(pa), so page tables and user frames are edited through it) and one page table
 * for the scratch window used by the nanobenchmarks. These kernel directory entries are copied
 * into every address space and never change again (layout.h). The boot-time identity map is gone
 * once this directory is loaded.
 */
#include "kernel.h"
#include "layout.h"
#include "mm.h"
#include "multiboot.h"
#include "pvops.h"

#define MAX_FRAMES (KERNEL_PHYS_MAX >> PAGE_SHIFT)

struct frame_pool frame_pool;
uint32_t kernel_pgdir;
static uint16_t frame_refs[MAX_FRAMES];
static uint32_t frame_stack[MAX_FRAMES];
static uint32_t kscratch_table;

extern char _kernel_end[];

/* Fills the pool from the memory map; returns the end of the highest usable range. */
static uint64_t pool_from_multiboot(const struct multiboot_info *mbi)
{
    uint64_t top = 0;
    frames_init(&frame_pool, MAX_FRAMES, frame_refs, frame_stack);
    if (mbi->flags & MBI_FLAG_MMAP) {
        if (mbi->mmap_addr >= KERNEL_PHYS_MAX || mbi->mmap_length > KERNEL_PHYS_MAX - mbi->mmap_addr)
            panic("Multiboot memory map outside the boot mapping (%x)", mbi->mmap_addr);
        uint32_t at = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
        while (at < end) {
            const struct multiboot_mmap_entry *e = P2V(at);
            if (e->type == 1) {
                frames_add_range(&frame_pool, e->addr, e->addr + e->len);
                if (e->addr + e->len > top)
                    top = e->addr + e->len;
            }
            at += e->size + 4;
        }
    } else if (mbi->flags & MBI_FLAG_MEM) {
        top = 0x100000 + (uint64_t)mbi->mem_upper * 1024;
        frames_add_range(&frame_pool, 0x100000, top);
    } else {
        panic("no memory information from the boot loader");
    }
    frames_reserve_range(&frame_pool, 0, 0x100000);
    frames_reserve_range(&frame_pool, KERNEL_LOAD_PHYS, V2P(_kernel_end));
    if (frames_seal(&frame_pool) < 1024)
        panic("less than 4 MiB of usable memory");
    return top < KERNEL_PHYS_MAX ? top : KERNEL_PHYS_MAX;
}

uint32_t frame_alloc_zeroed(void)
{
    uint32_t pa = frames_alloc(&frame_pool);
    if (pa)
        memset(P2V(pa), 0, PAGE_SIZE);
    return pa;
}

void frame_free(uint32_t pa)
{
    if (frames_unref(&frame_pool, pa) < 0)
        panic("freeing frame %x that is not allocated", pa);
}

/*
 * A kernel page table mapping physical [first_pa, first_pa + 4 MiB) up to `top` (exclusive; pass
 * 0 for an empty table), filled before it is announced to the pv layer (pvops.h contract).
 */
static uint32_t new_kernel_table(uint32_t first_pa, uint32_t top)
{
    uint32_t pt = frame_alloc_zeroed();
    if (!pt)
        panic("out of memory building the kernel page tables");
    pte_t *e = P2V(pt);
    for (uint32_t i = 0; i < PTES_PER_TABLE && first_pa + i * PAGE_SIZE < top; i++)
        e[i] = pte_make(first_pa + i * PAGE_SIZE, PTE_P | PTE_W);
    pv_ops.pt_alloc(pt, 1);
    return pt;
}

void mm_init(const struct multiboot_info *mbi)
{
    uint32_t top = (uint32_t)pool_from_multiboot(mbi);
    kernel_pgdir = frame_alloc_zeroed();
    if (!kernel_pgdir)
        panic("out of memory");
    pte_t *pd = P2V(kernel_pgdir);
    for (uint32_t pa = 0; pa < top; pa += PTES_PER_TABLE * PAGE_SIZE)
        pd[pde_index(KERNEL_BASE + pa)] = pte_make(new_kernel_table(pa, top), PTE_P | PTE_W);
    kscratch_table = new_kernel_table(0, 0);
    pd[pde_index(KSCRATCH_BASE)] = pte_make(kscratch_table, PTE_P | PTE_W);
    pv_ops.pt_alloc(kernel_pgdir, 2);
    pv_ops.load_cr3(kernel_pgdir);
    kprintf("~ memory: %u KiB managed, %u frames free, direct map %u MiB\n",
            frame_pool.nusable * 4, frame_pool.nfree, top >> 20);
}

pte_t *kscratch_pte(uint32_t i)
{
    return (pte_t *)P2V(kscratch_table) + (i & (PTES_PER_TABLE - 1));
}
