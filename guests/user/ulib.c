/*
 * ulib.c — the parts of the user library that are not one-line system-call stubs.
 */
#include "ulib.h"

void exit(int status)
{
    syscall3(SYS_EXIT, (uint32_t)status, 0, 0);
    for (;;)
        ;
}

void *sbrk(int incr)
{
    uint32_t old = brk(0);
    if (incr == 0)
        return (void *)(uintptr_t)old;
    if (brk(old + (uint32_t)incr) != old + (uint32_t)incr)
        return NULL;
    return (void *)(uintptr_t)old;
}

int printf(const char *f, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, f);
    int n = vfmt(buf, sizeof(buf), f, ap);
    va_end(ap);
    write(1, buf, strlen(buf));
    return n;
}
