/* msr_unknown — the MSRs vmlab's processor has, and the ones it does not (emu/cpu_model.h).
 *
 * At CPL 0, RDMSR and WRMSR of an index the processor does not implement (0x12345) raise #GP(0)
 * at the instruction, which does not execute (Intel SDM vol. 2B, RDMSR/WRMSR: "#GP(0) if the
 * value in ECX specifies a reserved or unimplemented MSR address"): the guest's own #GP handler
 * prints vector, error code and the saved EIP relative to the instruction, checks that EAX and
 * EDX are untouched by the RDMSR, and resumes after it. A listed MSR works: IA32_SYSENTER_CS
 * written and read back. IA32_TIME_STAMP_COUNTER (0x10) and RDTSC are one counter: between two
 * RDTSCs, RDMSR 0x10 reads a value in between (64-bit compares; the values themselves are time
 * and are not printed). CPUID leaf 1 EDX describes the machine vmlab has: no PAE (bit 6), no
 * local APIC (bit 9), SEP (bit 11, SYSENTER/SYSEXIT) present.
 *
 * vmlab only, in every mode: QEMU's TCG answers RDMSR of an MSR it does not know with 0 and
 * ignores the WRMSR (no #GP), and its default CPU (qemu32) reports PAE and APIC, so QEMU is no
 * oracle for this guest. The handler prints no CPL (ring compression shows the guest's ring 0 as
 * ring 1 in a frame's CS under trap-classic), so the console is the same in every mode.
 */
#include "guest.h"

#define MSR_UNKNOWN 0x12345
#define MSR_TSC 0x10
#define MSR_SYSENTER_CS 0x174

/* gp_expect at, resume: the next #GP must be at `at`; the handler resumes at `resume`. */
.macro gp_expect at, resume
	movl $\at, gp_at
	movl $\resume, gp_resume
	movl $0, gp_seen
.endm

	.text
	.globl main
main:
	call cpu_init
	print "msr_unknown: rdmsr 0x12345 at cpl 0\n"
	gp_expect rd_at, rd_next
	movl $MSR_UNKNOWN, %ecx
	movl $0x11111111, %eax
	movl $0x22222222, %edx
rd_at:	rdmsr
rd_next:
	check gp_seen, $1, "rdmsr 0x12345 raised #GP"
	check %eax, $0x11111111, "eax untouched"
	check %edx, $0x22222222, "edx untouched"

	print "msr_unknown: wrmsr 0x12345 at cpl 0\n"
	gp_expect wr_at, wr_next
	movl $MSR_UNKNOWN, %ecx
	xorl %eax, %eax
	xorl %edx, %edx
wr_at:	wrmsr
wr_next:
	check gp_seen, $1, "wrmsr 0x12345 raised #GP"
	movl $0, gp_at

	print "msr_unknown: a listed msr (ia32_sysenter_cs)\n"
	movl $MSR_SYSENTER_CS, %ecx
	movl $SEL_KCODE, %eax
	xorl %edx, %edx
	wrmsr
	movl $0xffffffff, %eax
	movl $0xffffffff, %edx
	rdmsr
	check %eax, $SEL_KCODE, "ia32_sysenter_cs reads back 0x08"
	check %edx, $0, "ia32_sysenter_cs high half 0"

	print "msr_unknown: rdmsr 0x10 against rdtsc\n"
	rdtsc
	movl %eax, t0_lo
	movl %edx, t0_hi
	movl $MSR_TSC, %ecx
	rdmsr
	movl %eax, t1_lo
	movl %edx, t1_hi
	rdtsc
	movl %eax, t2_lo
	movl %edx, t2_hi
	/* t0 <= t1 <= t2, unsigned 64-bit */
	movl t1_lo, %eax
	movl t1_hi, %edx
	subl t0_lo, %eax
	sbbl t0_hi, %edx
	setnc %al
	movzbl %al, %eax
	check %eax, $1, "rdtsc <= rdmsr(0x10)"
	movl t2_lo, %eax
	movl t2_hi, %edx
	subl t1_lo, %eax
	sbbl t1_hi, %edx
	setnc %al
	movzbl %al, %eax
	check %eax, $1, "rdmsr(0x10) <= rdtsc"
	movl t2_lo, %eax
	movl t2_hi, %edx
	subl t0_lo, %eax
	sbbl t0_hi, %edx
	orl %edx, %eax
	setnz %al
	movzbl %al, %eax
	check %eax, $1, "the counter moved"

	print "msr_unknown: cpuid leaf 1\n"
	movl $1, %eax
	xorl %ecx, %ecx
	cpuid
	movl %edx, %esi
	andl $1 << 6, %edx
	check %edx, $0, "edx bit 6 (pae) clear"
	movl %esi, %edx
	andl $1 << 9, %edx
	check %edx, $0, "edx bit 9 (apic) clear"
	movl %esi, %edx
	andl $1 << 11, %edx
	check %edx, $0x800, "edx bit 11 (sep) set"
	movl %esi, %edx
	andl $1 << 5, %edx
	check %edx, $0x20, "edx bit 5 (msr) set"
	ret

/* trap: the expected #GP (gp_at set) is printed, checked and resumed; anything else is
 * trap_default's (which fails the guest). */
	.globl trap
trap:
	trap_only 13
	cmpl $0, gp_at
	je trap_default
	print "trap 13 err="
	printx F_ERR(%ebx)
	print " eip=at+"
	movl F_EIP(%ebx), %eax
	subl gp_at, %eax
	printd %eax
	print "\n"
	check F_ERR(%ebx), $0, "error code 0"
	movl F_EIP(%ebx), %eax
	check %eax, gp_at, "saved eip is the instruction"
	movl gp_resume, %eax
	movl %eax, F_EIP(%ebx)
	movl $1, gp_seen
	movl $0, gp_at
	ret

	.data
gp_at:		.long 0
gp_resume:	.long 0
gp_seen:	.long 0
t0_lo:		.long 0
t0_hi:		.long 0
t1_lo:		.long 0
t1_hi:		.long 0
t2_lo:		.long 0
t2_hi:		.long 0
