/* io_gp — I/O privilege at ring 3: IOPL and the TSS I/O permission bitmap.
 *
 * Ring 3 runs with IOPL 0 and no bitmap (its base is past the TSS limit): `in al, 0x80` is
 * #GP(0) with EIP at the in. popf cannot raise IOPL or set IF there (silently ignored). After a
 * system call that puts IOPL 3 into the iret frame, in/out on 0x80 work. Back at IOPL 0 with the
 * bitmap enabled (it allows only port 0x80): in/out/ins on 0x80 work; byte in from 0x81, a word
 * in from 0x80 (it covers 0x81 too), outs to 0x81 and in from 0x400 (past the end of the
 * bitmap) are #GP(0). A monitor on Unicorn must enforce all of this itself (Unicorn's I/O
 * instructions never fault).
 */
#include "guest.h"

#define SYS_IOPL   16                       /* EBX = new IOPL */
#define SYS_BITMAP 17                       /* point TSS.iomap at the bitmap */

	.text
	.globl main
main:
	call cpu_init
	movb $GATE_TRAP3, idt + 8 * 0x80 + 5
	andb $0xfe, tss + TSS_BITMAP + 0x80 / 8  /* allow port 0x80 */
	print "io_gp: iret to ring 3 with iopl 0\n"
	iret_to_ring3 user, ustack_top

user:
	user_data_segments
	uprint "iopl 0, no bitmap: in 0x80\n"
	faulting "inb $0x80, %al", 13, 0
	uprint "iopl 0, no bitmap: out 0x80\n"
	faulting "outb %al, $0x80", 13, 0
	pushfl
	orl $0x3200, (%esp)
	popfl
	pushfl
	popl %eax
	andl $0x3200, %eax
	ucheck %eax, $0, "popf at cpl 3 changes neither iopl nor if"

	movl $SYS_IOPL, %eax
	movl $3, %ebx
	int $0x80
	pushfl
	popl %eax
	andl $0x3000, %eax
	ucheck %eax, $0x3000, "iopl 3 from the iret frame"
	inb $0x80, %al
	outb %al, $0x80
	uprint "iopl 3: in and out 0x80 work\n"

	movl $SYS_IOPL, %eax
	movl $0, %ebx
	int $0x80
	movl $SYS_BITMAP, %eax
	int $0x80
	uprint "iopl 0, bitmap allows only 0x80\n"
	inb $0x80, %al
	outb %al, $0x80
	movl $0x80, %edx
	movl $iobuf, %edi
	insb
	uprint "in, out, ins at 0x80 work\n"
	uprint "in 0x81\n"
	faulting "inb $0x81, %al", 13, 0
	uprint "word in at 0x80 (covers 0x81)\n"
	faulting "inw $0x80, %ax", 13, 0
	uprint "outs to 0x81\n"
	movl $0x81, %edx
	movl $iobuf, %esi
	faulting "outsb", 13, 0
	uprint "in 0x400, past the bitmap\n"
	movl $0x400, %edx
	faulting "inb %dx, %al", 13, 0
	movl $SYS_EXIT, %eax
	int $0x80

/* trap: the two I/O system calls; the rest goes to the default handler. */
	.globl trap
trap:
	trap_only 0x80
	cmpl $SYS_IOPL, F_EAX(%ebx)
	je 1f
	cmpl $SYS_BITMAP, F_EAX(%ebx)
	jne trap_default
	print "ring 0: tss i/o bitmap enabled\n"
	movw $TSS_BITMAP, tss + TSS_IOMAP_OFF
	ret
1:	print "ring 0: iopl "
	printd F_EBX(%ebx)
	print " in the iret frame\n"
	movl F_EBX(%ebx), %eax
	shll $12, %eax
	andl $~0x3000, F_EFLAGS(%ebx)
	orl %eax, F_EFLAGS(%ebx)
	ret

	.bss
	.align 16
iobuf:	.space 16
	.space 4096
ustack_top:
