/* limit_spin — a kernel that never ends, three ways, for vmlab's --timeout and
 * --max-instructions (tests/integration/run_limits.sh): the command line's first word after the
 * guest path says which.
 *
 *   spin    interrupts off, a tight loop: guest time runs fast and never stops
 *   idle    the PIT ticking at 1 kHz, interrupts on, hlt forever: every tick wakes the guest
 *   crawl   a jump into memory that holds no code (zeroed pages: `add [eax], al` over and over):
 *           every block is new to the CPU, so guest time crawls while the host translates
 *
 * None of them writes isa-debug-exit: only a limit ends the run.
 */
#include "guest.h"

	.text
	.globl main
main:
	call cpu_init
	movl boot_ebx, %esi
	movl 16(%esi), %esi                      /* Multiboot command line */
1:	lodsb                                    /* skip the guest path */
	testb %al, %al
	jz spin
	cmpb $' ', %al
	jne 1b
	cmpb $'i', (%esi)
	je idle
	cmpb $'c', (%esi)
	je crawl
spin:
	print "limit_spin: spinning with interrupts off\n"
	cli
2:	jmp 2b

idle:
	print "limit_spin: idle with the timer on\n"
	pic_init
	pit_periodic 1193
	sti
3:	hlt
	jmp 3b

crawl:
	print "limit_spin: running through memory that holds no code\n"
	movl $zeros, %eax
	jmp zeros

/* The timer's interrupts: acknowledge and go back to sleep. */
	.globl trap
trap:
	movl 4(%esp), %ebx
	cmpl $0x20, F_VEC(%ebx)
	jne trap_default
	movb $0x20, %al
	outb %al, $PIC1
	ret

	.bss
	.align 4096
zeros:	.space 2 * 1024 * 1024
