/* guest.h — shared definitions for the tiny test guests in tests/guests/.
 *
 * Every guest links lib.c (console, checks, GDT/IDT/TSS, the default trap handler) and entry.S
 * (Multiboot header, _start, the 256 interrupt stubs). A guest's own file, <name>.S, defines
 * `main` and, if it handles traps itself, `trap`. This header serves both assembler and C.
 *
 * Calling convention: cdecl. The lib.c functions clobber EAX, ECX, EDX and the flags; the
 * assembler macros below (print, printx, printd, check, check_range) preserve all registers
 * and flags, so a guest can use them between any two instructions (their operands must not be
 * ESP-relative). On a failed check the guest prints why, then FAIL, and exits with 0x11.
 */
#ifndef GUEST_H
#define GUEST_H

/* Selectors of the GDT built by cpu_init(). Slots 6 and 7 (0x30, 0x38) are left for guests. */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1b          /* ring-3 code, RPL 3 */
#define SEL_UDATA 0x23          /* ring-3 data, RPL 3 */
#define SEL_TSS   0x28
#define SEL_FREE0 0x30
#define SEL_FREE1 0x38

/* IDT gate type/attribute bytes. */
#define GATE_INT0   0x8e        /* 32-bit interrupt gate, DPL 0 */
#define GATE_TRAP3  0xef        /* 32-bit trap gate, DPL 3 */
#define GATE_ABSENT 0x0e        /* P = 0 */

/* The TSS: 104 bytes, then an I/O permission bitmap for ports 0..0x3ff and its 0xff end byte.
 * cpu_init() leaves the bitmap base past the limit (no bitmap: all ports denied above IOPL). */
#define TSS_ESP0      4
#define TSS_IOMAP_OFF 102
#define TSS_BITMAP    104
#define TSS_NO_BITMAP 233

/* The frame trap() gets: pushed by entry.S (es..eax, vector, error code or 0), then the CPU. */
#define F_ES     0
#define F_DS     4
#define F_EDI    8
#define F_ESI   12
#define F_EBX   24
#define F_EDX   28
#define F_ECX   32
#define F_EAX   36
#define F_VEC   40
#define F_ERR   44
#define F_EIP   48
#define F_CS    52
#define F_EFLAGS 56
#define F_USP   60              /* only after a privilege change */
#define F_USS   64
#define F_SIZE_RING3 68        /* frame size after a privilege change */

/* System calls the default trap handler serves on vector 0x80 (EAX = number). */
#define SYS_EXIT  0             /* print PASS and exit */
#define SYS_PUTS  1             /* EBX = string */
#define SYS_CHECK 2             /* EBX = what, ECX = got, EDX = want: as check() */

#define EXIT_PASS 0x10          /* QEMU status 33 */
#define EXIT_FAIL 0x11          /* QEMU status 35 */

/* The 8259 PIC pair and the 8254 PIT (channel 0 and the command port). */
#define PIC1    0x20
#define PIC2    0xa0
#define PIT_CH0 0x40
#define PIT_CMD 0x43

#ifdef __ASSEMBLER__

	.section .note.GNU-stack, "", @progbits   /* no executable stack */
	.previous

/* identity_map pt[, dir]: fill page table `pt` (1024 entries) to map the first 4 MiB onto
 * themselves, present and writable, ring 0; with `dir`, make `pt` the (present, writable) table
 * of PDE 0 of page directory `dir`. Clobbers eax and ecx. */
.macro identity_map pt, dir
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	orl $3, %eax
	movl %eax, \pt(, %ecx, 4)
	incl %ecx
	cmpl $1024, %ecx
	jne 1b
.ifnb \dir
	movl $\pt + 3, \dir
.endif
.endm

/* paging_on dir: load CR3 with page directory `dir` (a symbol or number, loaded as $dir), then
 * set CR0.PG; nothing else in CR0 changes. Clobbers eax. */
.macro paging_on dir
	movl $\dir, %eax
	movl %eax, %cr3
	movl %cr0, %eax
	orl $0x80000000, %eax
	movl %eax, %cr0
.endm

/* pic_init: initialise the PIC pair (edge-triggered, cascaded on IRQ2, 8086 mode) with vector
 * bases 0x20 (master) and 0x28 (slave), and mask every IRQ but IRQ0. Clobbers al. */
