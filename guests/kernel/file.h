/*
 * file.h — open files: the console and the two ends of pipes, shared by reference count
 * (fork duplicates every descriptor; the object goes away with its last reference).
 *
 * Pipes hold PIPE_SIZE bytes. A reader sleeps while the pipe is empty and a writer remains; a
 * writer sleeps while it is full and a reader remains; writing with no reader left fails with
 * -EPIPE, reading with no writer left returns 0 (end of file). Reads return what is there (at
 * least one byte); writes complete in full.
 */
#ifndef KERNEL_FILE_H
#define KERNEL_FILE_H

#include "types.h"

struct file;
extern struct file console_file;

struct file *file_dup(struct file *f);         /* NULL stays NULL */
void file_close(struct file *f);
/* buf is a user address already checked to lie below KERNEL_BASE. */
int file_read(struct file *f, uint8_t *buf, uint32_t n);
int file_write(struct file *f, const uint8_t *buf, uint32_t n);
int pipe_create(struct file **read_end, struct file **write_end);

#endif
