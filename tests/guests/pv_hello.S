/* pv_hello.S — the smallest paravirtual guest: checks the `pv` hypervisor's start of day and
 * its main hypercalls, printing one line per check through console_io, and shuts down with
 * 0x10 when all passed (0x11 at the first failure).
 *
 *   1. start info: magic, nr_pages, shared-info and page-directory pointers
 *   2. set_trap_table (#PF handler, fast int 0x80 at DPL 3), stack_switch, set_callbacks
 *   3. refusals: a PTE naming a frame beyond RAM, a writable mapping of the page directory or of
 *      the hypervisor's GDT, a trap table with a ring-0 handler, an unknown hypercall, a null
 *      request list, a huge count, an unknown mmu_update command, NEW_BASEPTR to a writable
 *      frame — each a negative errno, counted, nothing changed
 *   4. update_va_mapping: a page made read-only faults on write (#PF bounced, CR2 in the shared
 *      info), the handler maps it writable again and the write is retried
 *   5. int 0x80 reaches its handler (fast path), which returns with HYPERVISOR_iret
 *   6. page tables by hand: a frame made read-only, pinned as an L1 (a second pin refused),
 *      unpinned; mmu_update of a PTE; multicall of two hypercalls
 *   7. events: VIRQ_TIMER bound, set_timer_op, sched_op block; the upcall arrives
 *   8. the phase-marker port works from ring 1 (the hypervisor opened it)
 *   9. port I/O: without I/O privilege `in` from 0x80 raises #GP (bounced to the trap table);
 *      after physdev_op(PHYSDEVOP_set_iopl, 1) the hypervisor performs it (reads 0xff), but
 *      still bounces a write to a port it keeps (the PIC's 0x21)
 *  10. HYPERVISOR_iret: a frame with VM set is refused with #GP at the call, nothing changed; one
 *      with IOPL 2 and NT returns with the real IOPL 0 and NT clear, and IOPL 2 as the virtual
 *      IOPL (an in from 0x80 is performed)
 *  11. sched_op shutdown(poweroff, 0x10)
 *
 * With "iret0" on its command line it only calls HYPERVISOR_iret with a ring-0 CS, at once,
 * which must crash the domain (the run ends as a guest failure).
 */
#include "../../guests/include/pv_abi.h"

#define VIRT 0xc0000000

	.section .multiboot, "a"
	.align 4
	.long 0x1badb002, 0x00000003, -(0x1badb002 + 0x00000003)
	.long PV_HEADER_MAGIC, PV_HEADER_VERSION, pv_entry, VIRT

/* hypercall NR: number in EAX, arguments already in EBX.. */
.macro hcall nr
	movl $\nr, %eax
	int $0x82
.endm

/* say "text": console_io write */
.macro say s
	.pushsection .rodata
.Ls\@: .ascii "\s"
.Le\@:
	.popsection
	pushal
	movl $CONSOLEIO_write, %ebx
	movl $(.Le\@ - .Ls\@), %ecx
	movl $.Ls\@, %edx
	hcall __HYPERVISOR_console_io
	popal
.endm

.macro expect_fail what
	testl %eax, %eax
	js 1f
	say "FAIL: \what accepted\n"
	jmp fail
1:	say "\what refused: ok\n"
.endm

	.text
	.globl _start
_start:					/* reached only when booted natively: not a PV boot */
	movl $0x11, %eax
	outl %eax, $0xf4
	hlt

pv_entry:
	movl %esi, start_info
	cmpl $0x616c6d76, (%esi)		/* "vmla" of "vmlab-pv-1" */
	jne fail
	leal 60(%esi), %edi			/* start_info.cmd_line */
1:	cmpb $0, (%edi)
	je 2f
	cmpl $0x74657269, (%edi)		/* "iret" */
	jne 3f
	cmpb $'0', 4(%edi)
	je iret_ring0
3:	incl %edi
	jmp 1b
2:
	say "pv_hello: start info magic ok\n"
	movl 36(%esi), %eax			/* shared_info */
	movl %eax, shared
	movl 44(%esi), %eax			/* pt_base (virtual) */
	subl $VIRT, %eax
	shrl $12, %eax
	movl %eax, pd_frame
	movl 52(%esi), %eax			/* first_free_pfn */
	movl %eax, free_pfn

	movl $traps, %ebx
	hcall __HYPERVISOR_set_trap_table
	testl %eax, %eax
	jnz fail
	movl $FLAT_RING1_DS, %ebx
	movl $stack_top, %ecx
	hcall __HYPERVISOR_stack_switch
	movl $FLAT_RING1_CS, %ebx
	movl $upcall, %ecx
	xorl %edx, %edx
	xorl %esi, %esi
	hcall __HYPERVISOR_set_callbacks
	testl %eax, %eax
	jnz fail
	say "trap table, stack, callbacks: ok\n"

	/* A PTE naming a frame far beyond RAM (frame 0x7f000). */
	movl free_pfn, %eax
	shll $12, %eax
	addl $VIRT, %eax
	movl %eax, %ebx				/* va of the free page */
	movl %eax, free_va
	movl $0x7f000003, %ecx
	xorl %edx, %edx
	movl $UVMF_INVLPG, %esi
	hcall __HYPERVISOR_update_va_mapping
	expect_fail "frame beyond RAM"
	/* A writable mapping of the page directory. */
	movl free_va, %ebx
	movl pd_frame, %ecx
	shll $12, %ecx
	orl $3, %ecx
	xorl %edx, %edx
	movl $UVMF_INVLPG, %esi
	hcall __HYPERVISOR_update_va_mapping
	expect_fail "writable page directory"
	/* A writable mapping of one of the hypervisor's pages (its GDT, found with sgdt). */
	sgdt gdt_image
	movl free_va, %ebx
	movl gdt_image + 2, %ecx
	subl $VIRT, %ecx
	andl $~0xfff, %ecx
	orl $3, %ecx
	xorl %edx, %edx
	movl $UVMF_INVLPG, %esi
	hcall __HYPERVISOR_update_va_mapping
	expect_fail "writable mapping of the hypervisor's GDT"
	/* A trap table with a ring-0 handler. */
	movl $bad_traps, %ebx
	hcall __HYPERVISOR_set_trap_table
	expect_fail "ring-0 trap handler"
	/* An unknown hypercall. */
	hcall 63
	expect_fail "hypercall 63"
	/* mmu_update with a null request pointer, a huge count, a misaligned entry. */
	xorl %ebx, %ebx
	movl $1, %ecx
	xorl %edx, %edx
	hcall __HYPERVISOR_mmu_update
	expect_fail "null request list"
	movl $mmu_req, %ebx
	movl $100000, %ecx
	xorl %edx, %edx
	hcall __HYPERVISOR_mmu_update
	expect_fail "huge count"
	movl pd_frame, %eax
	shll $12, %eax
	addl $0x402, %eax			/* inside an entry, not at its start: misaligned */
	andl $~3, %eax
	orl $2, %eax
	movl %eax, mmu_req			/* command 2: not MMU_NORMAL_PT_UPDATE */
	movl $0, mmu_req + 8
	movl $mmu_req, %ebx
	movl $1, %ecx
	xorl %edx, %edx
	hcall __HYPERVISOR_mmu_update
	expect_fail "unknown mmu_update command"
	/* NEW_BASEPTR to the page directory's own writable neighbour (a data frame mapped
	 * writable: it cannot become a page directory). */
	movl free_pfn, %eax
	movl %eax, ext_op + 4
	movl $MMUEXT_NEW_BASEPTR, ext_op
	movl $ext_op, %ebx
	movl $1, %ecx
	xorl %edx, %edx
	hcall __HYPERVISOR_mmuext_op
	expect_fail "NEW_BASEPTR to a writable frame"

	/* Make the free page read-only, write it: #PF, the handler restores it. */
	movl free_va, %ebx
	movl free_pfn, %ecx
	shll $12, %ecx
	orl $1, %ecx
	xorl %edx, %edx
	movl $UVMF_INVLPG, %esi
	hcall __HYPERVISOR_update_va_mapping
	testl %eax, %eax
	jnz fail
	movl free_va, %edi
	movl $0x600df00d, (%edi)
	cmpl $1, pf_count
	jne fail
	cmpl $0x600df00d, (%edi)
	jne fail
	say "page fault bounced with cr2, write retried: ok\n"

	movl $0x1234, %eax
	int $0x80
	cmpl $1, sys_count
	jne fail
	cmpl $0x1234, %eax			/* HYPERVISOR_iret restored EAX from the frame */
	jne fail
	say "int 0x80 fast path, HYPERVISOR_iret: ok\n"

	/* Pin the next free frame as an L1: its alias must be read-only first. */
	movl free_pfn, %eax
	incl %eax
	movl %eax, l1_pfn
	shll $12, %eax
	addl $VIRT, %eax
	movl %eax, %ebx				/* its alias */
	movl l1_pfn, %ecx
	shll $12, %ecx
	orl $3, %ecx				/* writable: pinning must fail */
	movl l1_pfn, %eax
	movl %eax, ext_op + 4
	movl $MMUEXT_PIN_L1_TABLE, ext_op
	movl $ext_op, %ebx
	movl $1, %ecx
	xorl %edx, %edx
	hcall __HYPERVISOR_mmuext_op
	expect_fail "pin of a writable frame"
	movl l1_pfn, %ebx
	shll $12, %ebx
	addl $VIRT, %ebx
	movl l1_pfn, %ecx
	shll $12, %ecx
	orl $1, %ecx				/* read-only alias */
	xorl %edx, %edx
	movl $UVMF_INVLPG, %esi
	hcall __HYPERVISOR_update_va_mapping
	testl %eax, %eax
	jnz fail
	movl $ext_op, %ebx
	movl $1, %ecx
	xorl %edx, %edx
	hcall __HYPERVISOR_mmuext_op
	testl %eax, %eax
	jnz fail
	movl $ext_op, %ebx
	movl $1, %ecx
	xorl %edx, %edx
	hcall __HYPERVISOR_mmuext_op
	expect_fail "second pin"
	movl $MMUEXT_UNPIN_TABLE, ext_op
	movl $ext_op, %ebx
	movl $1, %ecx
	xorl %edx, %edx
	hcall __HYPERVISOR_mmuext_op
	testl %eax, %eax
	jnz fail
	say "pin (read-only alias required), second pin refused, unpin: ok\n"

	/* mmu_update: the free page's PTE (in the first initial L1, the frame after the
	 * directory) made read-only, then back through a multicall of update_va_mapping. */
	movl pd_frame, %eax
	incl %eax
	shll $12, %eax
	movl free_pfn, %ecx
	leal (%eax,%ecx,4), %eax
	movl %eax, mmu_req			/* machine address of the PTE | MMU_NORMAL_PT_UPDATE */
	movl free_pfn, %eax
	shll $12, %eax
	orl $1, %eax
	movl %eax, mmu_req + 8
	movl $mmu_req, %ebx
	movl $1, %ecx
	xorl %edx, %edx
	hcall __HYPERVISOR_mmu_update
	testl %eax, %eax
	jnz fail
	movl free_va, %eax
	movl %eax, mcall + 8			/* entry 0: update_va_mapping(va, pte | RW) */
	movl free_pfn, %eax
	shll $12, %eax
	orl $3, %eax
	movl %eax, mcall + 12
	movl $mcall, %ebx
	movl $2, %ecx
	hcall __HYPERVISOR_multicall
	testl %eax, %eax
	jnz fail
	cmpl $0, mcall + 4			/* results */
	jne fail
	cmpl $0x30000, mcall + 32 + 4		/* xen_version: 3.0 */
	jne fail
	movl free_va, %edi
	movl $0x5ca1ab1e, (%edi)		/* writable again: no fault */
	cmpl $1, pf_count
	jne fail
	say "mmu_update, multicall: ok\n"

	/* Timer event: bind, arm, unmask, block. */
	movl $EVTCHNOP_bind_virq, %ebx
	movl $bind, %ecx
	hcall __HYPERVISOR_event_channel_op
	testl %eax, %eax
	jnz fail
	movl shared, %esi
	movl $200000, %ebx			/* absolute guest time, in instructions */
	xorl %ecx, %ecx
	hcall __HYPERVISOR_set_timer_op
	movl $SCHEDOP_block, %ebx
	hcall __HYPERVISOR_sched_op
	cmpl $1, upcall_count
	jne fail
	say "timer event upcall: ok\n"

	movl $1, %eax
	outl %eax, $PV_PHASE_PORT
	movl $2, %eax
	outl %eax, $PV_PHASE_PORT
	say "phase-marker port from ring 1: ok\n"

	movb $0, %al
	inb $0x80, %al				/* no I/O privilege yet: #GP, skipped */
	cmpl $1, gp_count
	jne fail
	movl $PHYSDEVOP_set_iopl, %ebx
	movl $iopl, %ecx
	hcall __HYPERVISOR_physdev_op
	testl %eax, %eax
	jnz fail
	movb $0, %al
	inb $0x80, %al				/* performed by the hypervisor */
	cmpb $0xff, %al
	jne fail
	cmpl $1, gp_count
	jne fail
	outb %al, $0x21				/* the hypervisor's PIC: #GP, skipped */
	cmpl $2, gp_count
	jne fail
	say "port I/O under the virtual IOPL, hypervisor ports kept: ok\n"

	pushl $0x20202				/* eflags: VM, IF */
	pushl $FLAT_RING1_CS
	pushl $fail				/* where a wrongly taken iret would go */
	pushl $0
	movl $__HYPERVISOR_iret, %eax
	int $0x82				/* refused: #GP here, skipped */
	addl $16, %esp
	cmpl $3, gp_count
	jne fail
	cmpl $__HYPERVISOR_iret, %eax
	jne fail
	pushl $0x6202				/* eflags: NT, IOPL 2, IF */
	pushl $FLAT_RING1_CS
	pushl $1f
	pushl $0x1234
	movl $__HYPERVISOR_iret, %eax
	int $0x82
	jmp fail
