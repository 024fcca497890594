/* pse4m — 4 MiB pages (CR4.PSE) and TLB maintenance (INVLPG, CR3 reload).
 *
 * The page directory maps 0..4 MiB twice with 4 MiB pages: identity (PDE 0) and at 0x40000000
 * (PDE 0x100); a write through one mapping is read through the other, and the CPU marks the
 * large PDE accessed. PDE 0x101 maps 0x40400000 through a 4 KiB page table whose first PTE is
 * switched between two frames A and B: after INVLPG, and after a CR3 reload, the new frame is
 * visible. Last, PDE 0x100 is pointed at physical 4 MiB and invalidated with one INVLPG.
 * (What a stale TLB shows before the flush is not architectural and not printed.)
 */
#include "guest.h"

#define ALIAS   0x40000000                  /* PDE 0x100 */
#define SMALL   0x40400000                  /* PDE 0x101, via pt */
#define FRAME_A 0x200000
#define FRAME_B 0x201000
#define HIGH4M  0x400000
#define PDE_4M  0x83                        /* present, writable, page size */

	.text
	.globl main
main:
	call cpu_init
	movl $0xaaaa0000, FRAME_A               /* paging is still off: physical writes */
	movl $0xbbbb0000, FRAME_B
	movl $0xcccc0000, HIGH4M + 0x10
	movl $PDE_4M, pd
	movl $PDE_4M, pd + 4 * (ALIAS >> 22)
	movl $pt + 3, pd + 4 * (SMALL >> 22)
	movl $FRAME_A | 3, pt
	movl %cr4, %eax
	orl $0x10, %eax
	movl %eax, %cr4
	paging_on pd
	print "pse4m: paging on, 0..4 MiB at 0 and at 0x40000000 as 4 MiB pages\n"

	check magic + ALIAS, $0x5a5a1234, "read through the alias"
	movl $0x600df00d, magic + ALIAS
	check magic, $0x600df00d, "alias write seen through the identity map"
	movl pd + 4 * (ALIAS >> 22), %eax
	andl $0x20, %eax
	check %eax, $0x20, "4 MiB pde marked accessed"

	check SMALL, $0xaaaa0000, "4 KiB pte: frame A"
	movl $FRAME_B | 3, pt
	invlpg SMALL
	check SMALL, $0xbbbb0000, "pte -> frame B, invlpg: frame B"
	movl $FRAME_A | 3, pt
	movl %cr3, %eax
	movl %eax, %cr3
	check SMALL, $0xaaaa0000, "pte -> frame A, cr3 reload: frame A"

	movl $HIGH4M | PDE_4M, pd + 4 * (ALIAS >> 22)
	invlpg ALIAS + 0x1000
	check ALIAS + 0x10, $0xcccc0000, "4 MiB pde -> 4 MiB, invlpg: new frame"
	ret

	.data
magic:	.long 0x5a5a1234

	.bss
	.align 4096
pd:	.space 4096
pt:	.space 4096
