/*
 * run.c — the hooks that stop the CPU, and the exit loop that handles why it stopped.
 *
 * The CPU (Unicorn) runs freely until a hook asks it to stop. The hooks are few and cheap:
 *
 *   block hook    every translated block: count its instructions (emu/blocks.c), leave the fast
 *                 path only when a deadline falls in the block, an interrupt window is being
 *                 watched, or the block is new.
 *   intr hook     a CPU exception: note it exactly (vector, error code, CR2, EIP, retired count
 *                 corrected to the faulting instruction) and stop; the loop hands it to the mode.
 *                 Where the loop would do nothing else (native: deliver it and resume), the hook
 *                 hands it to the mode itself and the CPU goes on at the handler (exception_here).
 *   site hooks    address-ranged code hooks on the few instructions the machine must see before
 *                 they execute (I/O for privilege checks — which the mode may waive for its own
 *                 code, mode op io_allowed — and exact EIPs, CR3 loads and INVLPG for the block
 *                 cache, RDTSC for deterministic time); installed when a block is first decoded,
 *                 they cost nothing anywhere else.
 *   in/out hooks  port I/O onto the bus, recorded through the funnel (emu/funnel.h).
 *
 * The exit loop (machine_run) is the one place where stops are handled:
 *
 *     +--> deliver a pending interrupt if the guest accepts it --> run CPU --+
 *     |                                                                     |
 *     +-- exception -> funnel | deadline -> PIT, limits | tail -> run exactly+
 *         N instructions | halt -> skip time to the next event | end -> out
 *
 * Time is exact: a timer deadline inside a block is reached by stopping at the block's start
 * and running exactly the remaining instructions with Unicorn's instruction count, so timer
 * interrupts land on the same instruction in every run.
 *
 * The Unicorn behaviours this file is built around (stale EIPs after stops and in I/O hooks,
 * hlt, invalid opcodes, stale translations, exit addresses, hook costs) are listed, each with
 * the test that checks it, in emu/UNICORN.md.
 */
#include "emu/run.h"
#include "emu/events_record.h"
#include "emu/funnel.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "emu/cpu_model.h"
#include "emu/deliver.h"
#include "emu/machine.h"
#include "emu/modes/emul_write.h"
#include "emu/modes/mode.h"
#include "emu/tlb.h"

#define WALL_CHECK_INSNS 20000000ull   /* guest instructions between progress reports */
#define WALL_SLOW_BLOCKS 256u           /* slow-path blocks between wall-clock checks */
#define WALL_PASSES 64u                 /* exit-loop passes between wall-clock checks, */
#define WALL_INSNS 1000000ull           /* or guest instructions, whichever come first */
#define HALT_IDLE_GIVE_UP 100000u       /* timer edges in one halt with no interrupt taken */
#define HALT_STORM_GIVE_UP 100000u      /* interrupts taken in one halt with no guest time passing */

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint32_t reg32(struct machine *m, int reg)
{
    uint32_t v = 0;
    uc_reg_read(m->uc, reg, &v);
    return v;
}

/* ---- counting -------------------------------------------------------------------------- */

static inline void account(struct machine *m, const struct block *b)
{
    machine_count_block(m, b, 0, 1);
    m->cur = b;
}

/* The block b was counted whole but stopped before instruction `idx`: take the rest back. */
static void uncount_from(struct machine *m, const struct block *b, unsigned idx)
{
    machine_count_block(m, b, idx, (uint64_t)-1);
}

static uint64_t due_time(const struct machine *m)
{
    uint64_t due = pit_next_event(&m->pit);
    if (m->cfg.max_insns && m->cfg.max_insns < due)
        due = m->cfg.max_insns;
    if (m->next_wall_check < due)
        due = m->next_wall_check;
    return due;
}

static void update_deadline(struct machine *m)
{
    m->irq_window = pic_intr(&m->pic);
    m->deadline = m->irq_window ? 0 : due_time(m);
}

static bool in_shadow(const struct machine *m, uint32_t eip)
{
    return m->cur && m->cur->ends_shadow && eip == m->cur->addr + m->cur->size;
}

/* ---- site hooks --------------------------------------------------------------------------- */

/* Whether the mode intercepts site s (asked only about classified instructions: a site of the
 * mode's own counted code has none). */
static bool mode_wants(struct machine *m, const struct site *s)
{
    return s->cls != IC_NONE && m->mode && m->mode->site && m->mode->site_wanted &&
           m->mode->site_wanted(m, s);
}

static bool site_needs_hook(struct machine *m, const struct site *s)
{
    return mode_wants(m, s) || insn_class_hooked(s->cls, s->cr);
}

static void hook_site(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque);
static void skip_site(struct machine *m, const struct block *b, const struct site *s,
                      uint32_t eip);
static void cpu_site(struct machine *m, const struct block *b, const struct site *s, uint32_t addr);
static void stale_site(struct machine *m, const struct block *b, uint32_t addr);
static void cpu_tlb_site(struct machine *m, const struct site *s, uint32_t addr);

/* Install code hooks on b's sites that have none yet. Returns the number installed. */
static int install_sites(struct machine *m, const struct block *b)
{
    int added = 0;
    for (unsigned i = 0; i < b->nsites; i++) {
        const struct site *s = &b->sites[i];
        uint32_t a = b->addr + s->off;
        if (!site_needs_hook(m, s) || sites_has(&m->sites, a))
            continue;
        uc_hook h;
        if (uc_hook_add(m->uc, &h, UC_HOOK_CODE, (void *)hook_site, m, a, a) != UC_ERR_OK) {
            machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                        "unicorn: cannot hook the instruction at 0x%08x", a);
            return 0;
        }
        sites_add(&m->sites, a);
        added++;
    }
    if (added)
        tlb_remove_cache(m, b->addr, (uint64_t)b->addr + b->size);
    return added;
}

static const struct site *find_site(const struct block *b, uint32_t addr)
{
    uint32_t off = addr - b->addr;
    for (unsigned i = 0; i < b->nsites; i++)
        if (b->sites[i].off == off)
            return &b->sites[i];
    return NULL;
}

