/*
 * uaccess.h — how system calls reach user memory. A user pointer is checked to lie entirely
 * below KERNEL_BASE and then used directly: the page-fault handler resolves demand-zero,
 * copy-on-write and file pages for the kernel exactly as for the program (CR0.WP is on), and a
 * pointer into nothing kills the caller (trap.c).
 */
#ifndef KERNEL_UACCESS_H
#define KERNEL_UACCESS_H

#include "types.h"

/* Does [addr, addr + len) lie in the user half of the address space? */
bool user_range_ok(uint32_t addr, uint32_t len);
/* Copies the user string at src (at most size - 1 bytes and its NUL) into dst; 0, -EFAULT (not
 * a user address) or -EINVAL (too long). */
int copy_user_string(char *dst, uint32_t src, size_t size);
/* Copies n bytes between kernel memory and the user range at uaddr; 0 or -EFAULT. */
int copy_to_user(uint32_t uaddr, const void *src, size_t n);
int copy_from_user(void *dst, uint32_t uaddr, size_t n);

#endif
