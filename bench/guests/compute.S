/* compute.S — the benchmark guests: CPU-bound code with no I/O and no exceptions, run on raw
 * Unicorn and on vmlab's native mode by bench_native.c.
 *
 * Built twice: bench_mixed runs a loop of 10 instructions per iteration (ALU, loads, stores, a
 * loop branch: blocks of typical compiled-code size), bench_tight a loop of 3 instructions, the
 * worst case for any per-block cost. Counts are fixed (200M and 60M instructions), so both
 * engines run identical work.
 */
	.section .multiboot, "a"
	.align 4
	.long 0x1badb002, 0x00000003, -(0x1badb002 + 0x00000003)

	.text
	.globl _start
_start:
	movl $stack_top, %esp
#ifdef MIXED
	movl $20000000, %ecx
	xorl %eax, %eax
	xorl %ebx, %ebx
	xorl %edx, %edx
	movl $buf, %esi
1:	addl %ecx, %eax
	xorl $0x5a5a, %eax
	movl %eax, (%esi)
	addl (%esi), %ebx
	roll $3, %ebx
	incl %edx
	andl $0xfc, %edx
	movl %eax, 4(%esi,%edx)
	decl %ecx
	jnz 1b
#else
	movl $20000000, %ecx
2:	addl %ecx, %eax
	decl %ecx
	jnz 2b
#endif
	movl %eax, result
	movl $0x10, %eax
	outl %eax, $0xf4
	hlt

	.bss
	.align 16
buf:	.space 512
result:	.long 0
	.space 4096
stack_top:
