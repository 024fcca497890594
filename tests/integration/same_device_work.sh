#!/usr/bin/env bash
# same_device_work.sh — every mode does the guest's device work, and only that, whoever does it.
#
#   tests/integration/same_device_work.sh BUILD_DIR
#
# Reads the default suite's database (SUITE_DB, the suite_db fixture; else runs the suite). For
# every workload, the port accesses of the measured phase (phase 1) — port, direction and width,
# whether a device was touched (io) or a monitor's device model answered (ioemul) — must be the
# same in every mode as natively, count for count. Left out: the PIC (0x20-0x21, 0xa0-0xa1) and
# the PIT (0x40-0x43), which serve the timer, whose ticks follow guest time (and guest time per
# operation is what the modes differ in). Then per mode: a port access is `io` natively and under
# pv (the hypervisor touches the device for its domain), `ioemul` under trap, trap-ept, trap-classic and bt.
# And the check must be able to fail: the `in` workload reads port 0x80 once per operation in
# every mode.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin same_device_work "${1:-}"
it_need "$vmlab" "$kernel"
db=${SUITE_DB:-$tmp/suite.db}
[ -n "${SUITE_DB:-}" ] || "$(dirname "$0")/suite_db.sh" "$build" "$db" > /dev/null
it_need "$db"

timer_ports="32, 33, 160, 161, 64, 65, 66, 67"
diffs=$(sqlite3 -separator ' ' "$db" "
  WITH d AS (SELECT r.workload, r.mode, e.reason AS port, e.qualifier AS q, sum(e.count) AS n
               FROM event_count e JOIN run r ON r.id = e.run_id
               JOIN event_class c ON c.id = e.class
              WHERE c.name IN ('io', 'ioemul') AND e.phase = 1 AND r.status = 'ok'
                AND e.reason NOT IN ($timer_ports)
              GROUP BY 1, 2, 3, 4),
       k AS (SELECT DISTINCT workload, port, q FROM d),
       m AS (SELECT DISTINCT workload, mode FROM run WHERE status = 'ok')
  SELECT k.workload, m.mode, printf('0x%x', k.port), k.q,
         coalesce(a.n, 0) AS got, coalesce(b.n, 0) AS native
    FROM k JOIN m ON m.workload = k.workload
    LEFT JOIN d a ON a.workload = k.workload AND a.mode = m.mode AND a.port = k.port
                 AND a.q = k.q
    LEFT JOIN d b ON b.workload = k.workload AND b.mode = 'native' AND b.port = k.port
                 AND b.q = k.q
   WHERE coalesce(a.n, 0) <> coalesce(b.n, 0)")
[ -z "$diffs" ] || fail "phase-1 port accesses differ from native (workload mode port op got" \
                        "native): $(head -n 5 <<<"$diffs" | tr '\n' ';')"

who=$(sqlite3 -separator ' ' "$db" "
  SELECT r.mode, group_concat(DISTINCT c.name) FROM event_count e JOIN run r ON r.id = e.run_id
    JOIN event_class c ON c.id = e.class WHERE c.name IN ('io', 'ioemul')
   GROUP BY r.mode ORDER BY r.mode")
expect "who performs port accesses, per mode" "$(tr '\n' ';' <<<"$who")" \
       "bt ioemul;native io;pv io;trap ioemul;trap-classic ioemul;trap-ept ioemul;"

n=$(sqlite3 "$db" "SELECT n FROM run WHERE workload = 'in' AND mode = 'native'")
reads=$(sqlite3 "$db" "SELECT group_concat(r.mode || '=' || e.count, ' ') FROM event_count e
                       JOIN run r ON r.id = e.run_id JOIN event_class c ON c.id = e.class
                       WHERE r.workload = 'in' AND e.phase = 1 AND e.reason = 128
                         AND e.qualifier = 'in1' ORDER BY r.mode")
for mode in native trap trap-ept trap-classic bt pv; do
  grep -q "\b$mode=$n\b" <<<"$reads" || fail "in: port 0x80 reads in phase 1: $reads, want $n each"
done
echo "same_device_work: $(sqlite3 "$db" "SELECT count(DISTINCT workload) FROM run") workloads:" \
     "the same phase-1 port accesses in every mode ($reads)"
