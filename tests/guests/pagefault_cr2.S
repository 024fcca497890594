/* pagefault_cr2 — #PF delivery: CR2, the error code, and a retried instruction.
 *
 * The guest identity-maps 0..4 MiB with 4 KiB pages, except three test pages: 0x300000 and
 * 0x301000 not present, 0x302000 read-only. With CR0.WP=0 a ring-0 write to the read-only page
 * succeeds; then WP is set and three accesses fault:
 *   read  0x300123, not present  -> err 0x0
 *   write 0x301456, not present  -> err 0x2
 *   write 0x302010, read-only    -> err 0x3 (protection, write)
 * The handler prints CR2 and the error code, checks that the saved EIP is the faulting
 * instruction, makes the page present (no INVLPG: not-present entries are never cached) or
 * writable (with INVLPG), and returns to retry the instruction, which then works. The accessed
 * and dirty bits the CPU sets in the PTEs are checked too.
 */
#include "guest.h"

#define NP_READ  0x300000
#define NP_WRITE 0x301000
#define RO_PAGE  0x302000
#define PTE(addr) (pt0 + 4 * ((addr) >> 12))

/* write_retried "title", addr, value, err, "why": print the title; a write of value to addr
 * faults once with error code err (checked, with "why"), the handler mends the PTE, and the
 * retried write lands there; CR2 is checked to be addr. */
.macro write_retried title, addr, value, err, why
	print "\title"
	movl $.Lwrite\@, pf_at
.Lwrite\@:
	movl $\value, \addr
	movl \addr, %eax
	check %eax, $\value, "retried write landed"
	check pf_cr2, $\addr, "cr2 = address written"
	check pf_err, $\err, "\why"
.endm

/* pte_ad addr, bits, "what": the accessed and dirty bits (0x60) of addr's PTE are `bits`. */
.macro pte_ad addr, bits, what
	movl PTE(\addr), %eax
	andl $0x60, %eax
	check %eax, $\bits, "\what"
.endm

	.text
	.globl main
main:
	call cpu_init
	print "pagefault_cr2: identity map with three test pages\n"
	movl $0x11111111, NP_READ + 0x123          /* paging is still off: physical writes */
	movl $0x22222222, RO_PAGE + 0x10
	identity_map pt0, pd
	movl $0, PTE(NP_READ)
	movl $0, PTE(NP_WRITE)
	movl $RO_PAGE | 1, PTE(RO_PAGE)
	paging_on pd
	print "paging on, cr0.wp clear\n"
	movl RO_PAGE + 0x10, %eax
	check %eax, $0x22222222, "read of the read-only page"
	movl $0x33333333, RO_PAGE + 0x10
	check pf_count, $0, "ring-0 write to a read-only page with wp clear: no fault"
	movl %cr0, %eax
	orl $0x10000, %eax
	movl %eax, %cr0
	print "cr0.wp set\n"

	print "read from a not-present page\n"
	movl $1f, pf_at
1:	movl NP_READ + 0x123, %eax
	check %eax, $0x11111111, "retried read sees the page"
	check pf_cr2, $NP_READ + 0x123, "cr2 = address read"
	check pf_err, $0, "error code 0x0 (not present, read)"
	pte_ad NP_READ, 0x20, "pte accessed, not dirty"

	write_retried "write to a not-present page\n", NP_WRITE + 0x456, 0x44444444, 2, \
		"error code 0x2 (not present, write)"
	pte_ad NP_WRITE, 0x60, "pte accessed and dirty"

	write_retried "write to a read-only page with cr0.wp set\n", RO_PAGE + 0x10, 0x55555555, 3, \
		"error code 0x3 (protection, write)"
	check pf_count, $3, "three page faults in all"
	ret

/* trap: #PF is handled here, anything else by the default handler. */
	.globl trap
trap:
	pf_trap pf_at
	movl %esi, pf_cr2
	movl F_ERR(%ebx), %edx
	movl %edx, pf_err
	incl pf_count
	testl %eax, %eax
	jnz guest_fail
	shrl $12, %esi
	testl $1, F_ERR(%ebx)
	jnz 1f
	movl %esi, %eax                         /* not present: map it, writable */
	shll $12, %eax
	orl $3, %eax
	movl %eax, pt0(, %esi, 4)
	ret
1:	orl $2, pt0(, %esi, 4)                  /* read-only: make it writable, flush the entry */
	movl %cr2, %eax
	invlpg (%eax)
	ret

	.data
pf_at:		.long 0                       /* the instruction expected to fault */
pf_cr2:		.long 0
pf_err:		.long 0
pf_count:	.long 0

	.bss
	.align 4096
pd:	.space 4096
pt0:	.space 4096