.macro pic_init
	movb $0x11, %al                          /* ICW1: edge, cascade, ICW4 follows */
	outb %al, $PIC1
	outb %al, $PIC2
	movb $0x20, %al                          /* ICW2: vector bases */
	outb %al, $PIC1 + 1
	movb $0x28, %al
	outb %al, $PIC2 + 1
	movb $0x04, %al                          /* ICW3: slave on IRQ2 */
	outb %al, $PIC1 + 1
	movb $0x02, %al
	outb %al, $PIC2 + 1
	movb $0x01, %al                          /* ICW4: 8086 mode */
	outb %al, $PIC1 + 1
	outb %al, $PIC2 + 1
	movb $0xfe, %al                          /* OCW1: only IRQ0 */
	outb %al, $PIC1 + 1
	movb $0xff, %al
	outb %al, $PIC2 + 1
.endm

/* pit_periodic divisor: run PIT channel 0 in mode 2 (rate generator, binary, lo/hi byte access)
 * with `divisor` (a number below 65536), so IRQ0 comes every divisor / 1193182 seconds.
 * Clobbers al. */
.macro pit_periodic divisor
	movb $0x34, %al                          /* channel 0, lo/hi byte, mode 2, binary */
	outb %al, $PIT_CMD
	movb $(\divisor) & 0xff, %al
	outb %al, $PIT_CH0
	movb $(\divisor) >> 8, %al
	outb %al, $PIT_CH0
.endm

/* df_task_gate sel, tss, cr3, eip, esp[, esp0]: a #DF task. GDT slot `sel` becomes a 32-bit
 * available TSS (type 9), present, DPL 0, limit 0x67, at `tss` (0x68 bytes); that TSS gets CR3
 * `cr3`, EIP `eip`, EFLAGS 0x002, ESP `esp`, kernel selectors in CS and the data segment
 * registers, (with `esp0`) ESP0 `esp0` and SS0 SEL_KDATA for ring 3 in the task, and an I/O map
 * base past its limit (no bitmap); IDT vector 8 becomes a task gate (type 5, present, DPL 0) to
 * `sel`. Operands are symbols or numbers, stored as $operand. Clobbers eax. */
.macro df_task_gate sel, tss, cr3, eip, esp, esp0
	movl $\tss, %eax
	movw $0x67, gdt + \sel
	movw %ax, gdt + \sel + 2
	shrl $16, %eax
	movb %al, gdt + \sel + 4
	movb $0x89, gdt + \sel + 5
	movb $0x00, gdt + \sel + 6
	movb %ah, gdt + \sel + 7
	movl $\cr3, \tss + 0x1c                  /* CR3 */
	movl $\eip, \tss + 0x20                  /* EIP */
	movl $0x002, \tss + 0x24                 /* EFLAGS */
	movl $\esp, \tss + 0x38                  /* ESP */
	movl $SEL_KDATA, \tss + 0x48             /* ES */
	movl $SEL_KCODE, \tss + 0x4c             /* CS */
	movl $SEL_KDATA, \tss + 0x50             /* SS */
	movl $SEL_KDATA, \tss + 0x54             /* DS */
	movl $SEL_KDATA, \tss + 0x58             /* FS */
	movl $SEL_KDATA, \tss + 0x5c             /* GS */
.ifnb \esp0
	movl $\esp0, \tss + 4                    /* ESP0 and SS0 */
	movl $SEL_KDATA, \tss + 8
.endif
	movl $0x68 << 16, \tss + 0x64            /* I/O map base past the limit: no bitmap */
	movl $\sel << 16, idt + 8 * 8            /* vector 8: task gate to `sel` */
	movl $0x8500, idt + 8 * 8 + 4
.endm

/* print "text": the string goes to .rodata; registers and flags are preserved. */
.macro print s
	.pushsection .rodata
.Lstr\@: .asciz "\s"
	.popsection
	pushf
	pushal
	pushl $.Lstr\@
	call con_puts
	addl $4, %esp
	popal
	popf
.endm

/* printx operand: "0x%08x" without newline (operand: register, $imm or memory, not ESP-based). */
.macro printx v
	pushf
	pushal
	pushl \v
	call con_hex
	addl $4, %esp
	popal
	popf
.endm

/* printd operand: unsigned decimal, as printx. */
.macro printd v
	pushf
	pushal
	pushl \v
	call con_dec
	addl $4, %esp
	popal
	popf
.endm

/* check operand, $want, "what": prints "what: ok" or the difference, then fails the guest. */
.macro check v, want, what
	.pushsection .rodata
