/*
 * sys_fs.c — the file-system system calls (sys_fs.h): they copy paths and structures across the
 * user boundary (uaccess.h) and hand the rest to the file table (file.c) and the file system
 * (fs.c). Read, write and close are the generic descriptor calls of syscall.c.
 */
#include "kernel.h"
#include "file.h"
#include "fs.h"
#include "proc.h"
#include "sys_fs.h"
#include "syscall_nr.h"
#include "trap.h"
#include "uaccess.h"

/* The path argument at user address `upath`, copied into path[FS_PATH_MAX]. */
static int user_path(char *path, uint32_t upath)
{
    int r = copy_user_string(path, upath, FS_PATH_MAX);
    return r == -EINVAL ? -ENAMETOOLONG : r;
}

int sys_open(struct trapframe *tf)
{
    char path[FS_PATH_MAX];
    struct inode *ip;
    int flags = (int)tf->ecx;
    int r = user_path(path, tf->ebx);
    if (r < 0 || (r = fs_open(path, flags, &ip)) < 0)
        return r;
    struct file *f = file_open_inode(ip, flags);
    if (!f) {
        fs_put(ip);
        return -ENFILE;
    }
    r = fd_install(f);
    if (r < 0)
        file_close(f);
    return r;
}

int sys_stat(struct trapframe *tf)
{
    char path[FS_PATH_MAX];
    struct stat st;
    int r = user_path(path, tf->ebx);
    if (r < 0 || (r = fs_stat_path(path, &st)) < 0)
        return r;
    return copy_to_user(tf->ecx, &st, sizeof(st));
}

int sys_fstat(struct trapframe *tf)
{
    struct file *f = fd_get(tf->ebx);
    struct stat st;
    if (!f)
        return -EBADF;
    file_stat(f, &st);
    return copy_to_user(tf->ecx, &st, sizeof(st));
}

/* unlink, mkdir, rmdir: an operation on one path. */
static int path_op(struct trapframe *tf, int (*op)(const char *path))
{
    char path[FS_PATH_MAX];
    int r = user_path(path, tf->ebx);
    return r < 0 ? r : op(path);
}

int sys_unlink(struct trapframe *tf) { return path_op(tf, fs_unlink); }
int sys_mkdir(struct trapframe *tf) { return path_op(tf, fs_mkdir); }
int sys_rmdir(struct trapframe *tf) { return path_op(tf, fs_rmdir); }

int sys_lseek(struct trapframe *tf)
{
    struct file *f = fd_get(tf->ebx);
    return f ? file_seek(f, (int32_t)tf->ecx, (int)tf->edx) : -EBADF;
}

int sys_readdir(struct trapframe *tf)
{
    struct file *f = fd_get(tf->ebx);
    struct dirent d;
    if (!f)
        return -EBADF;
    int r = file_readdir(f, &d);
    if (r > 0 && copy_to_user(tf->ecx, &d, sizeof(d)) < 0)
        return -EFAULT;
    return r;
}
