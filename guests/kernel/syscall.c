/*
 * syscall.c — the system calls (numbers and ABI in guests/include/syscall_nr.h).
 *
 * One table, indexed by number; each handler takes the trap frame (arguments in EBX, ECX, EDX,
 * ESI) and returns the value for EAX. The process, descriptor and memory calls are here; the
 * file-system calls are in sys_fs.c, mmap and munmap in mmap.c, the signal calls in signal.c.
 * User pointers are checked and used as uaccess.h says.
 */
#include "kernel.h"
#include "file.h"
#include "layout.h"
#include "mm.h"
#include "mmap.h"
#include "proc.h"
#include "signal.h"
#include "sys_fs.h"
#include "syscall_nr.h"
#include "trap.h"
#include "uaccess.h"

#define EXEC_MAX_ARGS 8
#define EXEC_ARG_LEN  64

int bench_run(int kind, int n, int variant);

static int sys_null(struct trapframe *tf) { return 0; }

static int sys_exit(struct trapframe *tf)
{
    proc_exit((int)tf->ebx);
}

static int sys_fork(struct trapframe *tf) { return proc_fork(tf); }

static int sys_read(struct trapframe *tf)
{
    struct file *f = fd_get(tf->ebx);
    if (!f)
        return -EBADF;
    if (!user_range_ok(tf->ecx, tf->edx))
        return -EFAULT;
    return file_read(f, (uint8_t *)(uintptr_t)tf->ecx, tf->edx);
}

static int sys_write(struct trapframe *tf)
{
    struct file *f = fd_get(tf->ebx);
    if (!f)
        return -EBADF;
    if (!user_range_ok(tf->ecx, tf->edx))
        return -EFAULT;
    return file_write(f, (const uint8_t *)(uintptr_t)tf->ecx, tf->edx);
}

static int sys_close(struct trapframe *tf)
{
    struct file *f = fd_get(tf->ebx);
    if (!f)
        return -EBADF;
    file_close(f);
    current->fd[tf->ebx] = NULL;
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

static int sys_pipe(struct trapframe *tf)
{
    struct file *r, *w;
    if (!user_range_ok(tf->ebx, 8))
        return -EFAULT;
    int err = pipe_create(&r, &w);
    if (err < 0)
        return err;
    int fds[2] = { fd_install(r), -1 };
    if (fds[0] >= 0)
        fds[1] = fd_install(w);
    if (fds[1] < 0) {
        if (fds[0] >= 0)
            current->fd[fds[0]] = NULL;
        file_close(r);
        file_close(w);
        return -EMFILE;
    }
    return copy_to_user(tf->ebx, fds, sizeof(fds));
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

/* The kernel's count of its fork/exit/fault page-table work (vmstat.h), copied out. */
static int sys_vmstat(struct trapframe *tf)
{
    return copy_to_user(tf->ebx, &vm_counters, sizeof(vm_counters));
}

/* The kernel's count of its signal work (kstat.h), copied out. */
static int sys_kstat(struct trapframe *tf)
{
    return copy_to_user(tf->ebx, &kstat, sizeof(kstat));
}

static int (*const syscalls[NSYSCALLS])(struct trapframe *) = {
    [SYS_NULL] = sys_null,         [SYS_EXIT] = sys_exit,       [SYS_FORK] = sys_fork,
    [SYS_READ] = sys_read,         [SYS_WRITE] = sys_write,     [SYS_CLOSE] = sys_close,
    [SYS_WAITPID] = sys_waitpid,   [SYS_EXEC] = sys_exec,       [SYS_GETPID] = sys_getpid,
    [SYS_GETPPID] = sys_getppid,   [SYS_BRK] = sys_brk,         [SYS_MMAP] = sys_mmap,
    [SYS_MUNMAP] = sys_munmap,     [SYS_PIPE] = sys_pipe,       [SYS_YIELD] = sys_yield,
    [SYS_BENCH] = sys_bench,       [SYS_PHASE] = sys_phase,     [SYS_SIGACTION] = sys_sigaction,
    [SYS_VMSTAT] = sys_vmstat,     [SYS_OPEN] = sys_open,       [SYS_STAT] = sys_stat,
    [SYS_FSTAT] = sys_fstat,       [SYS_UNLINK] = sys_unlink,   [SYS_MKDIR] = sys_mkdir,
    [SYS_RMDIR] = sys_rmdir,       [SYS_LSEEK] = sys_lseek,     [SYS_READDIR] = sys_readdir,
    [SYS_KILL] = sys_kill,         [SYS_SIGRETURN] = sys_sigreturn, [SYS_KSTAT] = sys_kstat,
};

void syscall_dispatch(struct trapframe *tf)
{
    uint32_t n = tf->eax;
    tf->eax = (uint32_t)(n < NSYSCALLS && syscalls[n] ? syscalls[n](tf) : -ENOSYS);
}
