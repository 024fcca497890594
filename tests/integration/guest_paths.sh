#!/usr/bin/env bash
# guest_paths.sh — what a guest image loads does not depend on where the checkout is.
#
#   tests/integration/guest_paths.sh BUILD_DIR
#
# The guest kernel embeds its user programs, debug info included, and its assertions name
# __FILE__; both were absolute paths, so a checkout at /check/work/main built a kernel whose
# .rodata was 364 bytes longer than one at /work/main, the layout moved and kerncomp's TLB counts
# with it (CI failed golden_counts while every local run passed). cmake/guest.cmake maps the
# source and build directories away (-ffile-prefix-map). This check takes the bytes every
# guest ELF of the build loads (its allocated sections, objcopy -O binary per section) and fails
# if the checkout's or the build directory's path occurs in them.
set -eu
. "$(dirname "$0")/lib.sh"
it_begin guest_paths "${1:-}"
it_need "$kernel"
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v objcopy > /dev/null || fail "objcopy is not installed (binutils)"
images=("$kernel" "$build"/guests/user/*.elf "$build"/tests/guests/*.elf)
[ "${#images[@]}" -ge 10 ] || fail "only ${#images[@]} guest images under $build"
checked=0
for elf in "${images[@]}"; do
  objcopy -O binary "$elf" "$tmp/loaded.bin" 2> "$tmp/objcopy.err" ||
    { cat "$tmp/objcopy.err" >&2; fail "objcopy -O binary $elf"; }
  [ -s "$tmp/loaded.bin" ] || fail "$elf loads no bytes"
  for dir in "$root" "$build"; do
    if grep -aqF "$dir/" "$tmp/loaded.bin"; then
      fail "$elf loads the path $dir/ ($(grep -aoF "$dir/" "$tmp/loaded.bin" | wc -l) times)"
    fi
  done
  checked=$((checked + 1))
done
echo "guest_paths: $checked guest images load no path of $root or $build"
