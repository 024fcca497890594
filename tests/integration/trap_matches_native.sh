#!/usr/bin/env bash
# trap_matches_native.sh — under `trap` the guest cannot tell it is not on bare hardware: every
# workload and every tiny test guest prints what it prints natively, ends the same way, and
# executes the same guest instructions.
#
#   tests/integration/trap_matches_native.sh BUILD_DIR [MODE]
#
# MODE is trap (the default) or trap-ept, the same monitor with EPT (issue 17): its guest walks
# go through an EPT that maps guest RAM elsewhere in host-physical memory, so a translation that
# skipped it could not print the same console.
#
# Kernel workloads: each `workload:` of models/suites/default.yaml, with its `n:`, runs once in
# native and once in trap, each into its own database. Per workload:
#   console      identical, after dropping lines that start with `~` (timing-dependent text)
#   exit status  identical (vmlab's, and the guest's exit value in run.guest_exit)
#   run.instructions, insn_user, insn_kernel  identical: trap intercepts, it does not add or
#                drop guest instructions (the monitor's work is not guest time)
# Tiny guests: every guest registered in tests/guests/CMakeLists.txt (its .elf in
# BUILD/tests/guests/, the attack_* guests excepted: they test refusals and differ on purpose;
# the pv_* guests, which boot only under the pv hypervisor; and limit_spin, which never ends:
# integration/run_limits ends it)
# gives the same console and exit status in both modes; triplefault ends with status 4 and
# "triple fault" on stderr in both.
#
# Exits 1 with the workload or guest, the mode and the first differing lines.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin trap_matches_native "${1:-}"
mode=${2:-trap}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
suite=$src/models/suites/default.yaml
it_need "$vmlab" "$kernel" "$suite"

it_suite_workloads "$suite"
it_workloads_match_native "$mode"

# The tiny guests: names from the set(VMLAB_TEST_GUESTS ...) list and vmlab_guest(NAME ...)
# lines of tests/guests/CMakeLists.txt.
mapfile -t guests < <(awk '
  /set\(VMLAB_TEST_GUESTS/ { inlist = 1; sub(/.*VMLAB_TEST_GUESTS/, "") }
  inlist { line = $0; sub(/\).*/, "", line); n = split(line, w); for (k = 1; k <= n; k++) print w[k]
           if ($0 ~ /\)/) inlist = 0; next }
  /^[[:space:]]*vmlab_guest\([a-z0-9_]+[[:space:]]/ { g = $0; sub(/^[[:space:]]*vmlab_guest\(/, "", g)
           sub(/[[:space:]].*/, "", g); print g }' \
  "$src/tests/guests/CMakeLists.txt" | grep -v -e '^attack_' -e '^pv_' -e '^limit_' | sort -u)
[ "${#guests[@]}" -ge 5 ] || fail "found only ${#guests[@]} test guests in tests/guests/CMakeLists.txt"
for g in "${guests[@]}"; do
  elf=$build/tests/guests/$g.elf
  [ -e "$elf" ] || fail "$elf is not built"
  args=""
  [ "$g" = hello ] && args="hello-arg 42 foo=bar"
  it_run_tagged native "$g" "$elf" "$args"
  it_run_tagged "$mode" "$g" "$elf" "$args"
  it_same_status "$g" "$mode"
  it_same_console "$g" "$mode"
  if [ "$g" = triplefault ]; then
    for m in native "$mode"; do
      [ "$(cat "$tmp/$g.$m.status")" = 4 ] ||
        fail "triplefault under $m: status $(cat "$tmp/$g.$m.status"), want 4"
      grep -q "triple fault" "$tmp/$g.$m.err" ||
        fail "triplefault under $m: stderr does not say \"triple fault\""
    done
  fi
done
echo "trap_matches_native: $mode: ${#guests[@]} test guests: same console and status"
echo "trap_matches_native: $mode: ok"
