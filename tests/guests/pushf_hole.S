/* pushf_hole — a guest kernel that checks its own interrupt flag, as Linux's BUG_ON(irqs_disabled)
 * checks do (issue 15).
 *
 * After cli the kernel reads EFLAGS with pushf and executes ud2 (Linux's BUG()) if IF is still
 * set. At ring 0 (native, trap: VT-x runs the guest's ring 0 in ring 0; bt: the translation
 * reads the virtual IF) it is clear and the guest passes. Under trap-classic the kernel runs in
 * ring 1, cli traps and is emulated on the virtual IF, but pushf does not trap and shows the real
 * IF, which the monitor keeps set: one of the 17 sensitive-but-unprivileged instructions. The
 * kernel's check fails there exactly as Linux's does, and vmlab ends the run naming the hole
 * (tests/integration/pg_diagnosis.sh); this file's .expected is the console where it passes.
 */
#include "guest.h"

	.text
	.globl main
main:
	call cpu_init
	print "pushf_hole: cli, then pushf\n"
	cli
	pushf
	popl %eax
	testl $0x200, %eax
	jz 1f
	ud2                                     /* BUG(): interrupts are on after cli */
1:	print "pushf_hole: IF clear after cli\n"
	ret
