#!/usr/bin/env bash
# nanobench_counts.sh — the nanobenchmarks measure one operation per iteration (issue 12): each
# runs its measured loop (phase 1) and then the same loop with an empty body (phase 3,
# calibration), and the counts per operation are those of the operation and nothing else.
#
#   tests/integration/nanobench_counts.sh BUILD_DIR
#
# Runs every nanobenchmark (syscall in callret divzero pgfault ptemod ptemod_p2np ptemod_np2p cr3
# cli) with n = N = 300 (pgfault and ptemod: two blocks, 256 + 44) in every mode, and natively
# again with n = 2N; pv's ptemod runs with --trace full. Then:
#
#   every run       passes, run.n = n; calibration: phase 3 retires between 2 and 8 instructions
#                   per iteration more at n = 2N than at n = N (natively: the loop runs n times),
#                   and fewer instructions than phase 1
#   phase 3         none of the operation's events: natively no fault and no port access but the
#                   phase marker (0xe0); under trap no exit but the marker's; under trap-classic
#                   and bt no monitor trap but the marker's and the int 0x80 of the user
#                   benchmarks' closing phase() call (at most 1); no callout under bt but that
#                   call's return (iretd, at most 1); under pv
#                   no hypercall and no hypervisor trap
#   pgfault         natively exactly n #PF (fault, reason 14) in phase 1, none in phases 3 and 4;
#                   exactly n page faults delivered to the guest in phase 1 in every mode (fault
#                   14 under trap, reflect 14 under trap-classic and bt, bounce 14 under pv)
#   ptemod*         one PTE store per operation: under trap and trap-classic exactly n shadow
#                   traced_write in phase 1 and none in phase 3; under pv exactly n mmu_update
#                   elements in phase 1 (rows of table hypercall, nr 1, at the icount of a phase-1
#                   hypercall event) and no hypercall in phase 3; natively no fault in phase 1
#   variant=        `workload=ptemod variant=p2np` counts as ptemod_p2np does (phases 1 and 3);
#                   `variant=bogus` fails with reason=unknown-variant
#
# Exits 1 with the first check that fails.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin nanobench_counts "${1:-}"
it_need "$vmlab" "$kernel"
N=300
nano=(syscall in callret divzero pgfault ptemod ptemod_p2np ptemod_np2p cr3 cli)
modes=(native trap trap-classic bt pv)

insn() {
  sqlite3 "$1" "SELECT coalesce(sum(insn_user + insn_kernel), 0) FROM run_phase
                WHERE phase = $2"
}

for w in "${nano[@]}"; do
  for m in "${modes[@]}"; do
    extra=()
    [ "$m" = pv ] && [ "${w#ptemod}" != "$w" ] && extra=(--trace full)
    it_go "$tmp/$w.$m.db" "$m" "workload=$w n=$N" "${extra[@]}"
  done
  it_go "$tmp/$w.2n.db" native "workload=$w n=$((2 * N))"
done
it_go "$tmp/variant.native.db" native "workload=ptemod variant=p2np n=$N"
it_go_wait
status=$(it_vmlab "$tmp/bogus.db" "$tmp/bogus" native "$kernel" "workload=ptemod variant=bogus n=10")
expect "ptemod variant=bogus: vmlab status" "$status" 35
grep -q '^result workload=ptemod n=10 ok=0 reason=unknown-variant' "$tmp/bogus.console" ||
  fail "ptemod variant=bogus: no 'ok=0 reason=unknown-variant' result line"