/* From a hook: raise exception `vector` (error code `error` where it has one) at `eip`, as a
 * fault of the instruction there; the CPU stops and the exit loop hands it to the mode. */
static void raise_fault(struct machine *m, uint8_t vector, uint32_t error, uint32_t eip)
{
    struct xevent *x = &m->pending_exc;
    memset(x, 0, sizeof *x);
    x->kind = XK_FAULT;
    x->vector = vector;
    x->has_error = vector_has_error_code(vector);
    x->error = error;
    x->eip = x->insn_eip = eip;
    m->stop_block = NULL;
    m->stop = STOP_EXCEPTION;
    uc_emu_stop(m->uc);
}

/* Architectural I/O permission: CPL <= IOPL, or every bit for the accessed ports is clear in the
 * TSS I/O permission bitmap. */
static bool io_permitted(struct machine *m, uint16_t port, unsigned size)
{
    uint32_t eflags = reg32(m, UC_X86_REG_EFLAGS);
    int cpl = machine_cpl(m);
    if (cpl <= (int)((eflags >> 12) & 3))
        return true;
    uc_x86_mmr tr;
    memset(&tr, 0, sizeof tr);
    uc_reg_read(m->uc, UC_X86_REG_TR, &tr);
    if (tr.selector == 0 || tr.limit < 0x67)
        return false;
    uint16_t iomap;
    uint32_t fl, pf;
    if (machine_read_lin(m, (uint32_t)tr.base + 0x66, &iomap, 2, false, &fl, &pf) != 0)
        return false;
    uint32_t byte = iomap + port / 8u;
    if (byte + 1 > tr.limit)
        return false;
    uint8_t bits[2] = {0xff, 0xff};
    if (machine_read_lin(m, (uint32_t)tr.base + byte, bits, 2, false, &fl, &pf) != 0)
        return false;
    uint16_t w = (uint16_t)(bits[0] | (bits[1] << 8));
    uint16_t mask = (uint16_t)(((1u << size) - 1) << (port % 8u));
    return (w & mask) == 0;
}

/* Whether the mode lets its own code at addr access `port` whatever the CPU's I/O permission
 * (mode op io_allowed: bt's in-cache IN/OUT); *eip then gets the guest EIP to record it at. */
static bool mode_io_allowed(struct machine *m, uint32_t addr, uint16_t port, uint32_t *eip)
{
    return m->mode && m->mode->io_allowed && m->mode->io_allowed(m, addr, port, eip);
}

static void hook_site(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    struct machine *m = opaque;
    const struct block *b = m->cur;
    if (!b || addr < b->addr || addr >= (uint64_t)b->addr + b->size)
        return;
    const struct site *s = find_site(b, (uint32_t)addr);
    if (!s)
        return;
    if (s->cls != IC_NONE && !blocks_site_current(m, b, s)) {
        stale_site(m, b, (uint32_t)addr);
        return;
    }
    bool wanted = mode_wants(m, s);
    switch (s->cls) {
    case IC_IN: case IC_OUT: case IC_INS: case IC_OUTS: {
        uint16_t port = s->port_imm ? s->port : (uint16_t)reg32(m, UC_X86_REG_EDX);
        uint32_t eip = (uint32_t)addr;
        bool mode_own = mode_io_allowed(m, (uint32_t)addr, port, &eip);
        if (!mode_own && !io_permitted(m, port, s->io_size)) {
            uncount_from(m, b, s->idx);
            raise_fault(m, 13, 0, (uint32_t)addr);
            return;
        }
        m->io_idx = s->idx;
        m->io_eip = eip;
        m->io_cpl = mode_own ? 0 : b->cpl;   /* the mode's own copy acts for the guest kernel */
        break;
    }
    case IC_MOV_TO_CR:
    case IC_INVLPG:
        m->epoch++;
        if (!wanted)
            cpu_tlb_site(m, s, (uint32_t)addr);
        break;
    case IC_UNDEFINED:
        /* Bytes no i386 instruction decodes from (emu/blocks.c): #UD, as the hardware. */
        uncount_from(m, b, s->idx);
        raise_fault(m, 6, 0, (uint32_t)addr);
        return;
    case IC_RDTSC: {
        if (wanted)
            break;
        /* Deterministic time stamp counter: guest time in instructions at this instruction. */
        uint64_t cr4 = 0;
        uc_reg_read(uc, UC_X86_REG_CR4, &cr4);
        uncount_from(m, b, s->idx + 1u);
        if ((cr4 & (1u << 2)) && machine_cpl(m) > 0) {
            uncount_from(m, b, s->idx);
            raise_fault(m, 13, 0, (uint32_t)addr);
            return;
        }
        uint64_t tsc = cpu_tsc(m, m->time - 1);
        uint32_t lo = (uint32_t)tsc, hi = (uint32_t)(tsc >> 32), next = (uint32_t)addr + s->len;
        uc_reg_write(uc, UC_X86_REG_EAX, &lo);
        uc_reg_write(uc, UC_X86_REG_EDX, &hi);
        uc_reg_write(uc, UC_X86_REG_EIP, &next);
        break;
    }
    default:
        break;
    }
    if (wanted) {
        struct action a = funnel_site(m, b, s, (uint32_t)addr);
        if (a.kind == ACT_SKIP || a.kind == ACT_RAISE)
            m->io_idx = -1;   /* the instruction does not execute: no port hook will follow */
        switch (a.kind) {
        case ACT_SKIP:
            skip_site(m, b, s, (uint32_t)addr);
            break;
        case ACT_RAISE:
            uncount_from(m, b, s->idx);
            raise_fault(m, a.vector, a.error, (uint32_t)addr);
            break;
        case ACT_HALT:
            machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                        "mode %s halted at an intercepted instruction (EIP 0x%08x); a halt is "
                        "the CPU's or an exception handler's", m->mode->name, (uint32_t)addr);
            break;
        case ACT_RESUME: case ACT_END:
            break;
        }
        if (a.kind != ACT_RESUME || m->end)
            return;
    }
    cpu_site(m, b, s, (uint32_t)addr);
}

/* The CPU executes a mov to CR0/CR3/CR4 or an INVLPG itself (no monitor intercepts it): the TLB
 * model takes the flush it implies. At CPL > 0 the instruction raises #GP and flushes nothing. */
