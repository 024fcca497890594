#!/usr/bin/env bash
# readonly_db.sh — a finished database is readable by a user who can write neither it nor its
# directory (issue 20, item 3): `vmlab stat`, `vmlab report` and sqlite3 read it.
#
#   tests/integration/readonly_db.sh BUILD_DIR
#
# `vmlab compare -j 2` writes a two-workload suite (so several writers share the database); its
# last writer must leave it in journal_mode=DELETE with no -wal or -shm beside it. Two copies go
# into a directory of mode 555, files of mode 444: that database, and one switched back to WAL
# mode (as an older vmlab, or a killed writer with an empty log, leaves it; read as immutable).
# Each is then read as another user: when this script runs as root (as CI does) that is nobody
# (uid/gid 65534, through setpriv, else runuser; the script fails naming them when neither
# exists, it never skips), else the calling user, who owns nothing there either once the modes
# are set. The reads must succeed and leave the directory as it was (no -journal, -wal, -shm).
set -eu
. "$(dirname "$0")/lib.sh"
it_begin readonly_db "${1:-}"
it_need "$vmlab" "$kernel"
command -v sqlite3 > /dev/null || fail "sqlite3 (the SQLite shell) is not installed"

as_reader=()
if [ "$(id -u)" = 0 ]; then
  if command -v setpriv > /dev/null; then
    as_reader=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  elif command -v runuser > /dev/null; then
    as_reader=(runuser -u "$(id -nu 65534)" --)
  else
    fail "running as root and neither setpriv nor runuser (util-linux) is installed:" \
         "cannot read the database as a user without write access"
  fi
fi
chmod 755 "$tmp"
# The reader runs a copy of vmlab with a copy of the cost models: the clone may lie where that
# user cannot go (under /root, mode 700, as on a fresh CI machine).
cp "$vmlab" "$tmp/vmlab-reader"
cp -r "$(cd "$(dirname "$0")/../.." && pwd)/models" "$tmp/models"
chmod -R a+rX "$tmp/models" "$tmp/vmlab-reader"
reader() {
  local cmd=$1
  shift
  [ "$cmd" != "$vmlab" ] || cmd=$tmp/vmlab-reader
  "${as_reader[@]}" env VMLAB_MODELS="$tmp/models" "$cmd" "$@"
}
# The reader must not be able to write what it reads (else this tests nothing).
mkdir "$tmp/probe" && chmod 555 "$tmp/probe"
! reader touch "$tmp/probe/x" 2> /dev/null || fail "the reader can write a directory of mode 555"

cat > "$tmp/suite.yaml" <<SUITE
name: readonly
guest: kernel.elf
modes: native,trap
workloads:
  - workload: syscall
    n: 50
  - workload: pgfault
    n: 20
SUITE
mkdir "$tmp/w"
"$vmlab" compare --suite "$tmp/suite.yaml" --db "$tmp/w/c.db" --logs "$tmp/logs" -j 2 \
  > "$tmp/compare.out" 2> "$tmp/compare.err" || fail "compare: $(tail -n 3 "$tmp/compare.err")"
expect "journal mode compare leaves" "$(sqlite3 "$tmp/w/c.db" 'PRAGMA journal_mode')" delete
for side in -wal -shm -journal; do
  [ ! -e "$tmp/w/c.db$side" ] || fail "compare left c.db$side"
done

mkdir "$tmp/ro" "$tmp/out"
cp "$tmp/w/c.db" "$tmp/ro/c.db"
cp "$tmp/w/c.db" "$tmp/ro/wal.db"
expect "a copy switched to WAL" "$(sqlite3 "$tmp/ro/wal.db" 'PRAGMA journal_mode = WAL')" wal
chmod 444 "$tmp/ro/c.db" "$tmp/ro/wal.db"
chmod 555 "$tmp/ro"
[ "$(id -u)" != 0 ] || chown 65534:65534 "$tmp/out"
# The directory's own entries and its own mode, size and time (not `..`: its size moves on tmpfs
# as the test writes elsewhere in $tmp).
ro_state() { { ls -lA --time-style=full-iso "$1"; stat -c '%a %s %Y' "$1"; } | md5sum; }
before=$(ro_state "$tmp/ro")
runs=$(sqlite3 "$tmp/w/c.db" "SELECT count(*) FROM run WHERE status = 'ok'")
expect "ok runs" "$runs" 4

for db in c wal; do
  f=$tmp/ro/$db.db
  reader "$vmlab" stat --db "$f" > "$tmp/$db.stat" 2> "$tmp/$db.stat.err" ||
    fail "$db.db: vmlab stat as a reader: $(cat "$tmp/$db.stat.err")"
  grep -q "Analyze events for mode trap" "$tmp/$db.stat" || fail "$db.db: stat printed no trap table"
  reader "$vmlab" stat --db "$f" --model sandybridge --csv > "$tmp/$db.csv" 2> "$tmp/$db.csv.err" ||
    fail "$db.db: vmlab stat --model sandybridge --csv as a reader: $(cat "$tmp/$db.csv.err")"
  expect "$db.db: runs in stat --csv" "$(tail -n +2 "$tmp/$db.csv" | cut -d, -f1 | sort -u | wc -l)" 4
  reader "$vmlab" report --db "$f" --out "$tmp/out/$db" > /dev/null 2> "$tmp/$db.report.err" ||
    fail "$db.db: vmlab report as a reader: $(cat "$tmp/$db.report.err")"
  [ -s "$tmp/out/$db/index.html" ] || fail "$db.db: report wrote no index.html"
done
# sqlite3 reads the finished database as it is; a WAL-mode one only as immutable (SQLite cannot
# create its -shm), which is why writers leave DELETE mode.
got=$(reader sqlite3 "$tmp/ro/c.db" "SELECT count(*) FROM run WHERE status = 'ok'" \
      2> "$tmp/sql.err") || fail "c.db: sqlite3 as a reader: $(cat "$tmp/sql.err")"
expect "c.db: sqlite3 as a reader" "$got" "$runs"
got=$(reader sqlite3 "file:$tmp/ro/wal.db?immutable=1" "SELECT count(*) FROM run WHERE status = 'ok'" \
      2> "$tmp/sql.err") || fail "wal.db: sqlite3 immutable as a reader: $(cat "$tmp/sql.err")"
expect "wal.db: sqlite3 (immutable) as a reader" "$got" "$runs"
expect "the reads left the directory as it was" "$(ro_state "$tmp/ro")" "$before"
chmod 755 "$tmp/ro"
echo "readonly_db: stat, report and sqlite3 read a database as uid $(reader id -u) without write access"
