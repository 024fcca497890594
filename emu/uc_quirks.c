/*
 * uc_quirks.c — locate and patch the CPU-state fields Unicorn does not expose (see uc_quirks.h).
 *
 * QEMU's CPUX86State (target/i386/cpu.h, the copy inside Unicorn 2.1) lays out, in this order:
 *
 *     ... eip, eflags, cc_*, df, hflags, hflags2, segs[6], ldt, tr, gdt, idt, cr[5] ...
 *     ... error_code, exception_is_int, exception_next_eip, dr[8], ... old_exception ...
 *
 * (exception_is_int is the int right after error_code.)
 *
 * Measured on 2.1.1 (x86_64 host): hflags = eip + 48, error_code = dr[0] - 16,
 * old_exception = dr[0] + 96. uq_calibrate() checks each derived field with a known value before
 * trusting it: hflags & 3 must equal the CPL the engine reports, old_exception must read -1 on a
 * fresh engine.
 */
#define _GNU_SOURCE /* process_vm_readv */
#include "emu/uc_quirks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define OFF_HFLAGS_FROM_EIP 48
#define OFF_ERRCODE_FROM_DR0 (-16)
#define OFF_OLDEXC_FROM_DR0 96
#define OFF_SEGS_FROM_EIP 56
#define OFF_CR_FROM_EIP (56 + 10 * 24)   /* after segs[6], ldt, tr, gdt, idt */
#define SEGCACHE_SIZE 24           /* selector u32, pad, base u64, limit u32, flags u32 */
#define SEG_ES 0
#define SEG_CS 1
#define SEG_SS 2
#define SEG_DS 3
#define HF_CS32 (1u << 4)
#define HF_SS32 (1u << 5)
#define HF_ADDSEG (1u << 6)
#define HF_INHIBIT_IRQ (1u << 3)
#define DESC_B (1u << 22)

/* Check the segment-cache layout on a throwaway engine: load DS from a GDT in mapped memory and
 * find selector and base where the layout says they are. */
static int check_segs(size_t off_segs, size_t blob_size)
{
    uc_engine *uc;
    uc_context *ctx;
    if (uc_open(UC_ARCH_X86, UC_MODE_32, &uc) != UC_ERR_OK)
        return -1;
    int ok = -1;
    uint64_t desc = 0x00cf92000000ffffull | (0x45ull << 32) | (0x3000ull << 16); /* base 0x453000 */
    uc_x86_mmr gdtr = {.base = 0x100, .limit = 0x1f};
    uint32_t sel = 0x18;
    if (uc_mem_map(uc, 0, 0x1000, UC_PROT_ALL) == UC_ERR_OK &&
        uc_mem_write(uc, 0x100 + 0x18, &desc, 8) == UC_ERR_OK &&
        uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr) == UC_ERR_OK &&
        uc_reg_write(uc, UC_X86_REG_DS, &sel) == UC_ERR_OK &&
        uc_context_alloc(uc, &ctx) == UC_ERR_OK) {
        uc_context_save(uc, ctx);
        const uint8_t *b = (const uint8_t *)ctx;
        size_t at = off_segs + SEG_DS * SEGCACHE_SIZE;
        uint32_t s, base;
        if (at + SEGCACHE_SIZE <= blob_size) {
            memcpy(&s, b + at, 4);
            memcpy(&base, b + at + 8, 4);
            ok = (s == 0x18 && base == 0x453000) ? 0 : -1;
        }
        uc_context_free(ctx);
    }
    uc_close(uc);
    return ok;
}

static long find_u32(const uint8_t *blob, size_t size, uint32_t v, size_t from)
{
    for (size_t i = from; i + 4 <= size; i += 4) {
        uint32_t x;
        memcpy(&x, blob + i, 4);
        if (x == v)
            return (long)i;
    }
    return -1;
}

static long find_dr_run(const uint8_t *blob, size_t size, const uint32_t *marks)
{
    for (long at = find_u32(blob, size, marks[0], 0); at >= 0;
         at = find_u32(blob, size, marks[0], (size_t)at + 4)) {
        /* dr[] is target_ulong: 8 bytes apart on a 64-bit build of the x86_64 target. */
        size_t step = 8;
        int ok = 1;
        for (int k = 1; k < 4 && ok; k++) {
            uint32_t x;
            if ((size_t)at + k * step + 4 > size)
                return -1;
            memcpy(&x, blob + at + k * step, 4);
            ok = (x == marks[k]);
        }
        if (ok)
            return at;
    }
    return -1;
}

/* Copies len bytes at host address `from` without risking a fault: process_vm_readv on this very
 * process fails with EFAULT where a plain read would crash. Page by page (it never splits one
 * iovec element); returns the bytes read before the first unreadable page. */