static void cpu_tlb_site(struct machine *m, const struct site *s, uint32_t addr)
{
    if (machine_cpl(m) != 0)
        return;
    if (s->cls == IC_INVLPG) {
        uint32_t lin;
        if (emul_mem_operand(m, addr, &lin) == 0)
            tlb_invlpg(m, lin, true);
        else
            tlb_flush(m, TLB_FLUSH_INVLPG, false);    /* unreadable operand: drop everything */
        return;
    }
    /* mov crN, r32: 0f 22 /r, the source register in ModRM.rm (SDM vol. 2B, MOV). */
    static const int gpr[8] = {UC_X86_REG_EAX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_EBX,
                               UC_X86_REG_ESP, UC_X86_REG_EBP, UC_X86_REG_ESI, UC_X86_REG_EDI};
    uint8_t bytes[4] = {0};
    uint32_t flin, ferr;
    if (machine_read_lin(m, addr, bytes, s->len < 4 ? s->len : 4, false, &flin, &ferr) < 0)
        return;
    for (unsigned i = 0; i + 2 < s->len && i + 2 < sizeof bytes; i++)
        if (bytes[i] == 0x0f && bytes[i + 1] == 0x22) {
            tlb_cpu_mov_cr(m, s->cr, reg32(m, gpr[bytes[i + 2] & 7]));
            return;
        }
}

/* The ring the guest's ring 0 really runs in under the mode (1 under ring compression). */
static int guest_kernel_ring(struct machine *m)
{
    if (!m->mode || !m->mode->cpu_view)
        return 0;
    struct cpu_view v;
    m->mode->cpu_view(m, &v);
    return v.kernel_ring;
}

/* The instructions the processor model answers itself (emu/cpu_model.h), after the mode has seen
 * the site (a VT-x exit is recorded first; the instruction then executes as the VM's CPU would):
 * CPUID from vmlab's table, RDMSR/WRMSR at CPL 0 from its MSR list (#GP(0) for any other MSR;
 * at CPL > 0 the CPU raises #GP itself), SYSENTER/SYSEXIT, which Unicorn does not perform. */
static void cpu_site(struct machine *m, const struct block *b, const struct site *s, uint32_t addr)
{
    uint64_t now = m->time - (b->n - s->idx);    /* guest time at this instruction */
    switch (s->cls) {
    case IC_CPUID: {
        uint32_t r[4];
        cpu_cpuid(reg32(m, UC_X86_REG_EAX), reg32(m, UC_X86_REG_ECX), r);
        uc_reg_write(m->uc, UC_X86_REG_EAX, &r[0]);
        uc_reg_write(m->uc, UC_X86_REG_EBX, &r[1]);
        uc_reg_write(m->uc, UC_X86_REG_ECX, &r[2]);
        uc_reg_write(m->uc, UC_X86_REG_EDX, &r[3]);
        m->kepoch++;        /* serializing: code written before it is re-verified (blocks.h) */
        skip_site(m, b, s, addr);
        return;
    }
    case IC_RDMSR: case IC_WRMSR: {
        if (machine_cpl(m) != 0)
            return;         /* #GP(0), raised by the CPU */
        uint32_t ecx = reg32(m, UC_X86_REG_ECX);
        uint64_t v = 0;
        int r;
        if (s->cls == IC_RDMSR) {
            r = cpu_rdmsr(m, ecx, now, &v);
            uint32_t lo = (uint32_t)v, hi = (uint32_t)(v >> 32);
            if (r == 0) {
                uc_reg_write(m->uc, UC_X86_REG_EAX, &lo);
                uc_reg_write(m->uc, UC_X86_REG_EDX, &hi);
            }
        } else {
            v = ((uint64_t)reg32(m, UC_X86_REG_EDX) << 32) | reg32(m, UC_X86_REG_EAX);
            r = cpu_wrmsr(m, ecx, now, v);
            m->kepoch++;    /* serializing */
        }
        if (r < 0) {
            uncount_from(m, b, s->idx);
            raise_fault(m, 13, 0, addr);
            return;
        }
        skip_site(m, b, s, addr);
        return;
    }
    case IC_SYSENTER: case IC_SYSEXIT: {
        if (s->cls == IC_SYSEXIT && machine_cpl(m) != 0)
            return;         /* #GP(0), raised by the CPU */
        /* Under a monitor that runs the guest's ring 0 in ring 1 (trap-classic, bt) or under Xen
         * (pv), the real IA32_SYSENTER_CS is the monitor's, kept null: a guest SYSENTER raises
         * #GP(0) into the monitor, which emulates it from the guest's MSRs (classic_core.c) or,
         * under Xen without a registered sysenter callback, hands the guest its #GP. */
        if ((m->msr.sysenter_cs & 0xfffc) == 0 ||
            (s->cls == IC_SYSENTER && guest_kernel_ring(m) != 0)) {
            uncount_from(m, b, s->idx);
            raise_fault(m, 13, 0, addr);
            return;
        }
        uncount_from(m, b, s->idx + 1u);   /* the rest of the block does not run */
        int r = s->cls == IC_SYSENTER ? cpu_sysenter(m, 0) : cpu_sysexit(m);
        if (r < 0)
            machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                        "unicorn refused the segment state of a %s at 0x%08x",
                        insn_class_name[s->cls], addr);
        return;
    }
    default:
        return;
    }
}

/* The instruction under a site hook is not the one decoded there: the guest rewrote its code, and
 * Unicorn, which retranslates rewritten code itself, is running the new bytes. Every block is
 * re-verified from now on (both epochs move), this block is decoded again with its sites, and the
 * CPU restarts at this instruction, which has not executed. The instructions of the new block
 * before it count as run. */
static void stale_site(struct machine *m, const struct block *b, uint32_t addr)
{
    m->kepoch++;
    m->epoch++;
    uncount_from(m, b, 0);
    struct block *nb = blocks_decode(m, b->addr, b->size, (struct block *)b);
    if (!nb)
        return;
    machine_count_block(m, nb, 0, 1);
    uncount_from(m, nb, (unsigned)block_index_of(nb, addr));
    m->cur = nb;
    install_sites(m, nb);
    m->redirect_eip = addr;
    m->stop_block = NULL;
    if (m->stop == STOP_NONE)
        m->stop = STOP_REDECODE;
    uc_emu_stop(m->uc);
}

