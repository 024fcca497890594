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
#define SYS_MMAP     11  /* (len)                       -> address of anonymous zero pages */
#define SYS_MUNMAP   12  /* (addr, len): a whole region as mmap returned it                */
#define SYS_PIPE     13  /* (int fds[2])                                                    */
#define SYS_YIELD    14
#define SYS_BENCH    15  /* (BENCH_*, n, variant)       -> operations done                 */
#define SYS_PHASE    16  /* (phase): writes the phase-marker port                          */
#define SYS_SIGFPE   17  /* (handler): where a divide error in user mode continues         */
#define SYS_VMSTAT   18  /* (struct vm_counters *): the kernel's page-table work (vmstat.h) */
#define NSYSCALLS    19

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

#define EPERM   1
#define ENOENT  2
#define ESRCH   3
#define ENOEXEC 8
#define EBADF   9
#define ECHILD  10
#define EAGAIN  11
#define ENOMEM  12
#define EFAULT  14
#define EINVAL  22
#define EMFILE  24
#define EPIPE   32
#define ENOSYS  38

#endif
