/* map_top — a guest kernel that maps and uses the top 4 MiB of the linear address space, as
 * Linux does with its fixmap (0xffdxxxxx..0xfffff000).
 *
 * The page directory maps 0..4 MiB 1:1 and, through PDE 0x3ff, 0xffc00000 -> frame 0x200000 and
 * 0xfffff000 -> frame 0x201000. The guest writes through the top addresses and reads back through
 * both mappings, then remaps 0xfffff000 to another frame (PTE write + invlpg) and reads again.
 * Natively (QEMU, native) and under trap these are ordinary accesses; trap-classic and bt start
 * with their monitor's window there and must move it (shadow window_move) rather than refuse the
 * guest: the console is the same under QEMU, native, trap, trap-classic and bt.
 */
#include "guest.h"

#define TOP_LO   0xffc00000                  /* PDE 0x3ff, PTE 0 */
#define TOP_HI   0xfffff000                  /* PDE 0x3ff, PTE 0x3ff */
#define FRAME_A  0x200000
#define FRAME_B  0x201000
#define FRAME_C  0x202000

	.text
	.globl main
main:
	call cpu_init
	movl $0x11111111, FRAME_C               /* paging is still off: physical writes */
	identity_map pt0, pd
	movl $pt1 + 3, pd + 4 * (TOP_LO >> 22)
	movl $FRAME_A | 3, pt1
	movl $FRAME_B | 3, pt1 + 4 * 0x3ff
	paging_on pd
	print "map_top: paging on, 0xffc00000 -> 0x200000, 0xfffff000 -> 0x201000\n"
	movl $0xc0ffee01, TOP_LO
	movl $0xc0ffee02, TOP_LO + 0xffc
	movl $0xc0ffee03, TOP_HI
	movl $0xc0ffee04, TOP_HI + 0xffc
	check TOP_LO, $0xc0ffee01, "read 0xffc00000"
	check TOP_HI + 0xffc, $0xc0ffee04, "read 0xfffffffc"
	check FRAME_A, $0xc0ffee01, "frame 0x200000 holds the write to 0xffc00000"
	check FRAME_A + 0xffc, $0xc0ffee02, "frame 0x200000 + 0xffc"
	check FRAME_B, $0xc0ffee03, "frame 0x201000 holds the write to 0xfffff000"
	check FRAME_B + 0xffc, $0xc0ffee04, "frame 0x201000 + 0xffc"
	movl $FRAME_C | 3, pt1 + 4 * 0x3ff
	invlpg TOP_HI
	check TOP_HI, $0x11111111, "0xfffff000 -> 0x202000 after invlpg"
	movl %cr3, %eax                          /* the directory again, from a fresh CR3 load */
	movl %eax, %cr3
	check TOP_LO + 0xffc, $0xc0ffee02, "read 0xffc00ffc after a cr3 reload"
	ret

	.bss
	.align 4096
pd:	.space 4096
pt0:	.space 4096
pt1:	.space 4096