/* The instruction of site s at eip was emulated: resume after it. */
static void skip_site(struct machine *m, const struct block *b, const struct site *s,
                      uint32_t eip)
{
    /* The instruction retired (emulated); the CPU resumes after it in a new block that will be
     * counted when it runs, so the rest of this one is taken back. */
    uncount_from(m, b, s->idx + 1u);
    uint32_t next = eip + s->len;
    uc_reg_write(m->uc, UC_X86_REG_EIP, &next);
}

/* ---- block hook --------------------------------------------------------------------------- */

/* Ask the CPU to stop in front of block b. A stop requested in a block hook takes effect before
 * the block runs, but Unicorn then reports a stale EIP: the start of the first block of the chain
 * of translated blocks it was executing (measured: registers and stack show the CPU at b, EIP
 * says an earlier block, and resuming there re-executes code). So the block is counted here and
 * settle_stop() puts EIP back to b's address and takes the count back. */
static void stop_before(struct machine *m, struct block *b, enum stop_why why)
{
    account(m, b);
    m->stop_block = b;
    if (m->stop == STOP_NONE)
        m->stop = why;
    uc_emu_stop(m->uc);
}

static void settle_stop(struct machine *m)
{
    if (m->redirect_eip) {
        uc_reg_write(m->uc, UC_X86_REG_EIP, &m->redirect_eip);
        m->redirect_eip = 0;
        return;
    }
    if (!m->stop_block)
        return;
    uint32_t eip = m->stop_block->addr;
    uc_reg_write(m->uc, UC_X86_REG_EIP, &eip);
    uncount_from(m, m->stop_block, 0);
    m->stop_block = NULL;
}

/* The mode runs something else in place of the block at addr (bt: its translation): stop in
 * front of it; settle_stop() points EIP there. */
static bool redirected(struct machine *m, uint32_t addr)
{
    uint32_t to = m->mode->redirect(m, addr);
    if (to == addr && !m->end)
        return false;
    m->redirect_eip = m->end ? 0 : to;
    m->stop_block = NULL;
    if (m->stop == STOP_NONE)
        m->stop = m->end ? STOP_END : STOP_REDECODE;
    uc_emu_stop(m->uc);
    return true;
}

static void check_wall(struct machine *m);

/* Out of line: inlined into hook_block, its frame and saved registers made every fast-path call
 * pay a full prologue (issue 21's profile). */
static __attribute__((noinline)) void block_slow(struct machine *m, uint32_t addr, uint32_t size,
                                                 struct block *b)
{
    if (++m->slow_blocks % WALL_SLOW_BLOCKS == 0) {
        check_wall(m);
        if (m->end)
            return;
    }
    if (m->mode->redirect && redirected(m, addr))
        return;
    if (!b || (b->epoch != BLOCK_EPOCH_NOW(m, b->cpl) && !blocks_verify(m, b))) {
        /* Bytes changed under a block decoded here: the CPU may be about to run a translation
         * of the old bytes (emu/UNICORN.md 24), so it is dropped and the block entered again. */
        bool changed = b != NULL;
        b = blocks_decode(m, addr, size, b);
        if (!b)
            return;
        if (changed)
            tlb_remove_cache(m, addr, (uint64_t)addr + size);
        if (install_sites(m, b) || changed || m->end) {
            stop_before(m, b, m->end ? STOP_END : STOP_REDECODE);
            return;
        }
    }
    if (m->stop != STOP_NONE) {
        stop_before(m, b, m->stop);
        return;
    }
    if (m->tlb.cpu_walk || m->tlb.capture) {
        /* The CPU walks the instruction whose walk faulted (tlb_fault_rerun), or runs it again
         * over the guard frame (trap-ept, tlb_capture_begin): its block runs now, whatever the
         * deadline (the instruction faults before anything retires), and the next block goes
         * back to the model's fills. A block that did not fault was an implicit supervisor
         * access at CPL 3, which only the CPU's walk tells apart. */
        if (m->tlb_rerun_blocks++ > 0)
            stop_before(m, b, STOP_REDECODE);
        else
            account(m, b);
        return;
    }
    if (m->in_tail) {
        /* Running a tail: count the first block (the CPU ends it at the exit address); the
         * block at the exit address must not run. */
        if (m->in_tail == 1) {
            m->in_tail = 2;
            account(m, b);
        } else {
            stop_before(m, b, STOP_DEADLINE);
        }
        return;
    }
    {
        struct l1_entry *e = &m->l1[L1_INDEX(addr, size)];
        *e = (struct l1_entry){.addr = addr, .size = (uint16_t)size, .n = b->n,
                               .epoch = b->epoch, .cpl = b->cpl, .sites = b->nsites != 0,
                               .b = b};
    }
    uint64_t due = due_time(m);
    if (m->time >= due) {
        stop_before(m, b, STOP_DEADLINE);
        return;
    }
    if (m->irq_window && !in_shadow(m, addr) && m->mode->irq_open(m)) {
        stop_before(m, b, STOP_IRQ);
        return;
    }
    if (m->time + b->n > due) {
        m->tail_insns = due - m->time;
        m->tail_block = b;
        stop_before(m, b, STOP_TAIL);
        return;
    }
    account(m, b);
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    struct machine *m = opaque;
    const struct l1_entry *e = &m->l1[L1_INDEX((uint32_t)addr, size)];
    if (__builtin_expect(e->addr == (uint32_t)addr && e->size == size &&
                         m->time + e->n <= m->deadline && e->epoch == BLOCK_EPOCH_NOW(m, e->cpl), 1)) {
        if (e->sites) {
            account(m, e->b);
            return;
        }
        m->time += e->n;
        m->insn_cpl[e->cpl] += e->n;
        m->cur = e->b;
        return;
    }
    struct block *b = bc_lookup(&m->bc, (uint32_t)addr, size);
    if (__builtin_expect(b && m->time + b->n <= m->deadline && b->epoch == BLOCK_EPOCH_NOW(m, b->cpl),
                         1)) {
        account(m, b);
        return;
    }
    block_slow(m, (uint32_t)addr, size, b);
}

