#!/usr/bin/env bash
# model_sensitivity.sh — each mode is priced by its own mechanisms, on the default suite's runs.
#
#   tests/integration/model_sensitivity.sh BUILD_DIR
#
# Reads the suite's database (SUITE_DB, the suite_db fixture; else runs the suite) and prices it
# under p4-prescott and under two copies of it that differ in one number each:
#   x-exit  exit_round_trip 4340 -> 9999: the VT-x exit. Only `trap` may move (it moves on every
#           workload that exits); native, trap-classic, bt and pv must cost exactly the same.
#   x-exc   exc_delivery 889 -> 1000: the CPU's exception/interrupt delivery. Every mode moves
#           (every mode takes the timer's interrupts, natively or through a monitor).
# Compared per workload and mode on the view op_cost (modeled cycles per operation).
set -eu
. "$(dirname "$0")/lib.sh"
it_begin model_sensitivity "${1:-}"
it_need "$vmlab" "$kernel"
root=$(cd "$(dirname "$0")/../.." && pwd)
src=${SUITE_DB:-$tmp/suite.db}
[ -n "${SUITE_DB:-}" ] || "$(dirname "$0")/suite_db.sh" "$build" "$src" > /dev/null
it_need "$src"
db=$tmp/priced.db
cp "$src" "$db"

# variant NAME PARAM CYCLES: models/p4-prescott.yaml as model NAME with PARAM's cycles replaced.
variant() {
  sed -e "s/^name: p4-prescott/name: $1/" \
      -e "s/^\\(  $2: { cycles: \\)[0-9.]*/\\1$3/" "$root/models/p4-prescott.yaml" > "$tmp/$1.yaml"
  cp "$root/models/REFERENCES.md" "$tmp/REFERENCES.md"
  grep -q "^  $2: { cycles: $3," "$tmp/$1.yaml" || fail "cannot set $2 in a copy of p4-prescott"
  "$vmlab" stat --db "$db" --run 1 --model "$tmp/$1.yaml" > /dev/null 2> "$tmp/$1.err" ||
    fail "$1: $(tail -n 1 "$tmp/$1.err")"
}
"$vmlab" stat --db "$db" --run 1 --model p4-prescott > /dev/null
variant x-exit exit_round_trip 9999
variant x-exc exc_delivery 1000

# moved MODEL: "mode moved-workloads/workloads" per mode, against p4-prescott.
moved() {
  sqlite3 -separator ' ' "$db" "
    SELECT a.mode, sum(abs(a.cycles_per_op - b.cycles_per_op) > 1e-6 * b.cycles_per_op)
           || '/' || count(*)
      FROM op_cost a JOIN op_cost b ON b.run_id = a.run_id AND b.model = 'p4-prescott'
     WHERE a.model = '$1' GROUP BY a.mode ORDER BY a.mode" | tr '\n' ';'
}
exit_moves=$(moved x-exit)
exc_moves=$(moved x-exc)
for m in native trap-classic bt pv; do
  grep -q "\b$m 0/" <<<"$exit_moves" ||
    fail "a VT-x exit cost moved $m: $exit_moves (mode workloads-moved/workloads)"
done
grep -qE "\btrap [1-9][0-9]*/" <<<"$exit_moves" || fail "the VT-x exit cost did not move trap: $exit_moves"
for m in native trap trap-classic bt pv; do
  grep -qE "(^|;)$m [1-9][0-9]*/" <<<"$exc_moves" ||
    fail "the exception-delivery cost did not move $m: $exc_moves"
done
echo "model_sensitivity: exit_round_trip moves only trap ($exit_moves)"
echo "model_sensitivity: exc_delivery moves every mode ($exc_moves)"
