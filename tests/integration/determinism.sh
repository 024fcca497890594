#!/usr/bin/env bash
# determinism.sh — the same guest, workload and configuration give the same run, byte for byte.
#
#   tests/integration/determinism.sh BUILD_DIR
#
# Guest time is the retired-instruction count, so nothing the host does (load, wall clock,
# another process writing the next database) may change what the guest does or what vmlab
# records. Every workload below runs natively four times on the guest kernel: twice with
# aggregate counts (A, B) and twice with --trace full (C, D), A and B at the same time, then
# C and D, each into its own database. Then, per workload:
#
#   A = B   run totals (status, exits, instructions, insn_user, insn_kernel), run_phase rows,
#           every event_count row (phase, class, reason, qualifier, count, count2), the
#           time-series buckets, the console;
#   C = D   every event row (icount, phase, class, reason, qualifier, eip, cpl, detail);
#   A = C   totals, event_count rows and console: full tracing does not change the run.
#
# All of that at --ips 100000000 (the kernel's 100 Hz timer ticks every 1 M instructions) and
# at --ips 2000000 (every 20000: hundreds of interrupts per run, landing anywhere). Exits 1
# with the workload, the ips and the first differing rows.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin determinism "${1:-}"
it_need "$vmlab" "$kernel"
workloads=("forkwait n=300" "ctxsw n=300" "execproc n=50" "pagefault n=200" "io n=200" "holes")

# pass IPS NAME [vmlab options]: every workload, one after the other, into $tmp/IPS.NAME.db;
# console i in $tmp/IPS.NAME.i.console. Returns 1 (with a message) if a run does not pass.
pass() {
  local ips=$1 name=$2 i status
  shift 2
  for i in "${!workloads[@]}"; do
    status=0
    "$vmlab" run --guest "$kernel" --cmdline "workload=${workloads[$i]}" --ips "$ips" \
      --db "$tmp/$ips.$name.db" --console "$tmp/$ips.$name.$i.console" --quiet --timeout 60 "$@" \
      </dev/null 2>"$tmp/$ips.$name.$i.err" || status=$?
    if [ "$status" != 33 ]; then
      tail -n 5 "$tmp/$ips.$name.$i.err" >&2
      echo "determinism: FAIL: pass $name, ips $ips, workload=${workloads[$i]}:" \
           "vmlab exited $status, want 33" >&2
      return 1
    fi
  done
}

# same IPS X Y WHAT QUERY: QUERY (with :params for the run's command line) gives the same rows
# in databases X and Y for every workload, and at least one row.
same() {
  local ips=$1 x=$2 y=$3 what=$4 query=$5 w q
  for w in "${workloads[@]}"; do
    q=${query//:params/\'workload=$w\'}
    sqlite3 "$tmp/$ips.$x.db" "$q" > "$tmp/x.txt"
    sqlite3 "$tmp/$ips.$y.db" "$q" > "$tmp/y.txt"
    [ -s "$tmp/x.txt" ] || fail "ips $ips, workload=$w: no $what rows in pass $x"
    if ! diff "$tmp/x.txt" "$tmp/y.txt" > "$tmp/diff"; then
      echo "determinism: $what of workload=$w at --ips $ips, pass $x (<) vs pass $y (>):" >&2
      head -n 20 "$tmp/diff" >&2
      fail "ips $ips, workload=$w: pass $x and pass $y differ in $what"
    fi
  done
}

# same_console IPS X Y: the consoles of passes X and Y are identical and not empty.
same_console() {
  local i
  for i in "${!workloads[@]}"; do
    [ -s "$tmp/$1.$2.$i.console" ] || fail "ips $1, workload=${workloads[$i]}: empty console"
    if ! cmp -s "$tmp/$1.$2.$i.console" "$tmp/$1.$3.$i.console"; then
      diff "$tmp/$1.$2.$i.console" "$tmp/$1.$3.$i.console" | head -n 20 >&2
      fail "ips $1, workload=${workloads[$i]}: pass $2 and pass $3 print different consoles"
    fi
  done
}

run_of="FROM run r WHERE r.params = :params"
q_run="SELECT r.status, r.exit_status, r.guest_exit, r.instructions, r.insn_user, r.insn_kernel
       $run_of"
q_phase="SELECT p.phase, p.insn_user, p.insn_kernel, p.first_icount, p.last_icount
         FROM run_phase p JOIN run r ON r.id = p.run_id WHERE r.params = :params ORDER BY p.phase"
q_counts="SELECT e.phase, e.class, e.reason, e.qualifier, e.count, e.count2
          FROM event_count e JOIN run r ON r.id = e.run_id WHERE r.params = :params
          ORDER BY e.phase, e.class, e.reason, e.qualifier"
q_buckets="SELECT b.bucket, b.class, b.count FROM bucket b JOIN run r ON r.id = b.run_id
           WHERE r.params = :params ORDER BY b.bucket, b.class"
q_events="SELECT e.icount, e.phase, e.class, e.reason, e.qualifier, e.eip, e.cpl, e.detail
          FROM event e JOIN run r ON r.id = e.run_id WHERE r.params = :params ORDER BY e.rowid"
q_irq="SELECT coalesce(sum(e.count), 0) FROM event_count e JOIN event_class c ON c.id = e.class
       WHERE c.name = 'interrupt' AND e.qualifier = 'irq0'"

for ips in 100000000 2000000; do
  pass "$ips" A & a=$!
  pass "$ips" B & b=$!
  wait $a || exit 1
  wait $b || exit 1
  pass "$ips" C --trace full & c=$!
  pass "$ips" D --trace full & d=$!
  wait $c || exit 1
  wait $d || exit 1

  irqs=$(sqlite3 "$tmp/$ips.A.db" "$q_irq")
  [ "$irqs" -gt 0 ] || fail "ips $ips: no timer interrupt in any workload"
  same "$ips" A B "run totals" "$q_run"
  same "$ips" A B "run_phase rows" "$q_phase"
  same "$ips" A B "event_count rows" "$q_counts"
  same "$ips" A B "bucket rows" "$q_buckets"
  same_console "$ips" A B
  same "$ips" C D "event rows" "$q_events"
  same "$ips" C D "event_count rows" "$q_counts"
  same "$ips" A C "run totals" "$q_run"
  same "$ips" A C "event_count rows" "$q_counts"
  same_console "$ips" A C
  events=$(sqlite3 "$tmp/$ips.C.db" "SELECT count(*) FROM event")
  echo "determinism: ips $ips: ${#workloads[@]} workloads, $irqs timer interrupts, $events events:" \
       "identical in every pass"
done
echo "determinism: ok"
