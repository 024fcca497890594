/* triplefault — an exception that cannot be delivered at all shuts the machine down.
 *
 * The guest loads an IDT with limit 0 and executes int3: gate 3 is past the limit (#GP), so is
 * gate 13 (#GP while delivering #GP: #DF), so is gate 8: triple fault. The PC resets; QEMU with
 * -no-reboot exits with status 0, vmlab stops with status 4 and says "triple fault" on stderr.
 * Nothing after int3 may run: if it does, the guest prints so and fails.
 */
#include "guest.h"

	.text
	.globl main
main:
	print "triplefault: empty idt, int3\n"
	lidt empty_idtr
	int3
	print "still running after int3\n"
	call guest_fail

	.section .rodata
	.align 4
empty_idtr:
	.word 0
	.long 0
