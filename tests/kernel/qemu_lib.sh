# qemu_lib.sh — what the QEMU workload scripts (qemu_workloads.sh for the own guest kernel,
# linux_qemu_workloads.sh for the Linux guest) share: sourced, never run.
#
#   . "$(dirname "$0")/qemu_lib.sh"
#   ql_begin                 qemu: $QEMU or qemu-system-i386, which must be installed (else FAIL
#                            naming it, exit 1); logdir: $QEMU_LOG_DIR or a temporary directory;
#                            failed=0
#   report WHAT [WHY]        "ok   WHAT" when WHY is empty; else "FAIL WHAT: WHY (console: $log)"
#                            with the last 5 lines of $log, and failed=1
#   ql_end                   removes a temporary log directory if every check passed (the FAIL
#                            lines name their logs), then exits with $failed

ql_begin() {
    qemu=${QEMU:-qemu-system-i386}
    command -v "$qemu" >/dev/null ||
        { echo "FAIL $qemu not found (scripts/install-deps.sh installs qemu-system-x86)"; exit 1; }
    logdir=${QEMU_LOG_DIR:-}
    own_logdir=""
    [ -n "$logdir" ] || { logdir=$(mktemp -d); own_logdir=$logdir; }
    mkdir -p "$logdir"
    failed=0
}

report() {
    if [ -z "$2" ]; then
        echo "ok   $1"
    else
        echo "FAIL $1: $2 (console: $log)"
        sed 's/^/     | /' "$log" | tail -5
        failed=1
    fi
}

ql_end() {
    [ "$failed" -ne 0 ] || [ -z "$own_logdir" ] || rm -rf "$own_logdir"
    exit "$failed"
}