static size_t safe_read(uintptr_t from, void *to, size_t len)
{
    size_t done = 0;
    pid_t self = getpid();
    struct iovec all_l = {to, len}, all_r = {(void *)from, len};
    if (process_vm_readv(self, &all_l, 1, &all_r, 1, 0) == (ssize_t)len)
        return len; /* the usual case: one call */
    while (done < len) {
        size_t chunk = 4096 - ((from + done) & 4095);
        if (chunk > len - done)
            chunk = len - done;
        struct iovec local = {(uint8_t *)to + done, chunk};
        struct iovec remote = {(void *)(from + done), chunk};
        if (process_vm_readv(self, &local, 1, &remote, 1, 0) != (ssize_t)chunk)
            break;
        done += chunk;
    }
    return done;
}

#define LIVE_UC_SCAN 8192        /* bytes of the engine's struct searched for pointers */
#define LIVE_WINDOW (128 * 1024) /* bytes after each pointer searched for the CPU state */

/* Find the live CPU state (see uc_quirks.h). Called by uq_calibrate with DR0..DR3 and EIP holding
 * the markers and q->ctx just saved. The engine's struct holds a pointer to the CPU object, and
 * QEMU's CPUX86State sits inside that object a few tens of KB on: every pointer-sized word of the
 * engine's first LIVE_UC_SCAN bytes is tried as the start of a LIVE_WINDOW-byte window, searched
 * for the DR0..DR3 markers with the EIP marker at the distance the saved context shows. A hit is
 * trusted only if (1) the live bytes from eip to old_exception equal the saved context's, (2) a
 * register written through the API shows in the live bytes, and (3) a value written into the live
 * bytes is what the API reads back and what a context save copies. Sets q->live or leaves it NULL. */
static void find_live(struct uc_quirks *q, uc_engine *uc, const uint32_t marks[4], uint32_t eip_mark)
{
    const char *off = getenv("VMLAB_UQ_NO_DIRECT");
    if (off && *off && strcmp(off, "0") != 0)
        return;
    size_t off_dr0 = q->off_error_code + 16, off_eip = q->off_hflags - OFF_HFLAGS_FROM_EIP;
    size_t span = q->off_old_exception + 4 - off_eip; /* eip .. old_exception, as compared */
    if (off_eip > off_dr0 || q->off_old_exception < off_dr0)
        return;
    uint64_t *words = malloc(LIVE_UC_SCAN);
    uint8_t *win = malloc(LIVE_WINDOW), *cmp = malloc(span);
    if (!words || !win || !cmp)
        goto out;
    size_t nw = safe_read((uintptr_t)uc, words, LIVE_UC_SCAN) / 8;
    const uint8_t *blob = (const uint8_t *)q->ctx;
    for (size_t i = 0; i < nw && !q->live; i++) {
        uintptr_t p = (uintptr_t)words[i];
        if (p < 0x10000 || (p & 7) || p == (uintptr_t)uc)
            continue;
        size_t got = safe_read(p, win, LIVE_WINDOW);
        long at = find_dr_run(win, got, marks);
        if (at < 0 || (size_t)at < off_dr0 - off_eip)
            continue;
        uint32_t e;
        memcpy(&e, win + at - (off_dr0 - off_eip), 4);
        if (e != eip_mark)
            continue;
        uint8_t *live = (uint8_t *)(p + (size_t)at) - off_dr0;
        /* (1) the same bytes as the context just saved */
        if (safe_read((uintptr_t)(live + off_eip), cmp, span) != span ||
            memcmp(cmp, blob + off_eip, span) != 0)
            continue;
        /* (2) a write through the API shows in the live bytes */
        uint32_t probe = 0x5eed0d99u, seen = 0;
        uc_reg_write(uc, UC_X86_REG_DR1, &probe);
        safe_read((uintptr_t)(live + off_dr0 + 8), &seen, 4);
        uc_reg_write(uc, UC_X86_REG_DR1, &marks[1]);
        if (seen != probe)
            continue;
        /* (3) a write into the live bytes is what the API reads and a save copies */
        uint32_t back = 0, saved = 0, keep;
        memcpy(&keep, live + off_dr0 + 16, 4);
        memcpy(live + off_dr0 + 16, &probe, 4);
        uc_reg_read(uc, UC_X86_REG_DR2, &back);
        uc_context_save(uc, q->ctx);
        memcpy(&saved, blob + off_dr0 + 16, 4);
        memcpy(live + off_dr0 + 16, &keep, 4);
        uc_context_save(uc, q->ctx);
        if (back == probe && saved == probe)
            q->live = live;
    }
out:
    free(words);
    free(win);
    free(cmp);
}

int uq_direct(const struct uc_quirks *q)
{
    return q->live != NULL;
}

int uq_calibrate(struct uc_quirks *q, uc_engine *uc, char *errbuf, unsigned errlen)
{
    static const uint32_t marks[4] = {0x5eed0d01u, 0x5eed0d02u, 0x5eed0d03u, 0x5eed0d04u};
    const uint32_t eip_mark = 0x7a11e1b5u;
    memset(q, 0, sizeof *q);
    if (uc_context_alloc(uc, &q->ctx) != UC_ERR_OK) {
        snprintf(errbuf, errlen, "unicorn: cannot allocate a CPU context");
        return -1;
    }
    q->blob_size = uc_context_size(uc);
    for (int i = 0; i < 4; i++) {
        uint32_t v = marks[i];
        uc_reg_write(uc, UC_X86_REG_DR0 + i, &v);
    }
    uc_reg_write(uc, UC_X86_REG_EIP, &eip_mark);
    uc_context_save(uc, q->ctx);
    const uint8_t *blob = (const uint8_t *)q->ctx;
    long dr0 = find_dr_run(blob, q->blob_size, marks);
    long eip = find_u32(blob, q->blob_size, eip_mark, 0);
    if (dr0 < 0 || eip < 0) {
        snprintf(errbuf, errlen,
                 "unicorn: cannot locate CPU state fields in the saved context (%s marker not found); "
                 "this Unicorn build is not supported", dr0 < 0 ? "DR0-DR3" : "EIP");
        uq_free(q);
        return -1;
    }
    q->off_error_code = (size_t)(dr0 + OFF_ERRCODE_FROM_DR0);
    q->off_old_exception = (size_t)(dr0 + OFF_OLDEXC_FROM_DR0);
    q->off_hflags = (size_t)(eip + OFF_HFLAGS_FROM_EIP);
    q->off_segs = (size_t)(eip + OFF_SEGS_FROM_EIP);
    q->off_cr = (size_t)(eip + OFF_CR_FROM_EIP);
    uint32_t cr0 = 0, cr0_blob = 0;
    uc_reg_read(uc, UC_X86_REG_CR0, &cr0);
    memcpy(&cr0_blob, blob + q->off_cr, 4);
    if (cr0 == 0 || cr0 != cr0_blob) {
        snprintf(errbuf, errlen, "unicorn: control-register layout check failed (CR0 0x%x vs 0x%x); "
                 "this Unicorn build is not supported", cr0, cr0_blob);
        uq_free(q);
        return -1;
    }
    if (check_segs(q->off_segs, q->blob_size) < 0) {
        snprintf(errbuf, errlen, "unicorn: segment-cache layout check failed; "
                 "this Unicorn build is not supported");
        uq_free(q);
        return -1;
    }
    int32_t oldexc;
    uint32_t hflags;
    memcpy(&oldexc, blob + q->off_old_exception, 4);
    memcpy(&hflags, blob + q->off_hflags, 4);
    /* A fresh engine runs at CPL 0 with 32-bit code segment (HF_CS32 = bit 4). */
    if (oldexc != -1 || (hflags & 3) != 0 || !(hflags & (1u << 4))) {
        snprintf(errbuf, errlen,
                 "unicorn: CPU state layout check failed (old_exception=%d hflags=0x%x); "
                 "this Unicorn build is not supported", oldexc, hflags);
        uq_free(q);
        return -1;
    }
    find_live(q, uc, marks, eip_mark);
    uint32_t zero = 0;
    for (int i = 0; i < 4; i++)
        uc_reg_write(uc, UC_X86_REG_DR0 + i, &zero);
    return 0;
}

void uq_free(struct uc_quirks *q)
{
    if (q->ctx)
        uc_context_free(q->ctx);
    q->ctx = NULL;
    q->live = NULL;
}

/* The CPU state to read or patch: the live one (direct view), or a fresh saved copy (NULL if the
 * save failed). */
static uint8_t *state(struct uc_quirks *q, uc_engine *uc)
{
    if (q->live)
        return q->live;
    return uc_context_save(uc, q->ctx) == UC_ERR_OK ? (uint8_t *)q->ctx : NULL;
}

/* After a patch of state(): the live state needs nothing; a saved copy is restored. 0 or -1. */
static int commit(struct uc_quirks *q, uc_engine *uc)
{
    if (q->live)
        return 0;
    return uc_context_restore(uc, q->ctx) == UC_ERR_OK ? 0 : -1;
}

void uq_exception_info(struct uc_quirks *q, uc_engine *uc, uint32_t *error_code, int *is_int)
{
    int32_t v = 0;
    const uint8_t *blob = state(q, uc);
    *error_code = 0;
    if (!blob) {
        *is_int = 0;
        return;
    }
    memcpy(error_code, blob + q->off_error_code, 4);
    /* exception_is_int follows error_code (both int). */
    memcpy(&v, blob + q->off_error_code + 4, 4);
    *is_int = v != 0;
}

