/* ring3 — privilege transitions: iret out to ring 3, int 0x80 back in through the TSS.
 *
 * Ring 0 makes IDT 0x80 a DPL-3 trap gate and irets to ring-3 code (CS 0x1b, SS 0x23). Ring 3
 * cannot print (IOPL 0), so it reports through int 0x80 (SYS_PUTS, SYS_CHECK in lib.c). A probe
 * call checks the privilege switch from the inside: the frame holds CS 0x1b, SS 0x23 and the
 * user ESP, sits at the top of the stack named by TSS.ESP0, and its EIP is after the int; the
 * result in EAX reaches ring 3, whose ESP is unchanged. Then ring 3 provokes what must fault
 * there: int through DPL-0 gates (int 0x81, int3: #GP with vector * 8 + 2), cli, hlt, mov to
 * CR3 (#GP(0)), ud2 (#UD); the default handler reports them with cpl=3.
 */
#include "guest.h"

#define SYS_PROBE 16

	.text
	.globl main
main:
	call cpu_init
	movb $GATE_TRAP3, idt + 8 * 0x80 + 5
	print "ring3: iret to ring 3\n"
	iret_to_ring3 user, ustack_top

user:
	user_data_segments
	uprint "ring 3: running\n"
	xorl %eax, %eax
	movw %cs, %ax
	ucheck %eax, $SEL_UCODE, "ring 3: cs = 0x1b"
	pushfl
	popl %eax
	andl $0x3200, %eax
	ucheck %eax, $0, "ring 3: eflags iopl 0, if clear"

	movl %esp, %esi
	movl $SYS_PROBE, %eax
	int $0x80
probe_ret:
	movl %esp, %edi
	ucheck %eax, $42, "ring 3: probe returned 42"
	ucheck %edi, %esi, "ring 3: esp unchanged"

	uprint "#GP: int 0x81 through a DPL-0 gate\n"
	faulting "int $0x81", 13, 0x40a
	uprint "#GP: int3 through a DPL-0 gate\n"
	faulting "int3", 13, 0x1a
	uprint "#GP: cli\n"
	faulting "cli", 13, 0
	uprint "#GP: hlt\n"
	faulting "hlt", 13, 0
	uprint "#GP: mov to cr3\n"
	faulting "movl %eax, %cr3", 13, 0
	uprint "#UD: ud2\n"
	faulting "ud2", 6
	uprint "ring 3: exit\n"
	movl $SYS_EXIT, %eax
	int $0x80

/* trap: the probe call is checked here, everything else goes to the default handler. */
	.globl trap
trap:
	trap_only 0x80
	cmpl $SYS_PROBE, F_EAX(%ebx)
	jne trap_default
	print "ring 0: probe call from ring 3\n"
	xorl %eax, %eax
	movw %cs, %ax
	check %eax, $SEL_KCODE, "handler cs = 0x08"
	check F_CS(%ebx), $SEL_UCODE, "frame cs = 0x1b"
	check F_USS(%ebx), $SEL_UDATA, "frame ss = 0x23"
	check F_USP(%ebx), F_ESI(%ebx), "frame esp = ring-3 esp"
	check F_EIP(%ebx), $probe_ret, "frame eip after the int"
	leal F_SIZE_RING3(%ebx), %eax
	check %eax, tss + TSS_ESP0, "frame ends at tss.esp0"
	movl $42, F_EAX(%ebx)
	ret

	.bss
	.align 16
	.space 4096
ustack_top:
