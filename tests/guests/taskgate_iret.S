/* taskgate_iret — the way back from a task entered through a task gate: iret with EFLAGS.NT set.
 *
 * Set up as taskgate_df (a #DF task in GDT slot 6, entered through IDT vector 8 by a #GP whose
 * gate is not present), but the old TSS holds the old task's page directory (CR3 is not saved
 * by a switch, only loaded: 7.2.1 "static fields"), and the #DF task returns: it points the
 * old task's saved EIP past the faulting instruction and executes iret with NT set, a task
 * return through its back link (Intel SDM vol. 3A, 7.3 "Task Switching" and 7.4 "Task Linking";
 * IRET pseudocode, TASK-RETURN). The old task then checks: it runs again with its registers and
 * CR3 as saved, NT clear, its TSS still busy, the #DF task's TSS available again (an iret
 * leaves the busy bit of the task it leaves clear), and the #DF task's TSS saved the EIP after
 * its iret. Natively Unicorn (QEMU) makes the return itself; under trap it is a TASK_SWITCH exit
 * the monitor performs; trap-classic and bt emulate it on their virtual CPU.
 */
#include "guest.h"

#define SEL_DFTSS SEL_FREE0

	.text
	.globl main
main:
	call cpu_init
	print "taskgate_iret: #df task returns with iret\n"
	df_task_gate SEL_DFTSS, df_tss, pd2, df_task, df_stack_top

	movl $0x83, pd                           /* one 4 MiB page, identity, in both directories */
	movl $0x83, pd2
	movl %cr4, %eax
	orl $0x10, %eax
	movl %eax, %cr4
	paging_on pd
	movl $pd, tss + 0x1c                     /* the old task's CR3, for the way back */

	print "#GP with gate 13 not present: #DF task, then iret\n"
	movb $GATE_ABSENT, idt + 8 * 13 + 5
	movl $0x11112222, %ebx
	movl $0x33334444, %esi
	movl %esp, old_esp
	movl $0x100, %eax
	movw %ax, %ds
	print "no #DF\n"
	call guest_fail
back:
	print "back in the old task\n"
	check %ebx, $0x11112222, "EBX as saved"
	check %esi, $0x33334444, "ESI as saved"
	movl %esp, %eax
	check %eax, old_esp, "ESP as saved"
	movl %cr3, %eax
	check %eax, $pd, "CR3 = the old TSS's"
	pushfl
	popl %eax
	andl $0x4000, %eax
	check %eax, $0, "EFLAGS.NT clear"
	movzbl gdt + SEL_TSS + 5, %eax
	andl $0x0f, %eax
	check %eax, $0x0b, "old TSS busy"
	movzbl gdt + SEL_DFTSS + 5, %eax
	andl $0x0f, %eax
	check %eax, $0x09, "#DF task's TSS available again"
	check df_tss + 0x20, $df_after, "#DF task's saved EIP = after its iret"
	movb $GATE_INT0, idt + 8 * 13 + 5
	movl $SEL_KDATA, %eax
	movw %ax, %ds
	ret

/* The #DF task: make the old task resume at `back`, then return to it. */
df_task:
	print "in the #DF task\n"
	movl $back, tss + 0x20
	addl $4, %esp                            /* the error code */
	iret
df_after:
	print "#DF task resumed\n"
	call guest_fail

	.data
old_esp:	.long 0

	.bss
	.align 4096
pd:	.space 4096
pd2:	.space 4096
	.align 16
df_tss:	.space 0x68
	.align 16
	.space 4096
df_stack_top:
