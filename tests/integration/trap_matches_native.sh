#!/usr/bin/env bash
# trap_matches_native.sh — under `trap` the guest cannot tell it is not on bare hardware: every
# workload and every tiny test guest prints what it prints natively, ends the same way, and
# executes the same guest instructions.
#
#   tests/integration/trap_matches_native.sh BUILD_DIR
#
# Kernel workloads: each `workload:` of models/suites/default.yaml, with its `n:`, runs once in
# native and once in trap, each into its own database. Per workload:
#   console      identical, after dropping lines that start with `~` (timing-dependent text)
#   exit status  identical (vmlab's, and the guest's exit value in run.guest_exit)
#   run.instructions, insn_user, insn_kernel  identical: trap intercepts, it does not add or
#                drop guest instructions (the monitor's work is not guest time)
# Tiny guests: every guest registered in tests/guests/CMakeLists.txt (its .elf in
# BUILD/tests/guests/, the attack_* guests excepted: they test refusals and differ on purpose; and the pv_* guests,
# which boot only under the pv hypervisor)
# gives the same console and exit status in both modes; triplefault ends with status 4 and
# "triple fault" on stderr in both.
#
# Exits 1 with the workload or guest, the mode and the first differing lines.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin trap_matches_native "${1:-}"
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
suite=$src/models/suites/default.yaml
it_need "$vmlab" "$kernel" "$suite"

# run MODE TAG GUEST CMDLINE: one run into $tmp/MODE.db; console in $tmp/TAG.MODE.console,
# stderr in $tmp/TAG.MODE.err, vmlab's status in $tmp/TAG.MODE.status.
run() {
  local mode=$1 tag=$2 guest=$3 cmdline=$4 status=0
  timeout 120 "$vmlab" run --mode "$mode" --guest "$guest" --cmdline "$cmdline" \
    --db "$tmp/$mode.db" --console "$tmp/$tag.$mode.console" --quiet --timeout 60 \
    </dev/null >/dev/null 2>"$tmp/$tag.$mode.err" || status=$?
  echo "$status" > "$tmp/$tag.$mode.status"
  [ "$status" -lt 128 ] || fail "$tag under $mode: vmlab died with status $status" \
                                "($(tail -n 1 "$tmp/$tag.$mode.err"))"
}

# same_console TAG: the consoles of native and trap agree, `~` lines dropped.
same_console() {
  grep -v '^~' "$tmp/$1.native.console" > "$tmp/n.txt" || true
  grep -v '^~' "$tmp/$1.trap.console" > "$tmp/t.txt" || true
  [ -s "$tmp/n.txt" ] || fail "$1: native printed nothing"
  if ! diff "$tmp/n.txt" "$tmp/t.txt" > "$tmp/diff"; then
    echo "trap_matches_native: console of $1, native (<) vs trap (>):" >&2
    head -n 20 "$tmp/diff" >&2
    fail "$1: trap prints a different console"
  fi
}

# same_status TAG: vmlab's exit status agrees.
same_status() {
  local n t
  n=$(cat "$tmp/$1.native.status")
  t=$(cat "$tmp/$1.trap.status")
  [ "$n" = "$t" ] || fail "$1: status $t under trap, $n under native" \
                          "(trap: $(tail -n 1 "$tmp/$1.trap.err"))"
}

# Workload lines of the suite, as "workload=W n=N".
mapfile -t workloads < <(awk '
  /^[[:space:]]*-[[:space:]]*workload:/ { w = $3 }
  /^[[:space:]]*n:/ { if (w != "") print "workload=" w " n=" $2; w = "" }' "$suite")
[ "${#workloads[@]}" -ge 10 ] || fail "found only ${#workloads[@]} workloads in $suite"

for i in "${!workloads[@]}"; do
  run native "wl$i" "$kernel" "${workloads[$i]}" & a=$!
  run trap "wl$i" "$kernel" "${workloads[$i]}" & b=$!
  wait $a || exit 1
  wait $b || exit 1
done

q_run="SELECT exit_status, guest_exit, instructions, insn_user, insn_kernel FROM run
       WHERE params = :params AND status = 'ok'"
for i in "${!workloads[@]}"; do
  w=${workloads[$i]}
  [ "$(cat "$tmp/wl$i.native.status")" = 33 ] ||
    fail "$w: native exited $(cat "$tmp/wl$i.native.status"), want 33" \
         "($(tail -n 1 "$tmp/wl$i.native.err"))"
  same_status "wl$i"
  same_console "wl$i"
  q=${q_run//:params/\'$w\'}
  n=$(sqlite3 "$tmp/native.db" "$q")
  t=$(sqlite3 "$tmp/trap.db" "$q")
  [ -n "$n" ] || fail "$w: no ok run row in the native database"
  [ "$n" = "$t" ] || fail "$w: run totals (exit_status|guest_exit|instructions|user|kernel)" \
                          "native $n, trap ${t:-(no ok row)}"
done
echo "trap_matches_native: ${#workloads[@]} workloads: same console, status and instructions"

# The tiny guests: names from the set(VMLAB_TEST_GUESTS ...) list and vmlab_guest(NAME ...)
# lines of tests/guests/CMakeLists.txt.
mapfile -t guests < <(awk '
  /set\(VMLAB_TEST_GUESTS/ { inlist = 1; sub(/.*VMLAB_TEST_GUESTS/, "") }
  inlist { line = $0; sub(/\).*/, "", line); n = split(line, w); for (k = 1; k <= n; k++) print w[k]
           if ($0 ~ /\)/) inlist = 0; next }
  /^[[:space:]]*vmlab_guest\([a-z0-9_]+[[:space:]]/ { g = $0; sub(/^[[:space:]]*vmlab_guest\(/, "", g)
           sub(/[[:space:]].*/, "", g); print g }' \
  "$src/tests/guests/CMakeLists.txt" | grep -v -e '^attack_' -e '^pv_' | sort -u)
[ "${#guests[@]}" -ge 5 ] || fail "found only ${#guests[@]} test guests in tests/guests/CMakeLists.txt"
for g in "${guests[@]}"; do
  elf=$build/tests/guests/$g.elf
  [ -e "$elf" ] || fail "$elf is not built"
  args=""
  [ "$g" = hello ] && args="hello-arg 42 foo=bar"
  run native "$g" "$elf" "$args"
  run trap "$g" "$elf" "$args"
  same_status "$g"
  same_console "$g"
  if [ "$g" = triplefault ]; then
    for m in native trap; do
      [ "$(cat "$tmp/$g.$m.status")" = 4 ] ||
        fail "triplefault under $m: status $(cat "$tmp/$g.$m.status"), want 4"
      grep -q "triple fault" "$tmp/$g.$m.err" ||
        fail "triplefault under $m: stderr does not say \"triple fault\""
    done
  fi
done
echo "trap_matches_native: ${#guests[@]} test guests: same console and status"
echo "trap_matches_native: ok"
