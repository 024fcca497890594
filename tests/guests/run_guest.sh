#!/bin/bash
# run_guest.sh — boot one test guest under QEMU (the oracle) or vmlab and compare what it did
# with what it should do.
#
#   run_guest.sh qemu  NAME ELF
#   run_guest.sh vmlab NAME ELF VMLAB_EXECUTABLE
#
# The console (COM1) must equal tests/guests/NAME.expected, after carriage returns and terminal
# escape sequences are removed and lines starting with `~` (timing-dependent text) are dropped
# on both sides. The exit status must be 33 (the guest wrote 0x10 to isa-debug-exit), except
# for triplefault: QEMU with -no-reboot exits 0, vmlab exits 4 and says "triple fault" on
# stderr. Per-guest facts (command line, expected ending) are in the case blocks below.
#
# Environment: QEMU (default qemu-system-i386), VMLAB_MODE (default native),
# GUEST_TIMEOUT (seconds, default 30), GUEST_KEEP=dir keeps the console and stderr there.
set -u
emu=${1:?usage: run_guest.sh qemu|vmlab NAME ELF [VMLAB]}
name=${2:?guest name}
elf=${3:?guest ELF}
here=$(cd "$(dirname "$0")" && pwd)
expected=$here/$name.expected

args=""
case $name in
  hello) args="hello-arg 42 foo=bar" ;;
esac
want_status=33
want_stderr=""
case $emu:$name in
  qemu:triplefault) want_status=0 ;;
  vmlab:triplefault) want_status=4; want_stderr="triple fault" ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case $emu in
  qemu)
    timeout "${GUEST_TIMEOUT:-30}" "${QEMU:-qemu-system-i386}" -kernel "$elf" -append "$args" \
      -serial stdio -display none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot \
      -m 64 </dev/null >"$work/console" 2>"$work/stderr"
    status=$? ;;
  vmlab)
    vmlab=${4:?vmlab executable}
    if [ ! -x "$vmlab" ]; then
      echo "run_guest: $vmlab is not built" >&2
      exit 1
    fi
    timeout "${GUEST_TIMEOUT:-30}" "$vmlab" run --mode "${VMLAB_MODE:-native}" --guest "$elf" \
      --cmdline "$args" </dev/null >"$work/console" 2>"$work/stderr"
    status=$? ;;
  *)
    echo "run_guest: unknown emulator '$emu' (qemu or vmlab)" >&2
    exit 2 ;;
esac
[ -n "${GUEST_KEEP:-}" ] && cp "$work/console" "$GUEST_KEEP/$name.$emu.console" &&
  cp "$work/stderr" "$GUEST_KEEP/$name.$emu.stderr"

# Console text as compared: no CR, no escape sequences (CSI ... final, or ESC + one char),
# no `~` lines.
normalize() {
  sed -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[ -\/]*[@-~]//g' -e 's/\x1b[^[]//g' "$1" | grep -v '^~'
}

ok=1
if ! diff -u <(normalize "$expected") <(normalize "$work/console") >"$work/diff"; then
  echo "run_guest: $name under $emu: console differs from $name.expected (- expected, + got):"
  cat "$work/diff"
  ok=0
fi
if [ "$status" != "$want_status" ]; then
  echo "run_guest: $name under $emu: exit status $status, want $want_status"
  [ "$status" = 124 ] && echo "run_guest: (timed out after ${GUEST_TIMEOUT:-30} s)"
  ok=0
fi
if [ -n "$want_stderr" ] && ! grep -q "$want_stderr" "$work/stderr"; then
  echo "run_guest: $name under $emu: stderr does not say \"$want_stderr\""
  ok=0
fi
if [ $ok = 0 ]; then
  echo "run_guest: stderr of $emu:"
  tail -n 20 "$work/stderr"
  exit 1
fi
echo "run_guest: $name under $emu: ok"
