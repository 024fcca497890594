#!/usr/bin/env bash
# timer_exact.sh — PIT interrupts land on the exact instruction count of their deadline.
#
#   tests/integration/timer_exact.sh BUILD_DIR
#
# Guest time is the retired-instruction count and a simulated second is --ips instructions, so
# PIT channel 0 in mode 2 with divisor R = 1193, loaded at PIT tick T0 (= floor(icount of the
# count write * 1193182 / ips)), raises IRQ 0 for the k-th time at instruction
#
#     D(k) = ceil((T0 + k*R) * ips / 1193182)
#
# Consecutive ticks are therefore floor or ceil of R*ips/1193182 instructions apart, never
# anything else, and N ticks span exactly D(N) - D(1). The script checks that with the irq0 rows
# of a --trace full database (integer arithmetic in python3):
#
#   (a) tests/guests/timer.elf waits for its 10 ticks with hlt: vmlab skips time to each deadline.
#   (b) tests/guests/timer_busy.elf spins with interrupts on for 20 ticks: vmlab must stop the
#       running guest at the exact instruction (the interrupted EIPs lie inside its busy loop and
#       are not all the same), with no hlt; the run is identical with another --bucket width; at
#       another --ips the ticks are as far apart as that ips says, and the guest's own loop count
#       between its first and last tick grows with them.
#
# Exits 1 with a message naming the run and the tick on the first difference.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin timer_exact "${1:-}"
timer=$build/tests/guests/timer.elf
busy=$build/tests/guests/timer_busy.elf
it_need "$vmlab" "$timer" "$busy"

# run NAME ELF IPS BUCKET: one run into $tmp/NAME.db (--trace full), console in $tmp/NAME.console.
run() {
  local status=0
  "$vmlab" run --guest "$2" --ips "$3" --bucket "$4" --db "$tmp/$1.db" --trace full --quiet \
    --console "$tmp/$1.console" --timeout 60 </dev/null 2>"$tmp/$1.err" || status=$?
  if [ "$status" != 33 ]; then
    cat "$tmp/$1.err" >&2
    fail "$1: vmlab run --guest $(basename "$2") --ips $3 --bucket $4 exited $status, want 33"
  fi
  grep -q '^PASS' "$tmp/$1.console" || fail "$1: the guest did not print PASS"
}

# The checker: ticks.py DB IPS N [LOOP_LO LOOP_HI]. Prints "span first last" on success.
cat > "$tmp/ticks.py" <<'PY'
import sqlite3, sys

HZ, R = 1193182, 1193
db, ips, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
loop = (int(sys.argv[4], 16), int(sys.argv[5], 16)) if len(sys.argv) > 5 else None
name = db.rsplit("/", 1)[-1][:-3]

def fail(msg):
    print(f"timer_exact: FAIL: {name} (ips {ips}): {msg}", file=sys.stderr)
    sys.exit(1)

