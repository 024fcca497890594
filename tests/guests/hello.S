/* hello — the boot contract: what a Multiboot v1 loader (qemu -kernel, vmlab run) hands over.
 *
 * Checks the machine state at _start (EAX = 0x2BADB002, CS = 0x08, DS/ES/SS = 0x10, IF clear,
 * protected mode without paging) and the Multiboot information at EBX: flags say memory sizes,
 * command line and memory map are present, mem_lower/mem_upper are plausible, the memory map
 * has usable RAM at 1 MiB (where this guest is loaded). Then it prints the command line after
 * its first word: QEMU passes "<kernel path> <-append text>", as GRUB passes the kernel path
 * first, and the path differs from build to build.
 */
#include "guest.h"

#define MBI_FLAGS     0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_CMDLINE   16
#define MBI_MMAP_LEN  44
#define MBI_MMAP_ADDR 48
#define MBI_NEED      0x45                   /* bit 0 mem_*, bit 2 cmdline, bit 6 mmap */

	.text
	.globl main
main:
	print "hello: booted\n"
	check boot_eax, $0x2badb002, "eax = multiboot magic"
	check boot_cs, $SEL_KCODE, "cs = 0x08"
	check boot_ds, $SEL_KDATA, "ds = 0x10"
	check boot_es, $SEL_KDATA, "es = 0x10"
	check boot_ss, $SEL_KDATA, "ss = 0x10"
	movl boot_eflags, %eax
	andl $0x200, %eax
	check %eax, $0, "eflags.if clear"
	movl boot_cr0, %eax
	andl $0x80000001, %eax
	check %eax, $1, "cr0: pe set, pg clear"

	movl boot_ebx, %esi
	movl MBI_FLAGS(%esi), %eax
	andl $MBI_NEED, %eax
	check %eax, $MBI_NEED, "info flags: mem, cmdline, mmap"
	check_range MBI_MEM_LOWER(%esi), $512, $640, "mem_lower 512..640 KiB"
	check_range MBI_MEM_UPPER(%esi), $7168, $0x3ffc00, "mem_upper 7 MiB..4 GiB"

	/* Memory map: entries of (size, base64, length64, type), each size + 4 bytes long. */
	movl MBI_MMAP_ADDR(%esi), %ebx
	movl MBI_MMAP_LEN(%esi), %ecx
	addl %ebx, %ecx                          /* ECX = end of the map */
	xorl %edx, %edx                          /* EDX = found */
1:	cmpl %ecx, %ebx
	jae 3f
	cmpl $1, 20(%ebx)                        /* type 1 = available */
	jne 2f
	cmpl $0, 8(%ebx)                         /* base below 4 GiB */
	jne 2f
	cmpl $0x100000, 4(%ebx)                  /* base <= 1 MiB */
	ja 2f
	movl 4(%ebx), %eax
	addl 12(%ebx), %eax                      /* end, if below 4 GiB */
	cmpl $0x100000, %eax
	jbe 2f
	movl $1, %edx
2:	addl (%ebx), %ebx
	addl $4, %ebx
	jmp 1b
3:	check %edx, $1, "mmap: available RAM at 1 MiB"

	/* Command line: skip the first word (the kernel path) and the blanks after it. */
	movl MBI_CMDLINE(%esi), %esi
4:	movb (%esi), %al
	testb %al, %al
	jz 6f
	incl %esi
	cmpb $' ', %al
	jne 4b
5:	cmpb $' ', (%esi)
	jne 6f
	incl %esi
	jmp 5b
6:	print "cmdline args: ["
	pushl %esi
	call con_puts
	addl $4, %esp
	print "]\n"
	ret
