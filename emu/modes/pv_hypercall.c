/*
 * pv_hypercall.c — the hypercalls of the `pv` mode (int 0x82: number in EAX, arguments in EBX,
 * ECX, EDX, ESI, EDI, result in EAX), with Xen's numbers, names and semantics as far as vmlab
 * models them (guests/include/pv_abi.h).
 *
 * Every hypercall is recorded once through the funnel (class hypercall, reason = number,
 * qualifier = Xen's name, count2 = elements of a batch). A guest mistake — bad number, bad pointer,
 * invalid page-table entry, ring-0 trap handler — is a negative errno in EAX and a refusal count;
 * nothing changes and the hypervisor goes on running the guest. Guest memory is read and written
 * through the guest's own page tables, as the guest's ring-1 view (never the hypervisor's frames).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "emu/funnel.h"
#include "emu/modes/pv.h"

#define MAX_BATCH 2048   /* updates per mmu_update / mmuext_op / multicall, as Xen's limit */
#define UART_THR_PORT 0x3f8   /* COM1 transmit holding register */
#define UART_LSR_PORT 0x3fd   /* COM1 line status register */
#define UART_LSR_THRE 0x20    /* transmit holding register empty */

typedef int32_t (*hc_fn)(struct machine *m, const uint32_t *a, uint64_t *batch);
static const hc_fn handlers[64];

static const char *const hc_name[64] = {
#define XEN_HYPERCALL(n, name) [n] = #name,
#include "emu/xen_hypercalls.def"
#undef XEN_HYPERCALL
};

static int get(struct machine *m, uint32_t lin, void *buf, uint32_t len)
{
    uint32_t fl, pf;
    return machine_read_lin(m, lin, buf, len, false, &fl, &pf) == 0 ? 0 : -EFAULT;
}

static int put(struct machine *m, uint32_t lin, const void *buf, uint32_t len)
{
    uint32_t fl, pf;
    return machine_write_lin(m, lin, buf, len, false, &fl, &pf) == 0 ? 0 : -EFAULT;
}

static void refuse(struct machine *m, const char *hypercall)
{
    funnel_work(m, WK_REFUSAL, 10, hypercall, 0, 0, 1, NULL);
}

const char *pv_hypercall_name(uint32_t nr)
{
    return nr < 64 && handlers[nr] ? hc_name[nr] : "unknown";
}


/* ---- memory --------------------------------------------------------------------------------- */

/* Xen's local TLB flush: CR3 written with its own value (the non-global entries go). */
static void reload_cr3(struct machine *m)
{
    uint64_t cr3 = 0;
    uc_reg_read(m->uc, UC_X86_REG_CR3, &cr3);
    tlb_set_cr(m, 3, cr3);
}

static int32_t do_mmu_update(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    struct pv *p = pv_of(m);
    uint32_t reqs = a[0], count = a[1], done_ptr = a[2];
    if (count > MAX_BATCH)
        return -EINVAL;
    uint32_t done = 0;
    int32_t rc = 0;
    for (; done < count; done++) {
        struct pv_mmu_update u;
        if ((rc = get(m, reqs + done * sizeof u, &u, sizeof u)) < 0)
            break;
        if ((u.ptr & 3) != MMU_NORMAL_PT_UPDATE || u.ptr >> 32 || u.val >> 32) {
            rc = -ENOSYS;
            break;
        }
        if ((rc = pvmm_mmu_update(&p->mm, (uint32_t)u.ptr & ~3u, (uint32_t)u.val)) < 0)
            break;
    }
    *batch = done;
    if (done)
        tlb_sync(m);    /* Xen does not flush here: the guest asks for flushes (mmuext_op) */
    if (done_ptr)
        put(m, done_ptr, &done, 4);
    return rc;
}

static int32_t do_update_va_mapping(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    struct pv *p = pv_of(m);
    uint32_t ptr;
    int32_t rc = pvmm_va_to_l1e(&p->mm, p->base, a[0], &ptr);
    if (rc == 0)
        rc = pvmm_mmu_update(&p->mm, ptr, a[1]);
    if (rc < 0)
        return rc;
    *batch = 1;
    /* The flush the guest asked for (flags & 3: UVMF_NONE, UVMF_TLB_FLUSH or UVMF_INVLPG, guests/include/pv_abi.h): none, the local TLB (Xen
     * reloads CR3) or one page. */
    switch (a[2] & 3) {
    case UVMF_TLB_FLUSH: reload_cr3(m); break;
    case UVMF_INVLPG: tlb_invlpg(m, a[0], false); break;
    default: tlb_sync(m); break;
    }
    return 0;
}

static int32_t do_mmuext_op(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    struct pv *p = pv_of(m);
    uint32_t ops = a[0], count = a[1], done_ptr = a[2];
    if (count > MAX_BATCH)
        return -EINVAL;
    uint32_t done = 0;
    int32_t rc = 0;
    for (; done < count; done++) {
        struct pv_mmuext_op op;
        if ((rc = get(m, ops + done * sizeof op, &op, sizeof op)) < 0)
            break;
        switch (op.cmd) {
        case MMUEXT_PIN_L1_TABLE: case MMUEXT_PIN_L2_TABLE:
            rc = pvmm_pin(&p->mm, op.arg1, op.cmd == MMUEXT_PIN_L1_TABLE ? 1 : 2);
            break;
        case MMUEXT_UNPIN_TABLE:
            rc = pvmm_unpin(&p->mm, op.arg1);
            break;
        case MMUEXT_NEW_BASEPTR:
            rc = pvmm_new_baseptr(&p->mm, op.arg1, &p->base);
            if (rc == 0)
                tlb_set_cr(m, 3, (uint64_t)p->base << 12);
            break;
        case MMUEXT_TLB_FLUSH_LOCAL:
            reload_cr3(m);
            break;
        case MMUEXT_INVLPG_LOCAL:
            tlb_invlpg(m, op.arg1, false);
            break;
        default:
            rc = -ENOSYS;
        }
        if (rc < 0)
            break;
    }
    *batch = done;
    if (done_ptr)
        put(m, done_ptr, &done, 4);
    return rc;
}

/* ---- CPU state ---------------------------------------------------------------------------------- */

static int32_t do_set_trap_table(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    struct pv *p = pv_of(m);
    struct pv_trap_info table[256];
    unsigned n = 0;
    for (; n < 256; n++) {
        if (get(m, a[0] + n * sizeof table[0], &table[n], sizeof table[0]) < 0)
            return -EFAULT;
        if (!table[n].address)
            break;
        /* No handler may run in ring 0: the guest kernel is ring 1. */
        if (table[n].cs != FLAT_RING1_CS)
            return -EPERM;
    }
    memset(p->traps, 0, sizeof p->traps);
    for (unsigned i = 0; i < n; i++)
        p->traps[table[i].vector] = table[i];
    *batch = n;
    pv_build_idt(m);
    return 0;
}

static int32_t do_stack_switch(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    struct pv *p = pv_of(m);
    if (a[0] != FLAT_RING1_DS)
        return -EPERM;
    uint32_t esp1 = a[1], ss1 = PV_SEL_DS1;
    memcpy(m->ram + p->tss_pa + 12, &esp1, 4);
    memcpy(m->ram + p->tss_pa + 16, &ss1, 4);
    return 0;
}

static int32_t do_set_callbacks(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    struct pv *p = pv_of(m);
    if (a[0] != FLAT_RING1_CS)
        return -EPERM;
    p->event_eip = a[1];
    pv_build_idt(m);
    return 0;
}

/* ---- time, events, scheduling, console ------------------------------------------------------ */

static int32_t do_set_timer_op(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    struct pv *p = pv_of(m);
    p->timer_deadline = (uint64_t)a[0] | ((uint64_t)a[1] << 32);
    pv_arm_timer(m);
    return 0;
}

static int32_t do_event_channel_op(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    struct pv *p = pv_of(m);
    if (a[0] == EVTCHNOP_bind_virq) {
        struct pv_evtchn_bind_virq b;
        if (get(m, a[1], &b, sizeof b) < 0)
            return -EFAULT;
        if (b.virq != VIRQ_TIMER || b.vcpu != 0)
            return -EINVAL;
        p->timer_bound = true;
        b.port = PV_TIMER_PORT;
        return put(m, a[1], &b, sizeof b);
    }
    if (a[0] == EVTCHNOP_send) {
        uint32_t port;
        if (get(m, a[1], &port, 4) < 0)
            return -EFAULT;
        if (port == 0 || port >= PV_EVTCHN_PORTS)
            return -EINVAL;
        pv_evtchn_set_pending(m, port);
        return 0;
    }
    return -ENOSYS;
}

static int32_t do_sched_op(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    struct pv_shared_info *s = pv_shared(m);
    switch (a[0]) {
    case SCHEDOP_yield:
        return 0;
    case SCHEDOP_block:
        /* Xen's block: events are unmasked; the domain sleeps until one is pending (the exit
         * loop halts it after the call returns, see pv.c). */
        s->vcpu_info.evtchn_upcall_mask = 0;
        pv_of(m)->blocked = !s->vcpu_info.evtchn_upcall_pending;
        return 0;
    case SCHEDOP_shutdown: {
        struct pv_sched_shutdown sd;
        if (get(m, a[1], &sd, sizeof sd) < 0)
            return -EFAULT;
        int code = sd.reason == SHUTDOWN_poweroff ? (int)sd.exit_code : 0x11;
        m->guest_exit = code;
        machine_end(m, END_GUEST_EXIT, (code << 1) | 1, "guest shut down (reason %u, code 0x%x)",
                    sd.reason, code);
        return 0;
    }
    default:
        return -ENOSYS;
    }
}

/* One byte onto the console UART, the way the native kernel's driver puts it there: wait for the
 * transmit holding register (LSR.THRE), then write it. */
static void uart_putc(struct machine *m, uint8_t c)
{
    for (unsigned tries = 0; !(pv_hv_inb(m, UART_LSR_PORT) & UART_LSR_THRE) && tries < 1000;
         tries++)
        ;
    pv_hv_outb(m, UART_THR_PORT, c);
}

static int32_t do_console_io(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    if (a[0] != CONSOLEIO_write)
        return -ENOSYS;
    uint32_t n = a[1];
    if (n > 65536)
        return -EINVAL;
    char buf[256];
    for (uint32_t off = 0; off < n; off += sizeof buf) {
        uint32_t k = n - off < sizeof buf ? n - off : sizeof buf;
        if (get(m, a[2] + off, buf, k) < 0)
            return -EFAULT;
        for (uint32_t i = 0; i < k; i++)
            uart_putc(m, (uint8_t)buf[i]);
    }
    *batch = n;
    return (int32_t)n;
}

/* physdev_op: PHYSDEVOP_set_iopl sets the domain's virtual IOPL (Xen's; the real one stays 0). */
static int32_t do_physdev_op(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    if (a[0] != PHYSDEVOP_set_iopl)
        return -ENOSYS;
    struct pv_physdev_set_iopl op;
    if (get(m, a[1], &op, sizeof op) < 0)
        return -EFAULT;
    if (op.iopl > 3)
        return -EINVAL;
    pv_of(m)->iopl = op.iopl;
    return 0;
}

static int32_t do_xen_version(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    return a[0] == XENVER_version ? (int32_t)((3u << 16) | 0u) : -ENOSYS;
}

/* HYPERVISOR_iret: the guest pushed struct pv_iret_context and calls the hypervisor to return from
 * an event or exception, as current Xen does it for a 32-bit PV guest: the event mask restored
 * from the frame's IF, the real IF forced on, the frame's IOPL made the domain's virtual IOPL
 * (the real one stays 0), NT dropped (no task switch for a PV kernel). vmlab has no virtual-8086
 * mode: a frame with VM set, or a CS of ring 2, is refused with a #GP to the guest kernel at its
 * call (nothing changed); one returning to ring 0 crashes the domain, as Xen does. */
static int32_t do_iret(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    struct pv_iret_context c;
    uint32_t esp = 0;
    uc_reg_read(m->uc, UC_X86_REG_ESP, &esp);
    if (get(m, esp, &c, sizeof c) < 0)
        return -EFAULT;
    if ((c.cs & 3) == 0) {
        machine_end(m, END_GUEST_FAILURE, EXIT_STATUS_GUEST_FAILURE,
                    "pv: HYPERVISOR_iret to a ring-0 CS (0x%x) at EIP 0x%08x: the domain is "
                    "crashed, as Xen does", c.cs, c.eip);
        return -EINVAL;
    }
    if ((c.eflags & (1u << 17)) || (c.cs & 3) == 2) {
        pv_of(m)->iret_gp = true;
        return -EINVAL;
    }
    pv_shared(m)->vcpu_info.evtchn_upcall_mask = (c.eflags & (1u << 9)) ? 0 : 1;
    pv_of(m)->iopl = (c.eflags >> 12) & 3;
    int ring = (c.cs & 3) == 3 ? 3 : 1;
    struct uq_seg cs, ss;
    pv_seg(m, ring == 3 ? PV_SEL_CS3 : PV_SEL_CS1, &cs);
    pv_seg(m, ring == 3 ? PV_SEL_DS3 : PV_SEL_DS1, &ss);
    if (uq_load_cs_ss(&m->quirks, m->uc, &cs, &ss, ring, NULL) < 0)
        return -EINVAL;
    /* Returning to ring 1, esp and ss are not part of the frame (Xen's x86_32 iret). */
    uint32_t new_esp = ring == 3 ? c.esp : esp + 4 * sizeof(uint32_t);
    uint32_t eflags = (c.eflags & ~((3u << 12) | (1u << 14))) | (1u << 9) | 2u;
    uc_reg_write(m->uc, UC_X86_REG_ESP, &new_esp);
    uc_reg_write(m->uc, UC_X86_REG_EFLAGS, &eflags);
    machine_set_eip(m, c.eip);
    return (int32_t)c.eax;
}

