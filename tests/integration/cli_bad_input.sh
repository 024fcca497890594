#!/bin/bash
# cli_bad_input.sh — `vmlab run` (and `vmlab compare` with a bad suite) refuses bad input cleanly.
#
#   cli_bad_input.sh VMLAB_EXECUTABLE
#
# Every case runs vmlab with one thing wrong (a flag, an option value, the guest file, a path) and
# checks the contract of emu/cmd_run.c: a non-zero exit status (2 for bad usage or input, 4 for a
# failed guest, 6 for a limit), exactly one line on stderr naming the problem, and never a crash
# (no status >= 128). A failed run recorded with --db must show up as `failed` with the same
# message. The guest files are built here, byte by byte: the smallest Multiboot ELF (one PT_LOAD
# at 1 MiB holding the Multiboot header and the code) and variants with one thing broken.
set -u
vmlab=${1:?usage: cli_bad_input.sh VMLAB_EXECUTABLE}
if [ ! -x "$vmlab" ]; then
  echo "cli_bad_input: $vmlab is not built" >&2
  exit 1
fi
if ! command -v sqlite3 >/dev/null; then
  echo "cli_bad_input: sqlite3 is needed to read the failed runs' rows" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# ---- building guest files -------------------------------------------------------------------
u8() { printf "\\$(printf %03o "$(($1 & 255))")"; }
u16() { u8 "$1"; u8 "$(($1 >> 8))"; }
u32() { u16 "$(($1 & 0xffff))"; u16 "$((($1 >> 16) & 0xffff))"; }
bytes() { for b in "$@"; do u8 "$((b))"; done; }

