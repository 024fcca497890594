/*
 * syscall.c — the system calls (numbers and ABI in guests/include/syscall_nr.h).
 *
 * One table, indexed by number; each handler takes the trap frame (arguments in EBX, ECX, EDX)
 * and returns the value for EAX. User pointers are checked to lie entirely below KERNEL_BASE and
 * then used directly: the page-fault handler resolves demand-zero and copy-on-write pages for the
 * kernel exactly as for the program (CR0.WP is on), and a pointer into nothing kills the caller.
 */
#include "kernel.h"
#include "file.h"
#include "layout.h"
#include "mm.h"
#include "proc.h"
#include "syscall_nr.h"
#include "trap.h"

#define EXEC_MAX_ARGS 8
#define EXEC_ARG_LEN  64

int bench_run(int kind, int n, int variant);

static bool user_range_ok(uint32_t addr, uint32_t len)
{
    return addr < KERNEL_BASE && len <= KERNEL_BASE - addr;
}

/* Copies a user string of at most size-1 bytes; -EFAULT or -EINVAL (too long). */
static int copy_user_string(char *dst, uint32_t src, size_t size)
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

static struct file **fd_slot(uint32_t fd)
{
    return fd < NFD && current->fd[fd] ? &current->fd[fd] : NULL;
}

static int sys_null(struct trapframe *tf) { return 0; }

static int sys_exit(struct trapframe *tf)
{
    proc_exit((int)tf->ebx);
}

static int sys_fork(struct trapframe *tf) { return proc_fork(tf); }

static int sys_read(struct trapframe *tf)
{
    struct file **f = fd_slot(tf->ebx);
    if (!f)
        return -EBADF;
    if (!user_range_ok(tf->ecx, tf->edx))
        return -EFAULT;
    return file_read(*f, (uint8_t *)(uintptr_t)tf->ecx, tf->edx);
}

static int sys_write(struct trapframe *tf)
{
    struct file **f = fd_slot(tf->ebx);
    if (!f)
        return -EBADF;
    if (!user_range_ok(tf->ecx, tf->edx))
        return -EFAULT;
    return file_write(*f, (const uint8_t *)(uintptr_t)tf->ecx, tf->edx);
}

static int sys_close(struct trapframe *tf)
{
    struct file **f = fd_slot(tf->ebx);
    if (!f)
        return -EBADF;
    file_close(*f);
    *f = NULL;
    return 0;
}

static int sys_waitpid(struct trapframe *tf)
{
    int status = 0;
    if (tf->ecx && !user_range_ok(tf->ecx, 4))
        return -EFAULT;
    int r = proc_wait((int)tf->ebx, &status);
    if (r > 0 && tf->ecx)
        *(int *)(uintptr_t)tf->ecx = status;
    return r;
}

static int sys_exec(struct trapframe *tf)
{
    char name[16], args[EXEC_MAX_ARGS][EXEC_ARG_LEN];
    const char *argv[EXEC_MAX_ARGS + 1];
    int r = copy_user_string(name, tf->ebx, sizeof(name));
    if (r < 0)
        return r;
    int argc = 0;
    for (uint32_t up = tf->ecx; up; up += 4, argc++) {
        if (!user_range_ok(up, 4))
            return -EFAULT;
        uint32_t s = *(const uint32_t *)(uintptr_t)up;
        if (!s)
            break;
        if (argc == EXEC_MAX_ARGS)
            return -EINVAL;
        r = copy_user_string(args[argc], s, EXEC_ARG_LEN);
        if (r < 0)
            return r;
        argv[argc] = args[argc];
    }
    argv[argc] = NULL;
    return proc_exec(tf, name, argv);
}

static int sys_getpid(struct trapframe *tf) { return current->pid; }

static int sys_getppid(struct trapframe *tf)
{
    return current->parent ? current->parent->pid : 0;
}

