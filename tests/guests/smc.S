/* smc — self-modifying code: a store into code that has already run changes what it does the
 * next time it runs. Natively the CPU snoops its own stores; a binary translator (vmlab's `bt`)
 * must notice the write to a page it translated from and drop the stale translation.
 *
 * With paging on (0..4 MiB identity-mapped with 4 KiB pages, all writable), `patched` returns an
 * immediate; the guest calls it, rewrites the immediate (a store into the page it runs from),
 * calls it again and checks the new value, twice over, with a store of the bytes already there
 * in between (which a translator may ignore).
 */
#include "guest.h"

	.text
	.globl main
main:
	call cpu_init
	identity_map pt0, pd
	paging_on pd
	print "smc: paging on\n"
	call patched
	check %eax, $1, "before any write: 1"
	movl $2, patched + 1
	call patched
	check %eax, $2, "after the first write: 2"
	movl $2, patched + 1                     /* the same bytes again: nothing to drop */
	call patched
	check %eax, $2, "after an identical write: 2"
	movl $3, patched + 1
	call patched
	check %eax, $3, "after the second write: 3"
	ret

patched:
	movl $1, %eax                            /* b8 imm32: the immediate is at patched + 1 */
	ret

	.bss
	.align 4096
pd:	.space 4096
pt0:	.space 4096
