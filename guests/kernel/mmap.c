/*
 * mmap.c — mmap and munmap, and the page faults of file regions (mmap.h).
 *
 * An anonymous region only reserves addresses: its pages are demand-zero (vm.c). A file region
 * also records the inode and the file page at its start; its first touch of a page takes the
 * file's frame for that page (allocating it if it was a hole inside the file), one more
 * reference on the frame for the mapping, and one PTE store: read-only for a read-only mapping,
 * so that a write there is a protection fault the process gets as SIGSEGV.
 */
#include "kernel.h"
#include "file.h"
#include "fs.h"
#include "layout.h"
#include "mm.h"
#include "mmap.h"
#include "proc.h"
#include "syscall_nr.h"
#include "trap.h"

int sys_mmap(struct trapframe *tf)
{
    uint32_t len = tf->ebx, prot = tf->ecx, off = tf->esi;
    int fd = (int)tf->edx;
    struct inode *ip = NULL;
    if (fd != -1) {
        struct file *f = fd_get((uint32_t)fd);
        if (!f)
            return -EBADF;
        ip = file_inode(f);
        if (!ip || fs_type(ip) != S_IFREG || off % PAGE_SIZE)
            return -EINVAL;
        if ((prot & PROT_WRITE) && !file_writable(f))
            return -EACCES;
    }
    uint32_t addr = vm_layout_mmap(&current->vm, len, ip, off / PAGE_SIZE,
                                   (prot & PROT_WRITE) != 0);
    if (!addr)
        return -ENOMEM;
    if (ip)
        fs_get(ip);
    return (int)addr;
}

int sys_munmap(struct trapframe *tf)
{
    uint32_t addr = tf->ebx, len = tf->ecx;
    struct region gone;
    if (vm_layout_munmap(&current->vm, addr, len, &gone) < 0)
        return -EINVAL;
    vm_unmap(current->pgdir, addr, addr + ALIGN_UP(len, PAGE_SIZE), true);
    if (gone.file)
        fs_put(gone.file);
    return 0;
}

int mmap_file_fault(uint32_t addr)
{
    const struct region *r = vm_layout_region(&current->vm, addr);
    uint32_t page = ALIGN_DOWN(addr, PAGE_SIZE);
    uint32_t pa = fs_page(r->file, r->pgoff + (page - r->start) / PAGE_SIZE);
    if (!pa)
        return -EFAULT;
    frames_ref(&frame_pool, pa);
    if (vm_map(current->pgdir, page, pa, PTE_U | PTE_SHARED | (r->writable ? PTE_W : 0)) < 0) {
        frame_free(pa);
        return -ENOMEM;
    }
    vm_counters.fault_ptes++;
    return 0;
}

void mmap_fork(struct vm_layout *l)
{
    for (int i = 0; i < l->nmmap; i++)
        if (l->mmap[i].file)
            fs_get(l->mmap[i].file);
}

void mmap_release(struct vm_layout *l)
{
    for (int i = 0; i < l->nmmap; i++)
        if (l->mmap[i].file)
            fs_put(l->mmap[i].file);
    l->nmmap = 0;
}
