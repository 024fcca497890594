#!/usr/bin/env bash
# report_suite.sh — compare, stat and report end to end on the real guest kernel.
#
#   tests/integration/report_suite.sh BUILD_DIR
#
# Runs a two-workload suite in every mode with `vmlab compare` (modes this build lacks must be
# skipped with a note, not failed), then checks that `vmlab stat --json` and `vmlab report` read
# the database: one ok run per workload and available mode, charts and their data files written;
# and that the one aggregate across workloads (view mode_aggregate) is the same in the summary
# compare prints, the table stat ends with and the report's summary.dat, all under the default
# model.
set -euo pipefail
build=$(cd "${1:?usage: report_suite.sh BUILD_DIR}" && pwd)
vmlab="$build/vmlab"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/suite.yaml" <<SUITE
name: integration
guest: kernel.elf
workloads:
  - workload: syscall
    n: 200
  - workload: pgfault
    n: 100
SUITE

modes=$("$vmlab" run --list-modes | wc -l)
"$vmlab" compare --suite "$tmp/suite.yaml" --db "$tmp/t.db" -j 2 > "$tmp/compare.out" \
  2> "$tmp/compare.err" || { cat "$tmp/compare.err"; echo "FAIL: compare"; exit 1; }
grep -q "all $((2 * modes)) runs ok" "$tmp/compare.err" || { cat "$tmp/compare.err"; echo "FAIL: runs"; exit 1; }
if [ "$modes" -lt 5 ]; then
  grep -q "is not in this vmlab yet" "$tmp/compare.err" || { echo "FAIL: no skip note"; exit 1; }
fi

"$vmlab" stat --db "$tmp/t.db" --workload syscall --json > "$tmp/stat.json"
grep -q '"mode": "native"' "$tmp/stat.json" || { echo "FAIL: stat json"; exit 1; }
ok=$(sqlite3 "$tmp/t.db" "SELECT count(*) FROM run WHERE status = 'ok' AND n IS NOT NULL")
[ "$ok" -eq $((2 * modes)) ] || { echo "FAIL: $ok ok runs"; exit 1; }

"$vmlab" report --db "$tmp/t.db" --out "$tmp/report" > /dev/null
for chart in overhead nanobench; do
  [ -s "$tmp/report/$chart.svg" ] || { echo "FAIL: $chart.svg"; exit 1; }
  grep -q '"syscall"' "$tmp/report/$chart.dat" || { echo "FAIL: $chart.dat"; exit 1; }
done
grep -q 'src="overhead.svg"' "$tmp/report/index.html" || { echo "FAIL: index.html"; exit 1; }
# What each mode's numbers include: a VT-x exit only under trap, monitor traps under trap-classic
# and bt, hypervisor traps and hypercalls under pv (one row per mode and class).
sed -n "/What each mode's numbers include/,/<\/table>/p" "$tmp/report/index.html" > "$tmp/modes.html"
for want in "exit 1" "montrap 2" "hvtrap 1" "hypercall 1" "ioemul 3" "io 2"; do
  set -- $want
  got=$(grep -c "<td>$1</td>" "$tmp/modes.html" || true)
  [ "$got" = "$2" ] || { echo "FAIL: report: class $1 in $got modes' rows, want $2"; exit 1; }
done

# The aggregate: title and rows of compare's summary and of stat's table agree, and every row's
# ratio and workload count are those of the report's summary.dat.
agg_title() { grep '^Per-mode aggregate, model .*: geomean of per-workload ratios to native (2 workloads)$' "$1"; }
agg_rows() { awk '/^Per-mode aggregate/ { on = 1 } on && /^ +[a-z-]+ +[0-9]+ +([0-9.]+x|-)$/' "$1"; }
"$vmlab" stat --db "$tmp/t.db" > "$tmp/stat.txt"
[ -n "$(agg_title "$tmp/compare.out")" ] || { cat "$tmp/compare.out"; echo "FAIL: compare summary"; exit 1; }
[ "$(agg_title "$tmp/compare.out")" = "$(agg_title "$tmp/stat.txt")" ] || { echo "FAIL: titles"; exit 1; }
[ "$(agg_rows "$tmp/compare.out" | wc -l)" -eq "$modes" ] || { echo "FAIL: summary rows"; exit 1; }
diff <(agg_rows "$tmp/compare.out") <(agg_rows "$tmp/stat.txt") || { echo "FAIL: stat vs compare"; exit 1; }
agg_rows "$tmp/stat.txt" | while read -r mode workloads ratio; do
  report=$(awk -v m="\"$mode\"" '$1 == m { printf "%.2fx %d", $2, $3 }' "$tmp/report/summary.dat")
  [ "$report" = "$ratio $workloads" ] || { echo "FAIL: $mode: report $report, stat $ratio $workloads"; exit 1; }
done
echo "1 passed, 0 failed"
