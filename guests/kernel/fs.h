/*
 * fs.h — the kernel's in-memory file system (user interface: guests/include/fs_abi.h).
 *
 * One tree under "/", built at boot with /dev (a node per character device, chardev.h) and /tmp.
 * An inode is a directory, a regular file or a character device. A file's data is a list of page
 * frames (FS_NDIRECT in the inode, then up to 1024 in one indirect frame: files of at most about
 * 4 MiB); a page never written is a hole that reads as zeros. A directory's data is an array of
 * struct dirent slots in the same kind of pages; a removed entry leaves a free slot that the next
 * entry reuses. Nothing is ever written back anywhere: this is the page cache with no disk.
 *
 * Life of an inode:
 *
 *     FREE --create--> LINKED (nlink 1) --unlink/rmdir--> UNLINKED (nlink 0) --last put--> FREE
 *                         |   ^                                          ^
 *                      get|   |put                                      |
 *                         v   |                                         |
 *                       referenced: open files, mmap regions -----------+
 *
 * References (fs_get/fs_put) are held by open files and by mmap regions; a file whose name is
 * gone lives on, data and all, until the last reference goes (Unix semantics), and only then are
 * its frames freed (a frame still mapped by a process keeps its own reference: frames.h).
 *
 * Every operation runs to completion without sleeping; the kernel is not preemptible, so there is
 * no locking. Buffers are user addresses that the system call checked (a fault copying them is
 * the page-fault handler's, as for pipes).
 */
#ifndef KERNEL_FS_H
#define KERNEL_FS_H

#include "types.h"
#include "fs_abi.h"

struct inode;

/* Builds the root with /dev (null, zero) and /tmp. */
void fs_init(void);

/* Resolves path, creating a regular file when O_CREAT asks for it (O_EXCL: the name must be
 * free), emptying a regular file opened for writing with O_TRUNC; a directory opens read-only.
 * On success *out holds a new reference. -ENOENT, -ENOTDIR, -EEXIST, -EISDIR, -ENAMETOOLONG,
 * -ENFILE (no free inode), -ENOSPC (no memory for the directory entry). */
int fs_open(const char *path, int flags, struct inode **out);
/* One more reference to ip; returns ip. */
struct inode *fs_get(struct inode *ip);
/* Drops a reference; an inode with no name and no reference left is freed with its data. */
void fs_put(struct inode *ip);

/* Up to n bytes from offset off into buf; 0 at the end of the file; -EISDIR for a directory. */
int fs_read(struct inode *ip, uint32_t off, uint8_t *buf, uint32_t n);
/* n bytes from buf at offset off, growing the file; -EISDIR, -EFBIG past the largest file,
 * -ENOSPC when memory runs out (what was written before that stays). */
int fs_write(struct inode *ip, uint32_t off, const uint8_t *buf, uint32_t n);
/* The next entry of directory dir at or after slot *pos into *out, *pos moved past it: 1, or 0
 * at the end; -ENOTDIR. */
int fs_readdir(struct inode *dir, uint32_t *pos, struct dirent *out);

void fs_stat(const struct inode *ip, struct stat *st);
int fs_stat_path(const char *path, struct stat *st);
int fs_unlink(const char *path);         /* -EISDIR for a directory */
int fs_mkdir(const char *path);          /* -EEXIST when the name is taken */
int fs_rmdir(const char *path);          /* -ENOTEMPTY, -ENOTDIR; the root stays (-EINVAL) */

/* S_IF* of ip; its size in bytes. */
uint32_t fs_type(const struct inode *ip);
uint32_t fs_size(const struct inode *ip);
/* The frame holding page `index` of regular file ip, allocated (zeroed) if it was a hole; 0 when
 * index is at or past the end of the file or memory is exhausted. The file keeps its own
 * reference to the frame: a mapping takes another. */
uint32_t fs_page(struct inode *ip, uint32_t index);

#endif
