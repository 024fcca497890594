/*
 * programs.S — the user programs, linked into the kernel image as ELF files (exec.c loads them
 * by name: init, true, sh, cc). The build (guests/CMakeLists.txt) links them first and points
 * the include path at them.
 */
.macro PROGRAM name
    .balign 16
    .globl prog_\name\()_start, prog_\name\()_end
prog_\name\()_start:
    .incbin "\name\().elf"
prog_\name\()_end:
.endm

    .section .rodata
    PROGRAM init
    PROGRAM true
    PROGRAM sh
    PROGRAM cc
