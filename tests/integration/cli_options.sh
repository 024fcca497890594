#!/bin/bash
# cli_options.sh — what a new user meets first (issue 20): options, errors, run ids, workloads,
# and the two scripts, checked as a user would see them.
#
#   cli_options.sh BUILD_DIR SOURCE_DIR
#
# Each case states one refused input or one fixed output and fails on its own (all cases run;
# the script fails if any did):
#   - every subcommand `vmlab help` lists (run, compare, stat, report, and any added later)
#     answers --version, refuses an abbreviated option (--versio; stat --mod, --by-qual)
#     with one line `vmlab SUB: unknown option --X (did you mean --Y?)` and status 2, and words
#     unknown options and missing values the same way;
#   - each --help states the defaults (mode native, model p4-prescott, phase all, scale small...);
#   - `vmlab compare` prints each run's id in the database: the ids on its lines (and in its
#     failed-run list) are the ids the database gives those workload/mode pairs, in a new database
#     and when runs are added to an existing one; a misspelt mode (--modes native,xen, or in the
#     suite's modes:) is refused with status 2 and one line; --group keeps one group of the
#     default suite (--check lists exactly its entries) and a misspelt group (--group lmbnech) is
#     refused with status 2, one line listing the suite's groups, and no database;
#   - `vmlab run --list-workloads` prints one line per workload of the guest's own table; an
#     unknown workload, n=abc, n=0, n=-1, repeat=x, and a workload's own bad number (ctxsw
#     procs=1, kb=abc, filecreate size=1M) are refused with status 2 and one line naming the
#     workload; no --cmdline lists the workloads and says a workload= is needed;
#   - scripts/run-suite.sh --help prints its usage and deletes nothing; two runs write two
#     directories and keep the first; --out DIR holding a suite.db is refused; scripts/build.sh
#     prints cmake's progress (run on copies of the scripts with install-deps, cmake and vmlab
#     stubbed: nothing is installed or built).
. "$(dirname "$0")/lib.sh"
it_begin cli_options "${1:-}"
src=${2:?usage: cli_options.sh BUILD_DIR SOURCE_DIR}
it_need "$vmlab" "$kernel"
command -v sqlite3 >/dev/null || { echo "cli_options: sqlite3 is needed" >&2; exit 1; }
failures=0
bad() { echo "not ok - $1: $2"; [ -s "$tmp/err" ] && sed 's/^/    stderr: /' "$tmp/err"; failures=$((failures + 1)); }
good() { echo "ok - $1"; }

# refused NAME STATUS TEXT -- ARGS...: vmlab ARGS exits STATUS with exactly one stderr line,
# which contains TEXT.
refused() {
  local name=$1 want=$2 text=$3; shift 4
  timeout 120 "$vmlab" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  local status=$? lines
  lines=$(wc -l <"$tmp/err")
  if [ "$status" -ne "$want" ]; then bad "$name" "status $status, want $want"
  elif [ "$lines" -ne 1 ]; then bad "$name" "$lines lines on stderr, want 1"
  elif ! grep -qF -- "$text" "$tmp/err"; then bad "$name" "stderr does not say '$text'"
  else good "$name"; fi
}

# ---- options: the same rules in every subcommand ----------------------------------------------
subs=$("$vmlab" help | awk '/^  [a-z]/ { print $1 }')
[ -n "$subs" ] || bad "vmlab help lists subcommands" "none found"
version=$("$vmlab" --version)
for sub in $subs; do
  got=$("$vmlab" "$sub" --version 2>"$tmp/err"); status=$?
  if [ "$status" -eq 0 ] && [ "$got" = "$version" ]; then good "$sub --version"
  else bad "$sub --version" "status $status, printed '$got', want '$version'"; fi
  refused "$sub: abbreviation --versio refused" 2 \
    "vmlab $sub: unknown option --versio (did you mean --version?)" -- "$sub" --versio
  refused "$sub: unknown option" 2 "vmlab $sub: unknown option --frobnicate" -- "$sub" --frobnicate
  "$vmlab" "$sub" --help >"$tmp/help" 2>"$tmp/err"
  if [ $? -eq 0 ] && grep -q -- "--version" "$tmp/help"; then good "$sub --help lists --version"
  else bad "$sub --help lists --version" "$(head -1 "$tmp/help")"; fi
done
# stat has --mode and --model: --mod is neither (getopt_long alone took `--mode` as --model
# before stat had a --mode of its own).
refused "stat --mod is neither --mode nor --model" 2 \
  "vmlab stat: unknown option --mod (did you mean --mod" \
  -- stat --db "$tmp/none.db" --mod pv
refused "stat --by-qual is not --by-qualifier" 2 \
  "vmlab stat: unknown option --by-qual (did you mean --by-qualifier?)" \
  -- stat --db "$tmp/none.db" --by-qual
