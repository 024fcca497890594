/* taskgate_df — a double fault delivered through a task gate, as Linux i386 installs for #DF.
 *
 * The guest puts a second TSS in GDT slot 6 (selector 0x30) describing a #DF task (its own
 * stack, page directory, EIP df_task, EFLAGS 0x002) and makes IDT vector 8 a task gate naming it.
 * With paging on (one 4 MiB page, identity), it loads known values into EBX, EBP, ESI, EDI and
 * makes a #GP while gate 13 is not present: the #NP raised while delivering the #GP turns into a
 * #DF (contributory after contributory), and the #DF switches tasks (Intel SDM vol. 3A, 7.3
 * "Task Switching", 6.12.2 "Interrupt Tasks").
 *
 * The #DF task then checks what the switch left it: error code 0 pushed on its stack (ESP =
 * the TSS's ESP - 4), EFLAGS.NT set, CR0.TS set, CR3 = its TSS's page directory, its TSS's
 * back link = the old TR (0x28), both TSS descriptors busy, and the old task's state saved in
 * the old TSS: EIP of the faulting instruction (architecturally undefined for #DF; QEMU and vmlab
 * save the instruction that faulted first), EFLAGS with NT and IF clear, EBX/EBP/ESI/EDI/ESP as
 * they were, CS/SS/DS as the guest's own selectors (under ring compression too: the monitor
 * performs the switch and writes them as ring 0 would). Last, that TR is the new TSS, seen
 * without `str` (a hole under ring compression): ring-3 code's int 0x80 switches to the stack
 * the new TSS's ESP0 names. The #DF task never returns (Linux's does not either): the system
 * call's handler passes the guest. taskgate_iret tests the return.
 */
#include "guest.h"

#define SEL_DFTSS SEL_FREE0
#define SYS_TR 7                                 /* the int 0x80 this guest handles itself */

	.text
	.globl main
main:
	call cpu_init
	print "taskgate_df: #df through a task gate\n"

	/* GDT slot 6: the #DF task's TSS; IDT vector 8: a task gate to it (ring 3 in the task:
	 * ESP0 and SS0). */
	df_task_gate SEL_DFTSS, df_tss, pd2, df_task, df_stack_top, df_kstack_top
	/* Vector 0x80: reachable from ring 3 (for the TR check in the #DF task). */
	movb $GATE_TRAP3, idt + 8 * 0x80 + 5

	/* Paging: one 4 MiB page (user, writable) in two page directories. */
	movl $0x87, pd
	movl $0x87, pd2
	movl %cr4, %eax
	orl $0x10, %eax
	movl %eax, %cr4
	paging_on pd

	print "#GP with gate 13 not present: #DF through the task gate\n"
	movb $GATE_ABSENT, idt + 8 * 13 + 5
	movl $0x11112222, %ebx
	movl $0x33334444, %ebp
	movl $0x55556666, %esi
	movl $0x77778888, %edi
	movl %esp, old_esp
	movl $0x100, %eax
df_at:	movw %ax, %ds
	print "no #DF\n"
	call guest_fail

/* The #DF task: CPL 0, interrupts off, on df_stack, error code on top. */
df_task:
	movl (%esp), %eax
	movl %esp, %edx
	print "in the #DF task\n"
	check %eax, $0, "error code pushed on the new task's stack = 0"
	check %edx, $df_stack_top-4, "ESP = the new TSS's ESP - 4"
	pushfl
	popl %eax
	andl $0x4000, %eax
	check %eax, $0x4000, "EFLAGS.NT set"
	movl %cr0, %eax
	andl $8, %eax
	check %eax, $8, "CR0.TS set"
	movl %cr3, %eax
	check %eax, $pd2, "CR3 = the new TSS's"
	movzwl df_tss, %eax
	check %eax, $SEL_TSS, "back link = the old TR"
	movzbl gdt + SEL_TSS + 5, %eax
	andl $0x0f, %eax
	check %eax, $0x0b, "old TSS busy"
	movzbl gdt + SEL_DFTSS + 5, %eax
	andl $0x0f, %eax
	check %eax, $0x0b, "new TSS busy"
	movl tss + 0x20, %eax
	check %eax, $df_at, "old EIP = the faulting instruction"
	movl tss + 0x24, %eax
	andl $0x4200, %eax
	check %eax, $0, "old EFLAGS: NT and IF clear"
	check tss + 0x34, $0x11112222, "old EBX"
	check tss + 0x3c, $0x33334444, "old EBP"
	check tss + 0x40, $0x55556666, "old ESI"
	check tss + 0x44, $0x77778888, "old EDI"
	check tss + 0x38, old_esp, "old ESP"
	movzwl tss + 0x4c, %eax
	check %eax, $SEL_KCODE, "old CS"
	movzwl tss + 0x50, %eax
	check %eax, $SEL_KDATA, "old SS"
	movzwl tss + 0x54, %eax
	check %eax, $SEL_KDATA, "old DS (its load faulted)"
	/* Clear NT first: an iret with NT set would return to the old task (through the link). */
	pushfl
	andl $~0x4000, (%esp)
	popfl
	iret_to_ring3 user, user_stack_top

user:
	user_data_segments
	movl $SYS_TR, %eax
	int $0x80
	ucheck $0, $1, "the ring-3 int 0x80 does not return"

/* trap(frame): the ring-3 int 0x80 of the #DF task; anything else goes to the default. */
	.globl trap
trap:
	movl 4(%esp), %ebx
	cmpl $0x80, F_VEC(%ebx)
	jne trap_default
	cmpl $SYS_TR, F_EAX(%ebx)
	jne trap_default
	check_range %ebx, $df_kstack, $df_kstack_top-1, "ring 3 -> 0 stack from the new TSS's ESP0 (TR = 0x30)"
	call guest_pass

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
df_kstack:
	.space 4096
df_kstack_top:
	.space 4096
user_stack_top:
