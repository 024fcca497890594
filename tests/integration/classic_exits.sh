#!/usr/bin/env bash
# classic_exits.sh — under `trap-classic` (guest kernel in ring 1) each measured operation exits
# exactly when a privileged instruction faults, the sensitive-unprivileged ones it runs are
# recorded as holes instead, natively nothing exits, and two runs count the same.
#
#   tests/integration/classic_exits.sh BUILD_DIR
#
# Counts are phase 1 (the measured loop) of the guest kernel's workloads, against the run's
# n (run.n, here 500). The kernel's phase marker (a 32-bit write to port 0xe0) is itself an exit
# and is left out of "exits" below.
#
#   cli      cli and sti are privileged in ring 1, each a #GP:        n EXCEPTION_NMI '#GP cli'
#                                                                     and n '#GP sti', no other exit
#   syscall  int 0x80 and iret stay in the guest:                     0 exits; but the kernel's
#            entry and exit path runs sensitive instructions:         >= n `hole` iret and
#                                                                     >= n `hole` push_seg
#   in       one port read of 0x80:                                   n IO_INSTRUCTION 'in1 0x80',
#                                                                     no other exit
#   cr3      one mov to CR3 between two address spaces:               n CR_ACCESS 'cr3/write';
#            both shadows are cached after set-up:                    >= n shadow_reuse,
#                                                                     0 shadow_build
#   ptemod   one PTE write + INVLPG + touch per operation:            n INVLPG exits; 1 traced_write
#            more per extra operation (runs with n and n/2 compared); the very first write may
#            precede the tracing of its page table, so the absolute count is n or n - 1
#   native   the same runs natively:                                  no `exit` rows in any phase
#   holes    with --trace full, the sgdt and sidt `hole` events of phase 1 carry what the guest
#            saw and would have seen at ring 0, and they are what the guest itself printed:
#            detail "base observed=B native=E" where the console line
#            "hole sgdt observed=B/limit expected=E/limit" (B = ffc00000, the monitor's window)
#   forkwait two trap-classic runs, n=200:                            identical event_count rows
#
# Exits 1 with the workload and the counts that disagree.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin classic_exits "${1:-}"
it_need "$vmlab" "$kernel"
N=500

not_marker="e.qualifier <> 'out4 0xe0'"
workloads=(cli syscall in cr3 ptemod)
pids=()                                  # the holes run goes side by side with the others
it_run_pass "$tmp/holes.classic.db" trap-classic "workload=holes n=1" --trace full & pids+=($!)
it_exit_runs trap-classic classic "$N" "${workloads[@]}"

db=$tmp/cli.classic.db
expect "cli: EXCEPTION_NMI '#GP cli' exits" \
       "$(it_count "$db" exit "e.reason = 0 AND e.qualifier = '#GP cli'")" "$N"
expect "cli: EXCEPTION_NMI '#GP sti' exits" \
       "$(it_count "$db" exit "e.reason = 0 AND e.qualifier = '#GP sti'")" "$N"
expect "cli: exits in phase 1" "$(it_count "$db" exit "$not_marker")" "$((2 * N))"

db=$tmp/syscall.classic.db
expect "syscall: exits in phase 1" "$(it_count "$db" exit "$not_marker")" 0
iret=$(it_count "$db" hole "e.qualifier = 'iret'")
push_seg=$(it_count "$db" hole "e.qualifier = 'push_seg'")
at_least "syscall: hole iret in phase 1" "$iret" "$N"
at_least "syscall: hole push_seg in phase 1" "$push_seg" "$N"

it_shadow_exits classic "$N"

db=$tmp/holes.classic.db
for h in sgdt sidt; do
  line=$(grep "^hole $h " "$db.console") || fail "holes: no \"hole $h\" line on the console"
  seen=$(sed -n 's/.* observed=\([0-9a-f]*\)\/.*/\1/p' <<<"$line")
  native=$(sed -n 's/.* expected=\([0-9a-f]*\)\/.*/\1/p' <<<"$line")
  [ -n "$seen" ] && [ -n "$native" ] || fail "holes: cannot read bases from \"$line\""
  got=$(sqlite3 "$db" "SELECT group_concat(e.detail, '; ') FROM event e
                       JOIN event_class c ON c.id = e.class
                       WHERE e.phase = 1 AND c.name = 'hole' AND e.qualifier = '$h'")
  expect "holes: detail of the phase-1 $h hole event" "$got" \
         "base observed=$seen native=$native"
done
case $(grep '^hole sgdt ' "$db.console") in
  *" observed=ffc00000/"*) ;;
  *) fail "holes: sgdt does not show the monitor's GDT at ffc00000:" \
          "$(grep '^hole sgdt ' "$db.console")" ;;
esac

it_same_counts "forkwait n=200" trap-classic "$tmp/forkwait.A.db" "$tmp/forkwait.B.db"

echo "classic_exits: per operation: cli 1 '#GP cli' + 1 '#GP sti', syscall 0 exits" \
     "($iret iret and $push_seg push_seg holes in $N), in 1 'in1 0x80', cr3 1 'cr3/write'" \
     "($reuse reuses, 0 builds), ptemod 1 INVLPG + 1 traced write ($traced of $N);" \
     "native: no exits; holes: sgdt/sidt detail matches the guest's view;" \
     "forkwait: $(wc -l < "$tmp/A.txt") identical count rows"
echo "classic_exits: ok"
