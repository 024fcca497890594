/*
 * uaccess.c — checked access to user memory for the system calls (uaccess.h).
 */
#include "kernel.h"
#include "layout.h"
#include "syscall_nr.h"
#include "uaccess.h"

bool user_range_ok(uint32_t addr, uint32_t len)
{
    return addr < KERNEL_BASE && len <= KERNEL_BASE - addr;
}

int copy_user_string(char *dst, uint32_t src, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        if (!user_range_ok(src + i, 1))
            return -EFAULT;
        dst[i] = *(const char *)(uintptr_t)(src + i);
        if (!dst[i])
            return 0;
    }
    return -EINVAL;
}

int copy_to_user(uint32_t uaddr, const void *src, size_t n)
{
    if (!user_range_ok(uaddr, n))
        return -EFAULT;
    memcpy((void *)(uintptr_t)uaddr, src, n);
    return 0;
}

int copy_from_user(void *dst, uint32_t uaddr, size_t n)
{
    if (!user_range_ok(uaddr, n))
        return -EFAULT;
    memcpy(dst, (const void *)(uintptr_t)uaddr, n);
    return 0;
}
