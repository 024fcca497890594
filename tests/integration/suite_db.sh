#!/usr/bin/env bash
# suite_db.sh — the default suite in every mode, once, into one database the suite-wide checks
# read (a ctest fixture: golden_counts.sh and same_device_work.sh require it).
#
#   tests/integration/suite_db.sh BUILD_DIR DB
#
# Runs models/suites/default.yaml at its small scale with `vmlab compare -j 2`; fails unless every
# run ended ok. The guest sees its own path on its command line (as under QEMU), and parsing it
# costs instructions, so the kernel is run from a copy at a path of fixed length ($tmp, from
# mktemp: /tmp/tmp.XXXXXXXXXX): the counts do not depend on where the build directory is.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin suite_db "${1:-}"
it_need "$vmlab" "$kernel"
db=${2:?usage: suite_db.sh BUILD_DIR DB}
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -f "$db" "$db-wal" "$db-shm"
cp "$kernel" "$tmp/kernel.elf"
sed "s|^guest:.*|guest: $tmp/kernel.elf|" "$root/models/suites/default.yaml" > "$tmp/default.yaml"
grep -q "^guest: $tmp/kernel.elf" "$tmp/default.yaml" || fail "cannot point the suite at $tmp"
"$vmlab" compare --suite "$tmp/default.yaml" --db "$db" -j 2 \
  2> "$tmp/compare.err" || { tail -n 5 "$tmp/compare.err" >&2; fail "vmlab compare failed"; }
expect "runs not ok" "$(sqlite3 "$db" "SELECT count(*) FROM run WHERE status <> 'ok'")" 0
echo "suite_db: $(sqlite3 "$db" "SELECT count(*) FROM run") runs ok in $db"
