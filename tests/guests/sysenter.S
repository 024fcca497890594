/* sysenter — the fast system call: SYSENTER from ring 3 into the kernel, SYSEXIT back.
 *
 * lib.c's GDT already has the layout SYSENTER requires (Intel SDM vol. 2B, SYSENTER/SYSEXIT):
 * kernel code 0x08 = IA32_SYSENTER_CS, kernel data 0x10 = CS + 8, user code 0x18 = CS + 16,
 * user data 0x20 = CS + 24. Ring 0 writes IA32_SYSENTER_CS/ESP/EIP with wrmsr and reads them
 * back with rdmsr, masks every IRQ at the PIC and irets to ring 3 with IF set. Ring 3 does
 * ROUNDS sysenters, each with ECX = its ESP and EDX = the return address (the convention the
 * handler's sysexit needs), EBX/ESI/EDI/EBP holding values the kernel must not touch. The
 * handler (on the stack IA32_SYSENTER_ESP names, at IA32_SYSENTER_EIP) counts, records CS, SS,
 * ESP and EFLAGS as it finds them, checks them on the first entry (CS 0x08, SS 0x10, ESP the
 * MSR's, IF clear: SYSENTER clears IF), then returns with `sti; sysexit` as Linux does — except
 * on the last round, which returns with IF still clear (SYSEXIT leaves EFLAGS alone). After
 * each return ring 3 checks CS 0x1b, SS 0x23, its ESP and registers, and IF (set after
 * `sti; sysexit`, clear after the last). Then a system call (int 0x80) sets IA32_SYSENTER_CS
 * to 0, and a sysenter must raise #GP(0) at the instruction (trap_default prints vector, error
 * code, EIP and CPL 3); a second one restores the MSR and reads the three MSRs back.
 *
 * Modes (tests/guests/CMakeLists.txt): QEMU, native, trap, bt. trap-classic runs the guest's
 * ring 0 in ring 1 and cannot hide that from `mov %cs` and `pushf` there (no trap: the
 * classic x86 virtualization holes), so the handler's CS/SS/IF lines differ; pv boots no
 * Multiboot guest (and its kernel, in ring 1, owns no MSRs).
 */
#include "guest.h"

#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define ROUNDS 1000
#define SYS_ZERO_CS 16          /* int 0x80: IA32_SYSENTER_CS = 0 */
#define SYS_RESTORE 17          /* int 0x80: IA32_SYSENTER_CS = 0x08, read the three MSRs back */
#define EFLAGS_IF 0x200

	.text
	.globl main
main:
	call cpu_init
	movb $GATE_TRAP3, idt + 8 * 0x80 + 5
	pic_init
	movb $0xff, %al                          /* every IRQ masked: IF can be set in ring 3 */
	outb %al, $PIC1 + 1
	print "sysenter: wrmsr ia32_sysenter_cs/esp/eip\n"
	xorl %edx, %edx
	movl $MSR_SYSENTER_CS, %ecx
	movl $SEL_KCODE, %eax
	wrmsr
	movl $MSR_SYSENTER_ESP, %ecx
	movl $sstack_top, %eax
	wrmsr
	movl $MSR_SYSENTER_EIP, %ecx
	movl $sysenter_entry, %eax
	wrmsr
	call read_back
	print "sysenter: iret to ring 3 with IF set\n"
	pushl $SEL_UDATA
	pushl $ustack_top
	pushl $0x202
	pushl $SEL_UCODE
	pushl $user
	iret

/* read_back: rdmsr the three MSRs and check them against what main wrote. */
read_back:
	movl $MSR_SYSENTER_CS, %ecx
	rdmsr
	check %eax, $SEL_KCODE, "rdmsr ia32_sysenter_cs = 0x08"
	check %edx, $0, "ia32_sysenter_cs high half 0"
	movl $MSR_SYSENTER_ESP, %ecx
	rdmsr
	check %eax, $sstack_top, "rdmsr ia32_sysenter_esp = the handler's stack"
	movl $MSR_SYSENTER_EIP, %ecx
	rdmsr
	check %eax, $sysenter_entry, "rdmsr ia32_sysenter_eip = the handler"
	ret

user:
	user_data_segments
	uprint "ring 3: sysenter round trips\n"
	movl $0x5eed0001, %ebx
	movl $0x5eed0002, %esi
	movl $0x5eed0003, %ebp
	movl $ROUNDS, %edi
1:	movl %esp, %ecx
	movl $2f, %edx
	sysenter
