/*
 * lib.h — the small C library shared by the kernel and the user programs.
 *
 *   fmt.c      vfmt()/fmt(): printf-style formatting into a caller's buffer (%d %u %x %s %c %%,
 *              with width, '0' padding and the 'l' length modifier, which is ignored since int and
 *              long are both 32 bits in the guest). Always NUL-terminates, returns the length it
 *              would have written (like snprintf).
 *   string.c   mem* and str* (freestanding builds only: host tests use libc's).
 *   cmdline.c  key=value lookup in a command line (the Multiboot one, or a program's argv).
 *
 * Everything here is pure: no system calls, no privileged instructions, host-testable.
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include "types.h"

typedef __builtin_va_list va_list;
#ifndef va_start                    /* a host test may have <stdarg.h> already */
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_end(ap)         __builtin_va_end(ap)
#define va_arg(ap, type)   __builtin_va_arg(ap, type)
#endif

int vfmt(char *buf, size_t size, const char *f, va_list ap);
int fmt(char *buf, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/*
 * Find `key` in a space-separated list of words of the form key=value. Copies the value (up to
 * `size`-1 bytes, NUL-terminated) into `out` and returns 1; returns 0 if the key is absent (out
 * is then ""). Words without '=' are skipped, the last occurrence of a key wins.
 */
int cmdline_get(const char *line, const char *key, char *out, size_t size);

/* Parse a decimal unsigned number (digits only, at most 9 of them); returns -1 on anything else. */
int parse_uint(const char *s);

#endif
