/*
 * machine.c — creating and tearing down a machine, and the small services every part uses:
 * ending the run with a reason, the exact current time, guest linear memory access.
 *
 * Guest RAM is an anonymous host mapping (lazily backed: a 256 MiB guest costs only the pages it
 * touches) handed to Unicorn with uc_mem_map_ptr at physical address 0, so the loader, exception
 * delivery and the monitors read and write guest memory with plain memcpy.
 */
#include "emu/machine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "emu/decode_cache.h"
#include "emu/modes/mode.h"
#include "emu/pc.h"
#include "emu/run.h"
#include "emu/events_record.h"

static void stdout_sink(void *opaque, uint8_t byte)
{
    fputc(byte, stdout);
    if (byte == '\n')
        fflush(stdout);
}

void machine_config_defaults(struct machine_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->ram_bytes = 256ull << 20;
    cfg->ips = 1000000000ull;
    cfg->epoch = 1767225600ull; /* 2026-01-01 00:00:00 UTC */
    cfg->cmdline = "";
    cfg->monitor_window = 0xffc00000u;  /* the top 4 MiB, as VMware's monitor */
    cfg->console = stdout_sink;
    cfg->diag = stderr;
}

struct machine *machine_create(const struct machine_config *cfg, char *errbuf, unsigned errlen)
{
    if (cfg->ram_bytes < (2ull << 20) || cfg->ram_bytes > (3ull << 30) ||
        (cfg->ram_bytes & 0xfff)) {
        snprintf(errbuf, errlen, "RAM size must be a multiple of 4 KiB between 2 MiB and 3 GiB");
        return NULL;
    }
    if (cfg->ips == 0) {
        snprintf(errbuf, errlen, "instructions per second must be positive");
        return NULL;
    }
    struct machine *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    m->guest_exit = -1;
    m->io_idx = -1;
    m->ram_size = cfg->ram_bytes;
    m->ram = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                  -1, 0);
    if (m->ram == MAP_FAILED) {
        m->ram = NULL;
        snprintf(errbuf, errlen, "cannot allocate %llu MiB of guest RAM: %s",
                 (unsigned long long)(m->ram_size >> 20), strerror(errno));
        machine_destroy(m);
        return NULL;
    }
    m->pm.ram = m->ram;
    m->pm.size = m->ram_size;
    uc_err e = uc_open(UC_ARCH_X86, UC_MODE_32, &m->uc);
    if (e != UC_ERR_OK) {
        snprintf(errbuf, errlen, "unicorn: %s", uc_strerror(e));
        machine_destroy(m);
        return NULL;
    }
    if (uq_calibrate(&m->quirks, m->uc, errbuf, errlen) < 0) {
        machine_destroy(m);
        return NULL;
    }
    e = uc_mem_map_ptr(m->uc, 0, m->ram_size, UC_PROT_ALL, m->ram);
    if (e != UC_ERR_OK) {
        snprintf(errbuf, errlen, "unicorn: cannot map guest RAM: %s", uc_strerror(e));
        machine_destroy(m);
        return NULL;
    }
    if (cs_open(CS_ARCH_X86, CS_MODE_32, &m->cs) != CS_ERR_OK ||
        cs_option(m->cs, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
        snprintf(errbuf, errlen, "capstone: cannot open an x86-32 decoder");
        machine_destroy(m);
        return NULL;
    }
    m->dcache = dcache_new();
    if (bc_init(&m->bc) < 0 || ev_init(&m->ev, cfg->bucket_width) < 0) {
        snprintf(errbuf, errlen, "out of memory");
        machine_destroy(m);
        return NULL;
    }
    m->phase_seen = 1;
    if (pc_build(m, errbuf, errlen) < 0 || run_install_hooks(m, errbuf, errlen) < 0 ||
        tlb_init(m, errbuf, errlen) < 0) {
        machine_destroy(m);
        return NULL;
    }
    return m;
}

