/*
 * file.h — open files and the per-process descriptor table: the console, the two ends of pipes,
 * and files of the file system (fs.h), shared by reference count (fork duplicates every
 * descriptor; the object goes away with its last reference).
 *
 * Pipes hold PIPE_SIZE bytes. A reader sleeps while the pipe is empty and a writer remains; a
 * writer sleeps while it is full and a reader remains; writing with no reader left fails with
 * -EPIPE, reading with no writer left returns 0 (end of file). Reads return what is there (at
 * least one byte); writes complete in full. A sleep ends early with -EINTR when a signal is
 * pending for the sleeper (signal.h), so that kill() reaches a process blocked on a pipe.
 *
 * A file of the file system has an offset, shared by the descriptors fork duplicated (Unix's
 * open-file description), and the access mode it was opened with; reads and writes move the
 * offset. A directory is opened read-only and read with readdir, never read().
 */
#ifndef KERNEL_FILE_H
#define KERNEL_FILE_H

#include "types.h"
#include "fs_abi.h"

struct file;
struct inode;
extern struct file console_file;

struct file *file_dup(struct file *f);         /* NULL stays NULL */
void file_close(struct file *f);
/* buf is a user address already checked to lie below KERNEL_BASE. */
int file_read(struct file *f, uint8_t *buf, uint32_t n);
int file_write(struct file *f, const uint8_t *buf, uint32_t n);
int pipe_create(struct file **read_end, struct file **write_end);

/* A new open file on inode ip (whose reference it takes over) with O_* access mode `flags`;
 * NULL when the file table is full. */
struct file *file_open_inode(struct inode *ip, int flags);
/* The inode behind f, or NULL for the console and pipes. */
struct inode *file_inode(const struct file *f);
/* Was f opened for writing? */
bool file_writable(const struct file *f);
/* lseek: the new offset, or -EINVAL (a negative result, a bad whence), -ESPIPE (no offset). */
int file_seek(struct file *f, int32_t off, int whence);
/* readdir on an open directory: 1 with the next entry in *out, 0 at the end; -ENOTDIR. */
int file_readdir(struct file *f, struct dirent *out);
/* fstat: every open file answers (pipes and the console with inode number 0). */
void file_stat(const struct file *f, struct stat *st);

/* The current process's descriptor fd, or NULL if it is not open. */
struct file *fd_get(uint32_t fd);
/* Installs f at the current process's lowest free descriptor; the descriptor, or -EMFILE. */
int fd_install(struct file *f);

#endif
