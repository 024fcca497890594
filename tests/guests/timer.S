/* timer — the 8259 PIC pair and the 8254 PIT channel 0 deliver a periodic interrupt.
 *
 * The PICs are remapped to vectors 0x20/0x28 with only IRQ0 unmasked (the mask reads back);
 * PIT channel 0 runs in mode 2 with divisor 1193 (about 1 kHz). The guest waits for ten ticks
 * with `sti; hlt` (race-free: sti holds interrupts off for one more instruction). The handler
 * reads the PIC's in-service register on the first tick (IRQ0 in service), sends EOI, and masks
 * IRQ0 at the tenth tick, so the count is exactly 10. Afterwards: ISR is clear after EOI; IRR
 * still latches the masked IRQ0; the counter latched with command 0x00 is in 1..1193 and moves;
 * the 8254 read-back command reports channel 0's mode.
 */
#include "guest.h"

#define DIVISOR 1193

	.text
	.globl main
main:
	call cpu_init
	pic_init
	print "timer: pics at 0x20/0x28, irq0 unmasked\n"
	xorl %eax, %eax
	inb $PIC1 + 1, %al
	check %eax, $0xfe, "master imr reads back 0xfe"

	pit_periodic DIVISOR
	print "pit channel 0: mode 2, divisor 1193\n"

1:	cmpl $10, ticks
	jae 2f
	sti
	hlt
	cli
	jmp 1b
2:	print "ticks: "
	printd ticks
	print "\n"
	check isr_first, $1, "isr: irq0 in service in the handler"
	movb $0x0b, %al                          /* OCW3: read ISR */
	outb %al, $PIC1
	xorl %eax, %eax
	inb $PIC1, %al
	check %eax, $0, "isr: clear after eoi"
	movb $0x0a, %al                          /* OCW3: read IRR */
	outb %al, $PIC1
	movl $50000000, %ecx
3:	inb $PIC1, %al
	testb $1, %al
	loopz 3b
	andl $1, %eax
	check %eax, $1, "irr: masked irq0 still latched"

	call pit_latch
	movl %eax, %esi
	check_range %esi, $1, $DIVISOR, "latched count in 1..1193"
	movl $10000000, %ecx
4:	call pit_latch
	cmpl %eax, %esi
	loope 4b
	setne %al
	movzbl %al, %eax
	check %eax, $1, "latched count moves"

	movb $0xc2, %al                          /* read-back: count and status of channel 0 */
	outb %al, $PIT_CMD
	xorl %eax, %eax
	inb $PIT_CH0, %al
	andl $0x3f, %eax                         /* without OUT and null count */
	check %eax, $0x34, "read-back status: lo/hi, mode 2, binary"
	inb $PIT_CH0, %al
	inb $PIT_CH0, %al
	ret

/* pit_latch: EAX = channel 0's count, latched with a counter-latch command. */
pit_latch:
	movb $0x00, %al
	outb %al, $PIT_CMD
	xorl %eax, %eax
	inb $PIT_CH0, %al
	movb %al, %dl
	inb $PIT_CH0, %al
	movb %al, %ah
	movb %dl, %al
	ret

/* trap: IRQ0 counts ticks; every other vector is unexpected. */
	.globl trap
trap:
	trap_only 0x20
	incl ticks
	cmpl $1, ticks
	jne 1f
	movb $0x0b, %al
	outb %al, $PIC1
	inb $PIC1, %al
	movzbl %al, %eax
	movl %eax, isr_first
	movb $0x0a, %al
	outb %al, $PIC1
1:	cmpl $10, ticks
	jne 2f
	movb $0xff, %al
	outb %al, $PIC1 + 1
2:	movb $0x20, %al                          /* EOI */
	outb %al, $PIC1
	ret

	.data
ticks:		.long 0
isr_first:	.long 0
