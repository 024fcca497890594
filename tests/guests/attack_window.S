/* attack_window — a kernel maps the top 4 MiB of the linear address space and writes there.
 *
 * The pre-VT monitors (trap-classic, bt) start with their window at 0xffc00000-0xffffffff. The
 * guest identity-maps 0..4 MiB, points PDE 0x3ff at a page table whose first PTE names an
 * ordinary RAM frame (0x200000), and writes to WINDOW (0xffc00010).
 *   native: there is no monitor; the write lands in frame 0x200000, the guest says so and
 *           fails (exit 0x11), which is what bare hardware does with this guest.
 *   trap:   as native (VT-x keeps nothing in the guest's linear space).
 *   trap-classic, bt: the shadow MMU sees PDE 0x3ff when it shadows the directory and moves its
 *           window to a free region (counted shadow window_move, issue 15): as native.
 * The #PF handler below is what a monitor that refused the region would show (it passed the
 * guest when the monitors still refused it); tests/integration/trap_attacks.sh checks all this.
 */
#include "guest.h"

#define WINDOW   0xffc00010                  /* PDE 0x3ff, via pt1 */
#define FRAME    0x200000

	.text
	.globl main
main:
	call cpu_init
	identity_map pt0, pd
	movl $pt1 + 3, pd + 4 * (WINDOW >> 22)
	movl $FRAME | 3, pt1
	paging_on pd
	print "attack_window: paging on, 0xffc00000 -> frame 0x200000\n"
	movl $1f, pf_at
1:	movl $0x0badc0de, WINDOW
	print "write completed without a fault, frame 0x200000 + 0x10 = "
	printx FRAME + 0x10
	print "\n"
	call guest_fail

/* trap: a #PF ends the guest here (pass if it is the write's), anything else is unexpected. */
	.globl trap
trap:
	pf_trap pf_at
	check %esi, $WINDOW, "cr2 = the address written"
	check %eax, $0, "saved eip = the write"
	check FRAME + 0x10, $0, "frame 0x200000 untouched"
	call guest_pass

	.data
pf_at:	.long 0                               /* the write expected to fault */

	.bss
	.align 4096
pd:	.space 4096
pt0:	.space 4096
pt1:	.space 4096
