#!/usr/bin/env bash
# bt_matches_native.sh — under `bt` (guest kernel code runs only from the translation cache) every
# workload looks the same as natively, the translations give the guest its own view of the CPU
# (holes: differ=0), and the counts that follow from the mechanism hold.
#
#   tests/integration/bt_matches_native.sh BUILD_DIR
#
# Workloads: each `workload:` of models/suites/default.yaml, with its `n:`, runs once natively and
# once under bt. Per workload:
#   console      identical, after dropping lines that start with `~` (timing-dependent text)
#   exit status  33 in both
# holes under bt: every probe equal=1 and the result differ=0. No workload's translated code
# raises #GP (a monitor trap 13 at a translation would say so).
# Counts, phase 1 (the measured loop) with n=500:
#   cli   cli and sti run in the cache:   n incache 'cli' and n incache 'sti', 0 callouts
#   in    the port read (POST, 0x80) runs in the cache: n incache 'in', 0 callouts, and the
#         device sees what it sees in every mode: n ioemul 0x80 'in1'; the phase marker's `out`
#         (0xe0) runs in the cache too: 1 incache 'out', 1 ioemul 0xe0 'out4'
#   syscall  the kernel's entry and exit run in the cache but for the iretd to user mode: no
#            callout but n (+1, the phase marker's return) 'iretd'; its segment reloads
#            (pop/mov to ds, es, fs, gs) in the cache
#   callret  call/ret pairs stay in the cache: >= n return lookups (iblookup 'ret'), at most 5
#            of all lookups miss (each target's first use), 0 callouts
#   all   no monitor trap other than page faults, and no VT-x `exit` at all: a callout is how bt
#         leaves its translations
#   forkwait  two runs (n=100) count the same: identical event_count rows; a third with
#            --trace full too, and it has a row per in-cache execution (those are counted with
#            their blocks; a row per attempt, so an emulation retried after a fault may have two)
#            and its port accesses are recorded at guest EIPs, never at a translation's
# Translation table: as many rows and guest instructions as the translate counters (units and
#   trampolines); every row read at least a byte per instruction and wrote TC bytes; `vmlab stat
#   --json` reports its units.
# Coherency: tests/guests/smc (kernel code rewritten after it ran, twice, with a store of the same
# bytes in between) passes under bt, with 2 shadow `code_write` events, 2 TC flushes (translate
# reason 3) and 1 `code_same` (the identical store, which flushes nothing).
# Code and data on one page: tests/guests/code_data_page under bt and trap-classic (below).
# User I/O: tests/guests/io_gp's ring-3 `in` and `out` on port 0x80 (a port bt's translations
# access in the cache) still raise #GP at the instruction under bt, as natively: its console is
# native's up to its popf check (which no ring-compression monitor passes: ring 3 sees the real IF).
#
# Exits 1 with the workload and the first differing lines or counts.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin bt_matches_native "${1:-}"
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
suite=$src/models/suites/default.yaml
it_need "$vmlab" "$kernel" "$suite"
N=500

# run MODE TAG CMDLINE: one run into $tmp/TAG.MODE.db; console in $tmp/TAG.MODE.console, stderr
# in $tmp/TAG.MODE.err, vmlab's status in $tmp/TAG.MODE.status.
run() {
  local mode=$1 tag=$2 cmdline=$3 status=0
  timeout 120 "$vmlab" run --mode "$mode" --guest "$kernel" --cmdline "$cmdline" \
    --db "$tmp/$tag.$mode.db" --console "$tmp/$tag.$mode.console" --quiet --timeout 60 \
    </dev/null >/dev/null 2>"$tmp/$tag.$mode.err" || status=$?
  echo "$status" > "$tmp/$tag.$mode.status"
}

it_suite_workloads "$suite"

for i in "${!workloads[@]}"; do
  run native "wl$i" "${workloads[$i]}" & a=$!
  run bt "wl$i" "${workloads[$i]}" & b=$!
  wait $a $b