1:	cmpl $0x1234, %eax
	jne fail
	pushfl
	popl %eax
	testl $0x7000, %eax			/* real IOPL 0, NT clear */
	jnz fail
	movb $0, %al
	inb $0x80, %al				/* the virtual IOPL is 2: performed */
	cmpb $0xff, %al
	jne fail
	cmpl $3, gp_count
	jne fail
	say "HYPERVISOR_iret: VM refused, IOPL made virtual, NT dropped: ok\n"

	say "PASS\n"
	movl $SHUTDOWN_poweroff, shutdown
	movl $0x10, shutdown + 4
	movl $SCHEDOP_shutdown, %ebx
	movl $shutdown, %ecx
	hcall __HYPERVISOR_sched_op
	jmp .

iret_ring0:
	pushl $0x202
	pushl $0x08				/* a ring-0 CS */
	pushl $fail
	pushl $0
	movl $__HYPERVISOR_iret, %eax
	int $0x82
	jmp fail

fail:
	say "FAIL\n"
	movl $SHUTDOWN_poweroff, shutdown
	movl $0x11, shutdown + 4
	movl $SCHEDOP_shutdown, %ebx
	movl $shutdown, %ecx
	hcall __HYPERVISOR_sched_op
	jmp .

/* #PF: CR2 from the shared info must be the free page; map it writable again. */
pf_handler:
	pushal
	incl pf_count
	movl shared, %eax
	movl 8(%eax), %eax			/* vcpu_info.cr2 */
	cmpl free_va, %eax
	jne fail
	movl free_va, %ebx
	movl free_pfn, %ecx
	shll $12, %ecx
	orl $3, %ecx
	xorl %edx, %edx
	movl $UVMF_INVLPG, %esi
	hcall __HYPERVISOR_update_va_mapping
	popal
	addl $4, %esp				/* error code */
	iret

