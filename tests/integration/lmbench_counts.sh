#!/usr/bin/env bash
# lmbench_counts.sh — the lmbench workloads (issue 18) do what their definitions say, counted.
#
#   tests/integration/lmbench_counts.sh BUILD_DIR
#
# Natively, in the measured phase (phase 1) of n operations, the system calls (softint 0x80)
# and page faults (fault 14) each definition implies, plus the one int 0x80 of the phase() call
# that ends the phase:
#
#   nullio, stat, siginst, filedelete       1 call per operation:  n + 1
#   openclose, sighndl, filecreate, mmap    2 (open + close; kill + sigreturn; open + close;
#                                           mmap + munmap):        2n + 1
#   filecreate_10k                          3 (open, write, close): 3n + 1
#   execproc                                4 (fork, waitpid, exec, exit): 4n + 1
#   shproc                                  5 (fork, waitpid, exec sh, sh's exec true, exit)
#   protfault, pagefault                    1 #PF per operation; mmap 4 (a write every 16 KiB of
#                                           64 KiB); pagefault's phase 3 has no #PF
#   and the calibrated ones run no system call in phase 3 but the closing phase() call's
#
# In every mode:
#   ctxsw procs=P   P switches per round: with n = R x P operations (R rounds) the measured
#                   phase loads CR3 exactly n times (trap: exit CR_ACCESS cr3/write; the other
#                   modes by the same count of the guest's own loads natively: priv mov_to_cr),
#                   for P = 2, 8, 16 and K = 0 and 16; phase 3 (the overhead, one process)
#                   switches nothing; result line ops=n; natively no fault in phase 1 (the
#                   warm-up round took each member's first-touch faults)
#   sighndl         exactly one signal delivered per operation: the kernel's own count (kstat,
#                   on the result line) signals=n, sigreturns=n, and the handler's caught=n
#   protfault       the same, one SIGSEGV per write
#   kerncomp        links=ceil(n / 8) on the result line, the same checksum in every mode
#
# Exits 1 with the first count that disagrees.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin lmbench_counts "${1:-}"
it_need "$vmlab" "$kernel"
modes=(native trap trap-classic bt pv)

# field NAME DB: the value of NAME=... on the result line of DB's run (its console).
field() {
  sed -n "s/^result .* $1=\([0-9a-f]*\).*/\1/p" "$2.console"
}

N=100
declare -A calls=([nullio]=1 [stat]=1 [siginst]=1 [filedelete]=1 [openclose]=2 [sighndl]=2
                  [filecreate]=2 [mmap]=2 [filecreate_10k]=3 [protfault]=1 [pagefault]=0)
for w in "${!calls[@]}"; do
  it_go "$tmp/$w.db" native "workload=$w n=$N"
done
it_go "$tmp/execproc.db" native "workload=execproc n=10"
it_go "$tmp/shproc.db" native "workload=shproc n=10"
rings=("2 0" "8 0" "16 0" "2 16" "8 16" "16 16")
for m in "${modes[@]}"; do
  for r in "${rings[@]}"; do
    set -- $r
    it_go "$tmp/ctx_$1_$2.$m.db" "$m" "workload=ctxsw procs=$1 kb=$2 n=$((3 * $1))"
  done
  it_go "$tmp/sighndl.$m.db" "$m" "workload=sighndl n=$N"
  it_go "$tmp/protfault.$m.db" "$m" "workload=protfault n=$N"
  it_go "$tmp/kerncomp.$m.db" "$m" "workload=kerncomp n=12"
done
it_go_wait

sc="e.reason = 128"
pf="e.reason = 14"
for w in "${!calls[@]}"; do
  db=$tmp/$w.db
  [ "$w" = pagefault ] ||
    expect "$w: int 0x80 in phase 1" "$(it_phase_count "$db" 1 softint "$sc")" $((calls[$w] * N + 1))
  [ "$w" = pagefault ] ||
    expect "$w: int 0x80 in phase 3" "$(it_phase_count "$db" 3 softint "$sc")" 1
done
expect "protfault: #PF per operation" "$(it_phase_count "$tmp/protfault.db" 1 fault "$pf")" "$N"
expect "pagefault: #PF per operation" "$(it_phase_count "$tmp/pagefault.db" 1 fault "$pf")" "$N"
expect "pagefault: #PF in phase 3" "$(it_phase_count "$tmp/pagefault.db" 3 fault "$pf")" 0
expect "mmap: #PF per operation" "$(it_phase_count "$tmp/mmap.db" 1 fault "$pf")" $((4 * N))
expect "execproc: int 0x80" "$(it_phase_count "$tmp/execproc.db" 1 softint "$sc")" 41
expect "shproc: int 0x80" "$(it_phase_count "$tmp/shproc.db" 1 softint "$sc")" 51
echo "lmbench_counts: native system calls and faults per operation as defined"

for m in "${modes[@]}"; do
  for r in "${rings[@]}"; do
    set -- $r
    db=$tmp/ctx_$1_$2.$m.db
    n=$((3 * $1))
    expect "ctxsw procs=$1 kb=$2 under $m: ops" "$(field ops "$db")" "$n"
    if [ "$m" = trap ]; then
      got=$(it_phase_count "$db" 1 exit "e.reason = 28 AND e.qualifier = 'cr3/write'")
      cal=$(it_phase_count "$db" 3 exit "e.reason = 28 AND e.qualifier = 'cr3/write'")
    elif [ "$m" = native ]; then
      got=$(it_phase_count "$db" 1 priv "e.qualifier = 'mov_to_cr'")
      cal=$(it_phase_count "$db" 3 priv "e.qualifier = 'mov_to_cr'")
      expect "ctxsw procs=$1 kb=$2 natively: faults in phase 1" \
             "$(it_phase_count "$db" 1 fault 1)" 0
    else
      continue
    fi
    expect "ctxsw procs=$1 kb=$2 under $m: CR3 loads in 3 rounds" "$got" "$n"
    expect "ctxsw procs=$1 kb=$2 under $m: CR3 loads in the overhead" "$cal" 0
  done
  for w in sighndl protfault; do
    db=$tmp/$w.$m.db
    for f in ops caught signals sigreturns; do
      expect "$w under $m: $f" "$(field "$f" "$db")" "$N"
    done
  done
  expect "kerncomp under $m: links" "$(field links "$tmp/kerncomp.$m.db")" 2
  expect "kerncomp under $m: checksum" "$(field checksum "$tmp/kerncomp.$m.db")" \
         "$(field checksum "$tmp/kerncomp.native.db")"
done
echo "lmbench_counts: ctxsw switches P times a round and nothing in its overhead; one signal" \
     "per sighndl and protfault operation; kerncomp links and checksums, in every mode"
echo "lmbench_counts: ok"
