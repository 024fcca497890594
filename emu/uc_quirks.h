/*
 * uc_quirks.h — the Unicorn workarounds, all in one place.
 *
 * Unicorn 2.1 is used as a bare x86 CPU, and three things a full-system machine needs are not in
 * its API (measured; each behaviour with the test that checks it: emu/UNICORN.md):
 *
 *  1. After an exception is reported to UC_HOOK_INTR, QEMU's "exception in flight" field
 *     (env->old_exception) is never reset, so the next fault is promoted to #DF and the third
 *     stops the CPU. We reset it after every exception.
 *  2. The error code of a fault (env->error_code) is not exposed.
 *  3. CPL comes from hflags; uc_reg_write refuses an SS whose DPL differs from the current CPL, so
 *     an inward privilege change (interrupt delivery from ring 3 to ring 0/1) needs hflags patched.
 *     Worse, uc_reg_write of a selector reads the descriptor through the guest's page tables and,
 *     if that faults, longjmps out of nowhere and crashes the host: CS and SS are therefore loaded
 *     by patching the segment cache directly (uq_load_cs_ss).
 *  4. uc_reg_write(UC_X86_REG_CR2) in 2.1.1 writes CR3 as well (measured: it loads the value
 *     into both), so CR2 for a delivered #PF is patched in the same way.
 *
 * All three live in the CPU state that uc_context_save() copies raw. At start-up
 * uq_calibrate() writes marker values to DR0..DR3 and EIP, saves a context and searches it (in
 * 4-byte steps) to find the offsets of dr[0] and eip; error_code, old_exception and hflags sit at
 * fixed distances from those in QEMU's CPUX86State (same build of the same QEMU). If a marker is
 * not found, or the layout does not check out, the machine refuses to run.
 *
 * Everything here is slow-path only (exceptions and privilege changes), but it runs on every
 * delivered event. Through the API one patch costs a context save and a restore (a 5.5 KB copy
 * each). uc_context_save and uc_context_restore of the CPU part are plain copies of QEMU's
 * CPUX86State to and from the context, so reading or writing the same bytes of the live state is
 * the same operation without the copies: uq_calibrate locates the live state (the direct view,
 * `live` below) and checks it once, on the fresh engine: its bytes from eip to old_exception (every
 * field used here lies in that span) equal a save's, an API write of DR1 shows in it, and a write
 * of DR2 into it is what the API reads and what a save copies; marker values written through the
 * API into LDTR, TR, GDTR and IDTR then read back the same through it (uq_sysregs). The calls here
 * then read and patch only the fields they need. Without a proven view (or with
 * VMLAB_UQ_NO_DIRECT=1 in the environment) they fall back to save / patch / restore (the reads of
 * registers the API has, uq_sysregs, uq_selector and uq_paging, to uc_reg_read);
 * tests/integration/uq_fallback.sh runs the unit tests and the default suite that way and finds
 * the golden counts.
 */
#ifndef VMLAB_UC_QUIRKS_H
#define VMLAB_UC_QUIRKS_H

#include <stdint.h>
#include <unicorn/unicorn.h>

struct uc_quirks {
    uc_context *ctx;          /* scratch context for patching */
    size_t blob_size;         /* bytes searchable from the context pointer */
    size_t off_error_code;    /* byte offsets from the context pointer */
    size_t off_old_exception;
    size_t off_hflags;
    size_t off_segs;          /* SegmentCache segs[6] (ES, CS, SS, DS, FS, GS) */
    size_t off_cr;            /* target_ulong cr[5] */
    size_t off_eip;           /* target_ulong eip; regs[] before it, eflags after it */
    /* uq_hook_resume may write ESP, EFLAGS and EIP through the direct view (uq_calibrate found
     * them where QEMU's layout puts them and checked them against the API). */
    int resume_direct;
    /* The direct view: the live CPU state, laid out as the saved context, so that
     * live + off_X is field X itself (NULL: every access goes through a context save, and a
     * patch through save + restore). Found by uq_calibrate when it can prove it (see there). */
    uint8_t *live;
};

/* A loaded segment register as the CPU caches it. */
struct uq_seg {
    uint16_t selector;
    uint32_t base, limit;     /* limit already scaled by the granularity bit */
    uint32_t flags;           /* the descriptor's high dword, as QEMU keeps it */
};

/* Find the offsets on this engine. Returns 0, or -1 with a one-line reason in errbuf. The engine's
 * debug registers, EIP, ESP and EFLAGS are clobbered, and a scratch page is mapped at physical
 * 0 and unmapped again: call before the guest state is set and before anything is mapped at 0.
 * The direct view is proven on every engine; what a thread keeps from one calibration to the next
 * is only where the last proof was found (a word of the engine's struct and a distance from its
 * pointer), which is looked at first. */
int uq_calibrate(struct uc_quirks *q, uc_engine *uc, char *errbuf, unsigned errlen);

/* Whether uq_calibrate found and proved the direct view (1) or the calls here save and restore
 * contexts (0). */
int uq_direct(const struct uc_quirks *q);
void uq_free(struct uc_quirks *q);

/* Error code of the exception being reported in UC_HOOK_INTR, and whether it was raised by a
 * software interrupt instruction (int n, int3, into: EIP already past it). */
void uq_exception_info(struct uc_quirks *q, uc_engine *uc, uint32_t *error_code, int *is_int);

/* After an exception was taken over by the host: clear the in-flight state so the next fault is
 * reported as itself, and (if cpl >= 0) set the CPU's current privilege level to `cpl` so that the
 * caller may then load SS/CS of that privilege. Returns 0 or -1 if the engine refused. */
int uq_reset_exception(struct uc_quirks *q, uc_engine *uc, int cpl);

/* Load CS and SS (already checked by the caller against the guest's descriptor tables) and the
 * CPL, clearing the exception-in-flight state, in one patch of the CPU state. Unlike
 * uc_reg_write of a selector, this never makes the CPU read guest memory, so a guest whose
 * descriptor tables are unmapped cannot crash the host. If cr2 is not NULL, CR2 is set too
 * (uc_reg_write of CR2 in 2.1.1 also overwrites CR3). 0, or -1 if the engine refused. */
int uq_load_cs_ss(struct uc_quirks *q, uc_engine *uc, const struct uq_seg *cs,
                  const struct uq_seg *ss, int cpl, const uint32_t *cr2);

/* Segment register numbers of uq_load_segs / uq_seg_cache (QEMU's order). */
enum uq_segreg { UQ_ES, UQ_CS, UQ_SS, UQ_DS, UQ_FS, UQ_GS, UQ_NSEG };

/* The general form: load each non-NULL segs[i] (CS and SS may be NULL: left as they are), set
 * the CPL, clear the exception-in-flight state, optionally CR2. 0 or -1. */
int uq_load_segs(struct uc_quirks *q, uc_engine *uc, const struct uq_seg *const segs[UQ_NSEG],
                 int cpl, const uint32_t *cr2);

/* The CPU's cached copy of segment register `seg`. 0 or -1. */
int uq_seg_cache(struct uc_quirks *q, uc_engine *uc, enum uq_segreg seg, struct uq_seg *out);

/* An exception was handled by the host without delivering anything to the guest (a monitor fixed
 * a hidden page fault): clear the exception-in-flight state and, if cr2 is not NULL, set CR2
 * (uc_reg_write of CR2 would also overwrite CR3). 0 or -1. */
int uq_exception_done(struct uc_quirks *q, uc_engine *uc, const uint32_t *cr2);

/* Inside the interrupt hook only (UC_HOOK_INTR, called from within QEMU's cpu_exec): set ESP,
 * EFLAGS and EIP in the live CPU state so that, when the hook returns, the CPU goes on at `eip`
 * within the same run of its loop, as QEMU's own interrupt delivery does (writing EIP through the
 * API instead makes the CPU leave its loop and enter it again: emu/UNICORN.md 11). While the CPU
 * runs, QEMU keeps the arithmetic flags and DF outside env->eflags, in its lazy condition codes,
 * so only the other bits of `eflags` are written, and only if its arithmetic flags and DF are the
 * CPU's current ones (an exception delivery changes only TF, VM, RF, NT, IF and AC). Returns 0,
 * or -1 having written nothing (no direct view of these registers, or other arithmetic flags):
 * the caller then writes them through the API. */
int uq_hook_resume(struct uc_quirks *q, uc_engine *uc, uint32_t esp, uint32_t eflags,
                   uint32_t eip);

/* Inside the interrupt hook only: EIP where the CPU goes on when the hook returns, written into
 * the live state (the CPU reads it there for its next block, without leaving its loop: see
 * uq_hook_resume). 0, or -1 having written nothing without a direct view. */
int uq_hook_set_eip(struct uc_quirks *q, uint32_t eip);

/* EIP, ESP and CR2 of the CPU, what uc_reg_read gives: from the direct view where uq_calibrate
 * proved their places (every delivered event reads them), else through the API. */
uint32_t uq_eip(struct uc_quirks *q, uc_engine *uc);
uint32_t uq_esp(struct uc_quirks *q, uc_engine *uc);
uint32_t uq_cr2(struct uc_quirks *q, uc_engine *uc);

/* Current privilege level as the CPU sees it (hflags). */
int uq_cpl(struct uc_quirks *q, uc_engine *uc);

/* The CPU's selectors and system-table registers: what exception delivery reads of the CPU
 * besides EFLAGS (which QEMU keeps partly in lazy condition-code fields: ask the API for it). */
struct uq_sysregs {
    uint16_t sel[UQ_NSEG];          /* ES, CS, SS, DS, FS, GS */
    struct uq_seg ldt, tr;          /* LDTR and TR: selector and cached descriptor */
    uint32_t gdt_base, gdt_limit;   /* GDTR, IDTR (16-bit limits) */
    uint32_t idt_base, idt_limit;
};

/* Fill *r from the direct view when there is one (no API call: the delivery of every event reads
 * them), else through the API (uc_reg_read of each), with the same values either way (uq_calibrate
 * checks so). */
void uq_sysregs(struct uc_quirks *q, uc_engine *uc, struct uq_sysregs *r);

/* The selector in segment register `seg`, from the direct view or through the API. */
uint16_t uq_selector(struct uc_quirks *q, uc_engine *uc, enum uq_segreg seg);

/* CR0, CR3 and CR4 (in cr[0..2]) and, if cpl is not NULL, the CPL, of the live CPU: read from the
 * direct view when there is one (no API call, no copy: the TLB model's fill hook and every
 * delivered event read them), else through the API. */
void uq_paging(struct uc_quirks *q, uc_engine *uc, uint32_t cr[3], int *cpl);

#endif
