#!/bin/sh
# linux_monitors.sh VMLAB LINUX_DIR MODE[:init]... — the unmodified Linux guest (scripts/linux-
# guest.sh's bzImage and initrd.cpio in LINUX_DIR) under each monitor MODE does what it does
# natively (issue 15): for each workload below, the run ends with status 33 and prints the init's
# result line, and
#   MODE       the whole console equals native mode's byte for byte (guest time is instructions, so
#              even Linux's clock lines agree) and the guest retired as many instructions as
#              natively: a monitor adds its own events, it never changes what the guest executes
#              (trap);
#   MODE:init  the console from "Run /init as init process" on equals native's (bt: guest time there
#              includes the instructions the translations add, as for vmlab's own kernel, so Linux's
#              TSC calibration and its clock lines differ, and with them the instructions its
#              calibration loops retire; both counts are printed).
#
# Workloads (small n): syscall (int 0x80), nullcall (the vDSO's SYSENTER), pgfault, forkwait
# (fork + exit + wait: page-table work), execproc (exec).
set -u
vmlab=${1:?usage: linux_monitors.sh VMLAB LINUX_DIR MODE[:init]...}
dir=${2:?usage: linux_monitors.sh VMLAB LINUX_DIR MODE[:init]...}
shift 2
modes="$*"
[ -n "$modes" ] || { echo "usage: linux_monitors.sh VMLAB LINUX_DIR MODE[:init]..."; exit 2; }
for f in bzImage initrd.cpio; do
    [ -f "$dir/$f" ] || { echo "FAIL: $dir/$f is missing (run scripts/linux-guest.sh $dir)"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
insns() { grep -o '[0-9]* instructions' "$1" | head -1; }
init_part() { sed -n '/^Run \/init as init process/,$p' "$1"; }
run() {  # run MODE WORKLOAD N -> $tmp/MODE.W.{out,err}, echoes the status
    timeout 300 "$vmlab" run --mode "$1" --guest "$dir/bzImage" --initrd "$dir/initrd.cpio" \
        --cmdline "console=ttyS0 panic=-1 workload=$2 n=$3" --timeout 240 \
        > "$tmp/$1.$2.out" 2> "$tmp/$1.$2.err"
    echo $?
}
for w in "syscall 200" "nullcall 200" "pgfault 200" "forkwait 10" "execproc 10"; do
    set -- $w
    wl=$1 n=$2
    st=$(run native "$wl" "$n")
    [ "$st" = 33 ] || { echo "FAIL $wl: native status $st"; tail -3 "$tmp/native.$wl.err"; failed=1; continue; }
    for spec in $modes; do
        mode=${spec%:init}
        st=$(run "$mode" "$wl" "$n")
        if [ "$st" != 33 ]; then
            echo "FAIL $wl under $mode: status $st, want 33"; tail -3 "$tmp/$mode.$wl.err"; failed=1; continue
        fi
        if ! grep -q "^result workload=$wl n=$n ok=1" "$tmp/$mode.$wl.out"; then
            echo "FAIL $wl under $mode: no result line from /init"; failed=1; continue
        fi
        a=$(insns "$tmp/native.$wl.err") b=$(insns "$tmp/$mode.$wl.err")
        if [ "$spec" != "$mode" ]; then
            init_part "$tmp/native.$wl.out" > "$tmp/native.$wl.init"
            init_part "$tmp/$mode.$wl.out" > "$tmp/$mode.$wl.init"
            if [ ! -s "$tmp/$mode.$wl.init" ] || ! cmp -s "$tmp/native.$wl.init" "$tmp/$mode.$wl.init"; then
                echo "FAIL $wl under $mode: init output differs from native's (- native, + $mode):"
                diff "$tmp/native.$wl.init" "$tmp/$mode.$wl.init" | head -10; failed=1; continue
            fi
            echo "ok $wl n=$n under $mode: status 33, init output as native's; $b (native $a)"
            continue
        fi
        if ! cmp -s "$tmp/native.$wl.out" "$tmp/$mode.$wl.out"; then
            echo "FAIL $wl under $mode: console differs from native's (- native, + $mode):"
            diff "$tmp/native.$wl.out" "$tmp/$mode.$wl.out" | head -10; failed=1; continue
        fi
        if [ "$a" != "$b" ]; then
            echo "FAIL $wl under $mode: $b retired, natively $a"; failed=1; continue
        fi
        echo "ok $wl n=$n under $mode: status 33, console as native's, $b"
    done
done
exit $failed
