#!/usr/bin/env bash
# fork_pagetables.sh — fork and exit do a Unix kernel's page-table work (issue 12), and every mode
# sees each store its own way.
#
#   tests/integration/fork_pagetables.sh BUILD_DIR
#
# `forkwait pages=N n=R` grows the parent to N present user pages (text read-only; data, 16
# stack pages and heap writable: W of them, as its result line says), forks once before the
# measured loop, then R times writes all W pages and forks a child that exits at once. Per
# measured fork the kernel (guests/kernel/vm.c) must make:
#
#   native   the guest's own count (vm_counters, in the result line): N PTE stores into the
#            child's new tables (child_ptes), W write-protects of the parent (wrprotects), N
#            clears at the child's exit (clears); T = tables/R >= 2 child page tables (N spans
#            more than one 4 MiB region); 0 < W < N; every mode prints the same line
#   trap,    class shadow, traced_write, phase 1 = R x (W + (N - U) + W): the W write-protects
#   trap-    and the clears in the tables the child touched are stores to live, shadowed tables
#   classic  (the child runs its text and its stack: those two tables are shadowed when it
#            exits); U = the heap pages past 0x08400000 (text, data and heap are contiguous from
#            0x08048000, 952 pages to that boundary; the 16 stack pages are in their own table):
#            their table the child never touches, so the monitor never shadows it and their
#            clears are ordinary stores. The parent takes W copy-on-write faults (its stack page
#            right after fork, then W - 1 re-written pages) and the child one (its stack page),
#            W + 1 true faults, whose PTE stores are traced but for the child's: its first touch
#            of its stack table is that faulting write, so the table is not shadowed yet when
#            the kernel fixes the entry. The N child stores are no traced write: the child's
#            tables are ordinary frames when fork fills them (the previous child's, recycled:
#            zeroing the directory and the two tables that child ran on unshadows them, 3
#            unshadow per fork; a table it never touched was never traced)
#   pv       class validation, phase 1: T L1 validations of N entries in all (each child table
#            pinned once, filled) and one L2 (the child's directory); mmu_update elements (table
#            hypercall, phase 1, inside multicalls or not) = R x (W + T + W + 1): the W
#            write-protects batched, one directory entry per child table, one per copy-on-write
#            fault; none for the N clears (exit_mmap unpinned the tree: plain stores) or the N
#            child stores (ordinary memory before the pin)
#
# Two sizes: the default suite's N=256 (two tables) and N=1100 (the heap crosses into a third).
# forkproc pages=N (lmbench's lat_proc: the parent writes only its stack between forks) makes N
# child stores and N clears per fork too, and write-protects only what it wrote: between 1 and
# 2 pages a fork. Exits 1 naming the count that disagrees.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin fork_pagetables "${1:-}"
it_need "$vmlab" "$kernel"
R=8
modes=(native trap trap-classic pv)
# U's terms, from their definitions: the stack pages (guests/user/workloads.h) and the pages from
# the program's base, USER_TEXT 0x08048000 (guests/kernel/layout.h), to the 4 MiB boundary
# 0x08400000 (952).
src=$(cd "$(dirname "$0")/../.." && pwd)
stack_pages=$(sed -n 's/^#define IMAGE_STACK_PAGES \([0-9][0-9]*\).*/\1/p' "$src/guests/user/workloads.h")
[ -n "$stack_pages" ] || fail "no IMAGE_STACK_PAGES in guests/user/workloads.h"
text=$(sed -n 's/^#define USER_TEXT  *\(0x[0-9a-fA-F]*\)u.*/\1/p' "$src/guests/kernel/layout.h")
[ -n "$text" ] || fail "no USER_TEXT in guests/kernel/layout.h"
below_4m=$(( ((text | 0x3fffff) + 1 - text) / 4096 ))

# field NAME FILE: the value of NAME=... on the result line of console FILE.
field() {
  sed -n "s/^result .* $1=\([0-9]*\).*/\1/p" "$2"
}

# phase1_hyper DB NR: the elements of hypercall NR made in phase 1 (table hypercall: every call,
# inside a multicall or not, with its batch size).
phase1_hyper() {
  sqlite3 "$1" "SELECT coalesce(sum(h.batch), 0) FROM hypercall h JOIN run_phase p
                ON p.run_id = h.run_id AND p.phase = 1
                WHERE h.nr = $2 AND h.icount >= p.first_icount AND h.icount < p.last_icount"
}

# phase1_valid DB LEVEL WHAT: count(*) or sum(entries) of the phase-1 validations of LEVEL.
phase1_valid() {
  sqlite3 "$1" "SELECT coalesce($3, 0) FROM validation v JOIN run_phase p
                ON p.run_id = v.run_id AND p.phase = 1
                WHERE v.level = $2 AND v.icount >= p.first_icount AND v.icount < p.last_icount"
}

pids=()
for N in 256 1100; do
  for m in "${modes[@]}"; do
    it_run_pass "$tmp/fw$N.$m.db" "$m" "workload=forkwait n=$R pages=$N" & pids+=($!)
  done
done
it_run_pass "$tmp/fp.native.db" native "workload=forkproc n=$R pages=256" & pids+=($!)
for p in "${pids[@]}"; do
  wait "$p" || exit 1
done

for N in 256 1100; do
  con=$tmp/fw$N.native.db.console
  grep -q "^result workload=forkwait n=$R ok=1 " "$con" || fail "forkwait pages=$N: no ok result"
  expect "forkwait pages=$N: pages" "$(field pages "$con")" "$N"
  W=$(field writable "$con")
  [ "$W" -gt 0 ] && [ "$W" -lt "$N" ] || fail "forkwait pages=$N: writable=$W, want 0 < W < $N"
  expect "forkwait pages=$N: child PTE stores (kernel count)" "$(field child_ptes "$con")" \
         "$((R * N))"
  expect "forkwait pages=$N: parent write-protects (kernel count)" "$(field wrprotects "$con")" \
         "$((R * W))"
  expect "forkwait pages=$N: exit clears (kernel count)" "$(field clears "$con")" "$((R * N))"
  tables=$(field tables "$con")
  [ $((tables % R)) = 0 ] || fail "forkwait pages=$N: $tables child tables in $R forks"
  T=$((tables / R))
  at_least "forkwait pages=$N: child page tables per fork" "$T" 2
  U=$((N - stack_pages - below_4m))
  [ "$U" -gt 0 ] || U=0
  for m in "${modes[@]}"; do
    a=$(grep '^result ' "$con")
    b=$(grep '^result ' "$tmp/fw$N.$m.db.console")
    expect "forkwait pages=$N under $m: result line" "$b" "$a"
  done

  for m in trap trap-classic; do
    db=$tmp/fw$N.$m.db
    expect "forkwait pages=$N under $m: true faults (W + 1 per fork)" \
           "$(it_count "$db" shadow "e.qualifier = 'true_fault'")" "$((R * (W + 1)))"
    expect "forkwait pages=$N under $m: traced writes (W + N - U + W per fork, U=$U)" \
           "$(it_count "$db" shadow "e.qualifier = 'traced_write'")" "$((R * (2 * W + N - U)))"
    expect "forkwait pages=$N under $m: unshadows (the recycled directory and 2 tables a fork)" \
           "$(it_count "$db" shadow "e.qualifier = 'unshadow'")" "$((R * 3))"
  done

  db=$tmp/fw$N.pv.db
  expect "forkwait pages=$N under pv: L1 validations (one per child table)" \
         "$(phase1_valid "$db" 1 'count(*)')" "$((R * T))"
  expect "forkwait pages=$N under pv: entries of those validations" \
         "$(phase1_valid "$db" 1 'sum(v.entries)')" "$((R * N))"
  expect "forkwait pages=$N under pv: L2 validations (the child's directory)" \
         "$(phase1_valid "$db" 2 'count(*)')" "$R"
  expect "forkwait pages=$N under pv: copy-on-write faults (hvtrap #PF)" \
         "$(it_count "$db" hvtrap "e.reason = 14")" "$((R * (W + 1)))"
  expect "forkwait pages=$N under pv: mmu_update elements (W + T + W + 1 per fork)" \
         "$(phase1_hyper "$db" 1)" "$((R * (2 * W + T + 1)))"
  echo "$IT_NAME: forkwait pages=$N: W=$W T=$T per fork: $N child stores, $W write-protects," \
       "$N clears; trap/trap-classic $((2 * W + N - U)) traced writes; pv $T+1 validations," \
       "$((2 * W + T + 1)) mmu_update elements"
done

con=$tmp/fp.native.db.console
expect "forkproc pages=256: child PTE stores" "$(field child_ptes "$con")" "$((R * 256))"
expect "forkproc pages=256: exit clears" "$(field clears "$con")" "$((R * 256))"
wp=$(field wrprotects "$con")
[ "$wp" -ge "$R" ] && [ "$wp" -le $((2 * R)) ] ||
  fail "forkproc pages=256: $wp write-protects in $R forks, want 1 or 2 a fork (its stack)"
echo "$IT_NAME: ok"
