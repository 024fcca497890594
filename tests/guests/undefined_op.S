/* undefined_op — bytes no instruction decodes from, in kernel code and in user code.
 *
 * `f0 0f 00 00` is SLDT [eax] with a LOCK prefix, which the hardware refuses with #UD (LOCK only
 * goes with read-modify-write memory instructions). It sits in the middle of a block, with more
 * code after it: QEMU's TCG, and Unicorn with it, lets it run (so this guest has no QEMU oracle);
 * vmlab, whose decoder (Capstone) knows no such instruction, must deliver the #UD to the guest at
 * that EIP, at ring 0 and at ring 3, as the hardware does — never end with an internal error on
 * what a guest puts in its memory.
 */
#include "guest.h"

	.text
	.globl main
main:
	call cpu_init
	movb $GATE_TRAP3, idt + 8 * 0x80 + 5
	print "undefined_op: lock sldt in the kernel\n"
	xorl %eax, %eax
	faulting ".byte 0xf0, 0x0f, 0x00, 0x00", 6
	print "undefined_op: iret to ring 3\n"
	iret_to_ring3 user, ustack_top

user:
	user_data_segments
	uprint "ring 3: lock sldt\n"
	xorl %eax, %eax
	faulting ".byte 0xf0, 0x0f, 0x00, 0x00", 6
	uprint "ring 3: exit\n"
	movl $SYS_EXIT, %eax
	int $0x80

	.bss
	.align 16
	.space 4096
ustack_top:
