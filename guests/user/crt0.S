/*
 * crt0.S — user program entry. The kernel starts a program with ESP pointing at
 * argc, argv[0], ..., argv[argc-1], NULL; _start calls main(argc, argv) and exits with its value.
 */
    .section .text.start, "ax"
    .globl _start
_start:
    movl (%esp), %eax
    leal 4(%esp), %edx
    pushl %edx
    pushl %eax
    call main
    pushl %eax
    call exit
1:  jmp 1b