static int sys_brk(struct trapframe *tf)
{
    struct vm_layout *vm = &current->vm;
    uint32_t want = tf->ebx;
    if (want == 0 || want < vm->heap_start || want > USER_MMAP_BASE)
        return (int)vm->brk;
    if (want < vm->brk)
        vm_unmap(current->pgdir, ALIGN_UP(want, PAGE_SIZE), ALIGN_UP(vm->brk, PAGE_SIZE), true);
    vm->brk = want;
    return (int)want;
}

static int sys_mmap(struct trapframe *tf)
{
    uint32_t addr = vm_layout_mmap(&current->vm, tf->ebx);
    return addr ? (int)addr : -ENOMEM;
}

static int sys_munmap(struct trapframe *tf)
{
    uint32_t addr = tf->ebx, len = tf->ecx;
    if (vm_layout_munmap(&current->vm, addr, len) < 0)
        return -EINVAL;
    vm_unmap(current->pgdir, addr, addr + ALIGN_UP(len, PAGE_SIZE), true);
    return 0;
}

static int sys_pipe(struct trapframe *tf)
{
    int rfd = -1, wfd = -1;
    if (!user_range_ok(tf->ebx, 8))
        return -EFAULT;
    for (int fd = 0; fd < NFD; fd++) {
        if (current->fd[fd])
            continue;
        if (rfd < 0)
            rfd = fd;
        else if (wfd < 0)
            wfd = fd;
    }
    if (wfd < 0)
        return -EMFILE;
    int r = pipe_create(&current->fd[rfd], &current->fd[wfd]);
    if (r < 0)
        return r;
    int *fds = (int *)(uintptr_t)tf->ebx;
    fds[0] = rfd;
    fds[1] = wfd;
    return 0;
}

static int sys_yield(struct trapframe *tf)
{
    yield();
    return 0;
}

static int sys_bench(struct trapframe *tf)
{
    return bench_run((int)tf->ebx, (int)tf->ecx, (int)tf->edx);
}

static int sys_phase(struct trapframe *tf)
{
    phase_mark(tf->ebx);
    return 0;
}

static int sys_sigfpe(struct trapframe *tf)
{
    if (tf->ebx && !user_range_ok(tf->ebx, 1))
        return -EFAULT;
    current->fpe_handler = tf->ebx;
    return 0;
}

/* The kernel's count of its fork/exit/fault page-table work (vmstat.h), copied out. */
static int sys_vmstat(struct trapframe *tf)
{
    if (!user_range_ok(tf->ebx, sizeof(struct vm_counters)))
        return -EFAULT;
    memcpy((void *)(uintptr_t)tf->ebx, &vm_counters, sizeof(vm_counters));
    return 0;
}

static int (*const syscalls[NSYSCALLS])(struct trapframe *) = {
    [SYS_NULL] = sys_null,       [SYS_EXIT] = sys_exit,       [SYS_FORK] = sys_fork,
    [SYS_READ] = sys_read,       [SYS_WRITE] = sys_write,     [SYS_CLOSE] = sys_close,
    [SYS_WAITPID] = sys_waitpid, [SYS_EXEC] = sys_exec,       [SYS_GETPID] = sys_getpid,
    [SYS_GETPPID] = sys_getppid, [SYS_BRK] = sys_brk,         [SYS_MMAP] = sys_mmap,
    [SYS_MUNMAP] = sys_munmap,   [SYS_PIPE] = sys_pipe,       [SYS_YIELD] = sys_yield,
    [SYS_BENCH] = sys_bench,     [SYS_PHASE] = sys_phase,     [SYS_SIGFPE] = sys_sigfpe,
    [SYS_VMSTAT] = sys_vmstat,
};

void syscall_dispatch(struct trapframe *tf)
{
    uint32_t n = tf->eax;
    tf->eax = (uint32_t)(n < NSYSCALLS && syscalls[n] ? syscalls[n](tf) : -ENOSYS);
}
