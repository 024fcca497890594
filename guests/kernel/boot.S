/*
 * boot.S — Multiboot v1 header and the early-boot stub: the only code that runs before the
 * paravirt-ops table is live, and therefore the only place outside pvops_native.c with
 * privileged instructions.
 *
 * The loader enters _start at its physical address (protected mode, paging off, CS=0x08,
 * DS/ES/SS=0x10 flat, EAX=0x2BADB002, EBX=physical address of the Multiboot info). The stub:
 *   1. loads its own small flat GDT (the loader's may live anywhere),
 *   2. zeroes .bss (not every loader does it),
 *   3. maps the first 64 MiB of physical memory twice with 4 MiB pages — at 0 (so the next
 *      instruction after enabling paging still runs) and at KERNEL_BASE,
 *   4. turns on paging with CR0.WP (the kernel must fault when it writes to a read-only user page:
 *      copy-on-write depends on it), records CR0 for the holes workload's SMSW check,
 *   5. jumps to the higher half and calls kmain(magic, info) on the boot stack.
 * kmain then builds the real page tables (4 KiB pages, no identity map) through pv_ops.
 *
 * Right after the Multiboot header sits the PV header (pv_abi.h): a Xen-style domain builder finds
 * it, maps the kernel at KERNEL_BASE itself and enters pv_entry (pvops_pv.c) in ring 1 instead of
 * _start. The same image therefore boots on bare hardware and under the `pv` hypervisor.
 */
#include "layout.h"
#include "pv_abi.h"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003          /* page-align modules, give memory information */
#define CR0_PG   0x80000000
#define CR0_WP   0x00010000
#define CR4_PSE  0x00000010
#define PDE_BIG  0x83                /* present, writable, 4 MiB page */
#define BOOT_MAP_PDES (KERNEL_PHYS_MAX >> 22)

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long PV_HEADER_MAGIC, PV_HEADER_VERSION, pv_entry, KERNEL_BASE

    .section .boot.text, "ax"
    .code32
    .globl _start
_start:
    cli
    movl %eax, %esi                  /* Multiboot magic */
    movl %ebx, %edi                  /* Multiboot info, physical */
    lgdt boot_gdt_desc
    ljmp $SEL_KCODE, $1f
1:  movw $SEL_KDATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs

    /* 2. zero .bss */
    cld
    movl $(__bss_start - KERNEL_BASE), %edx
    movl $(__bss_end - KERNEL_BASE), %ecx
    subl %edx, %ecx
    shrl $2, %ecx
    movl %edx, %ebx
    xchgl %ebx, %edi
    xorl %eax, %eax
    rep stosl
    movl %ebx, %edi

    /* 3. boot page directory: 4 MiB pages, identity and higher half */
    movl $(boot_pgdir - KERNEL_BASE), %ebx
    xorl %ecx, %ecx
2:  movl %ecx, %eax
    shll $22, %eax
    orl $PDE_BIG, %eax
    movl %eax, (%ebx, %ecx, 4)
    movl %eax, (KERNEL_PDE_FIRST * 4)(%ebx, %ecx, 4)
    incl %ecx
    cmpl $BOOT_MAP_PDES, %ecx
    jb 2b

    /* 4. paging on */
    movl %cr4, %eax
    orl $CR4_PSE, %eax
    movl %eax, %cr4
    movl %ebx, %cr3
    movl %cr0, %eax
    orl $(CR0_PG | CR0_WP), %eax
    movl %eax, %cr0
    movl %eax, (boot_cr0 - KERNEL_BASE)

    /* 5. higher half */
    movl $3f, %eax
    jmp *%eax

    .text
3:  movl $boot_stack_top, %esp
    xorl %ebp, %ebp
    pushl %edi                       /* info */
    pushl %esi                       /* magic */
    call kmain
4:  jmp 4b

    .section .boot.data, "a"
    .align 8
boot_gdt:
    .quad 0
    .quad 0x00CF9B000000FFFF         /* 0x08 code, flat */
    .quad 0x00CF93000000FFFF         /* 0x10 data, flat */
boot_gdt_desc:
    .word boot_gdt_desc - boot_gdt - 1
    .long boot_gdt

    .bss
    .align 4096
    .globl boot_pgdir
boot_pgdir:
    .space 4096
    .globl boot_stack
boot_stack:
    .space 8192
boot_stack_top:

    .data
    .align 4
    .globl boot_cr0
boot_cr0:
    .long 0