done
for i in "${!workloads[@]}"; do
  w=${workloads[$i]}
  n=$(cat "$tmp/wl$i.native.status")
  b=$(cat "$tmp/wl$i.bt.status")
  [ "$n" = 33 ] || fail "$w: native exited $n, want 33 ($(tail -n 1 "$tmp/wl$i.native.err"))"
  [ "$b" = 33 ] || fail "$w: bt exited $b, want 33 ($(tail -n 1 "$tmp/wl$i.bt.err"))"
  it_same_console "wl$i" bt "$w"
  case $w in
    "workload=holes "*)
      grep -q '^result .* ok=1 .*differ=0\b' "$tmp/t.txt" ||
        fail "holes under bt: $(grep '^result' "$tmp/t.txt"); want ok=1 and differ=0"
      ! grep -q '^hole .* equal=0$' "$tmp/t.txt" ||
        fail "holes under bt: equal=0 for $(awk '$NF == "equal=0" { print $2 }' "$tmp/t.txt")" ;;
  esac
done
for i in "${!workloads[@]}"; do
  gp=$(sqlite3 "$tmp/wl$i.bt.db" "SELECT coalesce(sum(e.count), 0) FROM event_count e
        JOIN event_class c ON c.id = e.class WHERE c.name = 'montrap' AND e.reason = 13
        AND e.qualifier = '#GP'")
  expect "${workloads[$i]}: #GP raised by translated code" "$gp" 0
done
echo "bt_matches_native: ${#workloads[@]} workloads: same console and status as native"


run bt cli "workload=cli n=$N" & a=$!
run bt fw1 "workload=forkwait n=100" & b=$!
run bt fw2 "workload=forkwait n=100" & e=$!
run bt in "workload=in n=$N" & c=$!
run bt callret "workload=callret n=$N" & d=$!
run bt sys "workload=syscall n=$N" & f=$!
timeout 120 "$vmlab" run --mode bt --guest "$kernel" --cmdline "workload=forkwait n=100" \
  --trace full --db "$tmp/fwfull.bt.db" --console /dev/null --quiet --timeout 60 </dev/null \
  >/dev/null 2>&1 & g=$!
wait $a $b $c $d $e $f
st=0
wait $g || st=$?
expect "forkwait under bt with --trace full: status" "$st" 33
for t in cli fw1 fw2 in callret sys; do
  expect "$t under bt: status" "$(cat "$tmp/$t.bt.status")" 33
done
db=$tmp/cli.bt.db
expect "cli: incache cli" "$(it_count "$db" incache "e.qualifier = 'cli'")" "$N"
expect "cli: incache sti" "$(it_count "$db" incache "e.qualifier = 'sti'")" "$N"
expect "cli: incache but the phase marker's out" "$(it_count "$db" incache "e.qualifier <> 'out'")" \
  "$((2 * N))"
expect "cli: callouts" "$(it_count "$db" callout "1")" 0
db=$tmp/in.bt.db
expect "in: incache 'in'" "$(it_count "$db" incache "e.qualifier = 'in'")" "$N"
expect "in: callouts 'in'" "$(it_count "$db" callout "e.qualifier = 'in'")" 0
expect "in: callouts" "$(it_count "$db" callout "1")" 0
expect "in: ioemul 0x80 in1" "$(it_count "$db" ioemul "e.reason = 128 AND e.qualifier = 'in1'")" \
  "$N"
expect "in: incache 'out' (the phase marker)" "$(it_count "$db" incache "e.qualifier = 'out'")" 1
expect "in: ioemul 0xe0 out4" "$(it_count "$db" ioemul "e.reason = 224 AND e.qualifier = 'out4'")" 1
db=$tmp/callret.bt.db
ret=$(it_count "$db" iblookup "e.qualifier = 'ret'")
[ "$ret" -ge "$N" ] || fail "callret: $ret return lookups, want at least $N"
miss=$(it_count "$db" iblookup "e.reason = 1")
[ "$miss" -le 5 ] || fail "callret: $miss lookups missed the cache, want at most 5 (first uses)"
expect "callret: callouts" "$(it_count "$db" callout "1")" 0
db=$tmp/sys.bt.db
iretd=$(it_count "$db" callout "e.qualifier = 'iretd'")
expect "syscall: callouts other than iretd" "$(it_count "$db" callout "e.qualifier <> 'iretd'")" 0
[ "$iretd" -ge "$N" ] && [ "$iretd" -le $((N + 1)) ] ||
  fail "syscall: $iretd iretd callouts, want $N (+1: the return from the phase-marking call)"
segs=$(it_count "$db" incache "e.qualifier IN ('pop_seg', 'mov_to_seg')")
[ "$segs" -ge "$N" ] || fail "syscall: $segs segment loads in the cache, want at least $N"
for t in cli in callret; do
  expect "$t: monitor traps other than #PF" \
         "$(it_count "$tmp/$t.bt.db" montrap "e.qualifier <> '#PF'")" 0
  expect "$t: VT-x exits under bt (any phase)" "$(it_exit_rows "$tmp/$t.bt.db")" 0
done
q="SELECT c.name, e.phase, e.reason, e.qualifier, e.count FROM event_count e
   JOIN event_class c ON c.id = e.class ORDER BY 1, 2, 3, 4"
[ "$(sqlite3 "$tmp/fw1.bt.db" "$q")" = "$(sqlite3 "$tmp/fw2.bt.db" "$q")" ] ||
  fail "forkwait under bt: two runs count differently"
[ "$(sqlite3 "$tmp/fw1.bt.db" "$q")" = "$(sqlite3 "$tmp/fwfull.bt.db" "$q")" ] ||
  fail "forkwait under bt: --trace full counts differently from --trace counts"
rows=$(sqlite3 "$tmp/fwfull.bt.db" "SELECT count(*) FROM event e JOIN event_class c
                                     ON c.id = e.class WHERE c.name = 'incache'")
cnt=$(sqlite3 "$tmp/fwfull.bt.db" "SELECT sum(e.count) FROM event_count e JOIN event_class c
                                    ON c.id = e.class WHERE c.name = 'incache'")
[ "$rows" -ge "$cnt" ] && [ "$rows" -le $((cnt + cnt / 100)) ] ||
  fail "forkwait --trace full: $rows in-cache rows for $cnt counted, want one per execution"
expect "forkwait --trace full: port accesses recorded at a translation's address" \
  "$(sqlite3 "$tmp/fwfull.bt.db" "SELECT count(*) FROM event e JOIN event_class c
                                  ON c.id = e.class
                                  WHERE c.name = 'ioemul' AND e.eip >= $((0xffc00000))")" 0
# The translation table (bytes in and out) agrees with the counters: one row per unit or
# trampoline, the same guest instructions; every unit read guest bytes and wrote TC bytes.
db=$tmp/callret.bt.db
expect "callret: translation rows vs counters" \
  "$(sqlite3 "$db" "SELECT count(*) || '/' || sum(insns) FROM translation")" \
  "$(sqlite3 "$db" "SELECT sum(e.count) || '/' || sum(e.count2) FROM event_count e
                    JOIN event_class c ON c.id = e.class
                    WHERE c.name = 'translate' AND e.reason IN (0, 4)")"
units=$("$vmlab" stat --db "$db" --json --all-events --event translate |
        python3 -c 'import json, sys; print(sum(r["count"] for r in json.load(sys.stdin)["rows"] if r["event"] == "translate(unit)"))')
expect "callret: units in vmlab stat --json" "$units" \
  "$(sqlite3 "$db" "SELECT count(*) FROM translation WHERE kind = 'unit'")"
expect "callret: units without bytes" \
  "$(sqlite3 "$db" "SELECT count(*) FROM translation WHERE guest_bytes < insns OR tc_bytes < 2")" 0
echo "bt_matches_native: cli $((2 * N)) in-cache, 0 callouts; in $N in-cache, 0 callouts;" \
     "callret $ret return lookups, $miss misses; syscall $iretd callouts, $segs segment loads" \
     "in the cache; deterministic"
smc=$build/tests/guests/smc.elf
[ -e "$smc" ] || fail "$smc is not built"
status=0
timeout 60 "$vmlab" run --mode bt --guest "$smc" --db "$tmp/smc.db" --console "$tmp/smc.console" \
  --quiet </dev/null >/dev/null 2>"$tmp/smc.err" || status=$?
expect "smc under bt: status" "$status" 33
grep -qx PASS "$tmp/smc.console" || fail "smc under bt: $(grep -v '^~' "$tmp/smc.console" | tail -n 2)"
all() {
  sqlite3 "$1" "SELECT coalesce(sum(e.count), 0) FROM event_count e
                JOIN event_class c ON c.id = e.class WHERE c.name = '$2' AND ($3)"
}
expect "smc: code writes" "$(all "$tmp/smc.db" shadow "e.qualifier = 'code_write'")" 2
expect "smc: TC flushes" "$(all "$tmp/smc.db" translate "e.reason = 3")" 2
expect "smc: identical stores" "$(all "$tmp/smc.db" shadow "e.qualifier = 'code_same'")" 1
echo "bt_matches_native: smc: rewritten code runs anew (2 code writes, 2 TC flushes; the" \
     "identical store drops nothing)"
# Data written on the page of the code writing it (tests/guests/code_data_page: an inc emul_write
# does not emulate): every write reaches memory and the code keeps running from the cache, under
# bt as under trap-classic, in about one TC flush per write.
cdp=$build/tests/guests/code_data_page.elf
[ -e "$cdp" ] || fail "$cdp is not built"
for mode in trap-classic bt; do
  status=0
  timeout 60 "$vmlab" run --mode "$mode" --guest "$cdp" --db "$tmp/cdp.$mode.db" \
    --console "$tmp/cdp.$mode.console" --timeout 30 --quiet </dev/null >/dev/null \
    2>"$tmp/cdp.$mode.err" || status=$?
  expect "code_data_page under $mode: status ($(tail -n 1 "$tmp/cdp.$mode.err"))" "$status" 33
  grep -q "written 1000 times from its own page: ok" "$tmp/cdp.$mode.console" ||
    fail "code_data_page under $mode: $(tail -n 2 "$tmp/cdp.$mode.console")"
done
flushes=$(all "$tmp/cdp.bt.db" translate "e.reason = 3")
at_least "code_data_page: TC flushes under bt" "$flushes" 1000
[ "$flushes" -le 1100 ] || fail "code_data_page: $flushes TC flushes for 1000 writes"
echo "bt_matches_native: code_data_page: 1000 writes to the code's own page, $flushes flushes"
iogp=$build/tests/guests/io_gp.elf
[ -e "$iogp" ] || fail "$iogp is not built"
for mode in native bt; do
  timeout 60 "$vmlab" run --mode "$mode" --guest "$iogp" --console "$tmp/iogp.$mode.console" \
    --quiet </dev/null >/dev/null 2>&1 || true
  sed -n '/^popf at cpl 3/q; p' "$tmp/iogp.$mode.console" > "$tmp/iogp.$mode.head"
done
expect "io_gp: ring-3 #GPs of in/out 0x80 natively" \
  "$(grep -c '^trap 13 err=0x00000000 eip=at+0 cpl=3$' "$tmp/iogp.native.head")" 2
diff "$tmp/iogp.native.head" "$tmp/iogp.bt.head" >&2 ||
  fail "io_gp under bt: a ring-3 in/out of port 0x80 is not what it is natively (above)"
echo "bt_matches_native: io_gp: ring-3 in/out of port 0x80 raise #GP under bt as natively"
echo "bt_matches_native: ok"
