# lib.sh — how every integration script begins: sourced, never run.
#
#   . "$(dirname "$0")/lib.sh"
#   it_begin NAME "${1:-}"       # build (absolute), vmlab, kernel; tmp, removed at exit
#   it_need FILE...              # each FILE must exist, or the script fails naming it
#   fail MESSAGE...              # "NAME: FAIL: MESSAGE" on stderr, exit 1
#   expect WHAT GOT WANT         # fail "WHAT: got GOT, want WANT" unless GOT = WANT
#   at_least WHAT GOT MIN        # fail "WHAT: got GOT, want at least MIN" unless GOT >= MIN
#
# Runs of the guest kernel (or a test guest) and what they recorded:
#   it_run_pass DB MODE CMDLINE [ARGS...]   # the kernel into DB; it must pass (status 33)
#   it_run_tagged MODE TAG GUEST CMDLINE    # GUEST into $tmp/MODE.db, files $tmp/TAG.MODE.*
#   it_count DB CLASS WHERE                 # phase-1 count of an event class
#   it_phase_count DB PHASE CLASS WHERE     # the same in any phase
#   it_go DB MODE CMDLINE [ARGS...]         # it_run_pass in the background, two at a time
#   it_go_wait                              # waits for the it_go runs; fails if one did
#   it_exit_rows DB                         # event_count rows of class exit, any phase
#   it_same_counts WHAT MODE DB_A DB_B      # two runs' event_count rows are identical
#   it_exit_runs MODE TAG N W...            # the runs of an exits test, side by side
#   it_shadow_exits TAG N [CLASS]           # in, cr3, ptemod enter the monitor once each
#   it_suite_workloads SUITE                # array workloads: SUITE's "workload=W n=N" lines
#   it_same_status TAG MODE [WHAT]          # native and MODE ended alike (it_run_tagged runs)
#   it_same_console TAG MODE [WHAT]         # native and MODE printed alike (`~` lines aside)
#   it_workloads_match_native MODE          # each of `workloads` ran and matched native

# IT_TIMEOUT: the wall-clock --timeout of a guest run (it_vmlab; bt_adaptive.sh's runs), 60 s, or
# $VMLAB_TEST_TIMEOUT: the -DVMLAB_SANITIZE=ON build sets it for every test (cmake/sanitize.cmake),
# since ASan slows vmlab's own code (bt's callouts most) and a loaded 2-core machine runs many runs
# side by side. The outer `timeout` is twice as long.
IT_TIMEOUT=${VMLAB_TEST_TIMEOUT:-60}

# it_begin NAME BUILD_DIR: the script's name (for messages) and the build directory it tests.
it_begin() {
  IT_NAME=$1
  [ -n "${2:-}" ] || { echo "usage: $1.sh BUILD_DIR" >&2; exit 2; }
  build=$(cd "$2" && pwd)
  vmlab=$build/vmlab
  kernel=$build/guests/kernel.elf
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
}

it_need() {
  local f
  for f in "$@"; do
    [ -e "$f" ] || fail "$f is not built"
  done
}

fail() {
  echo "$IT_NAME: FAIL: $*" >&2
  exit 1
}

expect() {
  [ "$2" = "$3" ] || fail "$1: got $2, want $3"
}

at_least() {
  [ "$2" -ge "$3" ] || fail "$1: got $2, want at least $3"
}

# it_vmlab DB OUT MODE GUEST CMDLINE [ARGS...]: one `vmlab run` of GUEST under MODE into DB
# (IT_TIMEOUT for the guest, twice that in all), console in OUT.console, stderr in OUT.err, ARGS appended; prints
# vmlab's exit status.
it_vmlab() {
  local db=$1 out=$2 mode=$3 guest=$4 cmdline=$5 status=0
  shift 5
  timeout $((2 * IT_TIMEOUT)) "$vmlab" run --mode "$mode" --guest "$guest" --cmdline "$cmdline" \
    --db "$db" --console "$out.console" --quiet --timeout "$IT_TIMEOUT" "$@" </dev/null \
    >/dev/null 2>"$out.err" ||
    status=$?
  echo "$status"
}

