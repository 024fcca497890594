/*
 * syscall_nr.h — the system-call interface between the user programs and the kernel.
 *
 * `int 0x80`, number in EAX, arguments in EBX, ECX, EDX, ESI, EDI, result in EAX; a negative
 * result is -errno (Linux i386 conventions; the numbers are this kernel's own).
 */
#ifndef GUEST_SYSCALL_NR_H
#define GUEST_SYSCALL_NR_H

#define SYSCALL_VECTOR 0x80

#define SYS_NULL     0   /* ()                          -> 0, does nothing                 */
#define SYS_EXIT     1   /* (status)                    -> does not return                 */
#define SYS_FORK     2   /* ()                          -> child pid / 0 in the child      */
#define SYS_READ     3   /* (fd, buf, len)              -> bytes read, 0 at end of file    */
#define SYS_WRITE    4   /* (fd, buf, len)              -> bytes written                   */
#define SYS_CLOSE    5   /* (fd)                                                            */
#define SYS_WAITPID  6   /* (pid or -1, int *status)    -> pid reaped                      */
#define SYS_EXEC     7   /* (name, argv)                -> only returns on error           */
#define SYS_GETPID   8
#define SYS_GETPPID  9
#define SYS_BRK      10  /* (new end or 0)              -> current end of the heap         */
#define SYS_MMAP     11  /* (len, prot, fd, offset)     -> address of the region: fd -1 is
                          * anonymous zero pages, else a shared mapping of a regular file
                          * from a page-aligned offset (PROT_*, fs_abi.h; offset in ESI) */
#define SYS_MUNMAP   12  /* (addr, len): a whole region as mmap returned it                */
#define SYS_PIPE     13  /* (int fds[2])                                                    */
#define SYS_YIELD    14
#define SYS_BENCH    15  /* (BENCH_*, n, variant)       -> operations done                 */
#define SYS_PHASE    16  /* (phase): writes the phase-marker port                          */
#define SYS_SIGACTION 17 /* (sig, handler, restorer) -> the old handler (signal_abi.h)     */
#define SYS_VMSTAT   18  /* (struct vm_counters *): the kernel's page-table work (vmstat.h) */
#define SYS_OPEN     19  /* (path, O_* flags)           -> fd (fs_abi.h)                   */
#define SYS_STAT     20  /* (path, struct stat *)                                           */
#define SYS_FSTAT    21  /* (fd, struct stat *)                                             */
#define SYS_UNLINK   22  /* (path): a file's name; the file goes with its last reference  */
#define SYS_MKDIR    23  /* (path)                                                          */
#define SYS_RMDIR    24  /* (path): an empty directory                                      */
#define SYS_LSEEK    25  /* (fd, offset, SEEK_*)        -> the new offset                  */
#define SYS_READDIR  26  /* (fd, struct dirent *)       -> 1 with the next entry, 0 at the end */
#define SYS_KILL     27  /* (pid, sig): sig 0 only checks that pid exists                  */
#define SYS_SIGRETURN 28 /* (): from a handler's trampoline: restores the interrupted context */
#define SYS_KSTAT    29  /* (struct kstat *): the kernel's signal counts (kstat.h)          */
#define NSYSCALLS    30

/* Kernel-level nanobenchmarks run by SYS_BENCH: one operation per measured iteration (each
 * defined in guests/kernel/bench.c), then the same loop with an empty body (PHASE_CALIBRATE). */
#define BENCH_IN      1  /* one in from port 0x80                               */
#define BENCH_CALLRET 2  /* one kernel call/ret pair                            */
#define BENCH_PGFAULT 3  /* one true page fault on a kernel page, fixed by mapping it */
#define BENCH_PTEMOD  4  /* one kernel PTE store (variant: PTEMOD_*)            */
#define BENCH_CR3     5  /* one address-space switch                            */
#define BENCH_CLI     6  /* one interrupt disable/enable pair                   */
#define BENCH_HOLES   7  /* the sensitive-unprivileged instructions, printed    */
#define BENCH_PANIC   8  /* deliberate kernel panic (a kernel-mode page fault)  */
#define BENCH_TLB     9  /* a TLB event, then K page reads (variant: TLBB_* | K << 8) */

/* BENCH_TLB's variant (low byte of SYS_BENCH's third argument; K, the pages read, above it). */
#define TLBB_CR3       0  /* load_cr3 of the current directory, then read the K pages      */
#define TLBB_INVLPG    1  /* invlpg of the first of the K pages, then read the K pages     */
#define TLBB_GLOBAL    2  /* as TLBB_CR3, the K pages global (CR4.PGE); not under pv       */
#define TLBB_MAX_PAGES 64

/* BENCH_PTEMOD's variant (SYS_BENCH's third argument): what the one store does to the PTE. */
#define PTEMOD_UNCHANGED 0  /* a present PTE stored with its own value (the default) */
#define PTEMOD_P2NP      1  /* a present PTE made not-present                        */
#define PTEMOD_NP2P      2  /* a not-present PTE made present                        */

#define PHASE_SETUP    0
#define PHASE_MEASURE  1  /* the measured loop: n operations */
#define PHASE_TEARDOWN 2
#define PHASE_CALIBRATE 3 /* the same loop, n iterations with an empty body: its cost is the
                           * loop's own, reported apart and taken off the measured phase's */
#define PHASE_BETWEEN  4  /* work between measured blocks (re-arming the next block's
                           * operations): neither measured nor calibration */

/* Linux's numbers, so that guests/linux/init.c may include this file beside <errno.h>. */
#define EPERM   1
#define ENOENT  2
#define ESRCH   3
#define EINTR   4
#define ENOEXEC 8
#define EBADF   9
#define ECHILD  10
#define EAGAIN  11
#define ENOMEM  12
#define EACCES  13
#define EFAULT  14
#define EEXIST  17
#define ENOTDIR 20
#define EISDIR  21
#define EINVAL  22
#define ENFILE  23
#define EMFILE  24
#define EFBIG   27
#define ENOSPC  28
#define ESPIPE  29
#define EPIPE   32
#define ENAMETOOLONG 36
#define ENOSYS  38
#define ENOTEMPTY 39

#endif
