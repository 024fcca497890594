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
#   ptemod   one PTE write + INVLPG + touch per operation:           exactly 1 traced_write and
#            1 INVLPG exit more per extra operation (runs with n and n/2 compared); the very first
#            write may precede the tracing of its page table (shadows are built lazily, by the
#            first touch through the table), so the absolute count is n or n - 1
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

# run DB MODE CMDLINE: one run of the kernel into DB; it must pass (status 33).
run() {
  local db=$1 mode=$2 cmdline=$3 status=0
  timeout 120 "$vmlab" run --mode "$mode" --guest "$kernel" --cmdline "$cmdline" --db "$db" \
    --quiet --timeout 60 </dev/null >/dev/null 2>"$db.err" || status=$?
  [ "$status" = 33 ] || fail "$cmdline under $mode: vmlab exited $status, want 33" \
                             "($(tail -n 1 "$db.err"))"
}

# count DB CLASS WHERE: sum of phase-1 counts of CLASS in the run in DB whose rows match WHERE.
count() {
  sqlite3 "$1" "SELECT coalesce(sum(e.count), 0) FROM event_count e
                JOIN event_class c ON c.id = e.class WHERE e.phase = 1 AND c.name = '$2' AND ($3)"
}

# expect WHAT GOT WANT: GOT = WANT, or fail saying so.

not_marker="e.qualifier <> 'out4 0xe0'"
workloads=(syscall in cr3 ptemod cli)
pids=()
for w in "${workloads[@]}"; do
  run "$tmp/$w.trap.db" trap "workload=$w n=$N" & pids+=($!)
  run "$tmp/$w.native.db" native "workload=$w n=$N" & pids+=($!)
done
run "$tmp/ptemod_half.trap.db" trap "workload=ptemod n=$((N / 2))" & pids+=($!)
run "$tmp/forkwait.A.db" trap "workload=forkwait n=200" & pids+=($!)
run "$tmp/forkwait.B.db" trap "workload=forkwait n=200" & pids+=($!)
for p in "${pids[@]}"; do
  wait "$p" || exit 1
done

for w in "${workloads[@]}"; do
  n=$(sqlite3 "$tmp/$w.trap.db" "SELECT n FROM run")
  expect "$w: run.n" "$n" "$N"
  rows=$(sqlite3 "$tmp/$w.native.db" "SELECT count(*) FROM event_count e
         JOIN event_class c ON c.id = e.class WHERE c.name = 'exit'")
  expect "$w under native: rows of class exit" "$rows" 0
done

db=$tmp/syscall.trap.db
expect "syscall: exits in phase 1" "$(count "$db" exit "$not_marker")" 0

db=$tmp/in.trap.db
expect "in: IO_INSTRUCTION 'in1 0x80' exits" \
       "$(count "$db" exit "e.reason = 30 AND e.qualifier = 'in1 0x80'")" "$N"
expect "in: exits in phase 1" "$(count "$db" exit "$not_marker")" "$N"

db=$tmp/cr3.trap.db
expect "cr3: CR_ACCESS 'cr3/write' exits" \
       "$(count "$db" exit "e.reason = 28 AND e.qualifier = 'cr3/write'")" "$N"
reuse=$(count "$db" shadow "e.qualifier = 'shadow_reuse'")
[ "$reuse" -ge "$N" ] || fail "cr3: $reuse shadow_reuse in phase 1, want >= $N"
expect "cr3: shadow_build in phase 1" "$(count "$db" shadow "e.qualifier = 'shadow_build'")" 0

db=$tmp/ptemod.trap.db
half=$tmp/ptemod_half.trap.db
traced=$(count "$db" shadow "e.qualifier = 'traced_write'")
traced_half=$(count "$half" shadow "e.qualifier = 'traced_write'")
expect "ptemod: traced_write, n=$N minus n=$((N / 2))" "$((traced - traced_half))" "$((N - N / 2))"
[ "$traced" -ge $((N - 1)) ] && [ "$traced" -le "$N" ] ||
  fail "ptemod: $traced traced_write in phase 1, want $N (or $((N - 1)) if the first write" \
       "precedes tracing)"
expect "ptemod: INVLPG exits" "$(count "$db" exit "e.reason = 14")" "$N"

db=$tmp/cli.trap.db
expect "cli: exits in phase 1" "$(count "$db" exit "$not_marker")" 0

q_counts="SELECT e.phase, c.name, e.reason, e.qualifier, e.count, e.count2 FROM event_count e
          JOIN event_class c ON c.id = e.class ORDER BY e.phase, c.name, e.reason, e.qualifier"
sqlite3 "$tmp/forkwait.A.db" "$q_counts" > "$tmp/A.txt"
sqlite3 "$tmp/forkwait.B.db" "$q_counts" > "$tmp/B.txt"
grep -q '|exit|' "$tmp/A.txt" || fail "forkwait under trap: no exit rows"
if ! diff "$tmp/A.txt" "$tmp/B.txt" > "$tmp/diff"; then
  echo "trap_exits: event_count of forkwait n=200 under trap, run A (<) vs run B (>):" >&2
  head -n 20 "$tmp/diff" >&2
  fail "forkwait: two trap runs count differently"
fi

echo "trap_exits: per operation: syscall 0 exits, in 1 'in1 0x80', cr3 1 'cr3/write'" \
     "($reuse reuses, 0 builds), ptemod 1 traced write ($traced of $N) + 1 INVLPG, cli 0 exits;" \
     "native: no exits; forkwait: $(wc -l < "$tmp/A.txt") identical count rows"
echo "trap_exits: ok"
