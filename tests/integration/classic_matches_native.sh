#!/usr/bin/env bash
# classic_matches_native.sh — under `trap-classic` (ring compression, no VT) every workload but
# `holes` looks the same as natively; `holes` shows exactly the Popek–Goldberg holes this monitor
# leaves open, and none natively or under `trap`.
#
#   tests/integration/classic_matches_native.sh BUILD_DIR
#
# Workloads: each `workload:` of models/suites/default.yaml, with its `n:`, runs once natively and
# once under trap-classic, each into its own database. Per workload other than holes:
#   console      identical, after dropping lines that start with `~` (timing-dependent text)
#   exit status  identical (vmlab's, and the guest's exit value in run.guest_exit)
#   run.instructions, insn_user, insn_kernel  identical: the monitor emulates what faults and
#                does not add or drop guest instructions
# holes (one `hole NAME ... equal=E` line per instruction, then a `result` line) also runs under
# trap. Every mode ends with status 33 and `ok=1` on the result line; natively and under trap
# every line says equal=1 and the result differ=0. Under trap-classic 17 of the 19 probes (the 17
# instructions; far transfers and PUSH CS/SS have a line each) say equal=0 and the result
# differ=17: the monitor's GDT holds the guest's ring-0 descriptors as written (so lar, lsl, verr,
# verw refuse them in ring 1) and runs the kernel on ring-1 copies (so segment loads, push/mov of
# selectors, far jumps and returns show the copies); a far call and int n read as natively,
# because the CS pushed for them is written by the monitor, which writes the guest's own.
#
# Exits 1 with the workload, the mode and the first differing lines.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin classic_matches_native "${1:-}"
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
suite=$src/models/suites/default.yaml
it_need "$vmlab" "$kernel" "$suite"
holes_differ="sgdt sidt sldt smsw str pushf popf lar lsl verr verw pop_seg push_cs push_ss mov_seg
              jmp_far ret_far"
# call_far and int_n: the CS the monitor pushes for the guest (an emulated far call, a reflected
# int n) is the guest's own selector (trap-classic shows the guest its selectors in the frames it
# builds, issue 15), so they read as natively.
holes_equal="call_far int_n"

# Workload lines of the suite, as "workload=W n=N"; holes is checked on its own below.
it_suite_workloads "$suite"
holes=""
for i in "${!workloads[@]}"; do
  case ${workloads[$i]} in
    "workload=holes "*) holes=${workloads[$i]}; unset "workloads[$i]" ;;
  esac
done
[ -n "$holes" ] || fail "no holes workload in $suite"

it_workloads_match_native trap-classic

# hole_list MODE EQUAL: the names on MODE's `hole` lines that end with equal=EQUAL, sorted.
hole_list() {
  awk -v e="equal=$2" '$1 == "hole" && $NF == e { print $2 }' "$tmp/holes.$1.console" | sort
}

# sorted WORDS...: one word a line, sorted.
sorted() {
  printf '%s\n' $* | sort
}

all_holes=$(sorted $holes_differ $holes_equal)
for m in native trap trap-classic; do
  it_run_tagged "$m" holes "$kernel" "$holes"
  status=$(cat "$tmp/holes.$m.status")
  [ "$status" = 33 ] || fail "holes under $m: status $status, want 33" \
                             "($(tail -n 1 "$tmp/holes.$m.err"))"
  grep -q '^result .* ok=1' "$tmp/holes.$m.console" ||
    fail "holes under $m: no result line with ok=1 ($(grep '^result' "$tmp/holes.$m.console"))"
  got=$(awk '$1 == "hole" { print $2 }' "$tmp/holes.$m.console" | sort)
  [ "$got" = "$all_holes" ] || fail "holes under $m: hole lines for" $got "; want" $all_holes
done
for m in native trap; do
  [ "$(hole_list "$m" 1)" = "$all_holes" ] ||
    fail "holes under $m: equal=0 for" $(hole_list "$m" 0) "; want every hole equal=1"
  grep -q '^result .* differ=0\b' "$tmp/holes.$m.console" ||
    fail "holes under $m: $(grep '^result' "$tmp/holes.$m.console"); want differ=0"
done
got=$(hole_list trap-classic 0)
[ "$got" = "$(sorted $holes_differ)" ] ||
  fail "holes under trap-classic: equal=0 for" $got "; want" $(sorted $holes_differ)
got=$(hole_list trap-classic 1)
[ "$got" = "$(sorted $holes_equal)" ] ||
  fail "holes under trap-classic: equal=1 for" $got "; want" $(sorted $holes_equal)
ndiff=$(sorted $holes_differ | wc -l)
grep -q "^result .* differ=$ndiff\b" "$tmp/holes.trap-classic.console" ||
  fail "holes under trap-classic: $(grep '^result' "$tmp/holes.trap-classic.console");" \
       "want differ=$ndiff"
echo "classic_matches_native: holes: native and trap all equal; trap-classic $ndiff differ"
echo "classic_matches_native: ok"