refused "report --mod is not --model" 2 "vmlab report: unknown option --mod (did you mean --model?)" \
  -- report --db "$tmp/none.db" --mod x --out "$tmp/r"
refused "run --mod is not --mode" 2 "vmlab run: unknown option --mod (did you mean --mode?)" \
  -- run --guest "$kernel" --mod trap
refused "compare --mode is not --modes" 2 \
  "vmlab compare: unknown option --mode (did you mean --modes?)" -- compare --mode native
refused "compare --db without its value" 2 "vmlab compare: option --db needs a value" -- \
  compare --suite x --db
refused "stat --db without its value" 2 "vmlab stat: option --db needs a value" -- stat --db
refused "report without --out" 2 "vmlab report: --out DIR is required" -- report --db x
refused "stat without --db" 2 "vmlab stat: --db FILE is required" -- stat
refused "run --quiet=1" 2 "vmlab run: option --quiet takes no value" -- run --quiet=1
refused "run --modle suggests --mode" 2 "(did you mean --mode?)" -- run --modle trap

# --help states the defaults.
help_says() {   # help_says SUB TEXT
  if "$vmlab" "$1" --help 2>&1 | grep -qF -- "$2"; then good "$1 --help says '$2'"
  else bad "$1 --help says '$2'" "not found"; fi
}
help_says run "default native"
help_says run "default 256"
help_says run "(default 600)"
help_says stat "(default p4-prescott"
help_says stat "all (default)"
help_says report "(default p4-prescott"
help_says compare "small (default"
help_says compare "counts (default)"
help_says compare "native,trap,trap-ept,trap-classic,bt,pv"

# ---- compare: run ids and modes ---------------------------------------------------------------
cat >"$tmp/suite.yaml" <<EOF
name: cli
guest: $kernel
workloads:
  - { workload: syscall, n: 20 }
  - { workload: nullcall, n: 20 }
  - { workload: nosuch, n: 20 }
EOF
# ids_match NAME DB LOG: every "run ID W/M" that compare printed is the row of W/M in DB, and
# every job has one; prints nothing else.
ids_match() {
  local name=$1 db=$2 log=$3 want=$4 printed rows
  printed=$(sed -n 's/^compare: \[[0-9]*\/[0-9]*\] run \([0-9]*\) \([a-z_]*\)\/\([a-z-]*\) .*/\1|\2|\3/p' "$log" | sort)
  rows=$(sqlite3 "$db" "select id || '|' || workload || '|' || mode from run where id > $want" | sort)
  if [ -n "$printed" ] && [ "$printed" = "$rows" ]; then good "$name"
  else bad "$name" "printed [$(echo $printed)], database [$(echo $rows)]"; fi
  local listed dbfailed
  listed=$(sed -n 's/^  run \([0-9]*\) \([a-z_]*\)\/\([a-z-]*\): status.*/\1|\2|\3/p' "$log" | sort)
  dbfailed=$(sqlite3 "$db" "select id || '|' || workload || '|' || mode from run where id > $want and status = 'failed'" | sort)
  if [ -n "$listed" ] && [ "$listed" = "$dbfailed" ]; then good "$name (failed-run list)"
  else bad "$name (failed-run list)" "listed [$(echo $listed)], database [$(echo $dbfailed)]"; fi
}
timeout 300 "$vmlab" compare --suite "$tmp/suite.yaml" --db "$tmp/c.db" --modes native,trap -j 3 \
  >/dev/null 2>"$tmp/c1.log"
ids_match "compare prints the database's run ids" "$tmp/c.db" "$tmp/c1.log" 0
before=$(sqlite3 "$tmp/c.db" "select max(id) from run")
timeout 300 "$vmlab" compare --suite "$tmp/suite.yaml" --db "$tmp/c.db" --modes pv,native -j 2 \
  >/dev/null 2>"$tmp/c2.log"
ids_match "compare adding to an existing database prints its new ids" "$tmp/c.db" "$tmp/c2.log" "$before"
if grep -q "^  run [0-9]* nosuch/pv: status 2: vmlab run: unknown workload 'nosuch'" "$tmp/c2.log"
then good "compare's failed-run list says why (unknown workload)"
else bad "compare's failed-run list says why (unknown workload)" "$(grep '^  ' "$tmp/c2.log")"; fi
refused "compare --modes native,xen" 2 "vmlab compare: unknown mode 'xen' in --modes" -- \
  compare --suite "$tmp/suite.yaml" --db "$tmp/x.db" --modes native,xen
