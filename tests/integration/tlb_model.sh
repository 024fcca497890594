#!/usr/bin/env bash
# tlb_model.sh — the TLB model (emu/tlb.h) counts what its definition says, in every mode.
#
#   tests/integration/tlb_model.sh BUILD_DIR
#
# The kernel's tlb workloads (guests/kernel/bench.c, BENCH_TLB) do, per operation, one TLB event
# and then read K distinct scratch pages. Counts are taken as differences of two runs that differ
# in one thing only, so that what the loop's own code, stack and data pages take (the same in
# both) cancels; every difference is exact, not a rate:
#   - cr3: a CR3 load, then K reads: pages=17 takes exactly 16 x n more data-TLB misses than
#     pages=1, in each modeled TLB (reason 2: flushed by VM exits; 6: tagged by VPID);
#   - invlpg: one page invalidated, then K reads: n=200 takes exactly 100 more misses than n=100
#     in the VPID-tagged TLB: one per operation natively and under pv, two under the shadow
#     modes (the refill's walk over the shadow entry the monitor dropped faults, a hidden fault,
#     and the walk after the monitor's fix succeeds: both are walks);
#   - global: the K pages mapped global with CR4.PGE: natively pages=16 takes exactly as many
#     misses as pages=1 (global pages survive the CR3 load), and so under trap-ept (the real CR4
#     is the guest's); under the shadow modes the real CR4 is the monitor's, without PGE
#     (shadow.c), so pages=16 takes 15 x n more;
#   - two runs of the same workload record identical tlb rows.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin tlb_model "${1:-}"
it_need "$vmlab" "$kernel"

dtlb() {   # DB VARIANT_REASON: phase-1 data-TLB misses at CPL 0-2 of that modeled TLB
  it_count "$1" tlb "e.reason = $2"
}

n=100
for mode in $("$vmlab" run --list-modes); do
  it_run_pass "$tmp/$mode.k1.db" "$mode" "workload=tlb pages=1 n=$n"
  it_run_pass "$tmp/$mode.k17.db" "$mode" "workload=tlb pages=17 n=$n"
  for r in 2 6; do
    d=$(( $(dtlb "$tmp/$mode.k17.db" $r) - $(dtlb "$tmp/$mode.k1.db" $r) ))
    expect "$mode cr3 pages=17 minus pages=1, reason $r" "$d" $((16 * n))
  done
  it_run_pass "$tmp/$mode.i1.db" "$mode" "workload=tlb_invlpg pages=16 n=$n"
  it_run_pass "$tmp/$mode.i2.db" "$mode" "workload=tlb_invlpg pages=16 n=$((2 * n))"
  case $mode in native|pv|trap-ept) per=1 ;; *) per=2 ;; esac
  d=$(( $(dtlb "$tmp/$mode.i2.db" 6) - $(dtlb "$tmp/$mode.i1.db" 6) ))
  expect "$mode invlpg n=$((2 * n)) minus n=$n (VPID-tagged TLB)" "$d" $((per * n))
  flushes=$(it_count "$tmp/$mode.i1.db" tlb "e.reason = 17")
  expect "$mode invlpg flushes" "$flushes" "$n"
  [ "$mode" = pv ] && continue     # the pv interface has no CR4 write: tlb_global is refused
  it_run_pass "$tmp/$mode.g1.db" "$mode" "workload=tlb_global pages=1 n=$n"
  it_run_pass "$tmp/$mode.g16.db" "$mode" "workload=tlb_global pages=16 n=$n"
  case $mode in native|trap-ept) want=0 ;; *) want=$((15 * n)) ;; esac
  d=$(( $(dtlb "$tmp/$mode.g16.db" 6) - $(dtlb "$tmp/$mode.g1.db" 6) ))
  expect "$mode global pages=16 minus pages=1" "$d" "$want"
done

# Determinism: the same run twice, the same tlb rows (trap: exits flush the no-VPID TLB).
q="SELECT e.phase, e.reason, e.count, e.count2 FROM event_count e JOIN event_class c
   ON c.id = e.class WHERE c.name = 'tlb' ORDER BY 1, 2"
it_run_pass "$tmp/again.db" trap "workload=tlb pages=17 n=$n"
[ "$(sqlite3 "$tmp/trap.k17.db" "$q")" = "$(sqlite3 "$tmp/again.db" "$q")" ] ||
  fail "two trap runs of tlb pages=17 recorded different tlb rows"
[ -n "$(sqlite3 "$tmp/again.db" "$q")" ] || fail "no tlb rows recorded"

echo "tlb_model: cr3 16 x $n misses per 16 pages in every mode, invlpg 1 (native, pv) or 2 (shadow) per operation, global pages kept natively only, counts repeat"
