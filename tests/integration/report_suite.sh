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
for want in "exit 2" "montrap 2" "hvtrap 1" "hypercall 1" "ioemul 4" "io 2"; do
  set -- $want
  got=$(grep -c "<td>$1</td>" "$tmp/modes.html" || true)
  [ "$got" = "$2" ] || { echo "FAIL: report: class $1 in $got modes' rows, want $2"; exit 1; }
done

# The aggregate: title and rows of compare's summary and of stat's table agree, and every row's
# ratio and workload count are those of the report's summary.dat.
agg_title() { grep '^Per-mode aggregate, model .*: geomean of per-workload ratios to native (2 workloads)$' "$1"; }
agg_rows() { awk '/^Per-mode aggregate/ { on = 1 } on && /^ +[a-z-]+ +[0-9]+ +([0-9.]+x|-)(  \(no EPT on this CPU\))?$/' "$1" | sed "s/  (no EPT on this CPU)//"; }
"$vmlab" stat --db "$tmp/t.db" > "$tmp/stat.txt"
[ -n "$(agg_title "$tmp/compare.out")" ] || { cat "$tmp/compare.out"; echo "FAIL: compare summary"; exit 1; }
[ "$(agg_title "$tmp/compare.out")" = "$(agg_title "$tmp/stat.txt")" ] || { echo "FAIL: titles"; exit 1; }
[ "$(agg_rows "$tmp/compare.out" | wc -l)" -eq "$modes" ] || { echo "FAIL: summary rows"; exit 1; }
diff <(agg_rows "$tmp/compare.out") <(agg_rows "$tmp/stat.txt") || { echo "FAIL: stat vs compare"; exit 1; }
agg_rows "$tmp/stat.txt" | while read -r mode workloads ratio; do
  # summary.dat keeps 6 significant digits: 10.2749637 is 10.275 there, which rounds to 10.28
  # where stat's 10.27 rounded the full value, so the ratio is compared to within half a hundredth.
  report=$(awk -v m="\"$mode\"" -v r="${ratio%x}" -v w="$workloads" \
    '$1 == m { d = $2 - r; if (d < 0) d = -d; print (d <= 0.005001 && $3 == w) ? "ok" : $2 " " $3 }' \
    "$tmp/report/summary.dat")
  [ "$report" = ok ] || { echo "FAIL: $mode: report ${report:-no row}, stat $ratio $workloads"; exit 1; }
done

# The report reads like an evaluation section (issue 20), on a suite with holes, the workload
# with thousands of monitor entries per operation: every chart is a figure whose caption explains
# it in two or more sentences; the ratio charts draw native = 1; tables print no exponent
# notation and have at most 8 columns; the monitor chart is one panel per mode of at most five
# reasons plus other, holes in a chart of its own; the hardware chart names no single model and
# its axis has every model's year; the aggregate is stated in a sentence.
cat > "$tmp/suite2.yaml" <<SUITE
name: integration-report
guest: kernel.elf
workloads:
  - workload: syscall
    n: 200
  - workload: holes
    n: 5
SUITE
"$vmlab" compare --suite "$tmp/suite2.yaml" --db "$tmp/r.db" -j 2 > /dev/null 2> "$tmp/compare2.err" \
  || { cat "$tmp/compare2.err"; echo "FAIL: compare with holes"; exit 1; }
