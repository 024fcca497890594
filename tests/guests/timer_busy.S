/* timer_busy — PIT ticks interrupt a guest that is executing, not halted.
 *
 * The PICs are set up as in timer.S (guest.h's pic_init: vectors 0x20/0x28, only IRQ0
 * unmasked) and PIT channel 0 runs in mode 2 with divisor 1193 (about 1 kHz; pit_periodic). The
 * guest then spins with interrupts enabled in a four-instruction loop (busy_loop .. busy_end)
 * that counts its iterations in `loops`, until the handler has counted 20 ticks; there is no hlt
 * anywhere. The handler checks that every tick interrupted the loop, remembers `loops` at the
 * first and the twentieth tick, masks IRQ0 at the twentieth (so the count is exactly 20) and
 * sends EOI.
 *
 * tests/integration/timer_exact.sh reads the irq0 events of this guest: under vmlab each tick
 * must land exactly on its PIT deadline, at whatever instruction of the loop that is. The
 * number of loop iterations between the first and the twentieth tick depends on the speed of
 * the machine, so it is printed on a `~` line (not compared with timer_busy.expected).
 */
#include "guest.h"

#define DIVISOR 1193
#define TICKS 20

	.text
	.globl main
main:
	call cpu_init
	pic_init
	print "timer_busy: pics at 0x20/0x28, irq0 unmasked\n"

	pit_periodic DIVISOR
	print "pit channel 0: mode 2, divisor 1193; spinning with interrupts on\n"

	sti
	.globl busy_loop, busy_end
busy_loop:
	incl loops
	movl ticks, %eax
	cmpl $TICKS, %eax
	jb busy_loop
busy_end:
	cli
	print "ticks: "
	printd ticks
	print "\n"
	check ticks, $TICKS, "exactly 20 ticks"
	check outside, $0, "every tick interrupted the busy loop"
	movl loops_last, %eax
	subl loops_first, %eax
	print "~loops from tick 1 to tick 20: "
	printd %eax
	print "\n"
	check_range %eax, $1, $0xffffffff, "the loop ran between the ticks"
	ret

/* trap: IRQ0 counts ticks and checks where it interrupted; every other vector is unexpected. */
	.globl trap
trap:
	trap_only 0x20
	movl F_EIP(%ebx), %eax
	cmpl $busy_loop, %eax
	jb 1f
	cmpl $busy_end, %eax
	jb 2f
1:	incl outside
2:	incl ticks
	movl loops, %eax
	cmpl $1, ticks
	jne 3f
	movl %eax, loops_first
3:	cmpl $TICKS, ticks
	jne 4f
	movl %eax, loops_last
	movb $0xff, %al                          /* mask IRQ0: no tick after the last */
	outb %al, $PIC1 + 1
4:	movb $0x20, %al                          /* EOI */
	outb %al, $PIC1
	ret

	.data
ticks:		.long 0
loops:		.long 0
loops_first:	.long 0
loops_last:	.long 0
outside:	.long 0
