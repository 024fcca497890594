#!/usr/bin/env bash
# run_limits.sh — a guest that never ends is ended by vmlab's limits, promptly, in every mode.
#
#   tests/integration/run_limits.sh BUILD_DIR
#
# tests/guests/limit_spin.elf spins with interrupts off, idles on the timer, or crawls through
# memory that holds no code (every block new to the CPU, so guest time barely moves). Under
# native, trap, trap-classic and bt, each is run with --timeout 1 and must end with status 6,
# a message naming the wall-clock limit, and an instruction count that the run could have
# retired (below 10^10), within 10 s of wall time (a generous bound for slow CI machines; before
# the limit was checked against the host's clock, the crawl ran for minutes). The spin is also
# run with --max-instructions 2000000: status 6, the instruction limit named, stopped within 1000
# instructions past it. An ending that reports no instruction count fails. (Under trap-classic
# the idle guest's interrupt handler returns with an iret to its own RPL-0 CS, which the monitor's
# frames now show it: the iret faults in ring 1 and is emulated, the virtual IF comes back, and
# the guest idles to the limit as in the other modes.)
set -eu
. "$(dirname "$0")/lib.sh"
it_begin run_limits "${1:-}"
guest=$build/tests/guests/limit_spin.elf
it_need "$vmlab" "$guest"

# limited MODE WHAT WANT ARGS...: run WHAT under MODE with ARGS; status 6 (or $STATUS) within 10 s
# and a last line on stderr that contains WANT.
limited() {
  local mode=$1 what=$2 want=$3 status=0 start end line
  shift 3
  start=$(date +%s%N)
  timeout 60 "$vmlab" run --mode "$mode" --guest "$guest" --cmdline "$what" --quiet "$@" \
    </dev/null >/dev/null 2>"$tmp/err" || status=$?
  end=$(date +%s%N)
  line=$(tail -n 1 "$tmp/err")
  expect "$what under $mode: status" "$status" "${STATUS:-6}"
  grep -q "$want" <<<"$line" || fail "$what under $mode: '$line' does not say '$want'"
  [ $(( (end - start) / 1000000 )) -lt 10000 ] ||
    fail "$what under $mode: took $(( (end - start) / 1000000 )) ms with $*"
  local n
  n=$(sed -n 's/.* \([0-9][0-9]*\) instructions.*/\1/p' <<<"$line")
  [ -n "$n" ] || [ "${STATUS:-6}" != 6 ] || fail "$what under $mode: no instruction count in '$line'"
  [ -z "$n" ] || [ "${#n}" -le 10 ] || fail "$what under $mode: $n instructions reported"
  [ -z "${MAX:-}" ] || { [ "$n" -ge "$MAX" ] && [ "$n" -le $((MAX + 1000)) ]; } ||
    fail "$what under $mode: stopped at $n instructions, limit $MAX"
}

for mode in native trap trap-classic bt; do
  for what in spin idle crawl; do
    limited "$mode" "$what" "wall-clock limit of 1.0 s" --timeout 1
  done
  MAX=2000000 limited "$mode" spin "instruction limit reached" --max-instructions 2000000 \
    --timeout 30
done
echo "run_limits: spin, idle and crawl end at --timeout 1, spin at --max-instructions, in 4 modes"
