/*
 * mmap.h — the mmap area of a process: anonymous regions and shared mappings of files
 * (guests/include/fs_abi.h: PROT_*; vmlayout.h: the regions and what a fault in them means).
 *
 * A file region maps the file's own frames (fs_page): a store through a read-write mapping is a
 * store to the file, seen by read() and by every other mapping at once (MAP_SHARED), and fork
 * shares such pages as they are (PTE_SHARED), never copy-on-write. Its pages are mapped on first
 * touch, one page fault each (mmap_file_fault); a page past the end of the file is a fatal fault
 * (SIGBUS). Each file region holds a reference to its inode (fs.h), so an unlinked file lives on
 * while mapped; mmap_fork takes the child's references, mmap_release drops a dying or exec'ing
 * process's.
 */
#ifndef KERNEL_MMAP_H
#define KERNEL_MMAP_H

#include "types.h"
#include "vmlayout.h"

struct trapframe;

/* mmap(len, prot, fd, offset): fd -1 for anonymous zero pages (always read-write), else a
 * regular file opened for reading (and for writing if PROT_WRITE), offset page aligned. */
int sys_mmap(struct trapframe *tf);
/* munmap(addr, len): a whole region, as mmap returned it. */
int sys_munmap(struct trapframe *tf);
/* A FAULT_FILE fault at addr in the current process: maps the file's page; 0, or -EFAULT past
 * the end of the file (or with no memory for a hole's frame), -ENOMEM (no page table). */
int mmap_file_fault(uint32_t addr);
/* fork: the child's copy of the layout takes a reference to each mapped file. */
void mmap_fork(struct vm_layout *l);
/* exit, exec: the regions' file references are dropped (the pages go with the address space). */
void mmap_release(struct vm_layout *l);

#endif
