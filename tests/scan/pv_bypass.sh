#!/bin/sh
# pv_bypass.sh VMLAB SRCDIR KERNEL.ELF — `vmlab scan --diff` names a port overwritten by an
# upgrade (issue 19). It builds a variant of vmlab's own kernel in a temporary directory: guests/
# and cmake/ copied from SRCDIR, the one `pv_ops.flush_tlb();` of vm_clone_cow (guests/kernel/vm.c)
# replaced by a raw cr3 reload (`movl %cr3, %eax; movl %eax, %cr3`), compiled with the same flags
# through a two-line CMake project that includes cmake/guest.cmake and guests/. Then KERNEL.ELF
# (the build's own kernel, OLD) against the variant (NEW) must list exactly one bypass, in
# vm_clone_cow, "was pv_ops.flush_tlb (2 call sites), now raw mov_to_cr +1, mov_from_cr +1" (gcc
# emits that one call twice, on two paths of the function), count it in the
# summary line and exit with status 1; and the variant against itself must be an empty diff.
set -u
vmlab=$1 src=$2 old=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pv_bypass.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/guests" "$src/cmake" "$tmp/"
vmc=$tmp/guests/kernel/vm.c
sed -i '/^int vm_clone_cow(/,/^}/ s/^    pv_ops\.flush_tlb();$/    __asm__ volatile("movl %%cr3, %%eax; movl %%eax, %%cr3" ::: "eax", "memory");/' "$vmc"
grep -q 'movl %%cr3, %%eax' "$vmc" || { echo "FAIL the sed did not patch vm_clone_cow in $vmc"; exit 1; }
cat > "$tmp/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.16)
project(pv_bypass C)
include(\${CMAKE_SOURCE_DIR}/cmake/guest.cmake)
add_subdirectory(guests)
CM
if ! { cmake -S "$tmp" -B "$tmp/build" && cmake --build "$tmp/build" --target guest_kernel; } \
        > "$tmp/build.log" 2>&1; then
    tail -20 "$tmp/build.log"; echo "FAIL building the variant kernel"; exit 1
fi
new=$tmp/build/guests/kernel.elf
fail=0
out=$("$vmlab" scan --diff --pv 'kernel/pvops_*.c,kernel/boot.S' "$old" "$new"); rc=$?
printf '%s\n' "$out"
by=$(printf '%s\n' "$out" | sed -n '/^PV layer bypassed/,/^$/p' | grep '^  ')
[ "$(printf '%s\n' "$by" | grep -c .)" = 1 ] &&
    printf '%s\n' "$by" | grep -q '^  vm_clone_cow  *was pv_ops\.flush_tlb (2 call sites), now raw mov_to_cr +1, mov_from_cr +1$' ||
    { echo "FAIL the bypass list is not exactly vm_clone_cow's flush_tlb: $by"; fail=1; }
[ "$rc" = 1 ] || { echo "FAIL status $rc, not 1"; fail=1; }
printf '%s\n' "$out" | tail -1 | grep -q '; 1 functions bypass the PV layer (2 call sites now raw)$' ||
    { echo "FAIL the summary line does not count the bypass"; fail=1; }
csv=$("$vmlab" scan --diff --csv "$old" "$new" | grep ',pv_bypass,')
[ "$csv" = 'vm_clone_cow,pv_bypass,,,"was pv_ops.flush_tlb (2 call sites), now raw mov_to_cr +1, mov_from_cr +1"' ] ||
    { echo "FAIL --csv bypass row: $csv"; fail=1; }
"$vmlab" scan --diff "$new" "$new" > /dev/null || { echo "FAIL the variant against itself is not an empty diff"; fail=1; }
[ "$fail" = 0 ] && echo "ok   vm_clone_cow: pv_ops.flush_tlb replaced by a raw cr3 reload, named as a bypass"
exit $fail
