#!/usr/bin/env bash
# trap_attack_pde_refused.sh — a guest PDE that names a page table outside guest memory is
# refused under trap, and the refusal is counted, as for a PTE (shadow_events.def:
# frame_outside_ram, "guest PTE/PDE names memory it does not own").
#
#   tests/integration/trap_attack_pde_refused.sh BUILD_DIR
#
# attack_map_beyond with "pde" on its command line, --ram 64, under trap: the PDE of 0x40000000
# names 0x7f000000 as its page table and the guest reads 0x40000000. Want: status 33 (the
# guest's #PF handler passes), its console says "#PF cr2=0x40000000", one line on stderr, and
# exactly one frame_outside_ram refusal in the database (no other refusal).
set -eu
. "$(dirname "$0")/lib.sh"
it_begin trap_attack_pde_refused "${1:-}"
elf=$build/tests/guests/attack_map_beyond.elf
it_need "$vmlab" "$elf"

status=0
timeout 60 "$vmlab" run --mode trap --ram 64 --guest "$elf" --cmdline pde --db "$tmp/t.db" \
  --console "$tmp/console" --quiet --timeout 30 </dev/null >/dev/null 2>"$tmp/err" || status=$?
[ "$status" = 33 ] || fail "status $status, want 33 ($(tail -n 1 "$tmp/err"))"
grep -qF "#PF cr2=0x40000000" "$tmp/console" || fail "the guest saw no page fault at 0x40000000"
[ "$(wc -l < "$tmp/err")" -le 1 ] || fail "stderr has more than one line: $(cat "$tmp/err")"
q="SELECT e.qualifier || '=' || sum(e.count) FROM event_count e JOIN event_class c
   ON c.id = e.class WHERE c.name = 'refusal' GROUP BY e.qualifier ORDER BY e.qualifier"
got=$(sqlite3 "$tmp/t.db" "$q" | tr '\n' ' ')
[ "$got" = "frame_outside_ram=1 " ] ||
  fail "refusals counted: '${got:-none}', want 'frame_outside_ram=1'"
echo "trap_attack_pde_refused: ok"
