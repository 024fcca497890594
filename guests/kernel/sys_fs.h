/*
 * sys_fs.h — the file-system system calls (sys_fs.c; numbers and arguments in syscall_nr.h, the
 * structures in fs_abi.h). Each takes the caller's trap frame and returns the value for EAX.
 */
#ifndef KERNEL_SYS_FS_H
#define KERNEL_SYS_FS_H

struct trapframe;

int sys_open(struct trapframe *tf);      /* (path, flags) -> fd */
int sys_stat(struct trapframe *tf);      /* (path, struct stat *) */
int sys_fstat(struct trapframe *tf);     /* (fd, struct stat *) */
int sys_unlink(struct trapframe *tf);    /* (path) */
int sys_mkdir(struct trapframe *tf);     /* (path) */
int sys_rmdir(struct trapframe *tf);     /* (path) */
int sys_lseek(struct trapframe *tf);     /* (fd, offset, whence) -> offset */
int sys_readdir(struct trapframe *tf);   /* (fd, struct dirent *) -> 1, or 0 at the end */

#endif
