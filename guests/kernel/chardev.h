/*
 * chardev.h — the character devices behind /dev (fs.c creates one node per device at boot):
 *
 *   CHARDEV_NULL  /dev/null   reads end of file at once, writes are discarded whole
 *   CHARDEV_ZERO  /dev/zero   reads fill the buffer with zeros, writes are discarded whole
 *
 * No device keeps state or sleeps; the buffers are user addresses the system call checked.
 */
#ifndef KERNEL_CHARDEV_H
#define KERNEL_CHARDEV_H

#include "types.h"

enum chardev { CHARDEV_NULL, CHARDEV_ZERO, NCHARDEV };

/* The node's name under /dev. */
const char *chardev_name(enum chardev dev);
/* Bytes read into buf (at most n), 0 at end of file. */
int chardev_read(enum chardev dev, uint8_t *buf, uint32_t n);
/* Bytes written from buf: all n. */
int chardev_write(enum chardev dev, const uint8_t *buf, uint32_t n);

#endif
