#!/usr/bin/env bash
# trap_exits.sh — under `trap`, each measured operation exits exactly as VT-x without EPT would
# make it exit, and nothing else does; natively nothing exits; two runs count the same.
#
#   tests/integration/trap_exits.sh BUILD_DIR
#
# Counts are phase 1 (the measured loop) of the guest kernel's workloads, against the run's
# n (run.n). The kernel's phase marker (a 32-bit write to port 0xe0) is itself an exit and is
# left out of "exits" below.
#
#   syscall  int 0x80 and iret stay in the guest:                   0 exits
#   in       one port read of 0x80:                                  n IO_INSTRUCTION 'in1 0x80',
#                                                                    no other exit
#   cr3      one mov to CR3 between two address spaces:              n CR_ACCESS 'cr3/write';
#            both shadows are cached after set-up:                   >= n shadow_reuse,
#                                                                    0 shadow_build
#   ptemod   one PTE store per operation (issue 12; it was a store + INVLPG + touch): n
#            traced_write and n #PF (write-protection) exits, exactly 1 more of each per extra
#            operation (runs with n and n/2 compared), no INVLPG exit; the kernel touches the
#            scratch window before the loop, so its table is traced from the first store; the
#            only other exits are the CR3 read and write of each 256-store block's TLB flush
#   cli      cli/sti pairs never exit:                               0 exits
#   native   the same runs natively:                                 no `exit` rows in any phase
#   forkwait two trap runs, n=200:                                   identical event_count rows
#
# Exits 1 with the workload and the counts that disagree.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin trap_exits "${1:-}"
it_need "$vmlab" "$kernel"
N=500

not_marker="e.qualifier <> 'out4 0xe0'"
workloads=(syscall in cr3 ptemod cli)
it_exit_runs trap trap "$N" "${workloads[@]}"

db=$tmp/syscall.trap.db
expect "syscall: exits in phase 1" "$(it_count "$db" exit "$not_marker")" 0

it_shadow_exits trap "$N"

db=$tmp/cli.trap.db
expect "cli: exits in phase 1" "$(it_count "$db" exit "$not_marker")" 0

it_same_counts "forkwait n=200" trap "$tmp/forkwait.A.db" "$tmp/forkwait.B.db"

echo "trap_exits: per operation: syscall 0 exits, in 1 'in1 0x80', cr3 1 'cr3/write'" \
     "($reuse reuses, 0 builds), ptemod 1 traced write ($traced of $N), cli 0 exits;" \
     "native: no exits; forkwait: $(wc -l < "$tmp/A.txt") identical count rows"
echo "trap_exits: ok"
