#!/usr/bin/env bash
# install_docs.sh — the man page and the bash completion are built and installed (issue 20).
#
#   tests/integration/install_docs.sh BUILD_DIR
#
# `cmake --install BUILD_DIR --prefix TMP` must put share/man/man1/vmlab.1 and
# share/bash-completion/completions/vmlab there; groff must render the page with every warning
# on and print none, and it must have a section for every command `vmlab help` lists; the
# installed completion, sourced in bash, must register itself for vmlab (complete -p) and
# complete `vmlab st` to stat, `vmlab stat --mo` to --mode and --model, `vmlab run --mode tr` to
# the trap modes vmlab lists, and `vmlab compare --modes native,` to a list.
set -euo pipefail
build=$(cd "${1:?usage: install_docs.sh BUILD_DIR}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$tmp/x" > "$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
man="$tmp/x/share/man/man1/vmlab.1"
comp="$tmp/x/share/bash-completion/completions/vmlab"
[ -s "$man" ] || fail "no $man"
[ -s "$comp" ] || fail "no $comp"

# The page: no groff warning, a section per command, the options of stat.
groff -man -Tutf8 -ww -z "$man" 2> "$tmp/groff.err" || fail "groff exit status"
[ ! -s "$tmp/groff.err" ] || { cat "$tmp/groff.err"; fail "groff warnings"; }
command -v man > /dev/null || fail "man is not installed (scripts/install-deps.sh installs man-db)"
MANWIDTH=100 man -l "$man" 2> "$tmp/man.err" > "$tmp/man.txt" || fail "man -l"
[ ! -s "$tmp/man.err" ] || { cat "$tmp/man.err"; fail "man -l warnings"; }
# The lists come from vmlab itself; an empty one (a changed `help` layout) would check nothing.
cmds=$("$build/vmlab" help | awk '/^  [a-z][a-z-]*  +[^ ]/ { print $1 }')
[ -n "$cmds" ] || fail "no command read from \`vmlab help\`"
for cmd in $cmds; do
  up=$(echo "$cmd" | tr a-z A-Z)
  grep -q "^VMLAB $up\$" "$tmp/man.txt" || fail "man page has no section for $cmd"
done
grep -q -- '--model M' "$tmp/man.txt" || fail "man page lacks stat's --model"
modes=$("$build/vmlab" run --list-modes | awk '{ print $1 }')
[ -n "$modes" ] || fail "no mode read from \`vmlab run --list-modes\`"
for m in $modes; do
  grep -qw -- "$m" "$tmp/man.txt" || fail "man page lacks mode $m"
done

# The completion, as bash-completion would load it, with the built vmlab on PATH.
PATH="$build:$PATH" bash --norc --noprofile -c '
  set -u
  source "$1"
  [ "$(complete -p vmlab)" = "complete -F _vmlab vmlab" ] || { echo "FAIL: complete -p: $(complete -p vmlab)"; exit 1; }
  c() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _vmlab; echo "${COMPREPLY[*]}"; }
  want() { local got; got=$(c "${@:2}"); [ "$got" = "$1" ] || { echo "FAIL: [${*:2}] -> [$got], want [$1]"; exit 1; }; }
  want "stat" vmlab st
  want "--mode --model" vmlab stat --mo
  want "trap trap-ept trap-classic" vmlab run --mode tr
  got=$(c vmlab compare --modes native,)
  case " $got " in *" native,trap "*) ;; *) echo "FAIL: --modes native, -> [$got]"; exit 1 ;; esac
  want "--png" vmlab report --pn
' _ "$comp" || exit 1
echo "1 passed, 0 failed"
