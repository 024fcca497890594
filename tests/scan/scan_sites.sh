#!/bin/sh
# scan_sites.sh VMLAB SITES.S A.ELF B.ELF — `vmlab scan` on tests/scan/sites.S's two builds
# (issue 19): every `SITE class` line of the source is one site of that class in function
# f_<class> at that line, and there is no other site; f_gap has an undecodable span; the iret
# bytes under the local data label boot_data are not a site; A against itself is an empty diff
# (status 0); A against B (one more sti in f_cli) names f_cli alone, as changed (status 1).
set -u
vmlab=$1 src=$2 a=$3 b=$4
fail=0
csv=$("$vmlab" scan --csv "$a") || { echo "FAIL vmlab scan $a"; exit 1; }
want=$(grep -n '/\* SITE ' "$src" | sed 's/^\([0-9]*\):.*SITE \([a-z_0-9]*\).*/\2,f_\2,\1/' | sort)
got=$(printf '%s\n' "$csv" | python3 -c '
import csv, sys
for r in csv.DictReader(sys.stdin):
    ok = r["file"].endswith("/sites.S")
    print("%s,%s,%s" % (r["class"], r["function"], r["line"]) if ok else "badfile:" + str(r))
' | sort)
if [ "$want" != "$got" ]; then
    echo "FAIL sites (class,function,line) differ from the SITE lines of sites.S:"
    diff -u /dev/fd/3 /dev/fd/4 3<<W 4<<G
$want
W
$got
G
    fail=1
fi
n=$(printf '%s\n' "$want" | wc -l)
[ "$n" -ge 40 ] || { echo "FAIL only $n SITE lines in sites.S"; fail=1; }
"$vmlab" scan --view gaps "$a" | grep -q ' bytes in f_gap$' ||
    { echo "FAIL no undecodable span reported in f_gap"; fail=1; }
printf '%s\n' "$csv" | grep -q 'boot_data' && { echo "FAIL data label boot_data decoded"; fail=1; }

# By subsystem: every kept site in exactly one subsystem (the rows add up to the total), and
# sites.S's own directory is its subsystem.
sub=$("$vmlab" scan --view subsystems "$a")
total=$(printf '%s\n' "$sub" | sed -n '1s/.* \([0-9]*\) sites$/\1/p')
rows=$(printf '%s\n' "$sub" | awk '/^By subsystem/ {on=1; getline; next} on && NF {s += $1} END {print s+0}')
[ -n "$total" ] && [ "$rows" = "$total" ] ||
    { echo "FAIL subsystems add up to $rows sites, the image has $total"; fail=1; }
printf '%s\n' "$sub" | grep -q '^ *[0-9]* *0  scan ' ||
    { echo "FAIL no subsystem 'scan' (tests/scan/sites.S's directory):"; printf '%s\n' "$sub" | tail -3; fail=1; }

same=$("$vmlab" scan --diff "$a" "$a"); rc=$?
[ "$rc" = 0 ] && printf '%s\n' "$same" | grep -q '^0 functions with sites added, 0 removed, 0 changed' ||
    { echo "FAIL $a against itself is not an empty diff (status $rc): $same"; fail=1; }
diff=$("$vmlab" scan --diff --csv "$a" "$b"); rc=$?
moved=$(printf '%s\n' "$diff" | sed 1d)
[ "$rc" = 1 ] && [ "$moved" = "f_cli,changed,1,2,sti +1" ] ||
    { echo "FAIL diff A B (status $rc) is not exactly f_cli changed: $moved"; fail=1; }
[ "$fail" = 0 ] && echo "ok   $n sites of sites.S by class, function and line; gap; data label; diffs"
exit $fail
