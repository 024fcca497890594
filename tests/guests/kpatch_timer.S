/* kpatch_timer — kernel code patched in place while the timer keeps interrupting, as Linux's
 * alternatives patch `rdtsc` (emu/blocks.h: every site checks its bytes; kernel-code epoch).
 *
 * The kernel (ring 0, paging on with 0..4 MiB identity-mapped by 4 KiB pages, as Linux patches
 * with paging on; bt traces the frames it translated from only then) programs the PIC and the
 * PIT for a periodic IRQ0 (divisor 119, about 10 kHz; the handler counts ticks) and runs with
 * interrupts enabled. Three patches, each preceded and followed by a phase of calls:
 *
 *   tsc_fn     `rdtsc; nopl (%eax)` (0f 31 0f 1f 00) becomes `lfence; rdtsc` (0f ae e8 0f 31):
 *              the instruction vmlab hooked (rdtsc, a site in every mode) moves 3 bytes on and
 *              a new one takes its address;
 *   probe_fn   `movb $0x5a, %al` (b0 5a), a block without any privileged instruction, becomes
 *              `inb $0x21, %al` (e4 21): a port read where vmlab decoded none (it reads the
 *              master PIC's mask, 0xfe: only IRQ0 unmasked, the same under QEMU and vmlab);
 *   probe_fn   then `inb $0x21, %al` becomes `movb $0x33, %al` (b0 33): the site goes away.
 *
 * The bytes are written with plain stores, interrupts on, and no serializing instruction after
 * them (the worst case; Linux's text_poke_early ends with sync_core(), an iret on x86-32, which
 * vmlab does not treat as serializing either). A phase calls the function in batches of 100
 * until at least 20 batches ran and the timer ticked at least 3 times since the phase began, so
 * interrupts land among the calls; how many batches that takes depends on time and is not
 * printed. Each batch begins with `sti`, a no-op natively: under trap-classic the tick
 * handler's iret runs in ring 1 and cannot give the guest its interrupt flag back (a hole, as
 * the mode means it to be), so the kernel turns it on again, as timer.S does around its hlt. Each call is checked, and only facts that do not depend on time are printed:
 * EDX:EAX from tsc_fn never goes backwards (64-bit; EAX and EDX are zeroed before each call so
 * a skipped rdtsc shows), AL from probe_fn is the value the current bytes give, ECX is the
 * value the function sets before the patched bytes, EBX, ESI, EDI and EBP are kept, and the
 * counters incremented before and after the patched bytes both equal the number of calls
 * (execution continued right after the patched instructions, nothing ran twice).
 */
#include "guest.h"

#define DIVISOR 119
#define BATCH 100
#define MIN_BATCHES 20
#define MIN_TICKS 3

/* phase fn, want_al: call `fn` in batches of BATCH until MIN_BATCHES batches and MIN_TICKS
 * ticks have passed; with want_al = -1 the result is a time stamp that must not go backwards,
 * otherwise AL must be want_al. Counts calls, bad results and bad registers. */
.macro phase fn, want_al
	movl ticks, %eax
	movl %eax, tick0
	movl $0, calls
	movl $0, bad
	movl $0, batches
	movl $0, \fn\()_pre
	movl $0, \fn\()_post
	movl $0, prev_lo
	movl $0, prev_hi
.Lbatch\@:
	sti
	movl $BATCH, count
.Lcall\@:
	xorl %eax, %eax
	xorl %edx, %edx
	xorl %ecx, %ecx
	call \fn
	incl calls
	cmpl $0x7, %ecx
	jne .Lbad\@
	cmpl $0xb0b0b0b0, %ebx
	jne .Lbad\@
	cmpl $0x51515151, %esi
	jne .Lbad\@
	cmpl $0xd1d1d1d1, %edi
	jne .Lbad\@
	cmpl $0xbebebebe, %ebp
	jne .Lbad\@
.if \want_al == -1
	movl %eax, cur_lo
	movl %edx, cur_hi
	subl prev_lo, %eax
	sbbl prev_hi, %edx
	jc .Lbad\@                               /* went backwards (or rdtsc did not run: 0) */
	movl cur_lo, %eax
	movl %eax, prev_lo
	movl cur_hi, %eax
	movl %eax, prev_hi
.else
	cmpl $\want_al, %eax
	jne .Lbad\@
.endif
	jmp .Lnext\@
.Lbad\@:
	incl bad
.Lnext\@:
	decl count
	jnz .Lcall\@
	incl batches
	cmpl $MIN_BATCHES, batches
	jb .Lbatch\@
	movl ticks, %eax
	subl tick0, %eax
	cmpl $MIN_TICKS, %eax
	jb .Lbatch\@
	check bad, $0, "every call: result and registers right"
	movl calls, %eax
	check \fn\()_pre, %eax, "counter before the patched bytes = calls"
	check \fn\()_post, %eax, "counter after the patched bytes = calls"
	check_range calls, $2000, $0xffffffff, "at least 2000 calls, timer ticking"
.endm

	.text
	.globl main
main:
	call cpu_init
	identity_map pt0, pd
	paging_on pd
	pic_init
	pit_periodic DIVISOR
	sti
	print "kpatch_timer: paging on, pit at divisor 119, interrupts on\n"
	movl $0xb0b0b0b0, %ebx
	movl $0x51515151, %esi
	movl $0xd1d1d1d1, %edi
	movl $0xbebebebe, %ebp

	print "tsc_fn: rdtsc; nopl (%eax)\n"
	phase tsc_fn, -1
	movb $0x0f, tsc_site                     /* lfence; rdtsc, byte by byte */
	movb $0xae, tsc_site + 1
	movb $0xe8, tsc_site + 2
	movb $0x0f, tsc_site + 3
	movb $0x31, tsc_site + 4
	print "tsc_fn patched: lfence; rdtsc\n"
	phase tsc_fn, -1

	print "probe_fn: movb $0x5a, %al\n"
	phase probe_fn, 0x5a
	movw $0x21e4, probe_site                 /* inb $0x21, %al */
	print "probe_fn patched: inb $0x21, %al\n"
	phase probe_fn, 0xfe
	movw $0x33b0, probe_site                 /* movb $0x33, %al */
	print "probe_fn patched: movb $0x33, %al\n"
	phase probe_fn, 0x33

	cli
	xorl %eax, %eax
	movb $0xff, %al                          /* timer off before the exit */
	outb %al, $PIC1 + 1
	ret

/* The patched functions: ECX = 7, a counter, the bytes that change, a counter. */
	.align 16
tsc_fn:
	movl $7, %ecx
	incl tsc_fn_pre
tsc_site:
	rdtsc
	.byte 0x0f, 0x1f, 0x00                   /* nopl (%eax) */
	incl tsc_fn_post
	ret

	.align 16
probe_fn:
	movl $7, %ecx
	incl probe_fn_pre
probe_site:
	movb $0x5a, %al
	incl probe_fn_post
	ret

/* trap: IRQ0 counts ticks; every other vector is unexpected. */
	.globl trap
trap:
	trap_only 0x20
	incl ticks
	movb $0x20, %al                          /* EOI */
	outb %al, $PIC1
	ret

	.data
ticks:		.long 0
tick0:		.long 0
calls:		.long 0
bad:		.long 0
batches:	.long 0
count:		.long 0
prev_lo:	.long 0
prev_hi:	.long 0
cur_lo:		.long 0
cur_hi:		.long 0
tsc_fn_pre:	.long 0
tsc_fn_post:	.long 0
probe_fn_pre:	.long 0
probe_fn_post:	.long 0

	.bss
	.align 4096
pd:	.space 4096
pt0:	.space 4096
