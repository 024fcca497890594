/*
 * ulib.h — the user programs' system-call stubs and helpers (int 0x80, see syscall_nr.h).
 */
#ifndef USER_ULIB_H
#define USER_ULIB_H

#include "types.h"
#include "lib.h"
#include "syscall_nr.h"

static inline int syscall3(int n, uint32_t a, uint32_t b, uint32_t c)
{
    int r;
    __asm__ volatile("int $0x80" : "=a"(r) : "0"(n), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

static inline int sys_null(void) { return syscall3(SYS_NULL, 0, 0, 0); }
void exit(int status) __attribute__((noreturn));
static inline int fork(void) { return syscall3(SYS_FORK, 0, 0, 0); }
static inline int read(int fd, void *buf, uint32_t n)
{
    return syscall3(SYS_READ, (uint32_t)fd, (uint32_t)(uintptr_t)buf, n);
}
static inline int write(int fd, const void *buf, uint32_t n)
{
    return syscall3(SYS_WRITE, (uint32_t)fd, (uint32_t)(uintptr_t)buf, n);
}
static inline int close(int fd) { return syscall3(SYS_CLOSE, (uint32_t)fd, 0, 0); }
static inline int waitpid(int pid, int *status)
{
    return syscall3(SYS_WAITPID, (uint32_t)pid, (uint32_t)(uintptr_t)status, 0);
}
static inline int exec(const char *name, const char *const *argv)
{
    return syscall3(SYS_EXEC, (uint32_t)(uintptr_t)name, (uint32_t)(uintptr_t)argv, 0);
}
static inline int getpid(void) { return syscall3(SYS_GETPID, 0, 0, 0); }
static inline int getppid(void) { return syscall3(SYS_GETPPID, 0, 0, 0); }
static inline uint32_t brk(uint32_t end) { return (uint32_t)syscall3(SYS_BRK, end, 0, 0); }
static inline void *mmap(uint32_t len)
{
    int r = syscall3(SYS_MMAP, len, 0, 0);
    return r < 0 ? NULL : (void *)(uintptr_t)(uint32_t)r;
}
static inline int munmap(void *addr, uint32_t len)
{
    return syscall3(SYS_MUNMAP, (uint32_t)(uintptr_t)addr, len, 0);
}
static inline int pipe(int fds[2]) { return syscall3(SYS_PIPE, (uint32_t)(uintptr_t)fds, 0, 0); }
static inline int yield(void) { return syscall3(SYS_YIELD, 0, 0, 0); }
static inline int bench(int kind, int n) { return syscall3(SYS_BENCH, (uint32_t)kind, (uint32_t)n, 0); }
/* SYS_BENCH with its variant argument (BENCH_PTEMOD: PTEMOD_*). */
static inline int bench_variant(int kind, int n, int variant)
{
    return syscall3(SYS_BENCH, (uint32_t)kind, (uint32_t)n, (uint32_t)variant);
}
static inline int phase(int p) { return syscall3(SYS_PHASE, (uint32_t)p, 0, 0); }
static inline int sigfpe(void (*handler)(void))
{
    return syscall3(SYS_SIGFPE, (uint32_t)(uintptr_t)handler, 0, 0);
}

/* Grows the heap by incr bytes; returns the old end, or NULL. */
void *sbrk(int incr);
int printf(const char *f, ...) __attribute__((format(printf, 1, 2)));

#endif
