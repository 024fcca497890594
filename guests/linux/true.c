/*
 * true.c — the program the Linux guest's execproc executes (/true in the initramfs): exits 0 at
 * once. It is the counterpart of vmlab's own guests/user/true.c, and as small: no C library, one
 * page of text, an _exit(0) system call through int 0x80 as its only instructions, so an execproc
 * operation measures the kernel's fork, exec and exit paths rather than a C library's start-up
 * (a static glibc /init re-executed would add its TLS set-up, IRELATIVE relocations and the
 * faults on the pages they touch).
 *
 * Built by scripts/linux-guest.sh with gcc -m32 -static -nostdlib.
 */
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "    movl $1, %eax\n"       /* __NR_exit (i386) */
        "    xorl %ebx, %ebx\n"     /* status 0 */
        "    int $0x80\n"
        "    hlt\n");               /* not reached */
