/*
 * fs_abi.h — what the file-system system calls exchange with user programs (syscall_nr.h has
 * the calls): open flags, lseek's whence, mmap's protection bits, struct stat, struct dirent.
 *
 * The file system is the kernel's in-memory one (guests/kernel/fs.c): a tree of directories
 * under "/", regular files whose pages are page frames, and the character devices /dev/null and
 * /dev/zero. Paths are absolute ("/tmp/a"); a path without a leading '/' is taken from the root
 * too (there is no current directory), and "." and ".." are ordinary names that no directory
 * holds. A name is at most FS_NAME_MAX bytes, a path FS_PATH_MAX - 1.
 */
#ifndef GUEST_FS_ABI_H
#define GUEST_FS_ABI_H

#include "types.h"

#define FS_NAME_MAX 27
#define FS_PATH_MAX 128

/* open(): the access mode in the low two bits, then the creation flags (Linux's values). */
#define O_RDONLY 0x000
#define O_WRONLY 0x001
#define O_RDWR   0x002
#define O_ACCMODE 0x003
#define O_CREAT  0x040   /* create a regular file if the name is free */
#define O_EXCL   0x080   /* with O_CREAT: fail with -EEXIST if the name is taken */
#define O_TRUNC  0x200   /* a regular file opened for writing loses its contents */

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

/* mmap(): what the mapping allows (reading is always allowed). */
#define PROT_READ  0x1
#define PROT_WRITE 0x2

/* struct stat's type. */
#define S_IFDIR 1
#define S_IFREG 2
#define S_IFCHR 3
#define S_IFIFO 4

struct stat {
    uint32_t st_ino;        /* inode number; 0 for a pipe or the console */
    uint32_t st_type;       /* S_IF* */
    uint32_t st_nlink;      /* directory entries that name it */
    uint32_t st_size;       /* bytes (a directory: its entry slots times sizeof(struct dirent)) */
};

struct dirent {
    uint32_t d_ino;                 /* never 0 for an entry readdir returns */
    char d_name[FS_NAME_MAX + 1];   /* NUL-terminated */
};

#endif
