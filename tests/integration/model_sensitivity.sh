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
# Compared run by run on the measured phase's modeled cycles, from `vmlab stat --csv`.
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

# price MODEL NAME: the measured phase of every run priced under MODEL (a name or file), every
# event included, long format in $tmp/NAME.csv (`vmlab stat` prices read-only: the models live in
# its connection, not in the database, so the comparison is made on its output).
price() {
  "$vmlab" stat --db "$db" --phase measured --all-events --csv --model "$1" > "$tmp/$2.csv" \
    2> "$tmp/$2.err" || fail "$2: $(tail -n 1 "$tmp/$2.err")"
}
# variant NAME PARAM CYCLES: models/p4-prescott.yaml as model NAME with PARAM's cycles replaced.
variant() {
  sed -e "s/^name: p4-prescott/name: $1/" \
      -e "s/^\\(  $2: { cycles: \\)[0-9.]*/\\1$3/" "$root/models/p4-prescott.yaml" > "$tmp/$1.yaml"
  cp "$root/models/REFERENCES.md" "$tmp/REFERENCES.md"
  grep -q "^  $2: { cycles: $3," "$tmp/$1.yaml" || fail "cannot set $2 in a copy of p4-prescott"
  price "$tmp/$1.yaml" "$1"
}
price p4-prescott p4-prescott
variant x-exit exit_round_trip 9999
variant x-exc exc_delivery 1000

# moved MODEL: "mode moved-runs/runs" per mode, against p4-prescott: a run moved when its
# measured phase's modeled cycles (the sum of its rows' last column, cycles) differ.
moved() {
  awk -F, 'FNR == 1 { next }
           NR == FNR { base[$1] += $NF; mode[$1] = $4; next }
           { got[$1] += $NF }
           END { for (r in base) { t[mode[r]]++; d = got[r] - base[r]; if (d < 0) d = -d
                                   if (d > 1e-6 * base[r]) m[mode[r]]++ }
                 for (k in t) printf "%s %d/%d\n", k, m[k], t[k] }' \
      "$tmp/p4-prescott.csv" "$tmp/$1.csv" | sort | tr '\n' ';'
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
