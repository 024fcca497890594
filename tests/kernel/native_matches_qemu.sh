#!/bin/sh
# native_matches_qemu.sh VMLAB KERNEL_ELF SUITE — every workload, booted in vmlab's native mode
# and under qemu-system-i386 (the oracle), must end with the same exit status and print the same
# console output, apart from lines starting with `~` (machine- or timing-dependent by convention).
# The workloads: every entry of SUITE at its n, the semantic checks (workload_list.sh) and panic.
# Set QEMU_LOG_DIR to keep the consoles.
set -u
usage="usage: native_matches_qemu.sh VMLAB KERNEL_ELF SUITE"
vmlab=${1:?$usage}
elf=${2:?$usage}
suite=${3:?$usage}
. "$(dirname "$0")/workload_list.sh"
specs=$(workload_specs "$suite") || exit 1
qemu=${QEMU:-qemu-system-i386}
command -v "$qemu" >/dev/null ||
    { echo "FAIL $qemu not found (scripts/install-deps.sh installs qemu-system-x86)"; exit 1; }
logdir=${QEMU_LOG_DIR:-$(mktemp -d)}
mkdir -p "$logdir"
failed=0

for spec in $specs panic:1; do
    w=${spec%%:*}
    n=${spec#*:}
    timeout 120 "$vmlab" run --guest "$elf" --cmdline "workload=$w n=$n" --timeout 100 \
        >"$logdir/$w.vmlab.raw" 2>"$logdir/$w.vmlab.err" </dev/null
    vstatus=$?
    timeout 60 "$qemu" -kernel "$elf" -append "workload=$w n=$n" -serial stdio -display none \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -m 256 </dev/null \
        >"$logdir/$w.qemu.raw" 2>&1
    qstatus=$?
    grep -v '^~' "$logdir/$w.vmlab.raw" >"$logdir/$w.vmlab"
    grep -v '^~' "$logdir/$w.qemu.raw" >"$logdir/$w.qemu"
    if [ "$vstatus" -ne "$qstatus" ]; then
        echo "FAIL $w: exit status vmlab $vstatus, qemu $qstatus"
        tail -3 "$logdir/$w.vmlab.err" | sed 's/^/     | /'
        failed=1
    elif ! cmp -s "$logdir/$w.vmlab" "$logdir/$w.qemu"; then
        echo "FAIL $w: console output differs"
        diff "$logdir/$w.vmlab" "$logdir/$w.qemu" | head -10 | sed 's/^/     | /'
        failed=1
    else
        echo "ok   $w (status $vstatus)"
    fi
done
exit $failed