/* ---- exceptions ---------------------------------------------------------------------------- */

static void check_wall_pass(struct machine *m);

/* Handle the exception just noted in pending_exc here, in the interrupt hook, when the exit loop
 * would do nothing but hand it to the mode and resume (the mode delivers it through the guest's
 * IDT: mode op exception_in_hook): delivery writes the handler's EIP through the API, and a write
 * of EIP in a hook moves execution (emu/UNICORN.md 11), so the CPU goes on at the handler without
 * the stop and restart of uc_emu_start, which cost about as much as the delivery itself. What the
 * loop does between a stop and the next start is nothing here (no block to settle, no timer
 * tail, no interrupt the guest would take: none pending, or IF closed, which the event does not
 * open — mode op exception_in_hook says no to one that might) or done here (the end of the
 * CPU's own walk after a faulted fill, the wall clock, the deadline). False when any of that does
 * not hold, or without the direct view of the CPU state (uc_quirks.h: a patch would restore a
 * whole saved context in the middle of the CPU's run): the loop takes it. A run that ends in the
 * hook (a triple fault, the wall clock) stops as from any hook, even after delivery wrote EIP
 * (emu/UNICORN.md 11). */
static bool exception_here(struct machine *m)
{
    if (!m->mode->exception_in_hook || !uq_direct(&m->quirks) || m->end ||
        m->stop != STOP_NONE || m->stop_block || m->redirect_eip || m->in_tail || m->tail_hook ||
        m->tlb.capture || (pic_intr(&m->pic) && m->mode->irq_open(m)) ||
        !m->mode->exception_in_hook(m, &m->pending_exc))
        return false;
    tlb_after_stop(m);     /* a #PF of the CPU's own walk (tlb_fault_rerun): back to the model */
    m->in_intr_hook = true;
    struct action a = funnel_exception(m, &m->pending_exc);
    m->in_intr_hook = false;
    if (!m->end && (a.kind != ACT_RESUME || (pic_intr(&m->pic) && m->mode->irq_open(m)))) {
        /* The handling turned out to need the exit loop after all — an action other than
         * resume (a guest changed a multicall's later entries under it to a blocking one), or
         * an interrupt it raised that may be taken now: the CPU stops here, at the EIP the
         * handling wrote, and the loop carries the action out and takes the interrupt, as it
         * would have had the exception stopped the CPU. */
        m->deferred_kind = (int)a.kind;
        m->deferred_vector = a.vector;
        m->deferred_error = a.error;
        m->stop_block = NULL;
        m->stop = STOP_ACTION;
        uc_emu_stop(m->uc);
        return true;
    }
    if (!m->end)
        check_wall_pass(m);
    if (!m->end)
        update_deadline(m);
    return true;
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *opaque)
{
    struct machine *m = opaque;
    struct xevent *x = &m->pending_exc;
    memset(x, 0, sizeof *x);
    uint32_t err = 0;
    int is_int = 0;
    uq_exception_info(&m->quirks, uc, &err, &is_int);
    x->vector = (uint8_t)intno;
    x->eip = uq_eip(&m->quirks, uc);
    x->insn_eip = x->eip;
    if (is_int) {
        x->kind = XK_SOFTINT;
    } else {
        x->kind = XK_FAULT;
        x->has_error = vector_has_error_code(intno);
        x->error = err;
        if (intno == 14)
            x->cr2 = uq_cr2(&m->quirks, uc);
    }
    const struct block *b = m->cur;
    if (b && x->eip >= b->addr && x->eip <= b->addr + b->size) {
        bool fetch = intno == 14 && x->eip == b->addr && x->cr2 - x->eip < 16;
        unsigned idx = (unsigned)block_index_of(b, x->eip);
        if (is_int && idx > 0)
            x->insn_eip = b->addr + b->offs[idx - 1];
        if (!fetch && idx < b->n) {
            uncount_from(m, b, idx);
            /* The rest of b is no longer counted: a fault at its next instruction before another
             * block starts (a monitor emulated this one and resumed after it, and the fetch
             * there faults) must not take it back again. */
            m->cur = NULL;
        }
    }
    if (exception_here(m))
        return;
    m->stop_block = NULL;
    m->stop = STOP_EXCEPTION;
    uc_emu_stop(uc);
}

static bool hook_invalid(uc_engine *uc, void *opaque)
{
    /* Returning true lets Unicorn go on to report #UD (vector 6) to the interrupt hook, which
     * handles it like every other fault (measured on 2.1.1; doing the work here as well counted
     * the instruction back twice). */
    (void)uc;
    (void)opaque;
    return true;
}

/* ---- port I/O ------------------------------------------------------------------------------ */

/* A port access no site hook announced: the block was decoded before the guest wrote this I/O
 * instruction into it (or a string instruction repeats). If the block's bytes changed, both
 * epochs move so that it is decoded again, with its sites, before it next runs; this access is
 * recorded at the block's start, the EIP Unicorn reports in I/O hooks (emu/UNICORN.md 8). */
static void unannounced_io(struct machine *m)
{
    struct block *b = (struct block *)m->cur;
    if (b && !blocks_verify(m, b)) {
        m->kepoch++;
        m->epoch++;
        m->io_eip = b->addr;
        m->io_cpl = b->cpl;
    }
}

static uint32_t hook_in(uc_engine *uc, uint32_t port, int size, void *opaque)
{
    struct machine *m = opaque;
    if (m->end)
        return 0xffffffffu;
    if (m->io_idx < 0)
        unannounced_io(m);
    uint32_t v = 0;
    funnel_port(m, (uint16_t)port, size, true, &v, m->io_eip, m->io_cpl);
    update_deadline(m);
    m->io_idx = -1;
    return v;
}

