/* cmos — the MC146818 RTC behind ports 0x70/0x71 holds a plausible date.
 *
 * The guest waits until no update is in progress (register A bit 7), checks register B for the
 * PC default format (BCD, 24-hour) and register D's valid bit, reads the time and date
 * registers until two reads agree, converts them from BCD and checks the ranges: year (century
 * register 0x32 * 100 + register 9) 2000..2199, month, day of month, day of week, hour, minute,
 * second. The date itself is not printed: QEMU's RTC follows the host clock, vmlab's the
 * deterministic one.
 */
#include "guest.h"

	.text
	.globl main
main:
	print "cmos: reading the rtc\n"
	movl $1000000, %ecx
1:	movb $0x0a, %al
	call cmos_read
	testb $0x80, %al
	loopnz 1b
	andl $0x80, %eax
	check %eax, $0, "register a: update finished"
	movb $0x0b, %al
	call cmos_read
	andl $0x06, %eax
	check %eax, $0x02, "register b: bcd, 24-hour"
	movb $0x0d, %al
	call cmos_read
	andl $0x80, %eax
	check %eax, $0x80, "register d: valid"

2:	call read_clock
	movl $now, %esi
	movl $then, %edi
	movl $8, %ecx
	rep movsl
	call read_clock
	movl $now, %esi
	movl $then, %edi
	movl $8, %ecx
	repe cmpsl
	jne 2b

	movl year, %eax
	imull $100, century, %edx
	addl %edx, %eax
	check_range %eax, $2000, $2199, "year 2000..2199"
	check_range month, $1, $12, "month 1..12"
	check_range mday, $1, $31, "day of month 1..31"
	check_range wday, $1, $7, "day of week 1..7"
	check_range hour, $0, $23, "hour 0..23"
	check_range minute, $0, $59, "minute 0..59"
	check_range second, $0, $59, "second 0..59"
	ret

/* read_clock: the eight clock registers into now[] (binary), in the order of the table. */
read_clock:
	xorl %ebx, %ebx
1:	movb regs(%ebx), %al
	call cmos_read
	movl %eax, %edx                          /* BCD -> binary: high * 10 + low */
	shrl $4, %edx
	imull $10, %edx
	andl $0x0f, %eax
	addl %edx, %eax
	movl %eax, now(, %ebx, 4)
	incl %ebx
	cmpl $8, %ebx
	jne 1b
	ret

/* cmos_read: EAX = CMOS register AL, zero-extended. */
cmos_read:
	outb %al, $0x70
	xorl %eax, %eax
	inb $0x71, %al
	ret

	.section .rodata
regs:	.byte 0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32

	.bss
	.align 4
now:
second:	.long 0
minute:	.long 0
hour:	.long 0
wday:	.long 0
mday:	.long 0
month:	.long 0
year:	.long 0
century: .long 0
then:	.space 32
