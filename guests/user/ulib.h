/*
 * ulib.h — the user programs' system-call stubs and helpers (int 0x80, see syscall_nr.h).
 */
#ifndef USER_ULIB_H
#define USER_ULIB_H

#include "types.h"
#include "lib.h"
#include "syscall_nr.h"
#include "fs_abi.h"
#include "signal_abi.h"

static inline int syscall3(int n, uint32_t a, uint32_t b, uint32_t c)
{
    int r;
    __asm__ volatile("int $0x80" : "=a"(r) : "0"(n), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

static inline int syscall4(int n, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    int r;
    __asm__ volatile("int $0x80" : "=a"(r) : "0"(n), "b"(a), "c"(b), "d"(c), "S"(d) : "memory");
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
/* A shared mapping of len bytes of the file open on fd from offset (page aligned), PROT_*
 * prot; fd -1: anonymous zero pages. NULL on failure. */
static inline void *mmap_file(uint32_t len, int prot, int fd, uint32_t offset)
{
    int r = syscall4(SYS_MMAP, len, (uint32_t)prot, (uint32_t)fd, offset);
    return r < 0 ? NULL : (void *)(uintptr_t)(uint32_t)r;
}
static inline void *mmap(uint32_t len) { return mmap_file(len, PROT_READ | PROT_WRITE, -1, 0); }
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

/* Files (fs_abi.h). */
static inline int open(const char *path, int flags)
{
    return syscall3(SYS_OPEN, (uint32_t)(uintptr_t)path, (uint32_t)flags, 0);
}
static inline int stat(const char *path, struct stat *st)
{
    return syscall3(SYS_STAT, (uint32_t)(uintptr_t)path, (uint32_t)(uintptr_t)st, 0);
}
static inline int fstat(int fd, struct stat *st)
{
    return syscall3(SYS_FSTAT, (uint32_t)fd, (uint32_t)(uintptr_t)st, 0);
}
static inline int unlink(const char *path)
{
    return syscall3(SYS_UNLINK, (uint32_t)(uintptr_t)path, 0, 0);
}
static inline int mkdir(const char *path)
{
    return syscall3(SYS_MKDIR, (uint32_t)(uintptr_t)path, 0, 0);
}
static inline int rmdir(const char *path)
{
    return syscall3(SYS_RMDIR, (uint32_t)(uintptr_t)path, 0, 0);
}
static inline int lseek(int fd, int32_t off, int whence)
{
    return syscall3(SYS_LSEEK, (uint32_t)fd, (uint32_t)off, (uint32_t)whence);
}
static inline int readdir(int fd, struct dirent *d)
{
    return syscall3(SYS_READDIR, (uint32_t)fd, (uint32_t)(uintptr_t)d, 0);
}

/* Signals (signal_abi.h). sigaction installs handler (or SIG_DFL, SIG_IGN as a handler value)
 * with the library's trampoline (sigtramp.S) and returns the old handler, or -errno. */
typedef void (*sighandler_t)(int sig, struct sigcontext *ctx);
void sig_restorer(void);
static inline int sigaction(int sig, sighandler_t handler)
{
    return syscall3(SYS_SIGACTION, (uint32_t)sig, (uint32_t)(uintptr_t)handler,
                    (uint32_t)(uintptr_t)sig_restorer);
}
static inline int kill(int pid, int sig) { return syscall3(SYS_KILL, (uint32_t)pid, (uint32_t)sig, 0); }
#include "kstat.h"
static inline int kstat(struct kstat *k)
{
    return syscall3(SYS_KSTAT, (uint32_t)(uintptr_t)k, 0, 0);
}

/* Grows the heap by incr bytes; returns the old end, or NULL. */
void *sbrk(int incr);
int printf(const char *f, ...) __attribute__((format(printf, 1, 2)));

#endif
