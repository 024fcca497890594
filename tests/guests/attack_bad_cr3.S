/* attack_bad_cr3 — a kernel loads CR3 with a frame outside its memory and turns paging on.
 *
 * Run with --ram 64. CR3 = 0xf0000000 (with paging still off, nothing reads it), then CR0.PG.
 *   trap:   the monitor must not shadow a page directory it cannot read: it refuses (refusal
 *           bad_cr3) and ends the run, status 4, with a message naming CR3.
 *   native: the CPU walks a page directory with nothing behind it; vmlab ends the run too.
 * Nothing after the CR0 write may run: if it does, the guest prints so and fails.
 * attack_bad_cr3.expected is the console in both modes.
 */
#include "guest.h"

#define BAD_CR3  0xf0000000

	.text
	.globl main
main:
	call cpu_init
	print "attack_bad_cr3: cr3 = 0xf0000000, then paging on\n"
	paging_on BAD_CR3
	print "still running with paging on\n"
	call guest_fail