/* #GP from a port instruction (in/out with an imm8 port: 2 bytes): count it, skip it. */
gp_handler:
	incl gp_count
	addl $4, %esp				/* error code */
	addl $2, (%esp)				/* return past the instruction */
	iret

/* Returns with HYPERVISOR_iret: push EAX on the exception frame, then the hypercall. */
sys_handler:
	incl sys_count
	pushl %eax
	movl $__HYPERVISOR_iret, %eax
	int $0x82

/* Event upcall: clear the timer's pending bit and the pending flag, unmask on return. */
upcall:
	pushal
	incl upcall_count
	movl shared, %eax
	movb $0, 0(%eax)			/* evtchn_upcall_pending */
	movl $0, 4(%eax)			/* evtchn_pending_sel */
	movl $0, 16(%eax)			/* evtchn_pending[0] */
	movb $0, 1(%eax)			/* unmask */
	popal
	iret

	.data
	.align 4
traps:	.byte 14, PV_TRAP_MASK_EVENTS
	.word FLAT_RING1_CS
	.long pf_handler
	.byte 0x80, 3 | PV_TRAP_FAST
	.word FLAT_RING1_CS
	.long sys_handler
	.byte 13, 1
	.word FLAT_RING1_CS
	.long gp_handler
	.long 0, 0
bad_traps:
	.byte 13, 0
	.word 0x0008
	.long pf_handler
	.long 0, 0
bind:	.long VIRQ_TIMER, 0, 0
ext_op:	.long 0, 0, 0
mmu_req: .long 0, 0, 0, 0
mcall:	.long __HYPERVISOR_update_va_mapping, 0, 0, 0, 0, UVMF_INVLPG, 0, 0
	.long __HYPERVISOR_xen_version, 0, XENVER_version, 0, 0, 0, 0, 0
l1_pfn:	.long 0
gdt_image: .word 0
	.long 0
shutdown: .long 0, 0
start_info: .long 0
shared:	.long 0
pd_frame: .long 0
free_pfn: .long 0
free_va: .long 0
pf_count: .long 0
sys_count: .long 0
upcall_count: .long 0
gp_count: .long 0
iopl:	.long 1

	.bss
	.align 16
	.space 8192
stack_top:
