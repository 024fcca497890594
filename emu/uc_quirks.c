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

#include <stdbool.h>
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
#define OFF_ESP_FROM_EIP (-96)     /* regs[R_ESP]: the 16 8-byte regs[] end where eip starts */
#define OFF_EFLAGS_FROM_EIP 8
#define EFLAGS_LAZY 0xcd5u        /* OF, DF, SF, ZF, AF, PF, CF: outside env->eflags in a run */
#define SEGCACHE_SIZE 24           /* selector u32, pad, base u64, limit u32, flags u32 */
#define SYS_LDT 6                  /* ldt, tr, gdt, idt follow segs[6], SegmentCaches too */
#define SYS_TR 7
#define SYS_GDT 8
#define SYS_IDT 9
#define SEG_ES 0
#define SEG_CS 1
#define SEG_SS 2
#define SEG_DS 3
#define HF_CS32 (1u << 4)
#define HF_SS32 (1u << 5)
#define HF_ADDSEG (1u << 6)
#define HF_INHIBIT_IRQ (1u << 3)
#define DESC_B (1u << 22)

/* Check the segment-cache layout on the engine being calibrated: with a scratch page mapped at
 * physical 0 holding a GDT, load DS and find its selector and base where the layout says they
 * are; then unmap the page and restore the CPU state saved before (GDTR, DS and hflags as they
 * were). 0 if the layout checks out, -1 otherwise. */