# it_run_pass DB MODE CMDLINE [ARGS...]: one run of the kernel into DB (console in DB.console,
# stderr in DB.err, extra vmlab ARGS appended); it must pass (status 33), or the script fails.
it_run_pass() {
  local db=$1 mode=$2 cmdline=$3 status
  shift 3
  status=$(it_vmlab "$db" "$db" "$mode" "$kernel" "$cmdline" "$@")
  [ "$status" = 33 ] || fail "$cmdline under $mode: vmlab exited $status, want 33" \
                             "($(tail -n 1 "$db.err"))"
}

# it_run_tagged MODE TAG GUEST CMDLINE: one run of GUEST into $tmp/MODE.db (one database a mode,
# so runs of different modes may go side by side); console in $tmp/TAG.MODE.console, stderr in
# $tmp/TAG.MODE.err, vmlab's status in $tmp/TAG.MODE.status. Fails only if vmlab died (>= 128).
it_run_tagged() {
  local mode=$1 tag=$2 status
  status=$(it_vmlab "$tmp/$mode.db" "$tmp/$tag.$mode" "$mode" "$3" "$4")
  echo "$status" > "$tmp/$tag.$mode.status"
  [ "$status" -lt 128 ] || fail "$tag under $mode: vmlab died with status $status" \
                                "($(tail -n 1 "$tmp/$tag.$mode.err"))"
}

# it_count DB CLASS WHERE: the sum of the phase-1 (measured loop) counts of event class CLASS in
# the run in DB, over the event_count rows (alias e) that match the SQL condition WHERE.
it_count() {
  it_phase_count "$1" 1 "$2" "$3"
}

# it_phase_count DB PHASE CLASS WHERE: the same for phase PHASE (3: calibration, 4: between).
it_phase_count() {
  sqlite3 "$1" "SELECT coalesce(sum(e.count), 0) FROM event_count e
                JOIN event_class c ON c.id = e.class WHERE e.phase = $2 AND c.name = '$3'
                AND ($4)"
}

# it_go DB MODE CMDLINE [ARGS...]: it_run_pass in the background, at most two at a time (2 shared
# cores): it first waits for the oldest of two running. it_go_wait waits for the rest. A failed
# run fails the script (it_run_pass names it).
IT_GO_PIDS=()
it_go() {
  if [ "${#IT_GO_PIDS[@]}" -ge 2 ]; then
    wait "${IT_GO_PIDS[0]}" || { wait; exit 1; }
    IT_GO_PIDS=("${IT_GO_PIDS[@]:1}")
  fi
  it_run_pass "$@" & IT_GO_PIDS+=($!)
}

it_go_wait() {
  local p
  for p in "${IT_GO_PIDS[@]}"; do
    wait "$p" || exit 1
  done
  IT_GO_PIDS=()
}

it_exit_rows() {
  sqlite3 "$1" "SELECT count(*) FROM event_count e
                JOIN event_class c ON c.id = e.class WHERE c.name = 'exit'"
}

# it_same_counts WHAT MODE DB_A DB_B: two MODE runs of WHAT recorded identical event_count rows
# (and run A some of a class that enters a monitor: exit, montrap, callout, hvtrap, hypercall),
# or the script fails showing the first differing rows. Run A's rows stay in $tmp/A.txt.
it_same_counts() {
  local q="SELECT e.phase, c.name, e.reason, e.qualifier, e.count, e.count2 FROM event_count e
           JOIN event_class c ON c.id = e.class ORDER BY e.phase, c.name, e.reason, e.qualifier"
  sqlite3 "$3" "$q" > "$tmp/A.txt"
  sqlite3 "$4" "$q" > "$tmp/B.txt"
  grep -qE '\|(exit|montrap|callout|hvtrap|hypercall)\|' "$tmp/A.txt" ||
    fail "$1 under $2: no rows of a class that enters the monitor"
  if ! diff "$tmp/A.txt" "$tmp/B.txt" > "$tmp/diff"; then
    echo "$IT_NAME: event_count of $1 under $2, run A (<) vs run B (>):" >&2
    head -n 20 "$tmp/diff" >&2
    fail "$1: two $2 runs count differently"
  fi
}

# it_exit_runs MODE TAG N W...: side by side, it_run_pass runs of the kernel with workload=W n=N
# for each W, under MODE into $tmp/W.TAG.db and natively into $tmp/W.native.db; of workload=ptemod
# n=N/2 under MODE into $tmp/ptemod_half.TAG.db; and two of workload=forkwait n=200 under MODE into
# $tmp/forkwait.A.db and $tmp/forkwait.B.db. Waits for them and for any runs the caller started in
# the array `pids`, and fails if one did. Then each W's run under MODE must have run.n = N, and
# its native run must have recorded no exit.
it_exit_runs() {
  local mode=$1 tag=$2 N=$3 w p
  shift 3
  for w in "$@"; do
    it_run_pass "$tmp/$w.$tag.db" "$mode" "workload=$w n=$N" & pids+=($!)
    it_run_pass "$tmp/$w.native.db" native "workload=$w n=$N" & pids+=($!)
  done
  it_run_pass "$tmp/ptemod_half.$tag.db" "$mode" "workload=ptemod n=$((N / 2))" & pids+=($!)
  it_run_pass "$tmp/forkwait.A.db" "$mode" "workload=forkwait n=200" & pids+=($!)
  it_run_pass "$tmp/forkwait.B.db" "$mode" "workload=forkwait n=200" & pids+=($!)
  for p in "${pids[@]}"; do
    wait "$p" || exit 1
  done
  for w in "$@"; do
    expect "$w: run.n" "$(sqlite3 "$tmp/$w.$tag.db" "SELECT n FROM run")" "$N"
    expect "$w under native: rows of class exit" "$(it_exit_rows "$tmp/$w.native.db")" 0
  done
}

# it_shadow_exits TAG N [CLASS]: the phase-1 counts of a monitor with a shadow MMU that is
# entered on port I/O (trap, trap-classic), from it_run_pass runs of workload=W n=N into
# $tmp/W.TAG.db (W = in, cr3, ptemod) and of workload=ptemod n=N/2 into $tmp/ptemod_half.TAG.db.
# CLASS is how the monitor is entered: exit (default; VT-x: by basic exit reason) or montrap (a
# ring-compression monitor's #GP, reason 13, by cause). The kernel's phase marker (a 32-bit write
# to port 0xe0, itself an entry) is left out.
#   in      N entries for 'in1 0x80' (IO_INSTRUCTION) and no other entry
#   cr3     N entries for 'cr3/write' (CR_ACCESS); at least N shadow_reuse (left in $reuse), 0
#           shadow_build
#   ptemod  one PTE store per operation (bench.c, variant unchanged): N traced_write (left in
#           $traced; the kernel has the scratch table traced before the loop), exactly N - N/2
#           more than the run with N/2; N write-protection #PF entries; no INVLPG entry; the
#           only other entries are the CR3 read and write of each block's one TLB flush
it_shadow_exits() {
  local tag=$1 N=$2 cls=${3:-exit} db traced_half not_marker="e.qualifier <> 'out4 0xe0'"
  local io="e.reason = 30" cr="e.reason = 28" inv="e.reason = 14" pf="e.reason = 0"
  if [ "$cls" = montrap ]; then
    io="e.reason = 13" cr="e.reason = 13" inv="e.reason = 13 AND e.qualifier = 'invlpg'"
    pf="e.reason = 14"
  fi
  db=$tmp/in.$tag.db
  expect "in: $cls 'in1 0x80'" \
         "$(it_count "$db" "$cls" "$io AND e.qualifier = 'in1 0x80'")" "$N"
  expect "in: $cls in phase 1" "$(it_count "$db" "$cls" "$not_marker")" "$N"

  db=$tmp/cr3.$tag.db
  expect "cr3: $cls 'cr3/write'" \
         "$(it_count "$db" "$cls" "$cr AND e.qualifier = 'cr3/write'")" "$N"
  reuse=$(it_count "$db" shadow "e.qualifier = 'shadow_reuse'")
  at_least "cr3: shadow_reuse in phase 1" "$reuse" "$N"
  expect "cr3: shadow_build in phase 1" \
         "$(it_count "$db" shadow "e.qualifier = 'shadow_build'")" 0

  db=$tmp/ptemod.$tag.db
  expect "ptemod: $cls for invlpg" "$(it_count "$db" "$cls" "$inv")" 0
  traced=$(it_count "$db" shadow "e.qualifier = 'traced_write'")
  traced_half=$(it_count "$tmp/ptemod_half.$tag.db" shadow "e.qualifier = 'traced_write'")
  expect "ptemod: traced_write, n=$N minus n=$((N / 2))" "$((traced - traced_half))" \
         "$((N - N / 2))"
  expect "ptemod: traced_write in phase 1" "$traced" "$N"
  expect "ptemod: $cls for #PF (write protection)" "$(it_count "$db" "$cls" "$pf")" "$N"
  expect "ptemod: other $cls in phase 1" \
         "$(it_count "$db" "$cls" "$not_marker AND NOT ($pf) AND NOT ($cr AND e.qualifier IN
                                  ('cr3/read', 'cr3/write'))")" 0
}

