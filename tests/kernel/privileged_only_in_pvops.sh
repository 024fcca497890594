#!/bin/sh
# privileged_only_in_pvops.sh KERNEL_OBJECT_DIR — the paravirt-ops invariant, checked on the
# compiled kernel: no object file other than the pv-ops tables (pvops_native.c, and pvops_pv.c,
# whose iret and instrumentation-port I/O are legal in ring 1 under the `pv` hypervisor) and the
# early-boot stub (boot.S) contains a privileged instruction. A paravirtual port is one file.
# Sensitive-but-unprivileged instructions (pushf/popf, sgdt, ...) are not privileged and are
# allowed (the holes workload executes them on purpose). The check first proves it can see:
# pvops_native.c must show privileged instructions, and every object must disassemble.
set -u
dir=${1:?usage: privileged_only_in_pvops.sh KERNEL_OBJECT_DIR}
privileged='^(cli|sti|hlt|lgdt[lw]?|lidt[lw]?|lldt|ltr|lmsw|clts|invlpg|invd|wbinvd|rdmsr|wrmsr|iret[lwd]?|in[bwl]?|out[bwl]?|ins[bwl]?|outs[bwl]?)$'
failed=0
found=0

# privileged_in OBJ: the privileged instructions in OBJ, one a line; the script fails if OBJ
# cannot be disassembled (no objdump would otherwise read as "none found").
privileged_in() {
    objdump -d --no-show-raw-insn "$1" >"$listing" ||
        { echo "FAIL objdump could not disassemble $1" >&2; exit 1; }
    awk -F'\t' 'NF >= 2 { print $2 }' "$listing" |
        awk -v re="$privileged" '{ if ($1 ~ re || $0 ~ /%cr[0-4]|%dr[0-7]/) print }' | sort -u
}
listing=$(mktemp)
trap 'rm -f "$listing"' EXIT

# The detector must see what pvops_native.c is there to do, or it would pass anything.
native=$dir/kernel_pvops_native_c.o
[ -e "$native" ] || { echo "FAIL $native is missing"; exit 1; }
hits=$(privileged_in "$native") || exit 1
[ -n "$hits" ] ||
    { echo "FAIL no privileged instruction found in pvops_native.c: the check is blind"; exit 1; }

for obj in "$dir"/*.o; do
    found=1
    case "$(basename "$obj")" in
        kernel_pvops_native_c.o|kernel_pvops_pv_c.o|kernel_boot_S.o) continue ;;
    esac
    hits=$(privileged_in "$obj") || exit 1
    if [ -n "$hits" ]; then
        echo "FAIL $(basename "$obj"): $(echo "$hits" | tr '\n' ';')"
        failed=1
    fi
done
[ "$found" = 1 ] || { echo "FAIL no object files in $dir"; exit 1; }
[ "$failed" = 0 ] && echo "ok   privileged instructions only in pvops_native.c, pvops_pv.c and boot.S"
exit $failed
