/* entry.S — what every test guest starts with: the Multiboot v1 header, _start, and the 256
 * interrupt stubs that lead to trap().
 *
 * _start keeps what the loader handed over (EAX, EBX, EFLAGS, the segment registers) in boot_*
 * for guests that check the boot state, switches to its own stack (Multiboot leaves ESP
 * undefined), calls main, and passes if main returns.
 *
 * Stub v (at trap_stubs + 16 * v) pushes a zero error code unless the CPU pushes one (8, 10-14,
 * 17), then v, then jumps to trap_common, which saves the registers, loads the kernel data
 * segments and calls trap(struct frame *) (layout in guest.h). trap may change the frame, and
 * may clobber any register (an assembler trap need not follow cdecl); the stub returns with
 * iret to what the frame then says.
 */
#include "guest.h"

#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003                  /* page-align modules, want memory information */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.globl _start
_start:
	movl %eax, boot_eax
	movl %ebx, boot_ebx
	movl $stack_top, %esp
	pushfl
	popl boot_eflags
	xorl %eax, %eax
	movw %cs, %ax
	movl %eax, boot_cs
	movw %ds, %ax
	movl %eax, boot_ds
	movw %es, %ax
	movl %eax, boot_es
	movw %ss, %ax
	movl %eax, boot_ss
	movl %cr0, %eax
	movl %eax, boot_cr0
	call main
	call guest_pass

	.align 16
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 256
	.align 16
	.if !((vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17))
	pushl $0
	.endif
	pushl $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	pushal
	pushl %ds
	pushl %es
	movl $SEL_KDATA, %eax
	movl %eax, %ds
	movl %eax, %es
	pushl %esp
	call trap
	addl $4, %esp
	popl %es
	popl %ds
	popal
	addl $8, %esp
	iret

	.data
	.globl boot_eax, boot_ebx, boot_eflags, boot_cs, boot_ds, boot_es, boot_ss, boot_cr0
boot_eax:	.long 0
boot_ebx:	.long 0
boot_eflags:	.long 0
boot_cs:	.long 0
boot_ds:	.long 0
boot_es:	.long 0
boot_ss:	.long 0
boot_cr0:	.long 0

	.bss
	.align 16
	.space 16384
stack_top:
