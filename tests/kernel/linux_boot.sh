#!/bin/sh
# linux_boot.sh VMLAB LINUX_DIR — the unmodified Linux guest boots under vmlab's native mode, from
# both entry points, and its console equals QEMU's (issue 14). LINUX_DIR is scripts/linux-guest.sh's
# output (bzImage, vmlinux, initrd.cpio).
#
# For each of bzImage (32-bit Linux/x86 boot protocol) and vmlinux (its PVH ELF note):
#   - `vmlab run` in native mode with `workload=syscall n=200` ends with status 33 and the init's
#     result line;
#   - QEMU (the oracle for native behaviour) boots the same image with the same command line and
#     RAM, with the CPU model whose CPUID is what vmlab reports (emu/cpu_model.c): QEMU's qemu64
#     made AuthenticAMD family 6 model 6 stepping 3 with every feature vmlab hides turned off
#     (QEMU_CPU below), and with -icount shift=0: one instruction per nanosecond, the clock vmlab
#     runs by (1e9 instructions per second), so that the TSC calibration against the PIT does not
#     depend on how busy the host is; both consoles, from "Linux version" on, are equal after the
#     filter.
#
# The filter (each rule with why; everything else must match line for line):
#   1. Time: lines that print a measured time or frequency differ run to run and between hosts
#      ("tsc: Detected", "tsc: Fast TSC calibration", clocksource lines with max_cycles, the
#      BogoMIPS line, "sched_clock: Marking stable").
#   2. Firmware memory map: QEMU's BIOS (SeaBIOS) reserves the top 128 KiB of RAM and its ROM at
#      0xfffc0000; vmlab has no BIOS and reports RAM as usable up to its end. Every line that
#      prints the map or a size derived from it is dropped: BIOS-e820, last_pfn, RAMDISK,
#      LOWMEM, "mapped low ram", "low ram", Zone ranges / Normal, node 0 ranges, Initmem setup,
#      "available for PCI devices", "Total pages", "Memory:".
#   3. Asynchronous initcalls: "Unpacking initramfs..." and "Freeing initrd memory" come from a
#      worker whose place among the other lines depends on timing; they are compared as present
#      (both consoles must have them), not by position.
#   4. QEMU's own output before the kernel (SeaBIOS and option ROM banners, terminal escapes) and
#      carriage returns (QEMU's serial line discipline) are removed.
set -u
vmlab=${1:?usage: linux_boot.sh VMLAB LINUX_DIR}
dir=${2:?usage: linux_boot.sh VMLAB LINUX_DIR}
qemu=${QEMU:-qemu-system-i386}
QEMU_CPU="qemu64,vendor=AuthenticAMD,family=6,model=6,stepping=3,-pae,-nx,-lm,-apic,-mce,-mca,-mtrr,-pat,-pse36,-cx16,-hypervisor,-syscall,-svm"
CMDLINE="console=ttyS0 panic=-1 workload=syscall n=200"
command -v "$qemu" >/dev/null || { echo "FAIL: $qemu not found (scripts/install-deps.sh installs qemu-system-x86)"; exit 1; }
for f in bzImage vmlinux initrd.cpio; do
    [ -f "$dir/$f" ] || { echo "FAIL: $dir/$f is missing (run scripts/linux-guest.sh $dir)"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

kernel_part() {  # stdin: a console; stdout: from "Linux version" on, filtered
    tr -d '\r' | sed -n '/Linux version/,$p' | sed 's/^.*Linux version/Linux version/' |
    grep -v -E 'tsc: Detected|tsc: Fast TSC|max_cycles|BogoMIPS|sched_clock: Marking' |
    grep -v -E 'BIOS-e820|last_pfn|RAMDISK|LOWMEM|mapped low ram|^  low ram|Zone ranges|^  Normal|node   0:|Initmem setup|available for PCI|Total pages|^Memory:' |
    grep -v -E 'Unpacking initramfs|Freeing initrd memory' | grep -v '^vmlab run:'
}

for img in bzImage vmlinux; do
    timeout 120 "$vmlab" run --guest "$dir/$img" --initrd "$dir/initrd.cpio" --cmdline "$CMDLINE" \
        --timeout 60 > "$tmp/$img.vmlab" 2> "$tmp/$img.err"
    st=$?
    t0=$(date +%s.%N)
    timeout 120 "$qemu" -nographic -no-reboot -m 256 -cpu "$QEMU_CPU" -icount shift=0 -kernel "$dir/$img" \
        -initrd "$dir/initrd.cpio" -append "$CMDLINE" \
        -device isa-debug-exit,iobase=0xf4,iosize=4 > "$tmp/$img.qemu" 2>&1
    qst=$?
    if [ "$st" != 33 ]; then
        echo "FAIL $img: vmlab exit status $st, want 33"; tail -5 "$tmp/$img.vmlab" "$tmp/$img.err"; failed=1; continue
    fi
    if ! grep -q '^result workload=syscall n=200 ok=1 ops=200$' "$tmp/$img.vmlab"; then
        echo "FAIL $img: no result line from /init under vmlab"; failed=1; continue
    fi
    if [ "$qst" != 33 ]; then
        echo "FAIL $img: QEMU exit status $qst, want 33"; tail -5 "$tmp/$img.qemu"; failed=1; continue
    fi
    for w in 'Unpacking initramfs' 'Freeing initrd memory'; do
        grep -q "$w" "$tmp/$img.vmlab" || { echo "FAIL $img: vmlab console lacks '$w'"; failed=1; }
    done
    kernel_part < "$tmp/$img.vmlab" > "$tmp/$img.v"
    kernel_part < "$tmp/$img.qemu" > "$tmp/$img.q"
    if ! diff -u "$tmp/$img.q" "$tmp/$img.v" > "$tmp/$img.diff"; then
        echo "FAIL $img: console differs from QEMU's (- QEMU, + vmlab):"; cat "$tmp/$img.diff"; failed=1; continue
    fi
    echo "ok $img: status 33 under vmlab native and QEMU; $(wc -l < "$tmp/$img.v") console lines equal after the filter; vmlab: $(grep '^vmlab run:' "$tmp/$img.err" "$tmp/$img.vmlab" | head -1 | sed 's/^[^:]*:vmlab run: //')"
done
exit $failed
