/* fault_errcode — exception delivery at ring 0: vector, error code, and the saved EIP.
 *
 * Each step announces the fault it provokes, then lets the default trap handler (lib.c) print
 * "trap <vector> [err=<code>] eip=at+<n> cpl=0", check it against what the step expects, and
 * resume after the instruction. Faults save
 * the EIP of the faulting instruction (at+0); traps (int3, into) and int n save the next one.
 * Segment faults carry the selector (RPL bits cleared) as error code; a fault on an IDT gate
 * carries vector * 8 + 2 (IDT bit). Error codes are the part a monitor must reconstruct itself
 * (Unicorn does not expose them).
 *
 * Not here: a memory access through a null DS, and segment limit checks; QEMU's TCG (the
 * oracle, and Unicorn's core) does not fault on either in 32-bit protected mode.
 */
#include "guest.h"

	.text
	.globl main
main:
	call cpu_init
	print "fault_errcode: descriptor tables loaded\n"
	/* GDT slot 6: a data segment marked not present; slot 7: a writable one, not present. */
	movl $0x0000ffff, gdt + SEL_FREE0
	movl $0x00cf1200, gdt + SEL_FREE0 + 4
	movl $0x0000ffff, gdt + SEL_FREE1
	movl $0x00cf1200, gdt + SEL_FREE1 + 4
	movb $GATE_ABSENT, idt + 8 * 0x42 + 5

	print "#GP: selector 0x100 past the GDT limit into DS\n"
	movl $0x100, %eax
	faulting "movw %ax, %ds", 13, 0x100
	print "#GP: ring-3 selector 0x23 into SS at CPL 0\n"
	movl $SEL_UDATA, %eax
	faulting "movw %ax, %ss", 13, 0x20
	print "#GP: far jump to a data segment\n"
	faulting "ljmp $0x10, $fault_missed", 13, 0x10
	print "#NP: not-present data segment 0x30 into DS\n"
	movl $SEL_FREE0, %eax
	faulting "movw %ax, %ds", 11, 0x30
	print "#SS: not-present stack segment 0x38 into SS\n"
	movl $SEL_FREE1, %eax
	faulting "movw %ax, %ss", 12, 0x38
	print "#NP: int 0x42 through a not-present gate\n"
	faulting "int $0x42", 11, 0x212
	print "#UD: ud2\n"
	faulting "ud2", 6
	print "#DE: divide by zero\n"
	movl $1, %eax
	xorl %edx, %edx
	xorl %ecx, %ecx
	faulting "divl %ecx", 0
	print "#BR: bound out of range\n"
	movl $20, %eax
	faulting "boundl %eax, bounds", 5
	print "#BP: int3\n"
	faulting "int3", 3
	print "#OF: into with OF set\n"
	movl $0x7fffffff, %eax
	addl $1, %eax
	faulting "into", 4
	print "int 0x41: software interrupt\n"
	faulting "int $0x41", 0x41
	ret

	.section .rodata
	.align 4
bounds:	.long 0, 10
