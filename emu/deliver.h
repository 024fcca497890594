/*
 * deliver.h — protected-mode exception and interrupt delivery, implemented once for every mode.
 *
 * Unicorn never vectors through the IDT: it reports the vector to a hook and stops. The machine
 * then does what the CPU would (Intel SDM vol. 3, 6.12): fetch the gate from the guest's IDT,
 * check it (present, type, DPL for software interrupts), fetch the target code segment, switch to
 * the stack named by the TSS on an inward privilege change, push SS/ESP (if switched), EFLAGS,
 * CS, EIP and the error code, clear TF/NT/RF (and IF for interrupt gates), and load the new state.
 *
 * A fault raised while delivering (a missing gate, a bad stack, a page fault on the stack) is
 * itself delivered, combined by the double-fault rules: contributory after contributory, or
 * contributory / page fault after a page fault, becomes #DF (error code 0); any fault while
 * delivering #DF is a triple fault, which ends the run with the chain of vectors and the EIP.
 * A task gate (Linux's #DF) switches to the task its TSS describes (emu/taskswitch.c, Intel SDM
 * vol. 3A, 7.3); 16-bit gates and 16-bit TSSs are not supported: the run ends with a clear message.
 *
 * Modes that keep a virtual CPU (trap, bt) will aim the same code at the guest's virtual state.
 */
#ifndef VMLAB_DELIVER_H
#define VMLAB_DELIVER_H

#include <stdbool.h>
#include "emu/machine.h"

/* The CPU as the guest sees it, for delivery. Native: the real registers. A monitor that keeps
 * the guest's descriptor-table registers or its interrupt flag virtual, or runs the guest's ring 0
 * in another ring (ring compression), describes the guest's view here (mode op cpu_view). */
struct cpu_view {
    uint32_t idt_base, idt_limit;
    uint32_t gdt_base, gdt_limit;
    uint16_t ldt_sel;
    uint32_t ldt_base, ldt_limit;
    uint16_t tr_sel;
    uint32_t tr_base, tr_limit;
    int cpl;             /* the guest's privilege level */
    uint32_t eflags;     /* EFLAGS as the guest's handler must find them pushed */
    int kernel_ring;     /* real ring running the guest's ring 0: 0, or 1 under ring compression */
    uint16_t frame_cs;   /* CS to push for the interrupted code instead of the real one, or 0 */
    uint16_t sel[6];     /* ES, CS, SS, DS, FS, GS as the guest sees them (what a task switch
                          * saves in the old TSS); every cpu_view op fills them */
};

/* What a task switch loads into the guest's system registers (emu/taskswitch.c): TR (the new
 * task's TSS, now busy), LDTR (selector 0: a null LDT) and, when the guest's paging is on, CR3;
 * CR0.TS is set as well. A monitor keeping these virtual takes them through mode op task_sys. */
struct task_sys {
    uint16_t tr_sel;
    uint32_t tr_base, tr_limit, tr_flags;    /* flags: the descriptor's high dword (QEMU's form) */
    uint16_t ldt_sel;
    uint32_t ldt_base, ldt_limit, ldt_flags;
    bool load_cr3;
    uint32_t cr3;
};

/* The view from the real registers (what native mode uses). */
void deliver_real_view(struct machine *m, struct cpu_view *v);

/* Deliver `ev` to the guest. Returns 0 when the CPU now stands at the handler's first
 * instruction, -1 when the run ended (triple fault, unsupported gate; m->end is set). */
int deliver_event(struct machine *m, const struct xevent *ev);

/* Descriptor `sel` from the view's GDT or LDT (TI): 0; 1 with *f = #GP((sel & ~3) | ext) for a
 * null selector or one past the table's limit, or the #PF reading it; -2 outside RAM. Faults
 * report `eip`. */
struct desc;
int deliver_read_desc(struct machine *m, const struct cpu_view *cv, uint16_t sel, struct desc *d,
                      uint32_t ext, uint32_t eip, struct xevent *f);

/* Fill *f with fault `vector` (error code `err` where the vector has one) at `eip`; with the
 * #PF of linear `lin` (error code `pferr`) for deliver_make_pf. */
void deliver_make_fault(struct xevent *f, uint8_t vector, uint32_t err, uint32_t eip);
void deliver_make_pf(struct xevent *f, uint32_t lin, uint32_t pferr, uint32_t eip);

/* The guest's ring `cpl` as the real CPU runs it under view cv (ring 0 runs in kernel_ring). */
static inline int deliver_real_ring(const struct cpu_view *cv, int cpl)
{
    return cpl == 0 ? cv->kernel_ring : cpl;
}

/* True for the exception vectors that push an error code (8, 10-14, 17). */
bool vector_has_error_code(unsigned vector);

/* Short name of an exception vector ("#PF"), or NULL for 32..255. */
const char *vector_name(unsigned vector);

#endif