static int32_t do_multicall(struct machine *m, const uint32_t *a, uint64_t *batch);

static const hc_fn handlers[64] = {
    [__HYPERVISOR_set_trap_table] = do_set_trap_table,
    [__HYPERVISOR_mmu_update] = do_mmu_update,
    [__HYPERVISOR_stack_switch] = do_stack_switch,
    [__HYPERVISOR_set_callbacks] = do_set_callbacks,
    [__HYPERVISOR_multicall] = do_multicall,
    [__HYPERVISOR_update_va_mapping] = do_update_va_mapping,
    [__HYPERVISOR_set_timer_op] = do_set_timer_op,
    [__HYPERVISOR_xen_version] = do_xen_version,
    [__HYPERVISOR_console_io] = do_console_io,
    [__HYPERVISOR_iret] = do_iret,
    [__HYPERVISOR_mmuext_op] = do_mmuext_op,
    [__HYPERVISOR_sched_op] = do_sched_op,
    [__HYPERVISOR_event_channel_op] = do_event_channel_op,
    [__HYPERVISOR_physdev_op] = do_physdev_op,
};

/* One hypercall: run it, then give the funnel its batch size and result (the entry itself was
 * recorded before, by pv's classify). Calls made inside a multicall are rows of the hypercall
 * table only: they are not hypervisor entries of their own. */
static int32_t call(struct machine *m, uint32_t nr, const uint32_t *a, bool inner)
{
    uint64_t batch = 0;
    hc_fn fn = nr < 64 ? handlers[nr] : NULL;
    const char *name = pv_hypercall_name(nr);
    int32_t rc = fn ? fn(m, a, &batch) : -ENOSYS;
    funnel_hypercall_done(m, (int)nr, name, (unsigned)batch, rc, inner);
    /* Every refused request is counted, by hypercall (nothing changed: see pv_mm.h). */
    if (rc < 0 && !(nr == __HYPERVISOR_sched_op && m->end))
        refuse(m, name);
    return rc;
}

static int32_t do_multicall(struct machine *m, const uint32_t *a, uint64_t *batch)
{
    uint32_t list = a[0], count = a[1];
    if (count > MAX_BATCH)
        return -EINVAL;
    for (uint32_t i = 0; i < count; i++) {
        struct pv_multicall_entry e;
        uint32_t at = list + i * sizeof e;
        if (get(m, at, &e, sizeof e) < 0)
            return -EFAULT;
        if (e.op == __HYPERVISOR_multicall || e.op == __HYPERVISOR_iret)
            e.result = (uint32_t)-EINVAL;
        else
            e.result = (uint32_t)call(m, e.op, e.args, true);
        if (put(m, at + offsetof(struct pv_multicall_entry, result), &e.result, 4) < 0)
            return -EFAULT;
        if (m->end)
            break;
    }
    *batch = count;
    return 0;
}

/* The hypercalls whose work is registers, guest memory, page tables and TLB flushes: nothing
 * that blocks, arms a timer, raises an event or touches a device. */
static bool in_hook(uint32_t nr)
{
    return nr == __HYPERVISOR_iret || nr == __HYPERVISOR_mmu_update ||
           nr == __HYPERVISOR_update_va_mapping || nr == __HYPERVISOR_mmuext_op ||
           nr == __HYPERVISOR_stack_switch;
}

bool pv_hypercall_in_hook(struct machine *m, uint32_t nr, uint32_t list, uint32_t count)
{
    if (nr != __HYPERVISOR_multicall)
        return in_hook(nr);
    if (count > MAX_BATCH)
        return false;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t op;
        if (get(m, list + i * sizeof(struct pv_multicall_entry), &op, 4) < 0 ||
            op == __HYPERVISOR_iret || !in_hook(op))
            return false;
    }
    return true;
}

int pv_hypercall(struct machine *m, uint32_t eip_after)
{
    uint32_t r[6] = {0};
    static const int regs[6] = {UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX,
                                UC_X86_REG_ESI, UC_X86_REG_EDI};
    for (int i = 0; i < 6; i++)
        uc_reg_read(m->uc, regs[i], &r[i]);
    /* The hypercall instruction retired; execution goes on after it unless iret moved it. */
    machine_set_eip(m, eip_after);
    int32_t rc = call(m, r[0], r + 1, false);
    if (m->end)
        return -1;
    uint32_t v = (uint32_t)rc;
    uc_reg_write(m->uc, UC_X86_REG_EAX, &v);
    return 0;
}
