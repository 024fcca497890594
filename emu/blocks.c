/*
 * blocks.c — decode translated blocks once, count them cheaply forever after (see blocks.h).
 *
 * Decoding reads the block's bytes through the guest's page tables (machine_read_lin) and decodes
 * them with Capstone. (Unicorn's own per-TB instruction count, uc_ctl_request_cache, was tried as
 * a cross-check and found unreliable: it reports 2 instructions for a TB holding a single
 * `in al, 0x20` that carries a code hook.) Bytes Capstone cannot decode are guest input, never an
 * internal error. As the last instruction of the block they count as one instruction (the CPU
 * ends its block at an opcode it does not know, and raises #UD, which reaches the guest as every
 * fault does). With more of the block after them, the CPU would run them as an instruction
 * Capstone does not know (Unicorn lets some invalid encodings through, e.g. LOCK on SLDT): they
 * become a site of class `undefined`, at which the machine raises #UD before they run, as the
 * hardware does for an invalid opcode; the rest of the block never runs.
 */
#include "emu/blocks.h"

#include <stdlib.h>
#include <string.h>

#include "emu/insn_class.h"
#include "emu/machine.h"
#include "emu/modes/mode.h"

#define MAX_INSN_BYTES 15   /* the longest x86 instruction */

int bc_init(struct block_cache *bc)
{
    memset(bc, 0, sizeof *bc);
    bc->nslots = 1u << 16;
    bc->slots = calloc(bc->nslots, sizeof *bc->slots);
    return bc->slots ? 0 : -1;
}

static void block_free(struct block *b)
{
    free(b->offs);
    free(b->sites);
    free(b);
}

static void chain_free(struct block *b)
{
    while (b) {
        struct block *n = b->next;
        block_free(b);
        b = n;
    }
}

void bc_free(struct block_cache *bc)
{
    for (unsigned i = 0; bc->slots && i < bc->nslots; i++)
        chain_free(bc->slots[i]);
    chain_free(bc->retired);
    free(bc->slots);
    memset(bc, 0, sizeof *bc);
}

void blocks_forget(struct machine *m, uint32_t lo, uint64_t hi)
{
    struct block_cache *bc = &m->bc;
    for (unsigned i = 0; i < bc->nslots; i++)
        for (struct block **p = &bc->slots[i]; *p;) {
            struct block *b = *p;
            if (b->addr < lo || b->addr >= hi) {
                p = &b->next;
                continue;
            }
            *p = b->next;
            b->next = bc->retired;
            bc->retired = b;
            bc->nblocks--;
        }
    for (unsigned i = 0; i < L1_ENTRIES; i++)
        if (m->l1[i].addr >= lo && m->l1[i].addr < hi)
            memset(&m->l1[i], 0, sizeof m->l1[i]);
}