static void hook_out(uc_engine *uc, uint32_t port, int size, uint32_t value, void *opaque)
{
    struct machine *m = opaque;
    if (m->end)
        return;
    if (m->io_idx < 0)
        unannounced_io(m);
    funnel_port(m, (uint16_t)port, size, false, &value, m->io_eip, m->io_cpl);
    if (m->end && m->io_idx >= 0 && m->cur) {
        /* The run ended on this instruction: what follows in the block is not retired. */
        uncount_from(m, m->cur, (unsigned)m->io_idx + 1);
    }
    update_deadline(m);
    m->io_idx = -1;
}

int run_install_hooks(struct machine *m, char *errbuf, unsigned errlen)
{
    uc_hook h;
    uc_err e = uc_hook_add(m->uc, &h, UC_HOOK_BLOCK, (void *)hook_block, m, 1, 0);
    if (!e) e = uc_hook_add(m->uc, &h, UC_HOOK_INTR, (void *)hook_intr, m, 1, 0);
    if (!e) e = uc_hook_add(m->uc, &h, UC_HOOK_INSN, (void *)hook_in, m, 1, 0, UC_X86_INS_IN);
    if (!e) e = uc_hook_add(m->uc, &h, UC_HOOK_INSN, (void *)hook_out, m, 1, 0, UC_X86_INS_OUT);
    if (!e) e = uc_hook_add(m->uc, &h, UC_HOOK_INSN_INVALID, (void *)hook_invalid, m, 1, 0);
    if (e) {
        snprintf(errbuf, errlen, "unicorn: cannot install hooks: %s", uc_strerror(e));
        return -1;
    }
    /* No `until` address: the loop stops the CPU through hooks only. */
    uc_ctl_exits_enable(m->uc);
    return 0;
}

/* ---- the exit loop ------------------------------------------------------------------------- */

/* The wall-clock limit, checked against the host's clock: every few exits (check_wall_pass),
 * every WALL_SLOW_BLOCKS blocks the fast path did not know, at every deadline and every step of a
 * halt, so a guest whose time crawls (every block new: code running through memory, or rewritten
 * as it runs) is held to --timeout as well as one that runs fast. */
static void check_wall(struct machine *m)
{
    if (m->cfg.wall_limit > 0 && !m->end && wall_now() - m->wall_start >= m->cfg.wall_limit)
        machine_end(m, END_LIMIT, EXIT_STATUS_LIMIT,
                    "wall-clock limit of %.1f s reached after %llu instructions",
                    m->cfg.wall_limit, (unsigned long long)machine_retired(m));
}

/* check_wall for the exit loop, which passes here at every exit: reading the clock costs about
 * as much as a pass that delivers one exception, so it is read every WALL_PASSES passes or once
 * WALL_INSNS instructions of guest time went by since the last read, whichever comes first. A
 * pass is short or runs guest time (bounded by WALL_INSNS); the rest of what takes host time is
 * checked where it is spent (block_slow's blocks, halt's steps through check_limits), so a
 * crawling guest is still held to --timeout. */
static void check_wall_pass(struct machine *m)
{
    if (++m->wall_passes < WALL_PASSES && m->time - m->wall_read_at < WALL_INSNS)
        return;
    m->wall_passes = 0;
    m->wall_read_at = m->time;
    check_wall(m);
}

static void check_limits(struct machine *m)
{
    if (m->cfg.max_insns && m->time >= m->cfg.max_insns) {
        machine_end(m, END_LIMIT, EXIT_STATUS_LIMIT,
                    "instruction limit reached: %llu instructions of guest time",
                    (unsigned long long)m->time);
        return;
    }
    check_wall(m);
    if (m->time >= m->next_wall_check) {
        m->next_wall_check = m->time + WALL_CHECK_INSNS;
        if (m->progress)
            m->progress(m->progress_opaque, m);
    }
}

static void carry_out(struct machine *m, struct action a);

static void take_interrupt_if_any(struct machine *m, bool window)
{
    if (!pic_intr(&m->pic))
        return;
    uint32_t eip = reg32(m, UC_X86_REG_EIP);
    if (in_shadow(m, eip) || !m->mode->irq_open(m))
        return;
    struct xevent x;
    memset(&x, 0, sizeof x);
    x.kind = XK_EXTINT;
    x.vector = pic_ack(&m->pic, &x.irq);
    x.eip = x.insn_eip = eip;
    x.after_window = window;
    carry_out(m, funnel_interrupt(m, &x));
}

static void hook_tail(uc_engine *uc, uint64_t addr, uint32_t size, void *opaque)
{
    struct machine *m = opaque;
    if (m->tail_done >= m->tail_insns) {
        uc_emu_stop(uc);
        return;
    }
    m->tail_done++;
}

/* Delete a tail's code hook that run_tail left in place. */
static void end_tail_hook(struct machine *m)
{
    if (!m->tail_hook)
        return;
    tlb_host_begin(m);
    uc_hook_del(m->uc, m->tail_hook);
    tlb_host_end(m);
    tlb_remove_cache(m, m->tail_hook_addr, (uint64_t)m->tail_hook_addr + m->tail_hook_size);
    m->tail_hook = 0;
}