static int check_segs(uc_engine *uc, size_t off_segs, size_t blob_size)
{
    uc_context *before, *ctx;
    if (uc_context_alloc(uc, &before) != UC_ERR_OK)
        return -1;
    if (uc_context_alloc(uc, &ctx) != UC_ERR_OK) {
        uc_context_free(before);
        return -1;
    }
    uc_context_save(uc, before);
    int ok = -1;
    uint64_t desc = 0x00cf92000000ffffull | (0x45ull << 32) | (0x3000ull << 16); /* base 0x453000 */
    uc_x86_mmr gdtr = {.base = 0x100, .limit = 0x1f};
    uint32_t sel = 0x18;
    if (uc_mem_map(uc, 0, 0x1000, UC_PROT_ALL) == UC_ERR_OK) {
        if (uc_mem_write(uc, 0x100 + 0x18, &desc, 8) == UC_ERR_OK &&
            uc_reg_write(uc, UC_X86_REG_GDTR, &gdtr) == UC_ERR_OK &&
            uc_reg_write(uc, UC_X86_REG_DS, &sel) == UC_ERR_OK) {
            uc_context_save(uc, ctx);
            const uint8_t *b = (const uint8_t *)ctx;
            size_t at = off_segs + SEG_DS * SEGCACHE_SIZE;
            uint32_t s, base;
            if (at + SEGCACHE_SIZE <= blob_size) {
                memcpy(&s, b + at, 4);
                memcpy(&base, b + at + 8, 4);
                ok = (s == 0x18 && base == 0x453000) ? 0 : -1;
            }
        }
        if (uc_mem_unmap(uc, 0, 0x1000) != UC_ERR_OK)
            ok = -1;
    }
    if (uc_context_restore(uc, before) != UC_ERR_OK)
        ok = -1;
    uc_context_free(ctx);
    uc_context_free(before);
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

/* Where this thread last proved a direct view: the word of the engine's struct whose pointer led
 * to it and the distance from that pointer to dr[0]. Both are properties of the Unicorn build, not
 * of one engine, so a later engine is looked at there first; the place is only a hint, proven on
 * the new engine like any candidate, and a miss falls back to the whole search. */
static _Thread_local struct {
    size_t word, at;
    int set;
} live_hint;

/* What find_live looks for and compares, shared by its steps. */
struct live_probe {
    const uint32_t *marks;   /* DR0..DR3 markers */
    uint32_t eip_mark;
    size_t off_dr0, off_eip; /* in the saved context */
    size_t span;             /* eip .. old_exception, the bytes compared with the context */
    uint8_t *cmp;            /* span bytes of scratch */
};

/* Whether `live` is the engine's CPU state: (1) its bytes from eip to old_exception equal the
 * context just saved, (2) a register written through the API shows in it, and (3) a value written
 * into it is what the API reads back and what a context save copies. */
static int proven(struct uc_quirks *q, uc_engine *uc, uint8_t *live, const struct live_probe *lp)
{
    const uint8_t *blob = (const uint8_t *)q->ctx;
    if (safe_read((uintptr_t)(live + lp->off_eip), lp->cmp, lp->span) != lp->span ||
        memcmp(lp->cmp, blob + lp->off_eip, lp->span) != 0)
        return 0;
    uint32_t probe = 0x5eed0d99u, seen = 0;
    uc_reg_write(uc, UC_X86_REG_DR1, &probe);
    safe_read((uintptr_t)(live + lp->off_dr0 + 8), &seen, 4);
    uc_reg_write(uc, UC_X86_REG_DR1, &lp->marks[1]);
    if (seen != probe)
        return 0;
    uint32_t back = 0, saved = 0, keep;
    memcpy(&keep, live + lp->off_dr0 + 16, 4);
    memcpy(live + lp->off_dr0 + 16, &probe, 4);
    uc_reg_read(uc, UC_X86_REG_DR2, &back);
    uc_context_save(uc, q->ctx);
    memcpy(&saved, blob + lp->off_dr0 + 16, 4);
    memcpy(live + lp->off_dr0 + 16, &keep, 4);
    uc_context_save(uc, q->ctx);
    return back == probe && saved == probe;
}

/* The CPU state whose dr[0] is at p + at, if the EIP marker sits at the saved context's distance
 * from it and the state is proven; NULL otherwise. */
static uint8_t *candidate(struct uc_quirks *q, uc_engine *uc, uintptr_t p, size_t at,
                          const struct live_probe *lp)
{
    if (at < lp->off_dr0 - lp->off_eip)
        return NULL;
    uint8_t *live = (uint8_t *)(p + at) - lp->off_dr0;
    uint32_t e = 0;
    if (safe_read((uintptr_t)(live + lp->off_eip), &e, 4) != 4 || e != lp->eip_mark)
        return NULL;
    return proven(q, uc, live, lp) ? live : NULL;
}

/* The hinted place, if this thread has a hint and the DR0..DR3 markers are there. */
static uint8_t *at_hint(struct uc_quirks *q, uc_engine *uc, const uint64_t *words, size_t nw,
                        const struct live_probe *lp)
{
    uint8_t drs[28];
    if (!live_hint.set || live_hint.word >= nw)
        return NULL;
    uintptr_t p = (uintptr_t)words[live_hint.word];
    if (safe_read(p + live_hint.at, drs, sizeof drs) != sizeof drs ||
        find_dr_run(drs, sizeof drs, lp->marks) != 0)
        return NULL;
    return candidate(q, uc, p, live_hint.at, lp);
}

struct word_order {
    uintptr_t dist;
    size_t i;
};

static int by_dist(const void *a, const void *b)
{
    const struct word_order *x = a, *y = b;
    return x->dist < y->dist ? -1 : x->dist > y->dist;
}

/* Find the live CPU state (see uc_quirks.h). Called by uq_calibrate with DR0..DR3 and EIP holding
 * the markers and q->ctx just saved. The engine's struct holds a pointer to the CPU object, and
 * QEMU's CPUX86State sits inside that object a few tens of KB on: the pointer-sized words of the
 * engine's first LIVE_UC_SCAN bytes are tried, as the start of a LIVE_WINDOW-byte window searched
 * for the DR0..DR3 markers with the EIP marker at the distance the saved context shows; a hit is
 * trusted only if proven(). The place of this thread's last proof is tried first, then the words
 * nearest the engine's own address (the CPU object is allocated with it, on the heap; pointers
 * into code and static data come last). Sets q->live or leaves it NULL. */
static void find_live(struct uc_quirks *q, uc_engine *uc, const uint32_t marks[4], uint32_t eip_mark)
{
    const char *off = getenv("VMLAB_UQ_NO_DIRECT");
    if (off && *off && strcmp(off, "0") != 0)
        return;
    struct live_probe lp = {marks, eip_mark, q->off_error_code + 16, q->off_eip, 0, NULL};
    lp.span = q->off_old_exception + 4 - lp.off_eip;
    if (lp.off_eip > lp.off_dr0 || q->off_old_exception < lp.off_dr0)
        return;
    uint64_t *words = malloc(LIVE_UC_SCAN);
    struct word_order *order = malloc(LIVE_UC_SCAN / 8 * sizeof *order);
    uint8_t *win = malloc(LIVE_WINDOW);
    lp.cmp = malloc(lp.span);
    if (!words || !order || !win || !lp.cmp)
        goto out;
    size_t nw = safe_read((uintptr_t)uc, words, LIVE_UC_SCAN) / 8, n = 0;
    q->live = at_hint(q, uc, words, nw, &lp);
    for (size_t i = 0; i < nw; i++) {
        uintptr_t p = (uintptr_t)words[i];
        if (p >= 0x10000 && !(p & 7) && p != (uintptr_t)uc)
            order[n++] = (struct word_order){p > (uintptr_t)uc ? p - (uintptr_t)uc
                                                                : (uintptr_t)uc - p, i};
    }
    qsort(order, n, sizeof *order, by_dist);
    for (size_t k = 0; k < n && !q->live; k++) {
        uintptr_t p = (uintptr_t)words[order[k].i];
        long at = find_dr_run(win, safe_read(p, win, LIVE_WINDOW), marks);
        if (at >= 0 && (q->live = candidate(q, uc, p, (size_t)at, &lp)))
            live_hint.word = order[k].i, live_hint.at = (size_t)at, live_hint.set = 1;
    }
out:
    free(words);
    free(order);
    free(win);
    free(lp.cmp);
}

/* The SegmentCache number `i` of the state (segs[0..5], then ldt, tr, gdt, idt). */
static void get_seg(const struct uc_quirks *q, const uint8_t *blob, unsigned i,
                    struct uq_seg *out)
{
    const uint8_t *p = blob + q->off_segs + (size_t)i * SEGCACHE_SIZE;
    uint32_t sel;
    uint64_t base;
    memcpy(&sel, p, 4);
    memcpy(&base, p + 8, 8);
    memcpy(&out->limit, p + 16, 4);
    memcpy(&out->flags, p + 20, 4);
    out->selector = (uint16_t)sel;
    out->base = (uint32_t)base;
}

static const int api_seg[UQ_NSEG] = {UC_X86_REG_ES, UC_X86_REG_CS, UC_X86_REG_SS,
                                     UC_X86_REG_DS, UC_X86_REG_FS, UC_X86_REG_GS};

/* uq_sysregs through the API. */
static void sysregs_api(uc_engine *uc, struct uq_sysregs *r)
{
    static const int table[2] = {UC_X86_REG_LDTR, UC_X86_REG_TR};
    struct uq_seg *to[2] = {&r->ldt, &r->tr};
    uc_x86_mmr x;
    for (int i = 0; i < UQ_NSEG; i++) {
        uint32_t sel = 0;
        uc_reg_read(uc, api_seg[i], &sel);
        r->sel[i] = (uint16_t)sel;
    }
    for (int i = 0; i < 2; i++) {
        memset(&x, 0, sizeof x);
        uc_reg_read(uc, table[i], &x);
        *to[i] = (struct uq_seg){x.selector, (uint32_t)x.base, x.limit, x.flags};
    }
    memset(&x, 0, sizeof x);
    uc_reg_read(uc, UC_X86_REG_GDTR, &x);
    r->gdt_base = (uint32_t)x.base;
    r->gdt_limit = x.limit;
    memset(&x, 0, sizeof x);
    uc_reg_read(uc, UC_X86_REG_IDTR, &x);
    r->idt_base = (uint32_t)x.base;
    r->idt_limit = x.limit;
}

void uq_sysregs(struct uc_quirks *q, uc_engine *uc, struct uq_sysregs *r)
{
    if (!q->live) {
        sysregs_api(uc, r);
        return;
    }
    struct uq_seg s;
    for (unsigned i = 0; i < UQ_NSEG; i++) {
        get_seg(q, q->live, i, &s);
        r->sel[i] = s.selector;
    }
    get_seg(q, q->live, SYS_LDT, &r->ldt);
    get_seg(q, q->live, SYS_TR, &r->tr);
    /* GDTR and IDTR: QEMU keeps 16-bit limits (the API reads them so). */
    get_seg(q, q->live, SYS_GDT, &s);
    r->gdt_base = s.base;
    r->gdt_limit = s.limit & 0xffffu;
    get_seg(q, q->live, SYS_IDT, &s);
    r->idt_base = s.base;
    r->idt_limit = s.limit & 0xffffu;
}

uint16_t uq_selector(struct uc_quirks *q, uc_engine *uc, enum uq_segreg seg)
{
    uint32_t sel = 0;
    if (q->live)
        memcpy(&sel, q->live + q->off_segs + (size_t)seg * SEGCACHE_SIZE, 4);
    else
        uc_reg_read(uc, api_seg[seg], &sel);
    return (uint16_t)sel;
}

static bool same_seg(const struct uq_seg *a, const struct uq_seg *b)
{
    return a->selector == b->selector && a->base == b->base && a->limit == b->limit &&
           a->flags == b->flags;
}

/* Whether uq_sysregs reads what the API does, on marker values written through the API into
 * LDTR, TR, GDTR and IDTR (the selectors' place is check_segs'); the registers are restored. With
 * the direct view this proves the offsets of ldt, tr, gdt and idt in the live state. 0 or -1. */
static int check_sysregs(struct uc_quirks *q, uc_engine *uc)
{
    static const int reg[4] = {UC_X86_REG_LDTR, UC_X86_REG_TR, UC_X86_REG_GDTR, UC_X86_REG_IDTR};
    const uc_x86_mmr mark[4] = {
        {.selector = 0x28, .base = 0x12345000u, .limit = 0x1abcdu, .flags = 0x8200u},
        {.selector = 0x30, .base = 0x23456000u, .limit = 0x2067u, .flags = 0x8b00u},
        {.base = 0x34567000u, .limit = 0x3ffu},
        {.base = 0x45678000u, .limit = 0x7ffu}};
    uc_x86_mmr keep[4];
    for (int i = 0; i < 4; i++) {
        memset(&keep[i], 0, sizeof keep[i]);
        uc_reg_read(uc, reg[i], &keep[i]);
        uc_reg_write(uc, reg[i], &mark[i]);
    }
    struct uq_sysregs view, api;
    uq_sysregs(q, uc, &view);
    sysregs_api(uc, &api);
    bool ok = same_seg(&view.ldt, &api.ldt) && same_seg(&view.tr, &api.tr) &&
              view.gdt_base == api.gdt_base && view.gdt_limit == api.gdt_limit &&
              view.idt_base == api.idt_base && view.idt_limit == api.idt_limit &&
              memcmp(view.sel, api.sel, sizeof view.sel) == 0 &&
              view.ldt.base == mark[0].base && view.tr.limit == mark[1].limit &&
              view.gdt_base == mark[2].base && view.idt_limit == mark[3].limit;
    for (int i = 0; i < 4; i++)
        uc_reg_write(uc, reg[i], &keep[i]);
    return ok ? 0 : -1;
}

int uq_direct(const struct uc_quirks *q)
{
    return q->live != NULL;
}

/* Whether uq_hook_resume may write the live state: ESP and EFLAGS are where QEMU's layout puts
 * them (ESP in regs[], EFLAGS after eip): a value written through the API shows there, and one
 * written there is what the API reads; for EFLAGS outside a run (the API keeps every bit in
 * env->eflags then and also loads the arithmetic flags into the lazy condition codes), a bit
 * written there (AC) joins the arithmetic flags the API computes. Leaves ESP 0 and EFLAGS 0x2. */
static int check_resume(struct uc_quirks *q, uc_engine *uc)
{
    if (!q->live || q->off_eip < (size_t)-OFF_ESP_FROM_EIP)
        return 0;
    uint8_t *esp_p = q->live + q->off_eip + OFF_ESP_FROM_EIP;
    uint8_t *fl_p = q->live + q->off_eip + OFF_EFLAGS_FROM_EIP;
    uint32_t mark = 0x51ac0ffcu, mark2 = 0x2bad5eedu, seen = 0, back = 0;
    uc_reg_write(uc, UC_X86_REG_ESP, &mark);
    memcpy(&seen, esp_p, 4);
    memcpy(esp_p, &mark2, 4);
    uc_reg_read(uc, UC_X86_REG_ESP, &back);
    int ok = seen == mark && back == mark2;
    uint32_t fl = 0x247u, ac = 0x40000u;          /* IF, ZF, PF, CF and bit 1 */
    uint64_t fl_seen = 0, fl_new = 0x202u | ac;
    uc_reg_write(uc, UC_X86_REG_EFLAGS, &fl);
    memcpy(&fl_seen, fl_p, 8);
    memcpy(fl_p, &fl_new, 8);
    back = 0;
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &back);
    ok = ok && fl_seen == fl && back == (fl | ac);
    uint32_t zero = 0, two = 2;
    uc_reg_write(uc, UC_X86_REG_ESP, &zero);
    uc_reg_write(uc, UC_X86_REG_EFLAGS, &two);
    return ok;
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
    q->off_eip = (size_t)eip;
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
    if (check_segs(uc, q->off_segs, q->blob_size) < 0) {
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
    if (check_sysregs(q, uc) < 0) {
        snprintf(errbuf, errlen, "unicorn: system-register layout check failed; "
                 "this Unicorn build is not supported");
        uq_free(q);
        return -1;
    }
    q->resume_direct = check_resume(q, uc);
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

int uq_hook_resume(struct uc_quirks *q, uc_engine *uc, uint32_t esp, uint32_t eflags,
                   uint32_t eip)
{
    if (!q->live || !q->resume_direct)
        return -1;
    uint32_t now = 0;
    uc_reg_read(uc, UC_X86_REG_EFLAGS, &now);
    if ((now ^ eflags) & EFLAGS_LAZY)
        return -1;
    uint64_t fl = (eflags & ~EFLAGS_LAZY) | 2u;
    memcpy(q->live + q->off_eip + OFF_ESP_FROM_EIP, &esp, 4);
    memcpy(q->live + q->off_eip + OFF_EFLAGS_FROM_EIP, &fl, 8);
    return uq_hook_set_eip(q, eip);
}

int uq_hook_set_eip(struct uc_quirks *q, uint32_t eip)
{
    if (!q->live)
        return -1;
    uint64_t ip = eip;
    memcpy(q->live + q->off_eip, &ip, 8);
    return 0;
}

uint32_t uq_eip(struct uc_quirks *q, uc_engine *uc)
{
    uint32_t v = 0;
    if (q->live)
        memcpy(&v, q->live + q->off_eip, 4);
    else
        uc_reg_read(uc, UC_X86_REG_EIP, &v);
    return v;
}

uint32_t uq_esp(struct uc_quirks *q, uc_engine *uc)
{
    uint32_t v = 0;
    if (q->live && q->resume_direct)
        memcpy(&v, q->live + q->off_eip + OFF_ESP_FROM_EIP, 4);
    else
        uc_reg_read(uc, UC_X86_REG_ESP, &v);
    return v;
}

uint32_t uq_cr2(struct uc_quirks *q, uc_engine *uc)
{
    uint64_t v = 0;
    if (q->live)
        memcpy(&v, q->live + q->off_cr + 2 * 8, 8);
    else
        uc_reg_read(uc, UC_X86_REG_CR2, &v);
    return (uint32_t)v;
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

void uq_paging(struct uc_quirks *q, uc_engine *uc, uint32_t cr[3], int *cpl)
{
    if (q->live) {
        uint64_t c[5];
        memcpy(c, q->live + q->off_cr, sizeof c);
        cr[0] = (uint32_t)c[0];
        cr[1] = (uint32_t)c[3];
        cr[2] = (uint32_t)c[4];
        if (cpl) {
            uint32_t hflags;
            memcpy(&hflags, q->live + q->off_hflags, 4);
            *cpl = (int)(hflags & 3);
        }
        return;
    }
    static const int reg[3] = {UC_X86_REG_CR0, UC_X86_REG_CR3, UC_X86_REG_CR4};
    for (int i = 0; i < 3; i++) {
        uint64_t v = 0;
        uc_reg_read(uc, reg[i], &v);
        cr[i] = (uint32_t)v;
    }
    if (cpl)
        *cpl = uq_cpl(q, uc);
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
    get_seg(q, blob, seg, out);
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