def ceil_div(a, b):
    return -(-a // b)

def deadline(t0, k):
    return ceil_div((t0 + k * R) * ips, HZ)

con = sqlite3.connect(db)
def rows(cls, where=""):
    return con.execute("SELECT e.icount, e.eip, e.reason, e.qualifier FROM event e JOIN event_class c"
                       " ON c.id = e.class WHERE c.name = ? " + where + " ORDER BY e.rowid",
                       (cls,)).fetchall()

ticks = rows("interrupt", "AND e.qualifier = 'irq0'")
if len(ticks) != n:
    fail(f"{len(ticks)} irq0 events, want {n}")
t = [r[0] for r in ticks]

lo, hi = R * ips // HZ, ceil_div(R * ips, HZ)
for k in range(1, n):
    d = t[k] - t[k - 1]
    if d not in (lo, hi):
        fail(f"ticks {k} and {k + 1} at icount {t[k - 1]} and {t[k]}: {d} instructions apart,"
             f" want {lo} or {hi} (1193 * {ips} / 1193182)")

# T0 from the first tick (with ips < 1193182 several ticks fit one instruction: try them all).
first = (t[0] - 1) * HZ // ips - R - 2
fits = [t0 for t0 in range(max(first, 0), t[0] * HZ // ips - R + 3) if deadline(t0, 1) == t[0]]
if not fits:
    fail(f"no PIT tick T0 puts the first tick at icount {t[0]}")
span = t[-1] - t[0]
good = [t0 for t0 in fits if all(deadline(t0, k + 1) == t[k] for k in range(n))]
if not good:
    t0 = fits[0]
    k = next(k for k in range(n) if deadline(t0, k + 1) != t[k])
    fail(f"tick {k + 1} at icount {t[k]}, want {deadline(t0, k + 1)} (T0 = {t0});"
         f" span of {n} ticks {span}, want {deadline(t0, n) - deadline(t0, 1)}")
t0 = good[0]
want_span = deadline(t0, n) - deadline(t0, 1)
if span != want_span:
    fail(f"span of {n} ticks {span} instructions, want {want_span}")

# T0 is when the guest wrote the count: the last out to port 0x40 before the first tick, at
# the icount its io event records.
loads = [r[0] for r in rows("io", "AND e.reason = 64 AND e.qualifier LIKE 'out%'") if r[0] < t[0]]
if not loads:
    fail("no write to PIT port 0x40 before the first tick")
at = loads[-1]
if at * HZ // ips not in good:
    w = at * HZ // ips
    fail(f"the count was written at icount {at} (PIT tick T0 = {w}): ticks due at"
         f" {[deadline(w, k + 1) for k in range(n)]}, got {t}")

if loop:
    eips = [r[1] for r in ticks]
    out = [hex(e) for e in eips if not loop[0] <= e < loop[1]]
    if out:
        fail(f"ticks interrupted EIP {', '.join(out)}, outside the busy loop"
             f" [{hex(loop[0])}, {hex(loop[1])})")
    if len(set(eips)) < 2:
        fail(f"every tick interrupted EIP {hex(eips[0])}: deadlines are not reached inside a block")
print(span, t[0], t[-1])
PY

ticks() {
  python3 "$tmp/ticks.py" "$@" || exit 1
}

# count DB CLASS: the aggregate count of an event class.
count() {
  sqlite3 "$1" "SELECT coalesce(sum(e.count), 0) FROM event_count e JOIN event_class c
                ON c.id = e.class WHERE c.name = '$2'"
}

# (a) hlt waits: time skips to the deadline.
run hlt "$timer" 1000000 1000000
ticks "$tmp/hlt.db" 1000000 10 > "$tmp/hlt.span"
[ "$(count "$tmp/hlt.db" halt)" -gt 0 ] || fail "timer.elf executed no hlt"
echo "timer_exact: timer.elf (hlt), ips 1000000: 10 ticks at their deadlines, span $(cut -d' ' -f1 "$tmp/hlt.span")"

# (b) busy waits: the CPU is stopped at the exact instruction.
syms=$(nm "$busy")
loop_lo=$(echo "$syms" | awk '$3 == "busy_loop" { print $1 }')
loop_hi=$(echo "$syms" | awk '$3 == "busy_end" { print $1 }')
[ -n "$loop_lo" ] && [ -n "$loop_hi" ] || fail "no busy_loop/busy_end symbols in $busy"

# loops NAME: the guest's loop count between its first and twentieth tick.
loops() {
  local l
  l=$(sed -n 's/^~loops from tick 1 to tick 20: \([0-9]*\).*/\1/p' "$tmp/$1.console")
  [ -n "$l" ] || fail "$1: no loop count on the console"
  echo "$l"
}

for ips in 1000000 3000000 1000000000; do
  run "busy$ips" "$busy" "$ips" 1000000
  ticks "$tmp/busy$ips.db" "$ips" 20 "$loop_lo" "$loop_hi" > "$tmp/busy$ips.span"
  [ "$(count "$tmp/busy$ips.db" halt)" = 0 ] || fail "busy$ips: timer_busy.elf executed hlt"
  echo "timer_exact: timer_busy.elf, ips $ips: 20 ticks at their deadlines inside the busy loop," \
       "span $(cut -d' ' -f1 "$tmp/busy$ips.span"), $(loops "busy$ips") loops"
done

# Another --bucket width changes nothing but the time series.
run bucket "$busy" 1000000 997
q_events="SELECT icount, phase, class, reason, qualifier, eip, cpl, detail FROM event ORDER BY rowid"
q_counts="SELECT phase, class, reason, qualifier, count, count2 FROM event_count
          ORDER BY phase, class, reason, qualifier"
q_run="SELECT status, exit_status, guest_exit, instructions, insn_user, insn_kernel FROM run"
for q in "$q_events" "$q_counts" "$q_run"; do
  sqlite3 "$tmp/busy1000000.db" "$q" > "$tmp/a.txt"
  sqlite3 "$tmp/bucket.db" "$q" > "$tmp/b.txt"
  [ -s "$tmp/a.txt" ] || fail "no rows for: $q"
  if ! diff "$tmp/a.txt" "$tmp/b.txt" > "$tmp/diff"; then
    head -n 20 "$tmp/diff" >&2
    fail "--bucket 1000000 and --bucket 997 differ in: $q"
  fi
done
cmp -s "$tmp/busy1000000.console" "$tmp/bucket.console" ||
  fail "--bucket 1000000 and --bucket 997 print different consoles"
grep -q 'bucket=997' <(sqlite3 "$tmp/bucket.db" "SELECT config FROM run") ||
  fail "the run's config does not record bucket=997"
echo "timer_exact: timer_busy.elf with --bucket 997: same events, counts, totals and console"

# The guest's loop count grows with the ticks' spacing: 4 instructions per iteration, the
# handler's instructions the same at every ips, +-1 iteration at either end.
l1=$(loops busy1000000)
s1=$(cut -d' ' -f1 "$tmp/busy1000000.span")
for ips in 3000000 1000000000; do
  l2=$(loops "busy$ips")
  s2=$(cut -d' ' -f1 "$tmp/busy$ips.span")
  d=$(( 4 * (l2 - l1) - (s2 - s1) ))
  [ "$d" -ge -8 ] && [ "$d" -le 8 ] ||
    fail "ips $ips: $l2 loops over a span of $s2, ips 1000000: $l1 over $s1;" \
         "4 * $((l2 - l1)) more loop instructions for $((s2 - s1)) more instructions"
done
echo "timer_exact: loop counts scale with --ips"
echo "timer_exact: ok"