/* Run exactly m->tail_insns instructions of the block at EIP (a deadline falls inside it). */
static uc_err run_tail(struct machine *m)
{
    uint32_t eip = reg32(m, UC_X86_REG_EIP);
    struct block *t = m->tail_block;
    if (!t || t->addr != eip || m->tail_insns == 0 || m->tail_insns >= t->n) {
        /* The CPU ran past the requested stop: the deadline is reached late, here. */
        pit_update(&m->pit, m->time);
        check_limits(m);
        return UC_ERR_OK;
    }
    uint64_t stop_at = (uint64_t)t->addr + t->offs[m->tail_insns];
    m->in_tail = 1;
    m->stop = STOP_NONE;
    /* A code hook on this block alone counts instructions and stops in front of the one at the
     * deadline (a stop from a code hook is precise). Two other ways were tried and measured
     * wrong: an exit address left EIP at the block start after part of the block had run, and
     * uc_emu_start's own count flushes every translated block on each call and miscounted. */
    uc_hook h;
    m->tail_done = 0;
    if (uc_hook_add(m->uc, &h, UC_HOOK_CODE, (void *)hook_tail, m, t->addr,
                    (uint64_t)t->addr + t->size - 1) != UC_ERR_OK) {
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL, "unicorn: cannot hook a timer tail");
        return UC_ERR_OK;
    }
    tlb_remove_cache(m, t->addr, (uint64_t)t->addr + t->size);
    uc_err e = uc_emu_start(m->uc, eip, 0, 0, 0);
    m->in_tail = 0;
    if (e == UC_ERR_EXCEPTION && m->tlb.fault) {
        /* A walk faulted in the tail: deleting the hook now, with the CPU stopped by the
         * fault, crashes Unicorn 2.1.1 (emu/UNICORN.md 23). The hook stays, inert, until the
         * CPU has walked the instruction again (end_tail_hook). */
        m->tail_insns = UINT64_MAX;
        m->tail_hook = h;
        m->tail_hook_addr = t->addr;
        m->tail_hook_size = t->size;
        return e;
    }
    tlb_host_begin(m);
    uc_hook_del(m->uc, h);
    tlb_host_end(m);
    tlb_remove_cache(m, t->addr, (uint64_t)t->addr + t->size);
    settle_stop(m);
    /* The block hook counted the block it saw whole (with the exit compiled in, the CPU may have
     * split it at the exit address): take back what lies beyond the exit. */
    if (e == UC_ERR_OK && m->stop != STOP_EXCEPTION && m->stop != STOP_ACTION &&
        m->stop != STOP_END &&
        reg32(m, UC_X86_REG_EIP) == (uint32_t)stop_at) {
        m->stop = STOP_NONE;
        if (m->cur && stop_at >= m->cur->addr && stop_at < (uint64_t)m->cur->addr + m->cur->size)
            uncount_from(m, m->cur, (unsigned)block_index_of(m->cur, (uint32_t)stop_at));
    }
    return e;
}

/* The guest halted (EIP past its hlt, or its blocking call): let guest time pass until an
 * interrupt can be taken and, if the mode asks, until the guest stops waiting; or end the run
 * if nothing can wake the guest. */
static void halt(struct machine *m)
{
    uint32_t eip = reg32(m, UC_X86_REG_EIP);
    ev_record(&m->ev, m->time, EV_HALT, 0, "", 0, eip - 1, machine_cpl(m));
    uint64_t storm_at = UINT64_MAX;
    unsigned storm = 0;
    for (unsigned idle_edges = 0; !m->end; idle_edges++) {
        if (pic_intr(&m->pic) && m->mode->irq_open(m)) {
            take_interrupt_if_any(m, false);
            if (m->end || !m->mode->still_halted || !m->mode->still_halted(m))
                return;
            /* Still waiting (a blocked PV domain the interrupt brought no event): the wait starts
             * again, but an interrupt source that never lets guest time pass ends the run. */
            idle_edges = 0;
            storm = m->time == storm_at ? storm + 1 : 0;
            storm_at = m->time;
            if (storm > HALT_STORM_GIVE_UP) {
                machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                            "guest waits at EIP 0x%08x while interrupts keep arriving and no "
                            "guest time passes (%u at instruction %llu)", eip - 1, storm,
                            (unsigned long long)m->time);
                return;
            }
            check_limits(m);
            continue;
        }
        if (!m->mode->irq_open(m)) {
            machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                        "guest halted with interrupts disabled at EIP 0x%08x: nothing can wake it",
                        eip - 1);
            return;
        }
        uint64_t next = due_time(m);
        if (next == UINT64_MAX || idle_edges > HALT_IDLE_GIVE_UP) {
            machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                        "guest halted at EIP 0x%08x and no enabled interrupt source can wake it",
                        eip - 1);
            return;
        }
        if (next > m->time) {
            m->idle += next - m->time;
            m->time = next;
        }
        pit_update(&m->pit, m->time);
        check_limits(m);
    }
}

/* The action an exception handled in the interrupt hook left for the loop (STOP_ACTION). */
static struct action deferred(const struct machine *m)
{
    return (struct action){.kind = (enum action_kind)m->deferred_kind,
                           .vector = m->deferred_vector, .error = m->deferred_error};
}

/* Do what a handler asked (emu/modes/mode.h, struct action), at an exception or interrupt. A
 * fault it raises goes through the funnel like one the CPU raised. */
static void carry_out(struct machine *m, struct action a)
{
    for (unsigned depth = 0;; depth++) {
        switch (a.kind) {
        case ACT_RESUME: case ACT_END:
            return;
        case ACT_HALT:
            halt(m);
            return;
        case ACT_SKIP:
            machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                        "mode %s asked to skip an instruction outside an intercepted one",
                        m->mode->name);
            return;
        case ACT_RAISE: {
            uint32_t eip = reg32(m, UC_X86_REG_EIP);
            if (depth == 4) {
                machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                            "mode %s raised faults in a loop at EIP 0x%08x", m->mode->name, eip);
                return;
            }
            struct xevent x = {.kind = XK_FAULT, .vector = a.vector, .error = a.error,
                               .has_error = vector_has_error_code(a.vector), .eip = eip,
                               .insn_eip = eip};
            a = funnel_exception(m, &x);
            break;
        }
        }
    }
}

/* A fill's walk faulted and the CPU did not walk it in place (emu/tlb.h: trap-ept, an implicit
 * supervisor access at CPL 3): the CPU stopped at the faulting instruction, whose block was
 * counted whole; the instructions from it on did not run. The CPU then walks that instruction
 * again itself, raising the #PF with the exact CR2 and error code. */
static void ept_guest_pf(struct machine *m, uint32_t eip, uint32_t cr2);

