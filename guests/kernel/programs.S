/*
 * programs.S — the user programs, linked into the kernel image as ELF files (exec.c loads them).
 * The build (guests/CMakeLists.txt) links them first and points the include path at them.
 */
    .section .rodata
    .balign 16
    .globl prog_init_start, prog_init_end
prog_init_start:
    .incbin "init.elf"
prog_init_end:
    .balign 16
    .globl prog_true_start, prog_true_end
prog_true_start:
    .incbin "true.elf"
prog_true_end:
