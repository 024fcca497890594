# workload_list.sh — the workloads the kernel boot tests run: sourced, never run.
#
#   . "$(dirname "$0")/workload_list.sh"
#   workload_specs SUITE     prints one NAME:N line per workload of SUITE (models/suites/*.yaml,
#                            each `- workload:` entry with its `n:`), then the semantic checks
#                            that are in no suite: selftest fstest sigtest shtest, n = 1
#
# So a workload added to the suite is booted under QEMU, compared with vmlab's native mode and
# with the pv port as soon as it is there; the checks of the kernel's features come with it.
# Fails (status 1, one line) when SUITE has an entry without n:.

workload_specs() {
    awk '/^[[:space:]]*-[[:space:]]*workload:/ { if (w != "") bad = 1; w = $3 }
         /^[[:space:]]*n:/ { if (w != "") print w ":" $2; w = "" }
         END { if (w != "" || bad) exit 1 }' "$1" ||
        { echo "FAIL $1: a workload entry without n:" >&2; return 1; }
    for check in selftest fstest sigtest shtest; do
        echo "$check:1"
    done
}
