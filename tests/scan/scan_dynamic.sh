#!/bin/sh
# scan_dynamic.sh VMLAB KERNEL_ELF PVOPS_NATIVE_C — `vmlab scan --db` (issue 19), the dynamic
# view, on a recorded run of vmlab's own kernel: `workload=ptemod n=50` under trap with
# --trace full. ptemod stores one kernel PTE per operation through pv_ops.set_pte, and under
# trap each such store to a write-protected page table is one #PF exit and one shadow
# traced_write (tests/integration/nanobench_counts.sh holds those counts). So in the measured
# phase:
#
#   ptwrites     the page-table write view names exactly one function, with 50 writes: the
#                function pvops_native.c installs as .set_pte (found by the scan, checked
#                against the source), at a line of kernel/pvops_native.c
#   sites        that function has exactly 50 exit #PF events and 50 traced writes, and they
#                are the costliest site of the run
#   pricing      over the whole run, the event rows' modeled cycles per class add up to what
#                `vmlab stat --csv` prices the classes at (the same rule, not re-priced)
#   --guest      a copy of the ELF given with --guest, with the run's own guest file gone from
#                the recorded path's view, maps the same
#   errors       a run recorded without --trace full is refused with one line (status 2)
set -u
vmlab=$1 kernel=$2 native_c=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL $*"; fail=1; }

# A passing guest ends vmlab with status 33 (isa-debug-exit 0x10). The run's guest is a copy,
# removed before the --guest checks.
cp "$kernel" "$tmp/run.elf"
"$vmlab" run --guest "$tmp/run.elf" --mode trap --trace full --quiet --db "$tmp/t.db" \
    --cmdline "workload=ptemod n=50" >"$tmp/run.out" 2>&1
[ $? = 33 ] || { echo "FAIL the traced ptemod run:"; cat "$tmp/run.out"; exit 1; }

want=$(sed -n 's/^ *\.set_pte *= *\([a-z_0-9]*\),.*/\1/p' "$native_c")
[ -n "$want" ] || { echo "FAIL no .set_pte in $native_c"; exit 1; }

pt=$("$vmlab" scan --db "$tmp/t.db" --phase measured --view ptwrites --csv) ||
    { echo "FAIL vmlab scan --db --view ptwrites"; exit 1; }
rows=$(printf '%s\n' "$pt" | sed 1d)
fn=$(printf '%s\n' "$rows" | cut -d, -f5 | sort -u)
[ "$(printf '%s\n' "$rows" | wc -l)" = 1 ] && [ "$fn" = "$want" ] ||
    bad "ptwrites in the measured phase are not one row of $want: $rows"
printf '%s\n' "$rows" | grep -q '^ptwrite,trap,shadow,shadow(traced_write),[a-z_]*,kernel/pvops_native.c,[0-9][0-9]*,0x[0-9a-f]*,50,' ||
    bad "ptwrites: not 50 traced writes at a line of kernel/pvops_native.c: $rows"

sites=$("$vmlab" scan --db "$tmp/t.db" --phase measured --view sites --csv) ||
    { echo "FAIL vmlab scan --db --view sites"; exit 1; }
n=$(printf '%s\n' "$sites" | awk -F, -v f="$want" '$1 == "site" && $3 == "exit" && $4 ~ /#PF$/ && $5 == f { s += $9 } END { print s + 0 }')
[ "$n" = 50 ] || bad "exit #PF at $want in the measured phase: $n, want 50"
n=$(printf '%s\n' "$sites" | awk -F, -v f="$want" '$1 == "site" && $4 == "shadow(traced_write)" && $5 == f { s += $9 } END { print s + 0 }')
[ "$n" = 50 ] || bad "traced writes at $want in the measured phase: $n, want 50"
top=$(printf '%s\n' "$sites" | sed -n 2p | cut -d, -f3,5,9)
[ "$top" = "exit,$want,50" ] || bad "the costliest site is not $want's 50 exits: $top"

# Pricing: the per-class sums of every event row equal stat's (classes that have event rows).
"$vmlab" scan --db "$tmp/t.db" --event all --view sites --csv >"$tmp/scan.csv" &&
"$vmlab" stat --db "$tmp/t.db" --csv >"$tmp/stat.csv" || bad "vmlab scan --event all / stat --csv"
python3 - "$tmp/scan.csv" "$tmp/stat.csv" <<'EOF' || fail=1
import csv, sys, collections
scan, stat = collections.Counter(), collections.Counter()
for r in csv.DictReader(open(sys.argv[1])):
    scan[r["class"]] += float(r["cycles"])
for r in csv.DictReader(open(sys.argv[2])):
    stat[r["class"]] += float(r["cycles"])
bad = [c for c in scan if abs(scan[c] - stat[c]) > 0.5 + 1e-9 * stat[c]]
if not scan or bad:
    print("FAIL modeled cycles per class, scan vs stat:",
          {c: (scan[c], stat[c]) for c in bad or scan})
    sys.exit(1)
EOF

cp "$kernel" "$tmp/copy.elf"
a=$("$vmlab" scan --db "$tmp/t.db" --phase measured --csv)
rm "$tmp/run.elf"
"$vmlab" scan --db "$tmp/t.db" --phase measured --csv >/dev/null 2>&1 &&
    bad "the run's guest file is gone, yet scan --db maps its EIPs without --guest"
b=$("$vmlab" scan --db "$tmp/t.db" --phase measured --csv --guest "$tmp/copy.elf")
[ -n "$a" ] && [ "$a" = "$b" ] || bad "--guest with a copy of the ELF maps differently"
"$vmlab" scan --db "$tmp/t.db" --guest "$tmp/missing.elf" >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" = 3 ] && [ "$(wc -l <"$tmp/err")" = 1 ] || bad "--guest of a missing file: status $rc, $(cat "$tmp/err")"

"$vmlab" run --guest "$kernel" --mode trap --quiet --db "$tmp/c.db" \
    --cmdline "workload=ptemod n=5" >/dev/null 2>&1
[ $? = 33 ] || bad "counts-only run"
"$vmlab" scan --db "$tmp/c.db" --run 1 >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" = 2 ] && grep -q 'trace full' "$tmp/err" && [ "$(wc -l <"$tmp/err")" = 1 ] ||
    bad "a run without event rows: status $rc, $(cat "$tmp/err")"

[ "$fail" = 0 ] && echo "ok   $want: 50 exits and 50 traced writes per 50 ptemod operations; cycles as stat; --guest"
exit $fail