"$vmlab" report --db "$tmp/r.db" --out "$tmp/rep" > /dev/null
html="$tmp/rep/index.html"
imgs=$(grep -c '<img src="[^"]*\.svg"' "$html")
[ "$imgs" -ge 7 ] || { echo "FAIL: $imgs charts, want 7 or more"; exit 1; }
# Each figure: its chart, then a caption of two sentences or more; no chart outside a figure.
awk '/<figure/ { inf = 1; img = ""; cap = "" }
     inf && /<img src=/ { match($0, /src="[^"]*"/); img = substr($0, RSTART + 5, RLENGTH - 6) }
     inf && /<figcaption/ { cap = cap $0 }
     /<\/figure>/ { n = gsub(/\. /, "&", cap) + (cap ~ /\.<\/figcaption>/)
                    if (img == "" || length(cap) < 200 || n < 3) { print "FAIL: figure " img ": caption " n " sentences: " cap; bad = 1 }
                    figs++; inf = 0 }
     !inf && /<img / { print "FAIL: chart outside a figure: " $0; bad = 1 }
     END { if (figs == 0) { print "FAIL: no figures"; bad = 1 } exit bad }' "$html" || exit 1
[ "$(grep -c '<figure' "$html")" -eq "$imgs" ] || { echo "FAIL: figures and charts differ"; exit 1; }
for chart in overhead generations; do
  grep -q "native = 1" "$tmp/rep/$chart.svg" || { echo "FAIL: no native = 1 line in $chart.svg"; exit 1; }
  grep -q "^set arrow .* first 1 to graph 1, first 1 nohead" "$tmp/rep/$chart.gp" || { echo "FAIL: $chart.gp line"; exit 1; }
done
grep -q "native = 1" "$tmp/rep/nanobench.svg" && { echo "FAIL: native = 1 on a chart of cycles"; exit 1; }
# overhead.dat's column 2 is native (all 1): left to the line, the series start at column 3.
head -1 "$tmp/rep/overhead.dat" | grep -q '^"workload" "native" ' || { echo "FAIL: overhead.dat columns"; exit 1; }
grep -q "using 3:xtic(1)" "$tmp/rep/overhead.gp" && ! grep -q "using 2[: ]" "$tmp/rep/overhead.gp" \
  || { echo "FAIL: overhead draws native's bars"; exit 1; }
if grep -Eq '<td>-?[0-9.]+e[-+]?[0-9]+</td>|<td>-?[0-9]*\.[0-9]{5,}</td>' "$html"; then
  grep -Eo '<td>-?[0-9.]+e[-+]?[0-9]+</td>|<td>-?[0-9]*\.[0-9]{5,}</td>' "$html" | head -3
  echo "FAIL: raw numbers in the report's tables"; exit 1
fi
grep -q '<td>[0-9]\{1,3\}\(,[0-9]\{3\}\)\+</td>' "$html" || { echo "FAIL: no thousands separators"; exit 1; }
widest=$(awk '/<tr>/ { n = gsub(/<t[hd]>/, "&"); if (n > m) m = n } END { print m }' "$html")
[ "$widest" -le 8 ] || { echo "FAIL: a table with $widest columns"; exit 1; }
grep -q '^set multiplot layout' "$tmp/rep/monitor.gp" || { echo "FAIL: monitor is not one panel per mode"; exit 1; }
for dat in "$tmp"/rep/monitor_*.dat; do
  cols=$(head -1 "$dat" | grep -o '" "' | wc -l)
  [ "$cols" -le 7 ] || { echo "FAIL: $dat: $cols series"; exit 1; }
done
grep -q '^"holes"' "$tmp"/rep/monitor_trap.dat && { echo "FAIL: holes in the trap panel"; exit 1; }
grep -q '^"trap" ' "$tmp/rep/monitor_outliers.dat" || { echo "FAIL: holes has no chart of its own"; exit 1; }
for name in $(awk '/^name:/ { print $2 }' "$(dirname "$0")"/../../models/*.yaml); do
  grep -q "^set title .*$name" "$tmp/rep/generations.gp" && { echo "FAIL: the hardware chart's title names $name"; exit 1; }
done
for y in $(awk '/^year:/ { print $2 }' "$(dirname "$0")"/../../models/*.yaml); do
  grep -q "($y)" "$tmp/rep/generations.gp" || { echo "FAIL: no year $y on the hardware chart's axis"; exit 1; }
done
grep -q '<p class="stated"><b>Under model p4-prescott (2005), the geomean of per-workload ratios to native is [0-9.]* for trap' "$html" \
  || { echo "FAIL: the aggregate is not stated"; exit 1; }
echo "1 passed, 0 failed"
