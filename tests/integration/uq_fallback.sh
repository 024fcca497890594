#!/usr/bin/env bash
# uq_fallback.sh — the Unicorn workarounds without their direct view: VMLAB_UQ_NO_DIRECT=1 makes
# every uc_quirks call save, patch and restore a CPU context (emu/uc_quirks.h), the path a Unicorn
# build without a provable direct view takes and that no other test reaches.
#
#   tests/integration/uq_fallback.sh BUILD_DIR
#
# With the variable set: the uc_quirks unit tests (build/tests/test_uc_quirks) pass, their
# calibration test asserting the view is off; then the default suite runs in every mode
# (suite_db.sh, whose `vmlab compare` passes the variable to every run) and golden_counts.sh
# finds every count of every run equal to tests/golden/default_counts.tsv, which the direct view
# produces. Timings are not compared (bench/ measures the difference).
set -eu
. "$(dirname "$0")/lib.sh"
it_begin uq_fallback "${1:-}"
unit=$build/tests/test_uc_quirks
it_need "$vmlab" "$kernel" "$unit"
export VMLAB_UQ_NO_DIRECT=1
"$unit" --jobs 1 > "$tmp/unit.log" 2>&1 ||
  { tail -n 20 "$tmp/unit.log" >&2; fail "test_uc_quirks failed"; }
"$(dirname "$0")/suite_db.sh" "$build" "$tmp/suite.db" > /dev/null
SUITE_DB=$tmp/suite.db "$(dirname "$0")/golden_counts.sh" "$build" > /dev/null
echo "uq_fallback: unit tests and the default suite's counts unchanged without the direct view"
