#!/usr/bin/env bash
# kernel_features.sh — the kernel's semantic checks pass in every mode and print what they print
# natively (issue 18): selftest (processes and memory), fstest (the file system and shared
# mappings), sigtest (signal delivery and return), shtest (the shell-like sh and exec through it).
#
#   tests/integration/kernel_features.sh BUILD_DIR
#
# Each runs natively and under trap, trap-ept, trap-classic, bt and pv: status 33, a result line
# with ok=1 and every check passed, and the console of native (`~` lines and the banner naming the
# pv-ops aside). QEMU's console is compared with native's by tests/kernel/native_matches_qemu.sh. Exits 1 naming the check and
# the mode that differ.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin kernel_features "${1:-}"
it_need "$vmlab" "$kernel"
workloads=("workload=selftest n=1" "workload=fstest n=1" "workload=sigtest n=1"
           "workload=shtest n=1")
modes=(native trap trap-ept trap-classic bt pv)
for i in "${!workloads[@]}"; do
  for m in "${modes[@]}"; do
    it_run_tagged "$m" "wl$i" "$kernel" "${workloads[$i]}" &
  done
  wait
done
for i in "${!workloads[@]}"; do
  for m in "${modes[@]}"; do
    expect "${workloads[$i]} under $m: status" "$(cat "$tmp/wl$i.$m.status")" 33
    grep -qE '^result workload=[a-z]+ n=1 ok=1 checks=([0-9]+) passed=\1$' \
      "$tmp/wl$i.$m.console" ||
      fail "${workloads[$i]} under $m: $(grep '^result' "$tmp/wl$i.$m.console")"
    # the pv-ops banner names the implementation in use (pv under pv)
    grep -v -e '^~' -e '^vmlab guest kernel, pv-ops:' "$tmp/wl$i.$m.console" > "$tmp/$m.txt" || true
    [ "$m" = native ] && continue
    diff "$tmp/native.txt" "$tmp/$m.txt" >&2 ||
      fail "${workloads[$i]}: $m prints a different console from native's (above)"
  done
done
echo "kernel_features: ${#workloads[@]} checks pass in ${#modes[@]} modes, consoles as native"
echo "kernel_features: ok"