2:	xorl %eax, %eax
	movw %cs, %ax
	cmpl $SEL_UCODE, %eax
	jne bad_round
	movw %ss, %ax
	cmpl $SEL_UDATA, %eax
	jne bad_round
	cmpl $ustack_top, %esp
	jne bad_round
	cmpl $0x5eed0001, %ebx
	jne bad_round
	cmpl $0x5eed0002, %esi
	jne bad_round
	cmpl $0x5eed0003, %ebp
	jne bad_round
	pushfl
	popl %eax
	andl $EFLAGS_IF, %eax
	cmpl $1, %edi                            /* the last round returns with IF clear */
	je 3f
	cmpl $EFLAGS_IF, %eax
	jne bad_round
	jmp 4f
3:	testl %eax, %eax
	jne bad_round
4:	decl %edi
	jnz 1b
	uprint "ring 3: after every return cs 0x1b, ss 0x23, esp and registers kept, if as sysexit left it\n"
	ucheck entries, $ROUNDS, "handler entered 1000 times"
	ucheck bad_entries, $0, "every entry: cs 0x08, ss 0x10, esp from the msr, if clear"

	uprint "ring 3: sysenter with ia32_sysenter_cs = 0\n"
	movl $SYS_ZERO_CS, %eax
	int $0x80
	faulting "sysenter", 13, 0
	movl $SYS_RESTORE, %eax
	int $0x80
	movl %esp, %ecx
	movl $5f, %edx
	sysenter
5:	ucheck entries, $ROUNDS+1, "sysenter works again"
	uprint "ring 3: exit\n"
	movl $SYS_EXIT, %eax
	int $0x80

bad_round:
	movl $ROUNDS+1, %eax
	subl %edi, %eax
	ucheck %eax, $0, "first round whose return state is wrong"
	movl $SYS_EXIT, %eax
	int $0x80

/* The SYSENTER handler: ring 0, CS/SS from IA32_SYSENTER_CS, ESP/EIP from the MSRs; DS and ES
 * are still ring 3's flat data segment. Returns to EDX with ESP = ECX (left as ring 3 set them). */
sysenter_entry:
	movl %esp, h_esp
	pushfl
	popl h_eflags
	movl %eax, h_eax
	xorl %eax, %eax
	movw %cs, %ax
	movl %eax, h_cs
	movw %ss, %ax
	movl %eax, h_ss
	incl entries
	cmpl $SEL_KCODE, h_cs
	jne 6f
	cmpl $SEL_KDATA, h_ss
	jne 6f
	cmpl $sstack_top, h_esp
	jne 6f
	testl $EFLAGS_IF, h_eflags
	jz 7f
6:	incl bad_entries
7:	cmpl $1, entries
	jne 8f
	print "ring 0: first sysenter: cs="
	printx h_cs
	print " ss="
	printx h_ss
	print " cpl="
	movl h_cs, %eax
	andl $3, %eax
	printd %eax
	print " if="
	movl h_eflags, %eax
	shrl $9, %eax
	andl $1, %eax
	printd %eax
	print "\n"
	check h_esp, $sstack_top, "ring 0: esp = ia32_sysenter_esp"
8:	movl h_eax, %eax
	cmpl $ROUNDS, entries
	je 9f
	sti
9:	sysexit

/* trap: the two system calls that change IA32_SYSENTER_CS; everything else is trap_default's. */
	.globl trap
trap:
	trap_only 0x80
	cmpl $SYS_ZERO_CS, F_EAX(%ebx)
	je 1f
	cmpl $SYS_RESTORE, F_EAX(%ebx)
	jne trap_default
	print "ring 0: restore ia32_sysenter_cs\n"
	movl $MSR_SYSENTER_CS, %ecx
	movl $SEL_KCODE, %eax
	xorl %edx, %edx
	wrmsr
	jmp read_back
1:	print "ring 0: ia32_sysenter_cs = 0\n"
	movl $MSR_SYSENTER_CS, %ecx
	xorl %eax, %eax
	xorl %edx, %edx
	wrmsr
	rdmsr
	check %eax, $0, "rdmsr ia32_sysenter_cs = 0"
	ret

	.data
entries:	.long 0
bad_entries:	.long 0
h_esp:		.long 0
h_eflags:	.long 0
h_eax:		.long 0
h_cs:		.long 0
h_ss:		.long 0

	.bss
	.align 16
	.space 4096
ustack_top:
	.space 4096
sstack_top:
