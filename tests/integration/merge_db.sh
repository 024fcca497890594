#!/usr/bin/env bash
# merge_db.sh — `vmlab merge OUT.db IN.db...` (issue 20): databases recorded apart become one.
#
#   tests/integration/merge_db.sh BUILD_DIR
#
# Records two databases the way two machines of a sweep would: a.db (syscall natively with
# --trace full and small buckets, so event and bucket have rows; syscall under bt, so translation
# has rows) and b.db (forkwait under pv: validation and hypercall rows). Merges them into a new
# m.db, then b.db again into the now existing m.db, and checks:
#   - every table that refers to a run (found from the schema: a run_id column; every one of them
#     holds rows here, so none is checked vacuously) has, run by run, exactly the rows of the
#     input's run under the run's new id, and the run rows themselves are the inputs' (id aside);
#   - ids are renumbered after OUT's largest, in the input's order, as the one line per input says;
#   - `vmlab stat` on the merged database shows the runs of both inputs;
#   - an input of another schema version is refused with one line naming its version, before
#     anything is written (OUT is not created), as is an input that is OUT itself.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin merge_db "${1:-}"
it_need "$vmlab" "$kernel"
command -v sqlite3 > /dev/null || fail "sqlite3 (the SQLite shell) is not installed"
command -v python3 > /dev/null || fail "python3 is not installed"

it_run_pass "$tmp/a.db" native "workload=syscall n=20" --trace full --bucket 1000
it_run_pass "$tmp/a.db" bt "workload=syscall n=20"
it_run_pass "$tmp/b.db" pv "workload=forkwait n=2"

"$vmlab" merge "$tmp/m.db" "$tmp/a.db" "$tmp/b.db" > "$tmp/merge1.out" 2> "$tmp/merge1.err" ||
  fail "merge: $(cat "$tmp/merge1.err")"
expect "merge output" "$(cat "$tmp/merge1.out")" \
  "merge: $tmp/a.db: 2 runs, ids 1-2
merge: $tmp/b.db: 1 runs, ids 3-3"
"$vmlab" merge "$tmp/m.db" "$tmp/b.db" > "$tmp/merge2.out" 2> "$tmp/merge2.err" ||
  fail "merge into an existing database: $(cat "$tmp/merge2.err")"
expect "merge into m.db" "$(cat "$tmp/merge2.out")" "merge: $tmp/b.db: 1 runs, ids 4-4"
expect "m.db's journal mode" "$(sqlite3 "$tmp/m.db" 'PRAGMA journal_mode')" delete

# check INPUT OFFSET: INPUT's runs are OUT's runs OFFSET+id, row for row in every table.
python3 - "$tmp/m.db" "$tmp/a.db" 0 "$tmp/b.db" 2 "$tmp/b.db" 3 <<'PY' || fail "rows do not follow their runs"
import sqlite3, sys
from collections import Counter
out = sqlite3.connect(sys.argv[1])
args = sys.argv[2:]
seen = set()
for path, off in zip(args[0::2], map(int, args[1::2])):
    src = sqlite3.connect(path)
    tables = [r[0] for r in src.execute(
        "SELECT m.name FROM sqlite_schema m WHERE m.type = 'table' AND EXISTS"
        " (SELECT 1 FROM pragma_table_info(m.name) p WHERE p.name = 'run_id')")]
    ids = [r[0] for r in src.execute("SELECT id FROM run ORDER BY id")]
    cols = [r[1] for r in src.execute("PRAGMA table_info(run)") if r[1] != "id"]
    for i in ids:
        q = "SELECT %s FROM run WHERE id = ?" % ", ".join(cols)
        a, b = src.execute(q, (i,)).fetchall(), out.execute(q, (i + off,)).fetchall()
        if a != b or len(a) != 1:
            sys.exit("%s: run %d is not run %d of the merged database" % (path, i, i + off))
    for t in tables:
        c = [r[1] for r in src.execute("PRAGMA table_info(%s)" % t)]
        k = c.index("run_id")
        for i in ids:
            q = "SELECT * FROM %s WHERE run_id = ?" % t
            a = Counter(tuple(v if j != k else v + off for j, v in enumerate(r))
                        for r in src.execute(q, (i,)))
            b = Counter(out.execute(q, (i + off,)))
            if a != b:
                sys.exit("%s: table %s: run %d has %d rows, run %d of the merged database %d"
                         " (or other ones)" % (path, t, i, sum(a.values()), i + off,
                                               sum(b.values())))
            if a:
                seen.add(t)
    print("checked", path, "+", off, ":", ", ".join(tables))
want = {"run_phase", "event_count", "event", "bucket", "validation", "hypercall", "translation"}
if not want <= seen:
    sys.exit("no rows to check in: " + ", ".join(sorted(want - seen)))
n = out.execute("SELECT count(*) FROM run").fetchone()[0]
if n != 4:
    sys.exit("merged database has %d runs, want 4" % n)
PY

"$vmlab" stat --db "$tmp/m.db" > "$tmp/stat.out" 2> "$tmp/stat.err" || fail "stat: $(cat "$tmp/stat.err")"
for want in "run 1    syscall      n=20       native" "run 2    syscall      n=20       bt" \
            "run 3    forkwait     n=2        pv" "run 4    forkwait     n=2        pv" \
            "Analyze events for mode pv (runs 3,4)"; do
  grep -qF "$want" "$tmp/stat.out" || fail "stat on the merged database lacks '$want'"
done

# Another schema version: refused, one line, nothing written.
cp "$tmp/b.db" "$tmp/old.db"
sqlite3 "$tmp/old.db" "PRAGMA user_version = 4"
status=0
"$vmlab" merge "$tmp/new.db" "$tmp/a.db" "$tmp/old.db" > /dev/null 2> "$tmp/old.err" || status=$?
expect "merge of a version-4 database: status" "$status" 2
expect "merge of a version-4 database: error lines" "$(wc -l < "$tmp/old.err")" 1
grep -q "old.db: schema version 4, this vmlab's is " "$tmp/old.err" ||
  fail "the error does not name the version: $(cat "$tmp/old.err")"
[ ! -e "$tmp/new.db" ] || fail "merge wrote new.db although it refused an input"
status=0
"$vmlab" merge "$tmp/m.db" "$tmp/m.db" > /dev/null 2> "$tmp/self.err" || status=$?
expect "merge of OUT into itself: status" "$status" 2
expect "runs after refusals" "$(sqlite3 "$tmp/m.db" 'SELECT count(*) FROM run')" 4
echo "merge_db: 2 databases merged, every run-referencing table follows the new ids"
