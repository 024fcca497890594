#!/usr/bin/env bash
# report_suite.sh — compare, stat and report end to end on the real guest kernel.
#
#   tests/integration/report_suite.sh BUILD_DIR
#
# Runs a two-workload suite in every mode with `vmlab compare` (modes this build lacks must be
# skipped with a note, not failed), then checks that `vmlab stat --json` and `vmlab report` read
# the database: one ok run per workload and available mode, charts and their data files written.
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
"$vmlab" compare --suite "$tmp/suite.yaml" --db "$tmp/t.db" -j 2 2> "$tmp/compare.err" || {
  cat "$tmp/compare.err"; echo "FAIL: compare"; exit 1; }
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
echo "1 passed, 0 failed"
