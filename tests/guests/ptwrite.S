/* ptwrite — one store instruction writes a page-table entry round after round, then keeps
 * writing the same frame after it stopped being a page table, then writes it as a page table
 * again. Natively nothing is special: each round reads back what the new entry maps, or what was
 * stored. A monitor that traces page tables sees the page-table rounds as faulting writes to a
 * traced table; a binary translator (vmlab's `bt`) may then make that store a callout, once the
 * frame is plain data the store itself again, and a callout once more when the frame is a table
 * again (adaptive BT, with hysteresis and backoff). tests/integration/bt_adaptive.sh checks those
 * counts.
 *
 * Paging: pt0 identity-maps 0..4 MiB; pt1, the table `store` writes, maps 4 MiB on. Round i
 * points 0x400000 at frame_a (i even) or frame_b (i odd) and reads a word through it.
 */
#include "guest.h"

#define ROUNDS 40          /* rounds writing pt1 while it is a page table */
#define DATA_ROUNDS 20     /* rounds writing it after it is detached */

	.text
	.globl main
main:
	call cpu_init
	identity_map pt0, pd
	movl $pt1 + 3, pd + 4
	movl $0x11111111, frame_a
	movl $0x22222222, frame_b
	paging_on pd
	print "ptwrite: paging on\n"
	call table_rounds
	check %edi, $(ROUNDS / 2 * 0x33333333), "40 rounds through the rewritten entry"
	movl $0, pd + 4                          /* pt1 is a page table no more */
	movl %cr3, %eax
	movl %eax, %cr3
	xorl %edi, %edi
	movl $DATA_ROUNDS, %esi
4:	movl %esi, %eax
	movl $pt1, %edx
	call store
	addl pt1, %edi
	decl %esi
	jnz 4b
	check %edi, $(DATA_ROUNDS * (DATA_ROUNDS + 1) / 2), "20 rounds of plain data"
	movl $pt1 + 3, pd + 4                    /* a page table again */
	movl %cr3, %eax
	movl %eax, %cr3
	call table_rounds
	check %edi, $(ROUNDS / 2 * 0x33333333), "40 rounds through the table attached again"
	ret

/* ROUNDS rounds of `store` pointing 0x400000 at frame_a or frame_b through pt1, each reading a
 * word through it; their sum in %edi. */
table_rounds:
	xorl %edi, %edi
	movl $ROUNDS, %esi
2:	movl $frame_a + 3, %eax
	testl $1, %esi
	jz 3f
	movl $frame_b + 3, %eax
3:	movl $pt1, %edx
	call store
	invlpg 0x400000
	addl 0x400000, %edi
	decl %esi
	jnz 2b
	ret

store:
	movl %eax, (%edx)                        /* the one store both halves use */
	ret

	.bss
	.align 4096
pd:	.space 4096
pt0:	.space 4096
pt1:	.space 4096
frame_a: .space 4096
frame_b: .space 4096
