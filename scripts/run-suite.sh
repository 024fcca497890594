#!/usr/bin/env bash
# run-suite.sh — the main job, from a fresh Debian 12 machine to a report:
#   1. install what is missing (scripts/install-deps.sh),
#   2. build (scripts/build.sh, which shows the build's progress),
#   3. run the default workload suite in every mode into OUT/suite.db (vmlab compare),
#   4. print the perf-kvm-stat-like summary (vmlab stat) and write OUT/report/index.html with the
#      charts (vmlab report).
# Each run writes into a directory of its own, out/<date>-<time>/ unless --out DIR names one, and
# nothing earlier is deleted: a second run never overwrites the first one's results (issue 20).
# out/latest points at the newest run's directory. --out DIR must not hold a suite.db already.
# Other options are passed to `vmlab compare` (e.g. --scale paper, --modes native,pv, -j 4).
# Exit status: non-zero if any step or any run failed (the failed runs are listed); 2 for bad
# usage.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/run-suite.sh [--out DIR] [vmlab compare options...]
  Installs what is missing, builds vmlab, runs the default suite (models/suites/default.yaml)
  in every mode and writes DIR/suite.db, DIR/suite.db.logs/ and DIR/report/index.html.
  --out DIR   where this run's results go (default: out/<date>-<time>/, a new directory each
              time; DIR must not already hold a suite.db). out/latest names the newest run.
  --help      print this and exit (nothing is installed, built, run or deleted)
  Any other option goes to `vmlab compare`: --scale paper, --modes native,pv, -j 4, ...
EOF
}

out=
args=()
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --out) [ $# -ge 2 ] || { echo "run-suite: --out needs a directory" >&2; exit 2; }
           out=$2; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done

cd "$(dirname "$0")/.."
if [ -z "$out" ]; then
  out=out/$(date +%Y%m%d-%H%M%S)
  while [ -e "$out" ]; do out=$out-1; done        # two runs in one second
fi
if [ -e "$out/suite.db" ]; then
  echo "run-suite: $out/suite.db already exists: choose another --out (earlier results are kept)" >&2
  exit 2
fi
bash scripts/install-deps.sh
bash scripts/build.sh
mkdir -p "$out"
case $out in
  out/*) ln -sfn "${out#out/}" out/latest ;;
esac
status=0
build/vmlab compare --suite models/suites/default.yaml --db "$out/suite.db" ${args[@]+"${args[@]}"} \
  || status=$?
build/vmlab stat --db "$out/suite.db" --phase measured --model sandybridge || status=$?
build/vmlab report --db "$out/suite.db" --model sandybridge --out "$out/report" --png || status=$?
echo "run-suite: database $out/suite.db, report $out/report/index.html"
exit "$status"