marker="e.reason = 224"
for w in "${nano[@]}"; do
  for m in "${modes[@]}"; do
    db=$tmp/$w.$m.db
    expect "$w under $m: run.n" "$(sqlite3 "$db" "SELECT n FROM run")" "$N"
    i1=$(insn "$db" 1) i3=$(insn "$db" 3)
    at_least "$w under $m: phase-3 instructions" "$i3" $((2 * N))
    [ "$i3" -lt "$i1" ] || fail "$w under $m: phase 3 retires $i3 instructions, phase 1 $i1"
    case $m in
      native)
        expect "$w natively: faults in phase 3" "$(it_phase_count "$db" 3 fault 1)" 0
        expect "$w natively: port accesses in phase 3 but the marker" \
               "$(it_phase_count "$db" 3 io "NOT ($marker)")" 0 ;;
      trap)
        expect "$w under trap: exits in phase 3 but the marker's" \
               "$(it_phase_count "$db" 3 exit "e.qualifier <> 'out4 0xe0'")" 0 ;;
      trap-classic|bt)
        t=$(it_phase_count "$db" 3 montrap "e.qualifier <> 'out4 0xe0' AND NOT e.reason = 128")
        expect "$w under $m: monitor traps in phase 3 but the marker's and int 0x80" "$t" 0
        t=$(it_phase_count "$db" 3 montrap "e.reason = 128")
        [ "$t" -le 1 ] || fail "$w under $m: $t int 0x80 traps in phase 3, want at most 1"
        expect "$w under $m: callouts in phase 3 but an iretd" \
               "$(it_phase_count "$db" 3 callout "e.qualifier <> 'iretd'")" 0
        t=$(it_phase_count "$db" 3 callout "e.qualifier = 'iretd'")
        [ "$t" -le 1 ] || fail "$w under $m: $t iretd callouts in phase 3, want at most 1" ;;
      pv)
        expect "$w under pv: hypercalls in phase 3" "$(it_phase_count "$db" 3 hypercall 1)" 0
        expect "$w under pv: hypervisor traps in phase 3" "$(it_phase_count "$db" 3 hvtrap 1)" 0 ;;
    esac
  done
  d=$(( $(insn "$tmp/$w.2n.db" 3) - $(insn "$tmp/$w.native.db" 3) ))
  [ "$d" -ge $((2 * N)) ] && [ "$d" -le $((8 * N)) ] ||
    fail "$w natively: phase 3 grows by $d instructions from n=$N to n=$((2 * N)), want" \
         "2 to 8 per added iteration"
done

db=$tmp/pgfault.native.db
expect "pgfault natively: #PF in phase 1" "$(it_phase_count "$db" 1 fault "e.reason = 14")" "$N"
expect "pgfault natively: faults in phase 1" "$(it_phase_count "$db" 1 fault 1)" "$N"
expect "pgfault natively: #PF in phase 3" "$(it_phase_count "$db" 3 fault "e.reason = 14")" 0
expect "pgfault natively: #PF in phase 4" "$(it_phase_count "$db" 4 fault "e.reason = 14")" 0
expect "pgfault under trap: #PF delivered in phase 1" \
       "$(it_phase_count "$tmp/pgfault.trap.db" 1 fault "e.reason = 14")" "$N"
for m in trap-classic bt; do
  expect "pgfault under $m: #PF reflected in phase 1" \
         "$(it_phase_count "$tmp/pgfault.$m.db" 1 reflect "e.reason = 14")" "$N"
done
expect "pgfault under pv: #PF bounced in phase 1" \
       "$(it_phase_count "$tmp/pgfault.pv.db" 1 bounce "e.reason = 14")" "$N"

tw="e.qualifier = 'traced_write'"
for w in ptemod ptemod_p2np ptemod_np2p; do
  expect "$w natively: faults in phase 1" "$(it_phase_count "$tmp/$w.native.db" 1 fault 1)" 0
  for m in trap trap-classic; do
    expect "$w under $m: traced_write in phase 1" "$(it_phase_count "$tmp/$w.$m.db" 1 shadow "$tw")" "$N"
    expect "$w under $m: traced_write in phase 3" "$(it_phase_count "$tmp/$w.$m.db" 3 shadow "$tw")" 0
  done
  els=$(sqlite3 "$tmp/$w.pv.db" "SELECT coalesce(sum(h.batch), 0) FROM hypercall h
          WHERE h.nr = 1 AND h.icount IN (SELECT e.icount FROM event e
            JOIN event_class c ON c.id = e.class WHERE e.phase = 1 AND c.name = 'hypercall')")
  expect "$w under pv: mmu_update elements in phase 1" "$els" "$N"
done

q="SELECT e.phase, c.name, e.reason, e.qualifier, e.count FROM event_count e
   JOIN event_class c ON c.id = e.class WHERE e.phase IN (1, 3) ORDER BY 1, 2, 3, 4"
[ "$(sqlite3 "$tmp/variant.native.db" "$q")" = "$(sqlite3 "$tmp/ptemod_p2np.native.db" "$q")" ] ||
  fail "workload=ptemod variant=p2np counts differently from workload=ptemod_p2np"

echo "nanobench_counts: ${#nano[@]} nanobenchmarks x ${#modes[@]} modes, n=$N: phase 3 is the" \
     "empty loop; pgfault 1 #PF per op; ptemod variants 1 traced write (trap, trap-classic)" \
     "and 1 mmu_update element (pv) per op"
echo "nanobench_counts: ok"
