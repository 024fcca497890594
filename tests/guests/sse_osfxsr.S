/* sse_osfxsr — the guest's CR4.OSFXSR decides whether SSE instructions run (issue 15).
 *
 * Linux turns on CR4.OSFXSR (and OSXMMEXCPT) early and then uses SSE (ldmxcsr at boot). Under a
 * shadow-paging monitor the real CR4 is the monitor's; before vmlab let the guest's bits through,
 * the guest's OSFXSR never reached the CPU and its first ldmxcsr raised #UD. The SDM (vol. 3A,
 * 2.5 and 13.1): with CR4.OSFXSR clear, SSE instructions raise #UD; with it set they execute.
 * So: ldmxcsr with OSFXSR clear must be #UD; after `mov cr4` sets OSFXSR|OSXMMEXCPT, ldmxcsr,
 * stmxcsr, movups and addps must run and compute what they compute, in every mode as in QEMU;
 * CR4 reads back what the guest wrote.
 */
#include "guest.h"

#define CR4_OSFXSR     0x200
#define CR4_OSXMMEXCPT 0x400

	.text
	.globl main
main:
	call cpu_init
	print "sse_osfxsr: ldmxcsr with CR4.OSFXSR clear\n"
	faulting "ldmxcsr mxcsr_in", 6
	print "sse_osfxsr: set CR4.OSFXSR and OSXMMEXCPT\n"
	movl %cr4, %eax
	orl $(CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl %cr4, %eax
	andl $(CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	check %eax, $(CR4_OSFXSR | CR4_OSXMMEXCPT), "cr4 reads back osfxsr|osxmmexcpt"
	ldmxcsr mxcsr_in
	stmxcsr mxcsr_out
	movl mxcsr_out, %eax
	check %eax, $0x1f80, "stmxcsr returns what ldmxcsr loaded"
	movups vec_a, %xmm0
	movups vec_b, %xmm1
	addps %xmm1, %xmm0
	movups %xmm0, vec_sum
	check vec_sum, $0x40400000, "1.0 + 2.0 = 3.0 (lane 0)"
	check vec_sum + 12, $0x41200000, "4.0 + 6.0 = 10.0 (lane 3)"
	print "sse_osfxsr: sse ran\n"
	ret

	.data
	.align 16
mxcsr_in:	.long 0x1f80
mxcsr_out:	.long 0
	.align 16
vec_a:	.long 0x3f800000, 0x3f800000, 0x3f800000, 0x40800000   /* 1, 1, 1, 4 */
vec_b:	.long 0x40000000, 0x40000000, 0x40000000, 0x40c00000   /* 2, 2, 2, 6 */
vec_sum: .long 0, 0, 0, 0
