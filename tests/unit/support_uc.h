/*
 * support_uc.h — the bare Unicorn engine that test_uc_behaviour.c and test_uc_quirks.c run
 * hand-assembled code on, with no vmlab machine around it.
 *
 * A test's .init opens a fresh 32-bit engine and calibrates the workarounds of emu/uc_quirks.h on
 * it (uct_open), gives it memory its own way (how much, and whether host memory backs it), loads
 * its GDT at GDT (uct_load_gdt), writes any other system register it wants, and enters flat ring 0
 * with the exception hook installed (uct_enter_ring0); its .fini is, or calls, uct_close. Code
 * goes at CODE, paging off, the stack below STACK.
 *
 * Criterion runs each test in a process of its own, so the engine of the running test is a
 * global: `uc`, with `q` calibrated on it. The hook notes each exception the CPU raises in
 * seen[nseen] (vector, EIP, and the error code and is_int uq_exception_info gives; from the eighth
 * on, in seen[7]), counts it in `nseen` and stops the CPU (unless the test cleared
 * uct_stop_on_intr): the test decides where to resume, as the machine's exit loop does.
 */
#ifndef VMLAB_TESTS_SUPPORT_UC_H
#define VMLAB_TESTS_SUPPORT_UC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "emu/uc_quirks.h"

#define GDT 0x1000u   /* physical = linear address of the GDT */
#define CODE 0x2000u  /* where the tests put their code */
#define STACK 0x8000u /* ESP on entry to ring 0 */

struct uct_exc {
    uint32_t vector, eip, error;
    int is_int;
};

extern uc_engine *uc;
extern struct uc_quirks q;
extern struct uct_exc seen[8];
extern unsigned nseen;
extern bool uct_stop_on_intr;   /* the hook stops the CPU (true unless a test clears it) */

/* Open a fresh 32-bit engine as `uc`, calibrate `q` on it, and forget every exception seen. */
void uct_open(void);

/* Write the `bytes` bytes of descriptors at GDT (the engine's memory must cover it) and load GDTR
 * with them (limit bytes - 1). */
void uct_load_gdt(const uint64_t *gdt, size_t bytes);

/* Enter flat ring 0: CS 0x08 and SS, DS 0x10 (the GDT's second and third descriptors), ESP
 * STACK; then hook every interrupt and exception (see above). */
void uct_enter_ring0(void);

/* Free `q` and close `uc` (not the memory a test gave it). */
void uct_close(void);

/* Write the 32-bit register `reg` (UC_X86_REG_*), asserting that Unicorn takes it. */
void wr32(int reg, uint32_t v);

/* The 32-bit or 64-bit register `reg` (0 if Unicorn will not read it). */
uint32_t rd32(int reg);
uint64_t rd64(int reg);

#endif
