/*
 * taskswitch.h — the hardware task switch an interrupt or exception makes through a task gate in
 * the IDT, implemented once for every mode (Intel SDM vol. 3A, 7.3 "Task Switching" and 6.12.2
 * "Interrupt Tasks").
 *
 * Linux i386 installs a task gate for #DF (vector 8): a double fault caused by a broken kernel
 * stack must run on a stack of its own, and only a task switch gives it one whatever state ESP
 * is in. Delivery (emu/deliver.c) calls task_switch_gate() when the gate it fetched is a task
 * gate; the switch saves the interrupted task in the current TSS, loads the new task from the
 * TSS the gate names (nested: the new task's back link names the old one, EFLAGS.NT is set, the
 * old TSS stays busy) and pushes the exception's error code on the new task's stack.
 *
 * Monitors aim it at the guest's view of the CPU as they do delivery: the descriptor tables, TR
 * and EFLAGS come from the cpu_view, the system registers go through mode op task_sys, segment
 * registers through real_seg (ring compression), the guest's interrupt flag through delivered.
 * A `pv` domain never gets here: the hypervisor builds its IDT from the trap table, which has
 * no task gates (emu/modes/pv.c).
 */
#ifndef VMLAB_TASKSWITCH_H
#define VMLAB_TASKSWITCH_H

#include <stdbool.h>
#include <stdint.h>

#include "emu/deliver.h"

/* Switch to the task of TSS selector `tss_sel` (from a present task gate, its DPL already checked)
 * for event `ev`, the guest's CPU as `cv` describes it; `ext` is the EXT bit of the error codes
 * of faults the switch raises, `eip_fault` the EIP those report while the old task is current.
 * Returns 0 when the CPU stands at the new task's EIP (error code pushed), 1 with the fault in
 * *f (raised before anything changed, or in the new task's context after the switch: pushing the
 * error code, the new EIP outside CS), -1 when the run ended (m->end set: a 16-bit TSS, a
 * virtual-8086 task, a state the engine refused), -2 when memory outside RAM was touched. */
int task_switch_gate(struct machine *m, const struct cpu_view *cv, const struct xevent *ev,
                     uint16_t tss_sel, uint32_t ext, uint32_t eip_fault, struct xevent *f);

/* The task return of an iret executed with EFLAGS.NT set (SDM vol. 3A, 7.3 and 7.4; IRET
 * pseudocode, TASK-RETURN): switch back to the task named by the current TSS's previous-task
 * link, which must be busy; the current task's TSS becomes available and saves EIP `next_eip`
 * (after the iret at `eip`). No error code, NT as the returned-to TSS has it. Returns 0 (the CPU
 * stands in the returned-to task), 1 with the fault in *f (every one raised at the iret, before
 * anything changed), -1 (run ended), -2 (memory outside RAM). Natively Unicorn performs this
 * itself; a monitor whose guest state is virtual calls it when it meets such an iret. */
int task_switch_iret(struct machine *m, const struct cpu_view *cv, uint32_t eip,
                     uint32_t next_eip, struct xevent *f);

/* Load TR and LDTR of the real CPU from s (what the guest's are when the monitor leaves them to
 * the guest: native, VT-x). */
void task_load_real_tr_ldtr(struct machine *m, const struct task_sys *s);

/* The default of mode op task_sys (native): the real TR and LDTR, the real CR3 (if s->load_cr3)
 * and CR0.TS. 0. */
int task_sys_real(struct machine *m, const struct task_sys *s);

#endif