[ -e "$tmp/x.db" ] && bad "compare --modes native,xen writes no database" "$tmp/x.db exists"
printf 'name: m\nguest: %s\nmodes: native,trp\nworkloads:\n  - { workload: syscall, n: 5 }\n' \
  "$kernel" >"$tmp/m.yaml"
refused "compare: misspelt mode in the suite's modes:" 2 "unknown mode 'trp' in $tmp/m.yaml" -- \
  compare --suite "$tmp/m.yaml" --db "$tmp/m.db"
refused "compare --modes native,native" 2 "mode 'native' is listed twice" -- \
  compare --suite "$tmp/suite.yaml" --db "$tmp/x.db" --modes native,native
default=$src/models/suites/default.yaml
refused "compare --group lmbnech" 2 "vmlab compare: no group 'lmbnech' in suite default (groups:" \
  -- compare --suite "$default" --db "$tmp/g.db" --group lmbnech
[ -e "$tmp/g.db" ] && bad "compare --group lmbnech writes no database" "$tmp/g.db exists"
want=$(awk '/^[[:space:]]*-[[:space:]]*workload:/ { w = $3 } /^[[:space:]]*group: lmbench/ { n++ }
            END { print n }' "$default")
got=$("$vmlab" compare --suite "$default" --check --group lmbench | grep -c '^workload=')
[ "$got" = "$want" ] && [ "$want" -gt 20 ] && good "compare --check --group lmbench lists its $want" ||
  bad "compare --check --group lmbench" "listed $got, the suite has $want"

# ---- workloads ----------------------------------------------------------------------------------
"$vmlab" run --list-workloads >"$tmp/list" 2>"$tmp/err"; status=$?
rows=$(grep -cE '^[a-z_0-9]+ +[0-9]+  [a-z]' "$tmp/list")
if [ "$status" -eq 0 ] && [ "$rows" -ge 20 ] && ! [ -s "$tmp/err" ] &&
   grep -qE '^syscall +2000  one null system call' "$tmp/list" &&
   grep -qE '^forkwait +200  one fork' "$tmp/list"; then
  good "run --list-workloads: $rows workloads, one line each"
else
  bad "run --list-workloads" "status $status, $rows rows: $(head -3 "$tmp/list")"
fi
# Every workload listed runs (is in the guest's table), with its name in the result line.
"$vmlab" run --guest "$kernel" --list-workloads >"$tmp/list2" 2>/dev/null
cmp -s "$tmp/list" "$tmp/list2" && good "--list-workloads --guest kernel.elf lists the same" ||
  bad "--list-workloads --guest kernel.elf lists the same" "differs"
w=$(awk 'NR == 2 { print $1 }' "$tmp/list")
"$vmlab" run --guest "$kernel" --cmdline "workload=$w n=3" --quiet 2>/dev/null; status=$?
[ "$status" -eq 33 ] && good "the first listed workload ($w) runs" || bad "listed $w runs" "status $status"
refused "unknown workload" 2 "vmlab run: unknown workload 'nosuch'" -- \
  run --guest "$kernel" --cmdline "workload=nosuch n=10" --quiet
for n in abc 0 -1 ""; do
  refused "n=$n refused" 2 "vmlab run: workload=syscall: n=$n is not a positive count" -- \
    run --guest "$kernel" --cmdline "workload=syscall n=$n" --quiet
done
refused "repeat=x refused" 2 "workload=syscall: repeat=x is not a positive count" -- \
  run --guest "$kernel" --cmdline "workload=syscall n=5 repeat=x" --quiet
refused "ctxsw procs=1 refused" 2 "vmlab run: workload=ctxsw: procs=1 is not a number from 2 to 16" \
  -- run --guest "$kernel" --cmdline "workload=ctxsw n=5 procs=1" --quiet
refused "ctxsw kb=abc refused" 2 "vmlab run: workload=ctxsw: kb=abc is not a number from 0 to 256" \
  -- run --guest "$kernel" --cmdline "workload=ctxsw n=5 kb=abc" --quiet
refused "filecreate size=1M refused" 2 "vmlab run: workload=filecreate: size=1M is not a number" \
  -- run --guest "$kernel" --cmdline "workload=filecreate n=5 size=1M" --quiet
refused "filedelete size=65K refused" 2 "vmlab run: workload=filedelete: size=65K is not a number" \
  -- run --guest "$kernel" --cmdline "workload=filedelete n=5 size=65K" --quiet
refused "run without --cmdline says a workload= is needed" 2 \
  "vmlab run: no workload= on the command line" -- run --guest "$kernel"
grep -q '^workload syscall 2000 ' "$tmp/out" && good "run without --cmdline lists the workloads" ||
  bad "run without --cmdline lists the workloads" "$(head -2 "$tmp/out")"
refused "--list-workloads with --db" 2 "vmlab run: --list-workloads takes no --db" -- \
  run --list-workloads --db "$tmp/l.db"
refused "n=abc recorded as failed with the reason" 2 "n=abc" -- \
  run --guest "$kernel" --cmdline "workload=syscall n=abc" --quiet --db "$tmp/n.db"
row=$(sqlite3 "$tmp/n.db" "select status || '|' || exit_status || '|' || message from run")
[ "$row" = "failed|2|workload=syscall: n=abc is not a positive count (1 to 999999999)" ] &&
  good "the database row says the same" || bad "the database row says the same" "$row"

# ---- scripts ------------------------------------------------------------------------------------
# A copy of the repository's scripts with the steps that install, build and run stubbed.
fake=$tmp/repo
mkdir -p "$fake/scripts" "$fake/build" "$fake/out" "$fake/bin"
cp "$src/scripts/run-suite.sh" "$src/scripts/build.sh" "$fake/scripts/"
printf '#!/bin/sh\nexit 0\n' >"$fake/scripts/install-deps.sh"
cat >"$fake/build/vmlab" <<'EOF'
#!/bin/sh
# stub vmlab: `compare ... --db DB` creates DB; `report --out DIR` creates DIR/index.html
case $1 in --version) echo "vmlab stub"; exit 0 ;; esac
sub=$1; shift
while [ $# -gt 0 ]; do
  case $1 in
    --db) db=$2; shift ;;
    --out) out=$2; shift ;;
  esac
  shift
