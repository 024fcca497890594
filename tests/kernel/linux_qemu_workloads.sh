#!/bin/sh
# linux_qemu_workloads.sh LINUX_DIR — boot every workload of vmlab's Linux guest (issue 14:
# Linux 6.1 i386 with guests/linux/init.c as /init, built by scripts/linux-guest.sh into LINUX_DIR:
# bzImage, initrd.cpio) under qemu-system-i386, the oracle for native behaviour, with a small count
# and check the outcome as qemu_workloads.sh does for the own guest kernel:
#   - every workload: exit status 33 (isa-debug-exit 0x10) and a well-formed result line,
#     `result workload=W n=N ok=1 ops=N` followed only by `key=value` words (compute: ops=N*1000
#     and the checksum the own guest prints for n=20, 75dcc295: the same algorithm on both guests;
#     io: N lines of output, byte for byte the own guest's, no "\r" added)
#   - the fork workloads again with pages= (the result echoes it) and with 32 MiB of RAM, and one
#     workload with repeat=2 (two result lines)
#   - fork, pipe and fault workloads again with the timer interrupting at arbitrary instruction
#     boundaries (-icount shift=9 -singlestep, as qemu_workloads.sh)
#   - the phase marker: with a second isa-debug-exit on the phase port 0xe0, the first phase the
#     init writes ends the machine: status 3 (PHASE_MEASURE) for syscall, 9 (PHASE_BETWEEN) for
#     pgfault, whose blocks start there as the own kernel's do
#   - crash (a deliberate fault in init): status 35 (0x11) and `ok=0 reason=signal-11`, as the own
#     guest's panic ends with 35: a failing init ends the machine rather than hang Linux in a panic
#   - an unknown workload: status 35 and an `ok=0 reason=unknown-workload` line
# Prints one line per check; exits non-zero if any failed. Set QEMU_LOG_DIR to keep consoles (a
# temporary directory otherwise, removed when every check passed).
set -u
dir=${1:?usage: linux_qemu_workloads.sh LINUX_DIR (scripts/linux-guest.sh output)}
. "$(dirname "$0")/qemu_lib.sh"
ql_begin
for f in bzImage initrd.cpio; do
    [ -f "$dir/$f" ] || { echo "FAIL $dir/$f is missing (run scripts/linux-guest.sh $dir)"; exit 1; }
done

extra=""   # more QEMU options for the next boots
tag=""

boot() {  # boot WORKLOAD N [MIB] [WORDS] -> console in $log, exit status in $status
    log="$logdir/$1-${3:-128}$tag.log"
    # shellcheck disable=SC2086
    timeout 300 "$qemu" -kernel "$dir/bzImage" -initrd "$dir/initrd.cpio" \
        -append "console=ttyS0 panic=-1 workload=$1 n=$2${4:+ $4}" -serial stdio -display none \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -m "${3:-128}" $extra \
        </dev/null >"$log" 2>&1
    status=$?
}

# The `ops=` a workload of count N reports.
ops_of() {
    case $1 in
        compute) echo $(($2 * 1000)) ;;
        *) echo "$2" ;;
    esac
}

check() {  # check WORKLOAD N [MIB] [WORDS]
    boot "$@"
    why=""
    line=$(grep "^result " "$log" | head -1)
    if [ "$status" -ne 33 ]; then
        why="exit status $status, expected 33"
    elif [ -z "$line" ]; then
        why="no result line"
    elif ! printf '%s\n' "$line" |
            grep -Eq "^result workload=$1 n=$2 ok=1 ops=$(ops_of "$1" "$2")( [a-z_]+=[0-9a-z]+)*\$"; then
        why="malformed result line: $line"
    elif [ "$1" = compute ] && [ "$2" = 20 ] && ! printf '%s\n' "$line" | grep -q " checksum=75dcc295"; then
        why="checksum differs from the own guest's (75dcc295): $line"
    elif [ "$1" = io ] && [ "$(grep -c "^io [0-9]\{6\} the quick brown fox jumps over the lazy dog\$" "$log")" -ne "$2" ]; then
        why="not $2 well-formed io lines"
    fi
    case " ${4:-} " in
        *" pages="*)
            p=${4#*pages=}; p=${p%% *}
            [ -n "$why" ] || printf '%s\n' "$line" | grep -q " pages=$p " || why="pages=$p not in: $line" ;;
    esac
    report "$1${4:+ $4}${3:+ (${3} MiB)}${tag:+ ($tag)}" "$why"
}

for spec in syscall:200 in:200 pgfault:600 divzero:200 nullcall:200 forkproc:20 execproc:20 \
            ctxsw:200 pagefault:200 mmap:20 forkwait:50 compute:20 io:20; do
    check "${spec%%:*}" "${spec#*:}"
done
check forkwait 20 "" "pages=64"
check forkproc 20 "" "pages=300"
check forkwait 200 32
check execproc 50 32

boot syscall 100 "" "repeat=2"
if [ "$status" -eq 33 ] && [ "$(grep -c "^result workload=syscall n=100 ok=1 ops=100\$" "$log")" -eq 2 ]; then
    report "syscall repeat=2" ""
else
    report "syscall repeat=2" "expected status 33 and two result lines, got status $status"
fi

extra="-icount shift=9,sleep=off -singlestep"
tag="interrupts-anywhere"
for spec in forkwait:30 ctxsw:200 execproc:10 divzero:200 pgfault:300; do
    check "${spec%%:*}" "${spec#*:}"
done

extra="-device isa-debug-exit,iobase=0xe0,iosize=0x04"
tag="phase port"
for spec in syscall:3 pgfault:9; do
    boot "${spec%%:*}" 10
    if [ "$status" -eq "${spec#*:}" ]; then
        report "${spec%%:*}: first phase write" ""
    else
        report "${spec%%:*}: first phase write" "status $status, expected ${spec#*:}"
    fi
done
extra=""
tag=""

boot crash 1
if [ "$status" -eq 35 ] && grep -q "^result workload=crash n=1 ok=0 reason=signal-11\$" "$log"; then
    report crash ""
else
    report crash "expected status 35 and an ok=0 reason=signal-11 line, got status $status"
fi

boot no-such-workload 1
if [ "$status" -eq 35 ] && grep -q "^result workload=no-such-workload n=1 ok=0 reason=unknown-workload" "$log"; then
    report unknown-workload ""
else
    report unknown-workload "expected status 35 and an ok=0 result line, got status $status"
fi
ql_end
