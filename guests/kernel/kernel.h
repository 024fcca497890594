/*
 * kernel.h — what every kernel file needs: console output, panic, machine exit, the phase marker.
 */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include "types.h"
#include "lib.h"

void console_init(void);
void console_write(const char *s, size_t n);
int kprintf(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* Prints "panic: <message> [pid P, called from EIP]", then exits with the failure code. */
void panic(const char *f, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Ends the machine through isa-debug-exit (EXIT_SUCCESS_CODE or EXIT_FAILURE_CODE). */
void machine_exit(uint32_t code) __attribute__((noreturn));

/* Writes the phase-marker port (PHASE_SETUP / PHASE_MEASURE / PHASE_TEARDOWN). */
void phase_mark(uint32_t phase);

#define KASSERT(c) \
    do { if (!(c)) panic("assertion failed: %s at %s:%d", #c, __FILE__, __LINE__); } while (0)

#endif