int block_index_of(const struct block *b, uint32_t eip)
{
    if (eip < b->addr)
        return 0;
    uint32_t off = eip - b->addr;
    int i = 0;
    while (i < b->n && b->offs[i] < off)
        i++;
    return i;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Through the guest's view of paging, unless the code is the mode's own (a monitor's translation
 * cache, which the guest's tables do not map; *own says which, if own is not NULL). */
static bool read_block(struct machine *m, uint32_t addr, uint32_t size, uint8_t *buf, int cpl,
                       bool *own)
{
    bool mine = m->mode && m->mode->read_code && m->mode->read_code(m, addr, buf, size) == 0;
    if (own)
        *own = mine;
    return mine || machine_read_code(m, addr, buf, size, cpl == 3) == 0;
}

static bool opens_shadow(const cs_insn *in)
{
    if (in->id == X86_INS_STI)
        return true;
    if ((in->id == X86_INS_MOV || in->id == X86_INS_POP) && in->detail &&
        in->detail->x86.op_count >= 1 && in->detail->x86.operands[0].type == X86_OP_REG &&
        in->detail->x86.operands[0].reg == X86_REG_SS)
        return true;
    return false;
}

static void unlink_block(struct block_cache *bc, struct block *old)
{
    struct block **pp = &bc->slots[bc_hash(old->addr, old->size, bc->nslots)];
    while (*pp && *pp != old)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = old->next;
        bc->nblocks--;
    }
}

/* A new site of class c for the instruction at byte `off` (len bytes) of b, the next to be
 * counted (index b->n); nsites and cap track b->sites' use and size. */
static struct site *add_site(struct block *b, unsigned *nsites, unsigned *cap, uint16_t off,
                             enum insn_class c, unsigned len, const uint8_t *bytes)
{
    if (*nsites == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        b->sites = realloc(b->sites, *cap * sizeof *b->sites);
        if (!b->sites)
            abort();
    }
    struct site *s = &b->sites[(*nsites)++];
    memset(s, 0, sizeof *s);
    s->off = off;
    s->idx = b->n;
    s->cls = (uint8_t)c;
    s->cr = -1;
    s->len = (uint8_t)len;
    s->sum = (uint32_t)hash_bytes(bytes, len);
    return s;
}

struct block *blocks_decode(struct machine *m, uint32_t addr, uint32_t size, struct block *stale)
{
    uint8_t buf[4096 + 16];
    int cpl = machine_cpl(m);
    if (size == 0 || size > 4096) {
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                    "block at 0x%08x has an unexpected size %u", addr, size);
        return NULL;
    }
    /* The CPU may end a block in the middle of an instruction it refuses to run (a privileged
     * instruction at CPL 3 stops translation after its opcode): read a little past the end so
     * the last instruction decodes whole; it counts if it starts inside the block. */
    uint32_t span = size + 15;
    bool own = false;
    if (!read_block(m, addr, span, buf, cpl, &own))
        span = size;
    if (span == size && !read_block(m, addr, size, buf, cpl, &own)) {
        machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                    "cannot read the code of the block at 0x%08x (%u bytes) being executed",
                    addr, size);
        return NULL;
    }
    struct block *b = calloc(1, sizeof *b);
    cs_insn *insn = cs_malloc(m->cs);
    if (!b || !insn)
        abort();
    b->addr = addr;
    b->size = (uint16_t)size;
    b->cpl = (uint8_t)cpl;
    b->offs = malloc(sizeof *b->offs * (size + 1));
    const uint8_t *code = buf;
    size_t left = span;
    uint64_t pc = addr;
    unsigned nsites = 0, cap = 0;
    while (pc < (uint64_t)addr + size) {
        uint16_t off = (uint16_t)(pc - addr);
        if (!cs_disasm_iter(m->cs, &code, &left, &pc, insn)) {
            if (size - off > MAX_INSN_BYTES)
                add_site(b, &nsites, &cap, off, IC_UNDEFINED, 1, buf + off);   /* #UD there */
            b->offs[b->n++] = off;
            break;
        }
        int cr;
        enum insn_class c = insn_classify(insn, &cr);
        /* The mode's own code (a translation) is not the guest's: its pushf/popf/int are how the
         * mode does its work, counted by the mode; only what the machine must hook stays. */
        if (own && !insn_class_hooked(c, cr))
            c = IC_NONE;
        int mc = -1;
        enum ev_class ecls;
        int64_t reason;
        const char *qual;
        if (own && m->mode->counted &&
            m->mode->counted(m, (uint32_t)(addr + off), &ecls, &reason, &qual) == 1 &&
            (mc = machine_mcount(m, ecls, reason, qual)) < 0) {
            machine_end(m, END_INTERNAL, EXIT_STATUS_INTERNAL,
                        "more than %d kinds of events counted in translated code", MACHINE_MCOUNTS);
            cs_free(insn, 1);
            block_free(b);
            return NULL;
        }
        if (mc >= 0)
            c = IC_NONE;
        if (c != IC_NONE || mc >= 0) {
            struct site *s = add_site(b, &nsites, &cap, off, c, insn->size, buf + off);
            s->cr = (int8_t)cr;
            s->mc = (uint8_t)(mc + 1);
            if ((c == IC_IN || c == IC_OUT || c == IC_INS || c == IC_OUTS) && insn->detail) {
                const cs_x86 *x = &insn->detail->x86;
                for (int k = 0; k < x->op_count; k++) {
                    const cs_x86_op *op = &x->operands[k];
                    if (op->type == X86_OP_IMM) {
                        s->port_imm = 1;
                        s->port = (uint8_t)op->imm;
                    } else if (!(op->type == X86_OP_REG && op->reg == X86_REG_DX) &&
                               op->size > s->io_size) {
                        s->io_size = op->size;
                    }
                }
                if (s->io_size == 0)
                    s->io_size = 1;
            }
        }
        b->offs[b->n++] = off;
        b->ends_hlt = insn->id == X86_INS_HLT;
        b->ends_shadow = opens_shadow(insn);
    }
    cs_free(insn, 1);
    b->nsites = (uint16_t)nsites;
    b->hash = hash_bytes(buf, size);
    b->epoch = BLOCK_EPOCH_NOW(m, cpl);
    if (stale) {
        /* The front cache may point at the block being replaced, in the one entry of its key. */
        struct l1_entry *e = &m->l1[L1_INDEX(addr, size)];
        if (e->b == stale)
            memset(e, 0, sizeof *e);
        unlink_block(&m->bc, stale);
        if (m->cur == stale)
            m->cur = NULL;
        block_free(stale);
    }
    unsigned h = bc_hash(addr, size, m->bc.nslots);
    b->next = m->bc.slots[h];
    m->bc.slots[h] = b;
    m->bc.nblocks++;
    m->bc.decodes++;
    return b;
}

bool blocks_verify(struct machine *m, struct block *b)
{
    uint8_t buf[4096 + 16];
    m->bc.verifies++;
    /* Bytes the guest's page tables no longer map are still what the CPU runs, from its TLB (a
     * guest may unmap its code without flushing): unreadable is not changed. */
    if (read_block(m, b->addr, b->size, buf, b->cpl, NULL) && hash_bytes(buf, b->size) != b->hash)
        return false;
    b->epoch = BLOCK_EPOCH_NOW(m, b->cpl);
    return true;
}

bool blocks_site_current(struct machine *m, const struct block *b, const struct site *s)
{
    uint8_t buf[MAX_INSN_BYTES + 1];
    /* Every execution of a site reads its bytes (through the kept walks: machine_read_code). */
    if (s->len > MAX_INSN_BYTES || !read_block(m, b->addr + s->off, s->len, buf, b->cpl, NULL))
        return true;     /* unreadable through the tables, run from the TLB: as decoded */
    return (uint32_t)hash_bytes(buf, s->len) == s->sum;
}
