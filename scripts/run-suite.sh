#!/usr/bin/env bash
# run-suite.sh — the main job, from a fresh Debian 12 machine to a report:
#   1. install what is missing (scripts/install-deps.sh),
#   2. build (scripts/build.sh),
#   3. run the default workload suite in every mode into out/suite.db (vmlab compare),
#   4. print the perf-kvm-stat-like summary (vmlab stat) and write out/report/index.html with the
#      charts (vmlab report).
# Options are passed to `vmlab compare` (e.g. --scale paper, --modes native,pv, -j 4).
# Exit status: non-zero if any step or any run failed (the failed runs are listed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
mkdir -p out
rm -rf out/suite.db out/suite.db-wal out/suite.db-shm out/suite.db.logs out/report
status=0
build/vmlab compare --suite models/suites/default.yaml --db out/suite.db "$@" || status=$?
build/vmlab stat --db out/suite.db --phase measured --model sandybridge || status=$?
build/vmlab report --db out/suite.db --model sandybridge --out out/report --png || status=$?
echo "run-suite: database out/suite.db, report out/report/index.html"
exit "$status"
