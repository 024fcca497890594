#!/usr/bin/env bash
# bt_adaptive.sh — under `bt`, a guest kernel store that keeps faulting on a traced page table
# becomes a callout (adaptive BT) and becomes itself again once its target is plain data; and a
# workload run twice in one boot translates its code once.
#
#   tests/integration/bt_adaptive.sh BUILD_DIR
#
# ptemod n=500 (one kernel PTE store per operation, in blocks of 256 PTEs), natively and under bt:
#   console      identical (lines starting with `~` dropped), status 33 in both
#   phase 1      at most 4 traced writes (the threshold), all of them before the first callout
#                of the store (callout 'mov', class 255), at least n-10 such callouts, at least
#                one adaptive retranslation (translate reason 1 'adaptive'), fewer than n+10
#                #PF exits (n without adaptation: one per store)
# tests/guests/ptwrite (one store writes a PTE 40 times, then the same frame 20 times after it
#   stopped being a page table, then 40 times as a page table again): PASS under bt, retranslated
#   to a callout ('adaptive'), back ('ident') and to a callout again, in that order; the second
#   time only after at least 8 traced writes (backoff: twice the first threshold of 4).
# Translated once: callret, ptemod, syscall, ctxsw and pgfault, each booted once with
#   `repeat=1` and once with `repeat=2` (init runs the workload twice), build the same number of
#   translation units (translate reason 0) of the same number of guest instructions: the second
#   run finds all its code in the TC, including where interrupts and faults return into the middle
#   of a unit. forkwait, forkproc and execproc, whose timer ticks land elsewhere in the second run
#   and take a few paths the first never took (execproc: 713 and 716 units at 1e9 instructions a
#   second, 707 and 707 with no tick at all), build at most 1% more; so does mmap, whose second run makes
#   its file in the directory slot the first run's file left free (the file system keeps its
#   state between runs), a branch the first run never took.
#
# Exits 1 with the first failing check.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin bt_adaptive "${1:-}"
ptwrite=$build/tests/guests/ptwrite.elf
it_need "$vmlab" "$kernel" "$ptwrite"
N=500

# run MODE TAG GUEST CMDLINE: one run with every event kept, into $tmp/TAG.MODE.{db,console,
# status}.
run() {
  local mode=$1 tag=$2 guest=$3 cmdline=$4 status=0
  timeout $((2 * IT_TIMEOUT)) "$vmlab" run --mode "$mode" --guest "$guest" --cmdline "$cmdline" \
    --trace full --db "$tmp/$tag.$mode.db" --console "$tmp/$tag.$mode.console" --quiet \
    --timeout "$IT_TIMEOUT" \
    </dev/null >/dev/null 2>"$tmp/$tag.$mode.err" || status=$?
  echo "$status" > "$tmp/$tag.$mode.status"
}

# q DB WHERE [WHAT]: WHAT (default the summed count) over the events of the run in DB whose
# class and rows match WHERE (c is event_class, e is event_count).
q() {
  sqlite3 "$1" "SELECT ${3:-coalesce(sum(e.count), 0)} FROM event_count e
                JOIN event_class c ON c.id = e.class WHERE $2"
}

# at DB min|max WHERE: icount of the first/last single event matching WHERE (c is event_class,
# e is event).
at() {
  sqlite3 "$1" "SELECT $2(e.icount) FROM event e JOIN event_class c ON c.id = e.class WHERE $3"
}

run native pte "$kernel" "workload=ptemod n=$N" & a=$!
run bt pte "$kernel" "workload=ptemod n=$N" & b=$!
wait $a $b
run bt ptw "$ptwrite" "" & a=$!
once="callret ptemod syscall ctxsw pgfault"
for w in $once forkwait forkproc execproc mmap; do
  for r in 1 2; do
    run bt "$w.r$r" "$kernel" "workload=$w n=200 repeat=$r" &
  done
  wait
done
wait
for t in pte.native pte.bt ptw.bt; do
  expect "$t: status" "$(cat "$tmp/$t.status")" 33
done
grep -q '^result workload=ptemod .*ok=1' "$tmp/pte.native.console" ||
  fail "ptemod natively: no ok result"
it_same_console pte bt ptemod

