/* doublefault — an exception raised while delivering another becomes #DF (vector 8, error 0).
 *
 * With the IDT gate of the first exception marked not present, its delivery raises #NP. A
 * contributory exception (#DE, #GP) or a #PF followed by a contributory one is a double fault;
 * the #DF gate here is an ordinary interrupt gate (no task gate needed: the stack is fine), and
 * the default handler prints "trap 8 err=0x00000000" (the saved EIP is undefined for #DF) and
 * resumes after the instruction. By contrast int3 is benign: with its gate missing, the #NP
 * (error 3 * 8 + 2) is delivered as such.
 */
#include "guest.h"

	.text
	.globl main
main:
	call cpu_init
	print "doublefault: #df through an interrupt gate\n"

	print "#DE with gate 0 not present\n"
	movb $GATE_ABSENT, idt + 8 * 0 + 5
	movl $1, %eax
	xorl %edx, %edx
	xorl %ecx, %ecx
	faulting "divl %ecx", 8, 0
	movb $GATE_INT0, idt + 8 * 0 + 5

	print "#GP with gate 13 not present\n"
	movb $GATE_ABSENT, idt + 8 * 13 + 5
	movl $0x100, %eax
	faulting "movw %ax, %ds", 8, 0
	movb $GATE_INT0, idt + 8 * 13 + 5

	print "#PF with gate 14 not present\n"
	movl $0x83, pd                           /* 0..4 MiB, one 4 MiB page; nothing else */
	movl %cr4, %eax
	orl $0x10, %eax
	movl %eax, %cr4
	paging_on pd
	movb $GATE_ABSENT, idt + 8 * 14 + 5
	faulting "movl 0x800000, %eax", 8, 0
	movb $GATE_INT0, idt + 8 * 14 + 5
	movl %cr2, %eax
	check %eax, $0x800000, "cr2 = the address of the #PF"

	print "int3 with gate 3 not present\n"
	movb $GATE_ABSENT, idt + 8 * 3 + 5
	faulting "int3", 11, 0x1a
	ret

	.bss
	.align 4096
pd:	.space 4096
