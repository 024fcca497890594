#!/bin/sh
# qemu_workloads.sh KERNEL_ELF SUITE — boot every workload of the guest kernel under
# qemu-system-i386 (the oracle for native behaviour) and check the outcome: every entry of SUITE
# at its n and the semantic checks (workload_list.sh), then:
#   - normal workloads: exit status 33 (isa-debug-exit 0x10) and a `result workload=W ... ok=1` line
#   - holes: additionally differ=0 (at true ring 0 every probe sees what ring 0 should)
#   - panic: exit status 35 (0x11) and a `panic: ` line
#   - selftest (fatal faults, copy-on-write, demand-zero, pipe end-of-file), fstest (the file
#     system), sigtest (signals), shtest (sh and exec), and forkwait again with 32 MiB of RAM, the
#     least the kernel is meant to work with
#   - fork, pipe, signal, exec and fault workloads again with the timer interrupting at arbitrary
#     instruction
#     boundaries (-icount shift=9: a tick every ~20000 instructions; -singlestep: one instruction
#     per translation block, so an interrupt can land between any two instructions)
# Prints one line per workload; exits non-zero if any failed. Set QEMU_LOG_DIR to keep consoles (a
# temporary directory otherwise, removed when every check passed).
set -u
elf=${1:?usage: qemu_workloads.sh KERNEL_ELF SUITE}
suite=${2:?usage: qemu_workloads.sh KERNEL_ELF SUITE}
. "$(dirname "$0")/qemu_lib.sh"
. "$(dirname "$0")/workload_list.sh"
specs=$(workload_specs "$suite") || exit 1
ql_begin

extra=""   # more QEMU options for the next boots
tag=""

boot() {  # boot WORKLOAD N [MIB] -> console in $log, exit status in $status
    log="$logdir/$1-${3:-256}$tag.log"
    # shellcheck disable=SC2086
    timeout 60 "$qemu" -kernel "$elf" -append "workload=$1 n=$2" -serial stdio -display none \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -m "${3:-256}" $extra \
        </dev/null >"$log" 2>&1
    status=$?
}

check() {  # check WORKLOAD N [MIB]
    boot "$@"
    why=""
    if [ "$status" -ne 33 ]; then
        why="exit status $status, expected 33"
    elif ! grep -q "^result workload=$1 n=$2 ok=1" "$log"; then
        why="no 'result workload=$1 n=$2 ok=1' line"
    elif [ "$1" = holes ] && ! grep -q "^result workload=holes .*differ=0" "$log"; then
        why="some probe differs from true ring 0"
    fi
    report "$1${3:+ (${3} MiB)}${tag:+ ($tag)}" "$why"
}

for spec in $specs; do
    check "${spec%%:*}" "${spec#*:}"
done
check forkwait 500 32

extra="-icount shift=9,sleep=off -singlestep"
tag="interrupts-anywhere"
for spec in forkwait:100 ctxsw:500 ctxsw_8p_16k:80 execproc:20 shproc:20 mmap:20 pagefault:100 \
            sighndl:200 protfault:200 kerncomp:8 selftest:1 fstest:1 sigtest:1 shtest:1; do
    check "${spec%%:*}" "${spec#*:}"
done
extra=""
tag=""

boot panic 1
why=""
if [ "$status" -ne 35 ]; then
    why="exit status $status, expected 35"
elif ! grep -q "^panic: " "$log"; then
    why="no 'panic: ' line"
fi
report panic "$why"

boot no-such-workload 1
if [ "$status" -eq 35 ] && grep -q "^result workload=no-such-workload .*ok=0 reason=" "$log"; then
    report unknown-workload ""
else
    report unknown-workload "expected status 35 and an ok=0 result line, got status $status"
fi
ql_end