db=$tmp/pte.bt.db
tw=$(q "$db" "e.phase = 1 AND c.name = 'shadow' AND e.qualifier = 'traced_write'")
co=$(q "$db" "e.phase = 1 AND c.name = 'callout' AND e.reason = 255 AND e.qualifier = 'mov'")
ad=$(q "$db" "e.phase = 1 AND c.name = 'translate' AND e.reason = 1 AND e.qualifier = 'adaptive'")
pf=$(q "$db" "e.phase = 1 AND c.name = 'exit' AND e.qualifier = '#PF'")
[ "$tw" -le 4 ] || fail "ptemod: $tw traced writes in the loop, want at most 4"
[ "$co" -ge $((N - 10)) ] || fail "ptemod: $co store callouts, want at least $((N - 10))"
[ "$ad" -ge 1 ] || fail "ptemod: no adaptive retranslation"
[ "$pf" -lt $((N + 10)) ] || fail "ptemod: $pf #PF exits, want fewer than $((N + 10))"
last_tw=$(at "$db" max "e.phase = 1 AND c.name = 'shadow' AND e.qualifier = 'traced_write'")
first_co=$(at "$db" min "e.phase = 1 AND c.name = 'callout' AND e.reason = 255")
[ "${last_tw:-0}" -lt "$first_co" ] ||
  fail "ptemod: a traced write (at $last_tw) after the first store callout (at $first_co)"
echo "bt_adaptive: ptemod n=$N: $tw traced writes, then $co callouts;" \
     "$ad adaptive retranslations; $pf #PF exits"

db=$tmp/ptw.bt.db
grep -qx PASS "$tmp/ptw.bt.console" || fail "ptwrite under bt: $(tail -n 2 "$tmp/ptw.bt.console")"
to=$(at "$db" min "c.name = 'translate' AND e.reason = 1 AND e.qualifier = 'adaptive'")
back=$(at "$db" min "c.name = 'translate' AND e.reason = 1 AND e.qualifier = 'ident'")
[ -n "$to" ] || fail "ptwrite: the store never became a callout"
[ -n "$back" ] || fail "ptwrite: the store never became itself again"
[ "$to" -lt "$back" ] || fail "ptwrite: back to ident (at $back) before the callout (at $to)"
again=$(at "$db" min "c.name = 'translate' AND e.reason = 1 AND e.qualifier = 'adaptive'
                      AND e.icount > $back")
[ -n "$again" ] || fail "ptwrite: the store never became a callout again"
between=$(sqlite3 "$db" "SELECT count(*) FROM event e JOIN event_class c ON c.id = e.class
                         WHERE c.name = 'shadow' AND e.qualifier = 'traced_write'
                         AND e.icount > $back AND e.icount < $again")
[ "$between" -ge 8 ] ||
  fail "ptwrite: a callout again after $between traced writes, want at least 8 (backoff)"
echo "bt_adaptive: ptwrite: callout at instruction $to, itself again at $back, a callout" \
     "again at $again after $between traced writes"

units() {
  sqlite3 "$1" "SELECT sum(e.count) || ' units of ' || sum(e.count2) || ' instructions'
                FROM event_count e JOIN event_class c ON c.id = e.class
                WHERE c.name = 'translate' AND e.reason = 0"
}
for w in $once forkwait forkproc execproc mmap; do
  for r in 1 2; do
    expect "$w repeat=$r under bt: status" "$(cat "$tmp/$w.r$r.bt.status")" 33
  done
  [ "$(grep -c '^result .*ok=1' "$tmp/$w.r2.bt.console")" = 2 ] ||
    fail "$w repeat=2: want two ok result lines"
  a=$(units "$tmp/$w.r1.bt.db")
  b=$(units "$tmp/$w.r2.bt.db")
  case " $once " in
    *" $w "*) [ "$a" = "$b" ] || fail "$w: one run translates $a, two runs $b" ;;
    *) [ "${b%% *}" -le $(( ${a%% *} * 101 / 100 )) ] ||
         fail "$w: one run translates $a, two runs $b (more than 1% more)" ;;
  esac
  echo "bt_adaptive: $w: one run translates $a; two runs $b"
done
echo "bt_adaptive: ok"