void machine_destroy(struct machine *m)
{
    if (!m)
        return;
    if (m->cs)
        cs_close(&m->cs);
    dcache_free(m->dcache);
    uq_free(&m->quirks);
    if (m->uc)
        uc_close(m->uc);
    if (m->ram)
        munmap(m->ram, m->ram_size);
    if (m->mon_mem)
        munmap(m->mon_mem, m->mon_size);
    bc_free(&m->bc);
    tlb_free(m);
    sites_free(&m->sites);
    ev_free(&m->ev);
    free(m);
}

void machine_end(struct machine *m, enum run_end end, int status, const char *fmt, ...)
{
    if (m->end != END_NONE)
        return;
    m->end = end;
    m->exit_status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->message, sizeof m->message, fmt, ap);
    va_end(ap);
    m->stop = STOP_END;
    if (m->uc)
        uc_emu_stop(m->uc);
}

/* Instructions of the current block not yet retired while an I/O instruction executes. */
static uint64_t unretired(const struct machine *m)
{
    if (m->io_idx < 0 || !m->cur)
        return 0;
    return (uint64_t)(m->cur->n - (m->io_idx + 1));
}

uint64_t machine_now(const struct machine *m) { return m->time - unretired(m); }

uint64_t machine_retired(const struct machine *m)
{
    return m->time - m->idle - unretired(m);
}

void machine_paging_regs(struct machine *m, struct paging_regs *r)
{
    if (m->mode && m->mode->paging_regs) {
        m->mode->paging_regs(m, r);
        return;
    }
    machine_cpu_paging_regs(m, r);
}

void machine_cpu_paging_regs(struct machine *m, struct paging_regs *r)
{
    uint32_t cr[3];
    uq_paging(&m->quirks, m->uc, cr, NULL);
    *r = (struct paging_regs){cr[0], cr[1], cr[2]};
}

bool machine_if_set(struct machine *m)
{
    uint32_t eflags = 0;
    uc_reg_read(m->uc, UC_X86_REG_EFLAGS, &eflags);
    return (eflags & (1u << 9)) != 0;
}

int machine_cpl(struct machine *m)
{
    return uq_selector(&m->quirks, m->uc, UQ_CS) & 3;
}

int machine_read_lin_with(struct machine *m, const struct paging_regs *r,
                          struct paging_memo *memo, uint32_t lin, void *buf, uint32_t len,
                          bool user, uint32_t *fault_lin, uint32_t *pf_err)
{
    struct paging_access acc = {.write = false, .user = user, .set_ad = true, .memo = memo};
    return paging_read(r, &m->pm, lin, buf, len, &acc, fault_lin, pf_err);
}

int machine_write_lin_with(struct machine *m, const struct paging_regs *r,
                           struct paging_memo *memo, uint32_t lin, const void *buf, uint32_t len,
                           bool user, uint32_t *fault_lin, uint32_t *pf_err)
{
    struct paging_access acc = {.write = true, .user = user, .set_ad = true, .memo = memo};
    return paging_write(r, &m->pm, lin, buf, len, &acc, fault_lin, pf_err);
}

int machine_read_lin(struct machine *m, uint32_t lin, void *buf, uint32_t len, bool user,
                     uint32_t *fault_lin, uint32_t *pf_err)
{
    struct paging_regs r;
    machine_paging_regs(m, &r);
    return machine_read_lin_with(m, &r, NULL, lin, buf, len, user, fault_lin, pf_err);
}

int machine_write_lin(struct machine *m, uint32_t lin, const void *buf, uint32_t len, bool user,
                      uint32_t *fault_lin, uint32_t *pf_err)
{
    struct paging_regs r;
    machine_paging_regs(m, &r);
    return machine_write_lin_with(m, &r, NULL, lin, buf, len, user, fault_lin, pf_err);
}

bool machine_probe_lin(struct machine *m, uint32_t lin, uint32_t len, bool write)
{
    struct paging_regs r;
    machine_paging_regs(m, &r);
    struct paging_access acc = {.write = write, .user = false, .set_ad = false};
    uint8_t buf[16];
    uint32_t fl, pf;
    return len <= sizeof buf && paging_read(&r, &m->pm, lin, buf, len, &acc, &fl, &pf) == 0;
}

