#!/usr/bin/env bash
# golden_counts.sh — the default suite's counts, run by run, against the table committed in
# tests/golden/default_counts.tsv.
#
#   tests/integration/golden_counts.sh BUILD_DIR            # compare; exit 1 with the diff
#   tests/integration/golden_counts.sh BUILD_DIR --update   # rewrite the table from this build
#
# With SUITE_DB set (ctest: the suite_db fixture) the suite's database is read from there;
# otherwise the suite is run here.
#
# The table has one line per (workload, mode, phase, what) of every run of
# models/suites/default.yaml at its small scale:
#   insn       the run_phase row: user and kernel instructions retired in that phase
#   CLASS      an event_count row: reason, qualifier, count and count2
# A change to vmlab that should leave counts alone (a refactoring, a new cost model, a renamed
# view) must leave this table alone; a change that alters what a mode does rewrites it with
# --update in the same commit, so the diff shows exactly which counts moved, and the commit
# message says why. Runs are deterministic (time is the instruction count), so any difference is
# a change in behaviour, never noise.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin golden_counts "${1:-}"
it_need "$vmlab" "$kernel"
root=$(cd "$(dirname "$0")/../.." && pwd)
golden=$root/tests/golden/default_counts.tsv

db=${SUITE_DB:-$tmp/suite.db}
[ -n "${SUITE_DB:-}" ] || "$(dirname "$0")/suite_db.sh" "$build" "$db" > /dev/null
it_need "$db"

sqlite3 -separator $'\t' "$db" "
  SELECT r.workload, r.mode, p.phase, 'insn', '', '', p.insn_user, p.insn_kernel
    FROM run r JOIN run_phase p ON p.run_id = r.id
  UNION ALL
  SELECT r.workload, r.mode, e.phase, c.name, e.reason, e.qualifier, e.count, e.count2
    FROM run r JOIN event_count e ON e.run_id = r.id JOIN event_class c ON c.id = e.class
  ORDER BY 1, 2, 3, 4, 5, 6" > "$tmp/now.tsv"
[ -s "$tmp/now.tsv" ] || fail "the suite recorded no counts"

if [ "${2:-}" = --update ]; then
  { printf 'workload\tmode\tphase\twhat\treason\tqualifier\tcount\tcount2\n'; cat "$tmp/now.tsv"; } \
    > "$golden"
  echo "golden_counts: $(wc -l < "$tmp/now.tsv") lines written to $golden"
  exit 0
fi
[ -f "$golden" ] || fail "$golden is missing (run with --update to record it)"
if ! diff <(tail -n +2 "$golden") "$tmp/now.tsv" > "$tmp/diff"; then
  echo "golden_counts: counts that moved, golden (<) vs this build (>):" >&2
  head -n 40 "$tmp/diff" >&2
  fail "$(grep -c '^[<>]' "$tmp/diff") lines differ from $golden"
fi
echo "golden_counts: $(wc -l < "$tmp/now.tsv") counts as recorded"