int uq_reset_exception(struct uc_quirks *q, uc_engine *uc, int cpl)
{
    uint8_t *blob = state(q, uc);
    if (!blob)
        return -1;
    int32_t none = -1;
    memcpy(blob + q->off_old_exception, &none, 4);
    if (cpl >= 0) {
        uint32_t hflags;
        memcpy(&hflags, blob + q->off_hflags, 4);
        hflags = (hflags & ~3u) | (uint32_t)(cpl & 3);
        memcpy(blob + q->off_hflags, &hflags, 4);
    }
    return commit(q, uc);
}

int uq_cpl(struct uc_quirks *q, uc_engine *uc)
{
    uint32_t hflags = 0;
    const uint8_t *blob = state(q, uc);
    if (blob)
        memcpy(&hflags, blob + q->off_hflags, 4);
    return (int)(hflags & 3);
}

static void put_seg(uint8_t *blob, size_t at, const struct uq_seg *sg)
{
    uint32_t sel = sg->selector;
    uint64_t base = sg->base;
    memcpy(blob + at, &sel, 4);
    memcpy(blob + at + 8, &base, 8);
    memcpy(blob + at + 16, &sg->limit, 4);
    memcpy(blob + at + 20, &sg->flags, 4);
}

int uq_load_cs_ss(struct uc_quirks *q, uc_engine *uc, const struct uq_seg *cs,
                  const struct uq_seg *ss, int cpl, const uint32_t *cr2)
{
    const struct uq_seg *segs[UQ_NSEG] = {[UQ_CS] = cs, [UQ_SS] = ss};
    return uq_load_segs(q, uc, segs, cpl, cr2);
}

int uq_load_segs(struct uc_quirks *q, uc_engine *uc, const struct uq_seg *const segs[UQ_NSEG],
                 int cpl, const uint32_t *cr2)
{
    uint8_t *blob = state(q, uc);
    if (!blob)
        return -1;
    int32_t none = -1;
    memcpy(blob + q->off_old_exception, &none, 4);
    for (int i = 0; i < UQ_NSEG; i++)
        if (segs[i])
            put_seg(blob, q->off_segs + (size_t)i * SEGCACHE_SIZE, segs[i]);
    uint64_t b_ds, b_es, b_ss;
    uint32_t cs_flags, ss_flags;
    memcpy(&b_ds, blob + q->off_segs + SEG_DS * SEGCACHE_SIZE + 8, 8);
    memcpy(&b_es, blob + q->off_segs + SEG_ES * SEGCACHE_SIZE + 8, 8);
    memcpy(&b_ss, blob + q->off_segs + SEG_SS * SEGCACHE_SIZE + 8, 8);
    memcpy(&cs_flags, blob + q->off_segs + SEG_CS * SEGCACHE_SIZE + 20, 4);
    memcpy(&ss_flags, blob + q->off_segs + SEG_SS * SEGCACHE_SIZE + 20, 4);
    uint32_t hflags;
    memcpy(&hflags, blob + q->off_hflags, 4);
    hflags &= ~(3u | HF_CS32 | HF_SS32 | HF_ADDSEG | HF_INHIBIT_IRQ);
    hflags |= (uint32_t)(cpl & 3);
    if (cs_flags & DESC_B)
        hflags |= HF_CS32;
    if (ss_flags & DESC_B)
        hflags |= HF_SS32;
    if (!(cs_flags & DESC_B) || (b_ds | b_es | b_ss) != 0)
        hflags |= HF_ADDSEG;
    memcpy(blob + q->off_hflags, &hflags, 4);
    if (cr2) {
        uint64_t v = *cr2;
        memcpy(blob + q->off_cr + 2 * 8, &v, 8);
    }
    return commit(q, uc);
}

int uq_seg_cache(struct uc_quirks *q, uc_engine *uc, enum uq_segreg seg, struct uq_seg *out)
{
    const uint8_t *blob = seg < UQ_NSEG ? state(q, uc) : NULL;
    if (!blob)
        return -1;
    const uint8_t *p = blob + q->off_segs + (size_t)seg * SEGCACHE_SIZE;
    uint32_t sel;
    uint64_t base;
    memcpy(&sel, p, 4);
    memcpy(&base, p + 8, 8);
    memcpy(&out->limit, p + 16, 4);
    memcpy(&out->flags, p + 20, 4);
    out->selector = (uint16_t)sel;
    out->base = (uint32_t)base;
    return 0;
}

int uq_exception_done(struct uc_quirks *q, uc_engine *uc, const uint32_t *cr2)
{
    uint8_t *blob = state(q, uc);
    if (!blob)
        return -1;
    int32_t none = -1;
    memcpy(blob + q->off_old_exception, &none, 4);
    if (cr2) {
        uint64_t v = *cr2;
        memcpy(blob + q->off_cr + 2 * 8, &v, 8);
    }
    return commit(q, uc);
}