.Lchk\@: .asciz "\what"
	.popsection
	pushf
	pushal
	pushl \want
	pushl \v
	pushl $.Lchk\@
	call check
	addl $12, %esp
	popal
	popf
.endm

/* check_range operand, $lo, $hi, "what": as check, for lo <= operand <= hi (unsigned). */
.macro check_range v, lo, hi, what
	.pushsection .rodata
.Lchr\@: .asciz "\what"
	.popsection
	pushf
	pushal
	pushl \hi
	pushl \lo
	pushl \v
	pushl $.Lchr\@
	call check_range
	addl $16, %esp
	popal
	popf
.endm

/* faulting "instruction", vector[, error code]: runs the instruction expecting that trap; the
 * default trap handler prints it, checks vector, error code (if the vector has one) and saved
 * EIP (the instruction for a fault, the next one for int3, into and int n; unchecked for #DF),
 * and resumes after the instruction; no trap, or another one, fails the guest. Works at any
 * CPL. The text is not run through cpp: write numbers, not guest.h names, in it. */
.macro faulting insn, vec, err=0
	movl $.Lat\@, expect_at
	movl $.Lres\@, expect_resume
	movl $\vec, expect_vec
	movl $\err, expect_err
.Lat\@:	\insn
.Lres\@:
	cmpl $0, expect_at
	jne fault_missed
.endm

/* trap_only vec: the start of a guest's own trap(): EBX = the frame; a vector other than `vec`
 * goes on to trap_default. */
.macro trap_only vec
	movl 4(%esp), %ebx
	cmpl $\vec, F_VEC(%ebx)
	jne trap_default
.endm

/* pf_trap at: the start of a guest's own trap(): a vector other than #PF goes on to trap_default;
 * a #PF prints "#PF cr2=C err=E eip=at+D", D being the saved EIP minus the address held in the
 * memory word `at` (0 when the instruction expected to fault is the one that did). Leaves
 * EBX = the frame, ESI = CR2 and EAX = D for the checks that follow. */
.macro pf_trap at
	trap_only 14
	movl %cr2, %esi
	print "#PF cr2="
	printx %esi
	print " err="
	printx F_ERR(%ebx)
	print " eip=at+"
	movl F_EIP(%ebx), %eax
	subl \at, %eax
	printd %eax
	print "\n"
.endm

/* iret_to_ring3 entry, stack: leave ring 0 for ring-3 code at `entry` (CS = SEL_UCODE) with
 * ESP = `stack` (SS = SEL_UDATA) and EFLAGS 0x002 (IF = 0, IOPL = 0). */
.macro iret_to_ring3 entry, stack
	pushl $SEL_UDATA
	pushl $\stack
	pushl $0x002
	pushl $SEL_UCODE
	pushl $\entry
	iret
.endm

/* From ring 3: load DS and ES with SEL_UDATA (the first thing ring-3 code does). Clobbers eax. */
.macro user_data_segments
	movl $SEL_UDATA, %eax
	movw %ax, %ds
	movw %ax, %es
.endm

/* From ring 3: print a string through SYS_PUTS. */
.macro uprint s
	.pushsection .rodata
.Lustr\@: .asciz "\s"
	.popsection
	pushal
	movl $SYS_PUTS, %eax
	movl $.Lustr\@, %ebx
	int $0x80
	popal
.endm

/* From ring 3: check through SYS_CHECK (want must not be ECX; neither may be ESP-relative). */
.macro ucheck v, want, what
	.pushsection .rodata
.Luchk\@: .asciz "\what"
	.popsection
	pushal
	movl \v, %ecx
	movl \want, %edx
	movl $.Luchk\@, %ebx
	movl $SYS_CHECK, %eax
	int $0x80
	popal
.endm

#else

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

struct frame {
	u32 es, ds, edi, esi, ebp, esp_, ebx, edx, ecx, eax;
	u32 vec, err, eip, cs, eflags, usp, uss;
};

void con_putc(int c);
void con_puts(const char *s);
void con_hex(u32 v);
void con_dec(u32 v);
void check(const char *what, u32 got, u32 want);
void check_range(const char *what, u32 got, u32 lo, u32 hi);
void vm_exit(u32 value) __attribute__((noreturn));
void guest_pass(void) __attribute__((noreturn));
void guest_fail(void) __attribute__((noreturn));
void cpu_init(void);
void trap_default(struct frame *f);
void fault_missed(void) __attribute__((noreturn));

#endif
#endif
