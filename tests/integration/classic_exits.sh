#!/usr/bin/env bash
# classic_exits.sh — under `trap-classic` (guest kernel in ring 1) each measured operation enters
# the monitor (a monitor trap, class montrap) exactly when a privileged instruction faults or the
# monitor's IDT takes an interrupt or int n, which it then reflects (class reflect); the
# sensitive-unprivileged instructions it runs are recorded as holes instead; no VT-x exit is ever
# recorded; natively nothing enters a monitor; and two runs count the same.
#
#   tests/integration/classic_exits.sh BUILD_DIR
#
# Counts are phase 1 (the measured loop) of the guest kernel's workloads, against the run's
# n (run.n, here 500). The kernel's phase marker (a 32-bit write to port 0xe0) is itself a trap
# and is left out of "traps" below.
#
#   cli      cli and sti are privileged in ring 1, each a #GP:        n montrap 13 'cli' and n
#                                                                     'sti', no other trap
#   syscall  int 0x80 is taken by the monitor's IDT and reflected:    montrap 128 'int' and
#            (the iret back to ring 3 stays in the guest)             reflect 128 as often as
#                                                                     int 0x80 natively (>= n),
#                                                                     no other trap;
#            the kernel's entry and exit path runs sensitive          >= n `hole` iret and
#            instructions:                                            >= n `hole` push_seg
#   in       one port read of 0x80, emulated by the monitor:          n montrap 13 'in1 0x80', no
#                                                                     other trap; n ioemul 0x80
#   cr3      one mov to CR3 between two address spaces:               n montrap 13 'cr3/write';
#            both shadows are cached after set-up:                    >= n shadow_reuse,
#                                                                     0 shadow_build
#   ptemod   one PTE store per operation (issue 12; it was a store + INVLPG + touch): n
#            montrap 14 (write protection) and n traced_write, 1 more of each per extra operation
#            (runs with n and n/2 compared); no 'invlpg' trap; the only other traps are the
#            'cr3/read' and 'cr3/write' of each 256-store block's TLB flush
#   native   the same runs natively:                                  no `exit` rows in any phase
#   any      no run under trap-classic records a VT-x exit
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

for w in "${workloads[@]}"; do
  expect "$w: VT-x exits under trap-classic" "$(it_exit_rows "$tmp/$w.classic.db")" 0
done
db=$tmp/cli.classic.db
expect "cli: montrap 13 'cli'" "$(it_count "$db" montrap "e.reason = 13 AND e.qualifier = 'cli'")" \
       "$N"
expect "cli: montrap 13 'sti'" "$(it_count "$db" montrap "e.reason = 13 AND e.qualifier = 'sti'")" \
       "$N"
expect "cli: traps in phase 1" "$(it_count "$db" montrap "$not_marker")" "$((2 * N))"

db=$tmp/syscall.classic.db
calls=$(it_count "$tmp/syscall.native.db" softint "e.reason = 128")
at_least "syscall: int 0x80 natively" "$calls" "$N"
expect "syscall: montrap 128 (native int 0x80)" "$(it_count "$db" montrap "e.reason = 128")" \
       "$calls"
expect "syscall: reflect 128" "$(it_count "$db" reflect "e.reason = 128")" "$calls"
expect "syscall: traps in phase 1" "$(it_count "$db" montrap "$not_marker")" "$calls"
iret=$(it_count "$db" hole "e.qualifier = 'iret'")
push_seg=$(it_count "$db" hole "e.qualifier = 'push_seg'")
at_least "syscall: hole iret in phase 1" "$iret" "$N"
at_least "syscall: hole push_seg in phase 1" "$push_seg" "$N"

it_shadow_exits classic "$N" montrap
expect "in: ioemul 0x80 'in1'" \
       "$(it_count "$tmp/in.classic.db" ioemul "e.reason = 128 AND e.qualifier = 'in1'")" "$N"

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

echo "classic_exits: per operation: cli 1 montrap 'cli' + 1 'sti', syscall 1 montrap + 1" \
     "reflect of int 0x80 ($iret iret and $push_seg push_seg holes in $N), in 1 'in1 0x80'," \
     "cr3 1 'cr3/write' ($reuse reuses, 0 builds), ptemod 1 #PF + 1 traced write" \
     "($traced of $N); no VT-x exit;" \
     "native: no exits; holes: sgdt/sidt detail matches the guest's view;" \
     "forkwait: $(wc -l < "$tmp/A.txt") identical count rows"
echo "classic_exits: ok"
