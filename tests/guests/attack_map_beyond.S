/* attack_map_beyond — a kernel maps a physical frame beyond its RAM and reads through it.
 *
 * Run with --ram 64. The guest identity-maps 0..4 MiB with 4 KiB pages, then, for PROBE
 * (0x40000000), names physical BEYOND (0x7f000000), far past its 64 MiB:
 *   default           the PTE of PROBE names BEYOND as the data frame;
 *   "pde" in cmdline  the PDE of PROBE names BEYOND as the page table;
 * and reads PROBE.
 *   trap:   the shadow MMU refuses the entry (refusal frame_outside_ram) and the guest sees a
 *           page fault at PROBE: the handler prints CR2, the error code and the faulting EIP,
 *           checks CR2 and EIP, and passes (exit 0x10). attack_map_beyond.expected is this
 *           console for the default case.
 *   native: the CPU reads a physical address with nothing behind it. A data read ends the run
 *           (status 4, "outside its 64 MiB of RAM"); a page-table read is a not-present fault.
 *           QEMU would read open bus: it is not an oracle here.
 * If the read completes, the guest prints the value and fails.
 */
#include "guest.h"

#define PROBE    0x40000000                  /* PDE 0x100 */
#define BEYOND   0x7f000000                  /* physical, past --ram 64 */
#define MBI_CMDLINE 0x4                      /* Multiboot info flag: cmdline at offset 16 */

	.text
	.globl main
main:
	call cpu_init
	identity_map pt0, pd
	call want_pde
	testl %eax, %eax
	jnz 2f
	movl $pt1 + 3, pd + 4 * (PROBE >> 22)
	movl $BEYOND | 3, pt1
	jmp 3f
2:	movl $BEYOND | 3, pd + 4 * (PROBE >> 22)
3:	paging_on pd
	call want_pde
	testl %eax, %eax
	jnz 4f
	print "attack_map_beyond: paging on, pte of 0x40000000 -> frame 0x7f000000 (beyond RAM)\n"
	jmp 5f
4:	print "attack_map_beyond: paging on, pde of 0x40000000 -> page table 0x7f000000 (beyond RAM)\n"
5:	movl $1f, pf_at
1:	movl PROBE, %eax
	print "read completed without a fault: "
	printx %eax
	print "\n"
	call guest_fail

/* want_pde: EAX = 1 if the Multiboot command line contains "pde", else 0 (call before paging
 * or with the info identity-mapped). */
want_pde:
	xorl %eax, %eax
	movl boot_ebx, %edx
	testl $MBI_CMDLINE, (%edx)
	jz 2f
	movl 16(%edx), %edx
1:	cmpb $0, (%edx)
	je 2f
	cmpw $0x6470, (%edx)                    /* "pd" */
	jne 3f
	cmpb $'e', 2(%edx)
	je 4f
3:	incl %edx
	jmp 1b
4:	incl %eax
2:	ret

/* trap: a #PF ends the guest here (pass if it is the probe's), anything else is unexpected. */
	.globl trap
trap:
	pf_trap pf_at
	check %esi, $PROBE, "cr2 = the probe"
	check %eax, $0, "saved eip = the read"
	call guest_pass

	.data
pf_at:	.long 0                               /* the read expected to fault */

	.bss
	.align 4096
pd:	.space 4096
pt0:	.space 4096
pt1:	.space 4096