done
[ "$sub" = compare ] && echo stub >"$db"
[ "$sub" = report ] && mkdir -p "$out" && echo stub >"$out/index.html"
exit 0
EOF
chmod +x "$fake/build/vmlab" "$fake/scripts/"*.sh
echo precious >"$fake/out/suite.db"
mkdir -p "$fake/out/report" && echo precious >"$fake/out/report/index.html"
bash "$fake/scripts/run-suite.sh" --help >"$tmp/out" 2>"$tmp/err"; status=$?
if [ "$status" -eq 0 ] && grep -q '^usage: scripts/run-suite.sh' "$tmp/out" &&
   [ -f "$fake/out/suite.db" ] && [ -f "$fake/out/report/index.html" ]; then
  good "run-suite.sh --help prints usage and deletes nothing"
else
  bad "run-suite.sh --help prints usage and deletes nothing" "status $status"
fi
# cmake stub: prints progress lines as the Makefile generator does.
cat >"$fake/bin/cmake" <<'EOF'
#!/bin/sh
if [ "$1" = --build ]; then
  for p in 3 12 25 50 51 99 100; do printf '[%3d%%] Building C object x%d.o\n' "$p" "$p"; done
fi
exit 0
EOF
chmod +x "$fake/bin/cmake"
PATH=$fake/bin:$PATH bash "$fake/scripts/run-suite.sh" --modes native >"$tmp/r1" 2>&1; s1=$?
sleep 1
PATH=$fake/bin:$PATH bash "$fake/scripts/run-suite.sh" --modes native >"$tmp/r2" 2>&1; s2=$?
dirs=$(find "$fake/out" -mindepth 2 -maxdepth 2 -name suite.db | wc -l)
if [ "$s1" -eq 0 ] && [ "$s2" -eq 0 ] && [ "$dirs" -eq 2 ] && [ -f "$fake/out/suite.db" ] &&
   [ -f "$fake/out/latest/report/index.html" ]; then
  good "run-suite.sh: two runs, two directories, earlier results kept, out/latest"
else
  bad "run-suite.sh: two runs, two directories" "status $s1/$s2, $dirs run directories: $(tail -2 "$tmp/r2")"
fi
if grep -q '^build:  50%' "$tmp/r1" && grep -q '^build: 100%' "$tmp/r1" &&
   [ "$(grep -c '^build: *[0-9]*%' "$tmp/r1")" -eq 6 ]; then
  good "build.sh shows cmake's progress, one line per tenth"
else
  bad "build.sh shows cmake's progress" "$(grep '^build' "$tmp/r1" | tr '\n' '/')"
fi
mkdir -p "$fake/out/mine" && echo old >"$fake/out/mine/suite.db"
PATH=$fake/bin:$PATH bash "$fake/scripts/run-suite.sh" --out "$fake/out/mine" >"$tmp/out" 2>"$tmp/err"
status=$?
if [ "$status" -eq 2 ] && [ "$(cat "$fake/out/mine/suite.db")" = old ]; then
  good "run-suite.sh --out DIR with a suite.db is refused and kept"
else
  bad "run-suite.sh --out DIR with a suite.db is refused" "status $status"
fi

if [ "$failures" -ne 0 ]; then
  echo "cli_options: $failures case(s) failed" >&2
  exit 1
fi
exit 0
