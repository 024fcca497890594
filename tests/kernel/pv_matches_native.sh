#!/bin/sh
# pv_matches_native.sh PV_BOOT KERNEL_ELF SUITE — the same kernel binary under the `pv` hypervisor
# and natively (both booted by pv_boot): every workload (SUITE's at their n, the semantic checks:
# workload_list.sh; holes apart, below) ends with the same status and prints the same console
# output, apart from `~` lines (machine- or timing-dependent by convention) and the banner
# naming the pv-ops in use. Then the counts that follow from the PV mechanisms, in the measured
# phase: a system call and an interrupt-flag toggle never enter the hypervisor (fast trap, event
# mask in shared memory); an address-space switch is one hypercall and validates nothing (pinned
# tables); a fork fills its child's tables and an exit clears them without entering the
# hypervisor per entry (ordinary memory before the pin, after the unpin: the PTE counts on
# forkproc's result line are many times its hypervisor entries); two runs give identical counts.
# Set PV_LOG_DIR to keep the consoles.
set -u
usage="usage: pv_matches_native.sh PV_BOOT KERNEL_ELF SUITE"
boot=${1:?$usage}
elf=${2:?$usage}
suite=${3:?$usage}
. "$(dirname "$0")/workload_list.sh"
specs=$(workload_specs "$suite" | grep -v '^holes:') || exit 1
logdir=${PV_LOG_DIR:-$(mktemp -d)}
mkdir -p "$logdir"
failed=0
fail() { echo "FAIL $*"; failed=1; }

for spec in $specs panic:1; do
    w=${spec%%:*}
    n=${spec#*:}
    timeout 120 "$boot" native "$elf" "workload=$w n=$n" >"$logdir/$w.native.raw" 2>/dev/null
    nstatus=$?
    timeout 120 "$boot" pv "$elf" "workload=$w n=$n" >"$logdir/$w.pv.raw" 2>"$logdir/$w.pv.err"
    pstatus=$?
    for k in native pv; do
        grep -v -e '^~' -e '^vmlab guest kernel, pv-ops:' "$logdir/$w.$k.raw" >"$logdir/$w.$k"
    done
    if [ "$nstatus" -ne "$pstatus" ]; then
        fail "$w: exit status native $nstatus, pv $pstatus"
        tail -3 "$logdir/$w.pv.raw" "$logdir/$w.pv.err" | sed 's/^/     | /'
    elif ! cmp -s "$logdir/$w.native" "$logdir/$w.pv"; then
        fail "$w: console output differs"
        diff "$logdir/$w.native" "$logdir/$w.pv" | head -10 | sed 's/^/     | /'
    else
        echo "ok   $w (status $pstatus)"
    fi
done

# holes: the probes run under pv (a ring-1 kernel sees through several of them: values differ).
"$boot" pv "$elf" "workload=holes n=1" >"$logdir/holes.pv.raw" 2>/dev/null
grep -q '^result workload=holes n=1 ok=1 tested=19 ' "$logdir/holes.pv.raw" &&
    echo "ok   holes runs under pv ($(grep -c '^hole .*equal=0' "$logdir/holes.pv.raw") probes differ)" ||
    fail "holes: no result line under pv"

# count NAME CLASS REASON: the measured phase's count (field 5) of one kind of event.
count() {
    awk -v c="$2" -v r="$3" '$1 == "count" && $2 == c && $3 == r { n += $5 } END { print n + 0 }' "$1"
}
count2() {
    awk -v c="$2" -v r="$3" '$1 == "count" && $2 == c && $3 == r { n += $6 } END { print n + 0 }' "$1"
}
measure() {
    "$boot" pv "$elf" "workload=$1 n=$2" --counts 2>"$logdir/$1.counts" >/dev/null
}
entries() {   # hypervisor entries: hypercalls that are not inside a multicall, and exits
    awk '$1 == "count" && ($2 == "exit" || $2 == "hypercall") { n += $5 }
         $1 == "count" && $2 == "hypercall" && $3 == 13 { n -= $6 } END { print n + 0 }' "$1"
}

N=1000   # operations in the measured phase of syscall, cli and cr3
measure syscall $N
e=$(entries "$logdir/syscall.counts")
[ "$e" = 0 ] && echo "ok   syscall: no hypervisor entry in $N calls" ||
    fail "syscall: $e hypervisor entries in $N calls"
measure cli $N
e=$(entries "$logdir/cli.counts")
[ "$e" = 0 ] && echo "ok   cli: no hypervisor entry in $N pairs" ||
    fail "cli: $e hypervisor entries in $N pairs"
measure cr3 $N
e=$(entries "$logdir/cr3.counts"); v=$(count "$logdir/cr3.counts" validation 2)
[ "$e" = $N ] && [ "$v" = 0 ] && echo "ok   cr3: 1 hypercall per switch, no revalidation" ||
    fail "cr3: $e hypervisor entries, $v directory validations for $N switches"
measure forkproc 10
# every hypercall entry the class counts (a multicall is one, whatever it carries)
e=$(awk '$1 == "count" && $2 == "hypercall" { n += $5 } END { print n + 0 }' "$logdir/forkproc.counts")
ptes=$(sed -n 's/^result .* child_ptes=\([0-9]*\) .* clears=\([0-9]*\) .*/\1 \2/p' "$logdir/forkproc.pv")
ptes=$(( ${ptes% *} + ${ptes#* } ))
[ "$e" -gt 0 ] && [ "$ptes" -gt $((16 * e)) ] &&
    echo "ok   forkproc: $ptes child stores and exit clears with $e hypervisor entries" ||
    fail "forkproc: $ptes child stores and exit clears with $e hypervisor entries"
cp "$logdir/forkproc.counts" "$logdir/forkproc.counts.1"
measure forkproc 10
cmp -s "$logdir/forkproc.counts" "$logdir/forkproc.counts.1" && echo "ok   forkproc: two runs, identical counts" ||
    fail "forkproc: two runs gave different counts"
exit $failed
