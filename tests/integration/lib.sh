# lib.sh — how every integration script begins: sourced, never run.
#
#   . "$(dirname "$0")/lib.sh"
#   it_begin NAME "${1:-}"       # build (absolute), vmlab, kernel; tmp, removed at exit
#   it_need FILE...              # each FILE must exist, or the script fails naming it
#   fail MESSAGE...              # "NAME: FAIL: MESSAGE" on stderr, exit 1
#   expect WHAT GOT WANT         # fail "WHAT: got GOT, want WANT" unless GOT = WANT

# it_begin NAME BUILD_DIR: the script's name (for messages) and the build directory it tests.
it_begin() {
  IT_NAME=$1
  [ -n "${2:-}" ] || { echo "usage: $1.sh BUILD_DIR" >&2; exit 2; }
  build=$(cd "$2" && pwd)
  vmlab=$build/vmlab
  kernel=$build/guests/kernel.elf
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
}

it_need() {
  local f
  for f in "$@"; do
    [ -e "$f" ] || fail "$f is not built"
  done
}

fail() {
  echo "$IT_NAME: FAIL: $*" >&2
  exit 1
}

expect() {
  [ "$2" = "$3" ] || fail "$1: got $2, want $3"
}