# elf FILE CODE-BYTES... — a Multiboot ELF; these variables change one thing:
#   CLASS (1: 32-bit), MACHINE (3: EM_386), PHOFF (52), PADDR (0x100000), MAGIC (0x1badb002,
#   0 for no Multiboot header), MEMSZ (file size of the segment).
elf() {
  local out=$1; shift
  local class=${CLASS:-1} machine=${MACHINE:-3} phoff=${PHOFF:-52} paddr=${PADDR:-0x100000}
  local magic=${MAGIC:-0x1badb002} filesz=$((12 + $#))
  local memsz=${MEMSZ:-$filesz}
  {
    bytes 0x7f 0x45 0x4c 0x46 "$class" 1 1 0 0 0 0 0 0 0 0 0
    u16 2; u16 "$machine"; u32 1; u32 $((paddr + 12)); u32 "$phoff"; u32 0; u32 0
    u16 52; u16 32; u16 1; u16 40; u16 0; u16 0
    u32 1; u32 96; u32 "$paddr"; u32 "$paddr"; u32 "$filesz"; u32 "$memsz"; u32 7; u32 4
    bytes 0 0 0 0 0 0 0 0 0 0 0 0
    u32 "$magic"; u32 0; u32 $(((0x100000000 - magic) & 0xffffffff))
    bytes "$@"
  } >"$out"
}

exit_code=(0xb8 0x10 0x00 0x00 0x00 0xe7 0xf4 0xeb 0xfe)   # mov eax, 0x10; out 0xf4, eax; jmp $
# lidt [0x100016] (limit 0); int3; jmp $; the 6-byte IDT register image
triple_code=(0x0f 0x01 0x1d 0x16 0x00 0x10 0x00 0xcc 0xeb 0xfe 0 0 0 0 0 0)

elf "$work/ok.elf" "${exit_code[@]}"
elf "$work/triple.elf" "${triple_code[@]}"
elf "$work/spin.elf" 0xeb 0xfe
elf "$work/clihlt.elf" 0xfa 0xf4 0xeb 0xfe
PHOFF=0x4000 elf "$work/truncated.elf" "${exit_code[@]}"
MAGIC=0 elf "$work/nomultiboot.elf" "${exit_code[@]}"
CLASS=2 MACHINE=62 elf "$work/elf64.elf" "${exit_code[@]}"
MACHINE=40 elf "$work/arm.elf" "${exit_code[@]}"
PADDR=0x40000000 elf "$work/high.elf" "${exit_code[@]}"
MEMSZ=0x8000000 elf "$work/bigbss.elf" "${exit_code[@]}"
printf 'this is not a kernel\n' >"$work/text"
mkdir "$work/adir"

# ---- checking ---------------------------------------------------------------------------------
fail() {
  echo "not ok - $1: $2"
  [ -s "$work/stderr" ] && sed 's/^/    stderr: /' "$work/stderr"
  failures=$((failures + 1))
}

# expect NAME STATUS TEXT -- ARGS...: vmlab ARGS exits with STATUS and one stderr line with TEXT.
expect() {
  local name=$1 want=$2 text=$3; shift 4
  timeout 60 "$vmlab" "$@" </dev/null >"$work/stdout" 2>"$work/stderr"
  local status=$? lines
  lines=$(wc -l <"$work/stderr")
  if [ "$status" -ge 124 ]; then
    fail "$name" "crashed or hung (status $status)"
  elif [ "$status" -ne "$want" ]; then
    fail "$name" "exit status $status, want $want"
  elif [ "$lines" -ne 1 ]; then
    fail "$name" "$lines lines on stderr, want exactly 1"
  elif ! grep -qF -- "$text" "$work/stderr"; then
    fail "$name" "stderr does not say '$text'"
  else
    echo "ok - $name"
  fi
}

expect "unknown flag" 2 "vmlab run: unknown option --frobnicate" -- run --frobnicate --guest "$work/ok.elf"
expect "missing --guest" 2 "vmlab run: --guest FILE is required" -- run --mode native
expect "option without its value" 2 "vmlab run: option --ram needs a value" -- \
  run --guest "$work/ok.elf" --ram
expect "stray argument" 2 "unexpected argument 'extra'" -- run --guest "$work/ok.elf" extra
expect "non-existent guest" 2 "$work/nope.elf: cannot open: No such file or directory" -- \
  run --guest "$work/nope.elf"
expect "directory as guest" 2 "$work/adir: not a regular file" -- run --guest "$work/adir"
expect "unrecognised guest" 2 \
  "$work/text: not a Multiboot kernel, Linux bzImage or PVH ELF (found: a 21-byte file" -- \
  run --guest "$work/text"
expect "truncated ELF" 2 "$work/truncated.elf: truncated ELF: program header table past end" -- \
  run --guest "$work/truncated.elf"
expect "ELF without Multiboot header or PVH note" 2 \
  "$work/nomultiboot.elf: not a Multiboot kernel, Linux bzImage or PVH ELF (found: ELF i386 executable with neither a Multiboot header in its first 8 KiB nor a XEN_ELFNOTE_PHYS32_ENTRY note)" \
  -- run --guest "$work/nomultiboot.elf"
expect "missing initrd" 2 "$work/nope.cpio: cannot open the initrd: No such file or directory" -- \
  run --guest "$work/ok.elf" --initrd "$work/nope.cpio"
expect "64-bit ELF" 2 "$work/elf64.elf: not a 32-bit little-endian ELF file" -- \
  run --guest "$work/elf64.elf"
expect "ELF for another machine" 2 "$work/arm.elf: ELF file is not for i386" -- \
  run --guest "$work/arm.elf"
expect "segment outside RAM" 2 "lies outside RAM (64 MiB)" -- \
  run --guest "$work/high.elf" --ram 64
expect ".bss past the end of RAM" 2 \
  "$work/bigbss.elf: segment 0 (physical 0x00100000-0x080fffff) lies outside RAM" -- \
  run --guest "$work/bigbss.elf" --ram 64
expect "--ram not a number" 2 "--ram needs a non-negative number, got 'lots'" -- \
  run --guest "$work/ok.elf" --ram lots
expect "--ram negative" 2 "--ram needs a non-negative number, got '-16'" -- \
  run --guest "$work/ok.elf" --ram -16
expect "--max-instructions not a number" 2 "--max-instructions needs a non-negative number" -- \
  run --guest "$work/ok.elf" --max-instructions 10k
expect "--ram too small" 2 "--ram must be between 2 and 3072 MiB, got 1" -- \
    run --guest "$work/ok.elf" --ram 1
expect "--ram too large" 2 "--ram must be between 2 and 3072 MiB, got 4096" -- \
    run --guest "$work/ok.elf" --ram 4096
expect "--ips zero" 2 "--ips must be positive" -- run --guest "$work/ok.elf" --ips 0
PADDR=0x8000 MEMSZ=$((0x1000000 - 0x8000)) elf "$work/huge.elf" 0xeb 0xfe
expect "kernel leaving no room for the Multiboot info" 2 \
    "$work/huge.elf: no room left in RAM for the Multiboot information" -- \
    run --guest "$work/huge.elf" --ram 16
expect "a non-PV kernel under pv" 2 "the guest has no PV header: it is not a paravirtualized kernel" -- \
    run --guest "$work/ok.elf" --mode pv
expect "--mode nonsense" 2 "unknown mode 'nonsense'" -- run --guest "$work/ok.elf" --mode nonsense
expect "--trace nonsense" 2 "--trace must be 'counts' or 'full'" -- \
  run --guest "$work/ok.elf" --trace everything
expect "--db in a missing directory" 2 "$work/nodir/runs.db" -- \
  run --guest "$work/ok.elf" --db "$work/nodir/runs.db"
expect "--console in a missing directory" 2 "cannot write console file $work/nodir/console" -- \
  run --guest "$work/ok.elf" --console "$work/nodir/console"
expect "unknown command" 2 "unknown command 'nosuchcommand'" -- nosuchcommand
expect "compare: missing suite file" 2 "$work/nosuite.yaml: No such file or directory" -- \
  compare --suite "$work/nosuite.yaml" --db "$work/suite.db"
printf 'name: broken\nworkloads: [\n' > "$work/broken.yaml"
expect "compare: malformed suite" 2 "$work/broken.yaml:3: did not find expected node content" -- \
  compare --suite "$work/broken.yaml" --db "$work/suite.db"
expect "triple fault" 4 "triple fault" -- run --guest "$work/triple.elf"
expect "halt with interrupts disabled" 4 "interrupts disabled" -- run --guest "$work/clihlt.elf"
expect "instruction limit" 6 "instruction limit reached" -- \
  run --guest "$work/spin.elf" --max-instructions 100000

# The guest itself is fine: status 33 and nothing but the summary on stderr.
timeout 60 "$vmlab" run --guest "$work/ok.elf" </dev/null >"$work/stdout" 2>"$work/stderr"
status=$?
if [ "$status" -eq 33 ] && [ "$(wc -l <"$work/stderr")" -eq 1 ]; then
  echo "ok - valid guest exits 33"
else
  fail "valid guest exits 33" "status $status"
fi

# ---- failed runs in the trace database --------------------------------------------------------
# expect_db NAME DB STATUS TEXT: the one run in DB has status STATUS and a message with TEXT.
expect_db() {
  local name=$1 db=$2 want=$3 text=$4 row
  row=$(sqlite3 "$db" "select status || '|' || exit_status || '|' || message from run" 2>&1)
  case $row in
    "$want|"*"$text"*) echo "ok - $name" ;;
    *) fail "$name" "run row is '$row', want '$want|...$text...'" ;;
  esac
}

expect "triple fault recorded" 4 "triple fault" -- \
  run --guest "$work/triple.elf" --db "$work/triple.db"
expect_db "triple fault run is failed with the message" "$work/triple.db" "failed|4" \
  "triple fault"
msg=$(sqlite3 "$work/triple.db" "select message from run" 2>&1)
if [ -n "$msg" ] && grep -qxF -- "vmlab run: $msg" "$work/stderr"; then
  echo "ok - database message equals the stderr line"
else
  fail "database message equals the stderr line" "database says '$msg'"
fi
expect "unloadable guest recorded" 2 "not a Multiboot kernel" -- \
  run --guest "$work/text" --db "$work/text.db"
expect_db "unloadable guest run is failed with the loader message" "$work/text.db" "failed|2" \
  "$work/text: not a Multiboot kernel, Linux bzImage or PVH ELF"

if [ "$failures" -ne 0 ]; then
  echo "cli_bad_input: $failures case(s) failed" >&2
  exit 1
fi
exit 0
