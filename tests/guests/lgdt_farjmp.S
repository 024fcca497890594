/* lgdt_farjmp — Linux's early GDT switch (arch/x86/kernel/head_32.S): with paging on, lgdt of a
 * new GDT at another address (read through a high alias, as Linux's per-CPU gdt_page at
 * 0xc1xxxxxx), then at once a far jump to a code segment at another index, then the segment
 * reloads.
 *
 * The new table (ngdt, 32 entries) has code at index 12 (0x60) and data at 13 (0x68), as Linux's
 * __KERNEL_CS and __KERNEL_DS, a data segment based at `marker` at 14 (0x70), and nothing at the
 * indices of cpu_init()'s table: after the lgdt, SS (0x10) names an empty slot, so a far jump
 * that reloads anything but CS faults (the hardware keeps SS's cached descriptor until the
 * `mov %ss` that follows). The descriptors have their accessed bits set, as Linux's do, so no
 * CPU writes the table and the guest's view of it is the same under every monitor.
 *
 * Then: DS, ES, SS = 0x68 and FS, GS = 0x70 (loads read through FS and GS prove which
 * descriptor each got), a far call to 0x60 and its far return, and a far jump back to the boot
 * table's 0x08 after a second lgdt. Nothing printed depends on the real selectors, which the
 * ring-compression monitors show the guest (trap-classic's mov from a segment register, a hole).
 * Same console under QEMU, native, trap, trap-classic and bt.
 */
#include "guest.h"

#define ALIAS 0xc0000000                      /* PDE 0x300: the first 4 MiB again */
#define NCS   0x60
#define NDS   0x68
#define NMARK 0x70

	.text
	.globl main
main:
	call cpu_init
	identity_map pt0, pd
	movl $pt0 + 3, pd + 4 * (ALIAS >> 22)
	paging_on pd
	print "lgdt_farjmp: paging on, 0..4 MiB at 0 and at 0xc0000000\n"
	movl $marker, %eax                        /* entry 14's base: marker */
	movw %ax, ngdt + 14 * 8 + 2
	shrl $16, %eax
	movb %al, ngdt + 14 * 8 + 4
	movb %ah, ngdt + 14 * 8 + 7
	movl $ngdt + ALIAS, ngdtr + 2             /* the new table through the alias */
	lgdt ngdtr + ALIAS
	ljmp $NCS, $1f
1:	movl $NDS, %eax
	movl %eax, %ss
	movl %eax, %ds
	movl %eax, %es
	movl $NMARK, %eax
	movl %eax, %fs
	movl %eax, %gs
	print "far jump to 0x60 after lgdt, segments reloaded\n"
	movl %fs:0, %eax
	check %eax, $0x600dcafe, "fs:0 reads marker"
	movl %gs:4, %eax
	check %eax, $0x12345678, "gs:4 reads marker+4"
	movl $0x5a5a5a5a, %fs:8
	check marker + 8, $0x5a5a5a5a, "fs:8 write lands in marker+8"
	pushl $0x1234abcd                         /* the stack works on SS = 0x68 */
	popl %eax
	check %eax, $0x1234abcd, "push/pop on ss 0x68"
	lcall $NCS, $far_fn
	check far_done, $1, "far call and far return through 0x60"
	lgdt gdtr_boot                            /* back to cpu_init()'s table */
	ljmp $SEL_KCODE, $2f
2:	movl $SEL_KDATA, %eax
	movl %eax, %ss
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %fs
	movl %eax, %gs
	print "back on the boot gdt (0x08, 0x10)\n"
	ret

far_fn:
	movl $1, far_done
	lret

	.data
	.align 8
/* The new GDT: 32 entries; only 12, 13, 14 present (base 0 flat code, flat data, marker data). */
ngdt:
	.quad 0
	.fill 11, 8, 0
	.quad 0x00cf9b000000ffff                   /* 12: code, base 0, 4 GiB, accessed */
	.quad 0x00cf93000000ffff                   /* 13: data, base 0, 4 GiB, accessed */
	.quad 0x004093000000000f                  /* 14: data, limit 15, base set by main */
	.fill 17, 8, 0
ngdtr:	.word 32 * 8 - 1
	.long 0
gdtr_boot:
	.word 8 * 8 - 1
	.long gdt
	.align 4
marker:	.long 0x600dcafe, 0x12345678, 0, 0
far_done: .long 0

	.bss
	.align 4096
pd:	.space 4096
pt0:	.space 4096
