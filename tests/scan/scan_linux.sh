#!/bin/sh
# scan_linux.sh VMLAB VMLINUX — `vmlab scan` on Linux 6.1 built with DWARF and CONFIG_PARAVIRT=y
# (scripts/linux-guest.sh --variant scan), the kernel issue 19's figures come from:
#   - code patched in at boot is attributed to the site it patches: read_tsc's rdtsc lives in
#     .altinstr_replacement (rdtsc_ordered's lfence;rdtsc / rdtscp alternatives) and is listed in
#     read_tsc with a file:line;
#   - sites behind a paravirt hook are marked: native_flush_tlb_local (a pv_ops native
#     implementation) has its cr3 read and write marked pv_ops_native;
#   - `--view subsystems` files every site under one subsystem (the rows add up to the total) and
#     names arch/x86/kernel, arch/x86/mm, kernel and mm.
# Robust to a Debian point release of linux-source-6.1: the checks name functions, not counts.
set -u
vmlab=${1:?usage: scan_linux.sh VMLAB VMLINUX}
img=${2:?usage: scan_linux.sh VMLAB VMLINUX}
[ -f "$img" ] || { echo "FAIL $img is missing (scripts/linux-guest.sh --variant scan)"; exit 1; }
fail=0
csv=$("$vmlab" scan --csv "$img") || { echo "FAIL vmlab scan --csv $img"; exit 1; }
printf '%s\n' "$csv" | grep '^0x[0-9a-f]*,rdtsc,other,rdtsc,,read_tsc,[0-9]*,[^,][^,]*,[0-9]*,\.altinstr_replacement,' |
    grep -q . || { echo "FAIL read_tsc's rdtsc from .altinstr_replacement is not attributed to read_tsc"; fail=1; }
# (operands may hold a quoted comma: match the function and the last column, not field numbers)
hooked=$(printf '%s\n' "$csv" | grep ',native_flush_tlb_local,' | grep -c ',pv_ops_native$')
[ "$hooked" -ge 2 ] || { echo "FAIL native_flush_tlb_local: $hooked sites marked pv_ops_native, want its cr3 read and write"; fail=1; }
sub=$("$vmlab" scan --view subsystems "$img")
total=$(printf '%s\n' "$sub" | sed -n '1s/.* \([0-9]*\) sites$/\1/p')
rows=$(printf '%s\n' "$sub" | awk '/^By subsystem/ {on=1; getline; next} on && NF {s += $1} END {print s+0}')
[ -n "$total" ] && [ "$rows" = "$total" ] || { echo "FAIL subsystems add up to $rows sites of $total"; fail=1; }
for s in arch/x86/kernel arch/x86/mm kernel mm; do
    printf '%s\n' "$sub" | grep -Eq "^ +[0-9]+ +[0-9]+  $s " || { echo "FAIL no subsystem $s"; fail=1; }
done
[ "$fail" = 0 ] && echo "ok   $total sites; .altinstr_replacement attributed; pv_ops native sites marked; subsystems add up"
exit $fail