# it_suite_workloads SUITE: the array `workloads` gets one "workload=W n=N" line per entry of
# SUITE; the script fails if SUITE has no entry or an entry gave no line (no n:, say), the count
# of entries being that of SUITE's `- workload:` lines.
it_suite_workloads() {
  local entries
  mapfile -t workloads < <(awk '/^[[:space:]]*-[[:space:]]*workload:/ { w = $3 }
       /^[[:space:]]*n:/ { if (w != "") print "workload=" w " n=" $2; w = "" }' "$1")
  entries=$(grep -c '^[[:space:]]*-[[:space:]]*workload:' "$1") || fail "no workload in $1"
  expect "workloads read from $1" "${#workloads[@]}" "$entries"
}

# it_same_status TAG MODE [WHAT]: after it_run_tagged runs of TAG under native and MODE, vmlab's
# status is the same in both, or the script fails naming WHAT (default TAG).
it_same_status() {
  local n t
  n=$(cat "$tmp/$1.native.status")
  t=$(cat "$tmp/$1.$2.status")
  [ "$n" = "$t" ] || fail "${3:-$1}: status $t under $2, $n under native" \
                          "($2: $(tail -n 1 "$tmp/$1.$2.err"))"
}

# it_same_console TAG MODE [WHAT]: likewise, the consoles agree once lines that start with `~`
# (timing-dependent text) are dropped, and native printed something.
it_same_console() {
  grep -v '^~' "$tmp/$1.native.console" > "$tmp/n.txt" || true
  grep -v '^~' "$tmp/$1.$2.console" > "$tmp/t.txt" || true
  [ -s "$tmp/n.txt" ] || fail "${3:-$1}: native printed nothing"
  if ! diff "$tmp/n.txt" "$tmp/t.txt" > "$tmp/diff"; then
    echo "$IT_NAME: console of ${3:-$1}, native (<) vs $2 (>):" >&2
    head -n 20 "$tmp/diff" >&2
    fail "${3:-$1}: $2 prints a different console"
  fi
}

# it_workloads_match_native MODE: each line W of the array `workloads` (index i; the indices may
# have gaps) runs as the kernel's cmdline natively and under MODE, a pair side by side (tag wl<i>).
# Natively it must pass (status 33); under MODE it must end with the same status, print the same
# console and give the same run totals (exit status, guest exit value, instructions, user and
# kernel instructions): the monitor adds and drops no guest instructions.
it_workloads_match_native() {
  local mode=$1 i w a b n t q
  for i in "${!workloads[@]}"; do
    it_run_tagged native "wl$i" "$kernel" "${workloads[$i]}" & a=$!
    it_run_tagged "$mode" "wl$i" "$kernel" "${workloads[$i]}" & b=$!
    wait $a || exit 1
    wait $b || exit 1
  done
  for i in "${!workloads[@]}"; do
    w=${workloads[$i]}
    n=$(cat "$tmp/wl$i.native.status")
    [ "$n" = 33 ] || fail "$w: native exited $n, want 33 ($(tail -n 1 "$tmp/wl$i.native.err"))"
    it_same_status "wl$i" "$mode" "$w"
    it_same_console "wl$i" "$mode" "$w"
    q="SELECT exit_status, guest_exit, instructions, insn_user, insn_kernel FROM run
       WHERE params = '$w' AND status = 'ok'"
    n=$(sqlite3 "$tmp/native.db" "$q")
    t=$(sqlite3 "$tmp/$mode.db" "$q")
    [ -n "$n" ] || fail "$w: no ok run row in the native database"
    [ "$n" = "$t" ] || fail "$w: run totals (exit_status|guest_exit|instructions|user|kernel)" \
                            "native $n, $mode ${t:-(no ok row)}"
  done
  echo "$IT_NAME: ${#workloads[@]} workloads: same console, status and instructions"
}
