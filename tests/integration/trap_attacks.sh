#!/usr/bin/env bash
# trap_attacks.sh — a guest kernel that attacks the monitor of trap, trap-classic or bt is refused
# or stopped with a clear message, the monitor never crashes, and every refusal is counted.
#
#   tests/integration/trap_attacks.sh BUILD_DIR
#
# The attack guests (tests/guests/attack_*.S, whose headers say what each does) and triplefault
# run with --ram 64 --db, under each monitor (trap, trap-classic, bt: the same expectations, as
# they share the shadow MMU and the window) and natively. Per run: vmlab's status, its stderr (never
# a crash: status < 128, no more lines than listed, the listed text), the console (trap:
# tests/guests/NAME.expected; native: the text listed) and the `refusal` rows of the database
# (all phases; the refusals not listed must be 0):
#
#   guest              mode     status  stderr lines: text               refusals
#   attack_map_beyond  monitor  33      1: guest exit 0x10               frame_outside_ram 1
#                      native   4       1: outside its 64 MiB of RAM     -
#   attack_window      native   35      1: failure code 0x11             -
#                      trap     as native: VT-x leaves the monitor no window in the guest's space
#                      classic  as native, and shadow window_move counted once: the monitor's
#                               window moves away from the region the guest maps (issue 15)
#   attack_bad_cr3     monitor  4       1: CR3 (also in run.message)     bad_cr3 1
#                      native   4       1: triple fault                  -
#   triplefault        monitor  4       1: triple fault                  -
#                      native   4       1: triple fault                  -
#
# Native has no monitor and no refusals: there a beyond-RAM read is a vmlab error, a write to
# 0xffc00000 is an ordinary write, and a walk of a page directory outside RAM faults until the
# CPU shuts down. Exits 1 with the guest, the mode and what differs.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin trap_attacks "${1:-}"
here=$(cd "$(dirname "$0")" && pwd)
guests_src=$(cd "$here/../guests" && pwd)
it_need "$vmlab"
refusals=(frame_outside_ram monitor_window bad_cr3 unemulated_write)

# attack GUEST MODE STATUS LINES STDERR_TEXT CONSOLE_TEXT [REFUSAL]: one run, checked as above.
# CONSOLE_TEXT "=expected" compares with tests/guests/GUEST.expected, otherwise it must appear
# in the console. REFUSAL, if given, must be counted once; every other refusal 0 times.
attack() {
  local g=$1 mode=$2 want=$3 lines=$4 text=$5 console=$6 refused=${7:-} status=0 elf r got
  local tag="$g under $mode" db=$tmp/$g.$mode.db out=$tmp/$g.$mode
  elf=$build/tests/guests/$g.elf
  [ -e "$elf" ] || fail "$elf is not built"
  timeout 60 "$vmlab" run --mode "$mode" --ram 64 --guest "$elf" --db "$db" \
    --console "$out.console" --quiet --timeout 30 </dev/null >/dev/null 2>"$out.err" || status=$?
  [ "$status" -lt 128 ] || fail "$tag: vmlab died with status $status"
  if [ "$status" != "$want" ]; then
    tail -n 5 "$out.err" >&2
    fail "$tag: status $status, want $want"
  fi
  got=$(wc -l < "$out.err")
  if [ "$got" -gt "$lines" ] || ! grep -qF "$text" "$out.err"; then
    cat "$out.err" >&2
    fail "$tag: stderr has $got lines (want at most $lines) or does not say \"$text\""
  fi
  if [ "$console" = "=expected" ]; then
    if ! diff -u "$guests_src/$g.expected" "$out.console" > "$out.diff"; then
      cat "$out.diff" >&2
      fail "$tag: console differs from $g.expected"
    fi
  elif ! grep -qF "$console" "$out.console"; then
    cat "$out.console" >&2
    fail "$tag: console does not say \"$console\""
  fi
  for r in "${refusals[@]}"; do
    got=$(sqlite3 "$db" "SELECT coalesce(sum(e.count), 0) FROM event_count e
                         JOIN event_class c ON c.id = e.class
                         WHERE c.name = 'refusal' AND e.qualifier = '$r'")
    [ "$got" = "$([ "$r" = "$refused" ] && echo 1 || echo 0)" ] ||
      fail "$tag: $got refusals $r counted, want $([ "$r" = "$refused" ] && echo 1 || echo 0)"
  done
  echo "trap_attacks: $tag: status $status, ${refused:-no refusal}: $(tail -n 1 "$out.err")"
}

for mode in trap trap-classic bt; do
  attack attack_map_beyond "$mode" 33 1 "guest exit 0x10" =expected frame_outside_ram
  if [ "$mode" = trap ]; then
    # Under VT-x the monitor keeps nothing in the guest's linear space (no window): the write to
    # 0xffc00010 is the guest's own, as natively.
    attack attack_window trap 35 1 "failure code 0x11" "write completed without a fault"
  else
    # trap-classic, bt: the guest maps the window's region, so the window moves (counted once)
    # and the write is the guest's own, as natively.
    attack attack_window "$mode" 35 1 "failure code 0x11" "write completed without a fault"
    moves=$(sqlite3 "$tmp/attack_window.$mode.db" "SELECT coalesce(sum(e.count), 0)
              FROM event_count e JOIN event_class c ON c.id = e.class
              WHERE c.name = 'shadow' AND e.qualifier = 'window_move'")
    [ "$moves" = 1 ] || fail "attack_window under $mode: $moves window moves counted, want 1"
  fi
  attack attack_bad_cr3 "$mode" 4 1 "CR3" =expected bad_cr3
  message=$(sqlite3 "$tmp/attack_bad_cr3.$mode.db" "SELECT status || ': ' || message FROM run")
  case $message in
    failed:*CR3*) ;;
    *) fail "attack_bad_cr3 under $mode: run row says \"$message\", want failed and CR3" ;;
  esac
  attack triplefault "$mode" 4 1 "triple fault" "triplefault: empty idt, int3"
done
attack attack_map_beyond native 4 1 "outside its 64 MiB of RAM" \
  "pte of 0x40000000 -> frame 0x7f000000"
attack attack_window native 35 1 "failure code 0x11" "write completed without a fault"
attack attack_bad_cr3 native 4 1 "triple fault" =expected
attack triplefault native 4 1 "triple fault" "triplefault: empty idt, int3"
echo "trap_attacks: ok"
