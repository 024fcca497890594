#!/usr/bin/env bash
# trap_ept.sh — what nested paging changes (issue 17), counted exactly.
#
#   tests/integration/trap_ept.sh BUILD_DIR
#
# Each count is the difference of two runs that differ in one thing, so what is constant (the
# phase markers' port exits, the loop's own pages) cancels:
#   - cr3, ptemod, pgfault: n=200 takes exactly as many VM exits in the measured phase as n=100
#     under trap-ept (CR3 loads, PTE stores and the guest's page faults do not exit), while under
#     trap each operation exits at least once;
#   - tlb pages=17 minus pages=1: 16 x n more data-TLB misses, each a two-dimensional walk of
#     2 guest-table entries (count2 of the miss rows) and 12 EPT entries (count2 of reason 9,
#     ept walk vpid): 4 for each of the 3 guest-physical addresses translated, 14 = (2+1)(4+1)-1
#     references per miss;
#   - EPT violations (first touches) in the boot, none in the measured loop of tlb pages=17.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin trap_ept "${1:-}"
it_need "$vmlab" "$kernel"

exits() { it_count "$1" exit "1"; }

for w in cr3 ptemod pgfault; do
  for mode in trap-ept trap; do
    it_run_pass "$tmp/$w.$mode.1.db" "$mode" "workload=$w n=100"
    it_run_pass "$tmp/$w.$mode.2.db" "$mode" "workload=$w n=200"
    d=$(( $(exits "$tmp/$w.$mode.2.db") - $(exits "$tmp/$w.$mode.1.db") ))
    if [ "$mode" = trap-ept ]; then
      expect "$w under trap-ept: exits of n=200 minus n=100" "$d" 0
    else
      at_least "$w under trap: exits of n=200 minus n=100" "$d" 100
    fi
  done
done

n=100
it_run_pass "$tmp/k1.db" trap-ept "workload=tlb pages=1 n=$n"
it_run_pass "$tmp/k17.db" trap-ept "workload=tlb pages=17 n=$n"
sum() { sqlite3 "$1" "SELECT coalesce(sum(e.$2), 0) FROM event_count e JOIN event_class c
                      ON c.id = e.class WHERE e.phase = 1 AND c.name = 'tlb' AND e.reason = $3"; }
expect "dtlb misses, pages=17 minus pages=1" \
  $(( $(sum "$tmp/k17.db" count 6) - $(sum "$tmp/k1.db" count 6) )) $((16 * n))
expect "guest-table entries read, pages=17 minus pages=1" \
  $(( $(sum "$tmp/k17.db" count2 6) - $(sum "$tmp/k1.db" count2 6) )) $((16 * n * 2))
expect "EPT walks, pages=17 minus pages=1" \
  $(( $(sum "$tmp/k17.db" count 9) - $(sum "$tmp/k1.db" count 9) )) $((16 * n))
expect "EPT entries read, pages=17 minus pages=1" \
  $(( $(sum "$tmp/k17.db" count2 9) - $(sum "$tmp/k1.db" count2 9) )) $((16 * n * 12))

# EPT violations: every guest frame's first touch, so the boot takes them and the measured loop,
# whose pages were all touched in the set-up phase, none (test_ept.c counts them exactly: one per
# frame mapped).
boot=$(sqlite3 "$tmp/k17.db" "SELECT coalesce(sum(e.count), 0) FROM event_count e JOIN event_class c
                             ON c.id = e.class WHERE c.name = 'exit' AND e.reason = 48 AND e.phase = 0")
at_least "EPT violations of the boot" "$boot" 1
expect "EPT violations of the measured loop" "$(it_count "$tmp/k17.db" exit "e.reason = 48")" 0
echo "trap_ept: no exit per cr3, ptemod or pgfault operation; 14 entries per 2-D walk; $boot EPT violations in the boot, none measured"