void machine_fold_counters(struct machine *m)
{
    /* While an I/O instruction (the phase-marker write) executes mid-block, the rest of the block
     * has been counted already but belongs to what comes after: hold it back during the fold. */
    const struct block *held = m->io_idx >= 0 ? m->cur : NULL;
    unsigned from = (unsigned)m->io_idx + 1;
    if (held)
        machine_count_block(m, held, from, (uint64_t)-1);
    for (int c = 0; c < 4; c++) {
        ev_add(&m->ev, EV_INSN, c, "", m->insn_cpl[c] - m->phase_mark_cpl[c], 0);
        m->phase_mark_cpl[c] = m->insn_cpl[c];
    }
    for (int i = 0; i < IC_COUNT; i++) {
        uint64_t d = m->priv[i] - m->priv_folded[i];
        if (d)
            ev_add(&m->ev, EV_PRIV, i, insn_class_name[i], d, 0);
        m->priv_folded[i] = m->priv[i];
    }
    for (unsigned i = 0; i < m->nmcounts; i++) {
        struct mcount *c = &m->mcounts[i];
        if (c->n != c->folded)
            ev_add(&m->ev, c->cls, c->reason, c->qual, c->n - c->folded, 0);
        c->folded = c->n;
    }
    tlb_fold(m);
    if (held)
        machine_count_block(m, held, from, 1);
}

int machine_mcount(struct machine *m, enum ev_class cls, int64_t reason, const char *qual)
{
    for (unsigned i = 0; i < m->nmcounts; i++)
        if (m->mcounts[i].cls == cls && m->mcounts[i].reason == reason &&
            strcmp(m->mcounts[i].qual, qual) == 0)
            return (int)i;
    if (m->nmcounts == MACHINE_MCOUNTS)
        return -1;
    m->mcounts[m->nmcounts] = (struct mcount){.cls = cls, .reason = reason, .qual = qual};
    return (int)m->nmcounts++;
}

int machine_map_monitor(struct machine *m, uint64_t bytes, uint32_t *phys, uint8_t **host)
{
    if (m->mon_mem)
        return -EEXIST;
    bytes = (bytes + 0xfff) & ~0xfffull;
    if (m->ram_size + bytes > (4ull << 30))
        return -ENOSPC;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        return -ENOMEM;
    if (uc_mem_map_ptr(m->uc, m->ram_size, bytes, UC_PROT_ALL, p) != UC_ERR_OK) {
        munmap(p, bytes);
        return -EINVAL;
    }
    m->mon_mem = p;
    m->mon_size = bytes;
    tlb_add_region(m, p, (uint32_t)m->ram_size, bytes);
    *phys = (uint32_t)m->ram_size;
    *host = p;
    return 0;
}

struct paging_memo *machine_kept_walks(struct machine *m, const struct paging_regs *pr)
{
    if (!m->mode || !m->mode->keep_walks)
        return NULL;
    if (m->walks_flushes != m->tlb.flushes || m->walks_regs.cr0 != pr->cr0 ||
        m->walks_regs.cr3 != pr->cr3 || m->walks_regs.cr4 != pr->cr4) {
        m->walks = (struct paging_memo){0};
        m->walks_flushes = m->tlb.flushes;
        m->walks_regs = *pr;
    }
    return &m->walks;
}

int machine_read_code(struct machine *m, uint32_t lin, void *buf, uint32_t len, bool user)
{
    struct paging_regs pr;
    uint32_t fl, pf;
    machine_paging_regs(m, &pr);
    return machine_read_lin_with(m, &pr, machine_kept_walks(m, &pr), lin, buf, len, user, &fl,
                                 &pf);
}

void machine_set_eip(struct machine *m, uint32_t eip)
{
    if (!m->in_intr_hook || uq_hook_set_eip(&m->quirks, eip) < 0)
        uc_reg_write(m->uc, UC_X86_REG_EIP, &eip);
}

void machine_retire_emulated(struct machine *m, int cls)
{
    int cpl = machine_cpl(m);
    m->time++;
    m->insn_cpl[cpl]++;
    if (cls >= 0 && cls < IC_COUNT)
        m->priv[cls]++;
}
