#!/bin/sh
# privileged_only_in_pvops.sh VMLAB KERNEL_ELF — the paravirt-ops invariant, checked on the
# linked kernel with `vmlab scan` (issue 19): every privileged instruction (kind priv), every
# IOPL-sensitive one (cli, sti, port I/O) and every iret sits in the pv-ops tables (pvops_native.c,
# and pvops_pv.c, whose iret and instrumentation-port I/O are legal in ring 1 under the `pv`
# hypervisor) or the early-boot stub (boot.S). A paravirtual port is one file.
# Sensitive-but-unprivileged instructions (pushf/popf, sgdt, ...) are allowed elsewhere (the
# holes workload executes them on purpose). The check first proves it can see: pvops_native.c
# must show privileged sites, and the kernel must decode without undecodable spans.
set -u
vmlab=${1:?usage: privileged_only_in_pvops.sh VMLAB KERNEL_ELF}
elf=${2:?usage: privileged_only_in_pvops.sh VMLAB KERNEL_ELF}
classes=priv,iopl,iret
pv=kernel/pvops_native.c,kernel/pvops_pv.c,kernel/boot.S

# The detector must see what pvops_native.c is there to do, or it would pass anything.
native=$("$vmlab" scan --class "$classes" --csv "$elf") ||
    { echo "FAIL vmlab scan could not scan $elf"; exit 1; }
# A CSV parser, not awk -F,: operands such as "eax, cr4" are quoted fields with commas.
n=$(printf '%s\n' "$native" | python3 -c 'import csv, sys
print(sum(r["file"] == "kernel/pvops_native.c" and r["kind"] == "priv"
          for r in csv.DictReader(sys.stdin)))') ||
    { echo "FAIL cannot read the scan CSV (python3 is an install dependency)"; exit 1; }
[ "$n" -gt 0 ] ||
    { echo "FAIL no privileged site found in pvops_native.c: the check is blind"; exit 1; }
gaps=$("$vmlab" scan --view gaps "$elf" | sed -n '/^Undecodable spans:/,$p')
[ "$gaps" = "Undecodable spans: none" ] || { echo "FAIL undecodable bytes in $elf: $gaps"; exit 1; }

outside=$("$vmlab" scan --class "$classes" --pv "$pv" --outside --csv "$elf")
rc=$?
if [ "$rc" != 0 ]; then
    echo "FAIL privileged sites outside $pv (vmlab scan exit $rc):"
    printf '%s\n' "$outside" | sed 1d | sed 's/^/  /'
    exit 1
fi
echo "ok   $n privileged sites in pvops_native.c; privileged instructions only in pvops_native.c, pvops_pv.c and boot.S"