static void tlb_walk_fault(struct machine *m)
{
    uint32_t eip = reg32(m, UC_X86_REG_EIP);
    const struct block *b = m->cur;
    if (b && eip >= b->addr && eip < b->addr + b->size) {
        uncount_from(m, b, (unsigned)block_index_of(b, eip));
        m->cur = NULL;
    }
    if (m->tlb.ept_fault != EPT_OK) {
        /* trap-ept: the EPT refused the walk: an exit the monitor handles; the instruction then
         * runs again (nothing to deliver, so no walk by the CPU). */
        bool misconfig = m->tlb.ept_fault == EPT_MISCONFIG;
        m->tlb.fault = false;
        m->tlb.ept_fault = EPT_OK;
        carry_out(m, funnel_ept(m, m->tlb.ept_gpa, misconfig, eip));
        return;
    }
    m->tlb_rerun_blocks = 0;
    if (m->tlb.ept) {
        if (m->tlb.fault_fetch) {
            /* A fetch: the faulting byte is EIP, or the page's first for an instruction that
             * crosses into it. */
            m->tlb.fault = false;
            uint32_t cr2 = (eip & ~0xfffu) == m->tlb.fault_lin ? eip : m->tlb.fault_lin;
            ept_guest_pf(m, eip, cr2);
        } else {
            tlb_capture_begin(m, eip);
        }
        return;
    }
    tlb_fault_rerun(m);
}

/* trap-ept: the guest's #PF at `eip`, CR2 exact (from the second pass, or a fetch's EIP), error
 * code from vmlab's walk: delivered as the CPU would (the instruction did not retire). */
static void ept_guest_pf(struct machine *m, uint32_t eip, uint32_t cr2)
{
    struct xevent x = {.kind = XK_FAULT, .vector = 14, .has_error = true,
                       .error = m->tlb.fault_err, .eip = eip, .insn_eip = eip, .cr2 = cr2};
    /* The CPU loads CR2 when it raises the #PF, before delivery (which may end in a #DF). */
    if (uq_exception_done(&m->quirks, m->uc, &cr2) < 0) {
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL, "unicorn refused CR2 at EIP 0x%08x",
                    eip);
        return;
    }
    carry_out(m, funnel_exception(m, &x));
}

/* trap-ept, after the second pass of a guest #PF (tlb_capture_begin): if its access reached the
 * guard frame, nothing of the instruction retired: EIP back to it, its block's count taken back,
 * the #PF delivered. If the pass ended otherwise (a deadline before the block ran), it is armed
 * again at the next run; if the instruction ran past without touching the page, nothing more. */
static bool ept_capture_end(struct machine *m, uc_err e)
{
    uint32_t cr2, eip = m->tlb.capture_eip;
    bool unmapped = e == UC_ERR_READ_UNMAPPED || e == UC_ERR_WRITE_UNMAPPED;
    if (tlb_capture_found(m, &cr2) && unmapped) {
        uc_reg_write(m->uc, UC_X86_REG_EIP, &eip);
        const struct block *b = m->cur;
        if (b && eip >= b->addr && eip < b->addr + b->size) {
            uncount_from(m, b, (unsigned)block_index_of(b, eip));
            m->cur = NULL;
        }
        ept_guest_pf(m, eip, cr2);
        return true;
    }
    if (!unmapped && e == UC_ERR_OK && reg32(m, UC_X86_REG_EIP) == eip && !m->end)
        tlb_capture_begin(m, eip);   /* stopped before the instruction ran: again */
    return false;
}

static void handle_uc_error(struct machine *m, uc_err e)
{
    uint32_t eip = reg32(m, UC_X86_REG_EIP);
    switch (e) {
    case UC_ERR_READ_UNMAPPED: case UC_ERR_WRITE_UNMAPPED: case UC_ERR_FETCH_UNMAPPED:
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "guest accessed physical memory outside its %llu MiB of RAM (EIP 0x%08x): %s",
                    (unsigned long long)(m->ram_size >> 20), eip, uc_strerror(e));
        break;
    default:
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL, "unicorn stopped: %s (EIP 0x%08x)",
                    uc_strerror(e), eip);
        break;
    }
}

int machine_run(struct machine *m)
{
    m->wall_start = wall_now();
    m->next_wall_check = WALL_CHECK_INSNS;
    bool window = false;
    while (!m->end) {
        check_wall_pass(m);
        if (m->end)
            break;
        /* A rerun continues the run the fill's fault cut: no interrupt comes between. */
        if (!m->tlb.cpu_walk && !m->tlb.capture)
            take_interrupt_if_any(m, window);
        window = false;
        if (m->end)
            break;
        update_deadline(m);
        if (m->tlb.cpu_walk || m->tlb.capture)
            m->deadline = 0;      /* every block through block_slow: stop after the first */
        m->stop = STOP_NONE;
        uint32_t eip = reg32(m, UC_X86_REG_EIP);
        uc_err e = uc_emu_start(m->uc, eip, 0, 0, 0);
        settle_stop(m);
        tlb_after_stop(m);
        end_tail_hook(m);
        if (m->end)
            break;
        if (m->tlb.capture && ept_capture_end(m, e))
            continue;
        if (e == UC_ERR_EXCEPTION && m->tlb.fault) {
            tlb_walk_fault(m);
            continue;
        }
        if (e != UC_ERR_OK) {
            handle_uc_error(m, e);
            break;
        }
        switch (m->stop) {
        case STOP_EXCEPTION:
            carry_out(m, funnel_exception(m, &m->pending_exc));
            break;
        case STOP_ACTION:
            carry_out(m, deferred(m));
            break;
        case STOP_DEADLINE:
            pit_update(&m->pit, m->time);
            check_limits(m);
            break;
        case STOP_TAIL:
            e = run_tail(m);
            if (e == UC_ERR_EXCEPTION && m->tlb.fault && !m->end)
                tlb_walk_fault(m);
            else if (e != UC_ERR_OK && !m->end)
                handle_uc_error(m, e);
            else if (m->stop == STOP_EXCEPTION && !m->end)
                carry_out(m, funnel_exception(m, &m->pending_exc));
            else if (m->stop == STOP_ACTION && !m->end)
                carry_out(m, deferred(m));
            break;
        case STOP_IRQ:
            window = true;
            break;
        case STOP_REDECODE: case STOP_END:
            break;
        case STOP_NONE: {
            uint32_t now_eip = reg32(m, UC_X86_REG_EIP);
            if (m->cur && m->cur->ends_hlt && now_eip == m->cur->addr + m->cur->size)
                halt(m);
            else
                machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                            "the CPU stopped for no known reason at EIP 0x%08x", now_eip);
            break;
        }
        }
    }
    machine_fold_counters(m);
    ev_flush_series(&m->ev);
    return m->exit_status;
}
