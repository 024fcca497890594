#!/bin/bash
# no_outside_citations.sh — no file of the repository points at a document outside it.
#
#   no_outside_citations.sh SOURCE_DIR
#
# vmlab was written next to a few shared notes that are not part of the repository (a facts file
# of published numbers, measured Unicorn behaviours, under ../shared). What the code relies on
# from them now lives inside: the papers and figures in models/REFERENCES.md (cited by key, e.g.
# "[AA06], models/REFERENCES.md"), the Unicorn behaviours in emu/UNICORN.md with their tests.
# This check fails, naming file and line, when a tracked file (git ls-files; every file outside
# .git, .deps and build* when SOURCE_DIR is not a git work tree)
#   - cites the facts file by name (FACTS.md),
#   - cites UNICORN.md other than as emu/UNICORN.md (a file in emu/ may say UNICORN.md alone), or
#   - names a path under ../shared or /work/shared.
# This script itself is not scanned: it has to spell the patterns.
set -u
src=${1:?usage: no_outside_citations.sh SOURCE_DIR}
src=$(cd "$src" && pwd) || exit 2
self=tests/integration/no_outside_citations.sh
cd "$src" || exit 2

list=$(mktemp)
trap 'rm -f "$list"' EXIT
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z >"$list"
else
  find . \( -name .git -o -name .deps -o -name 'build*' \) -prune -o -type f -print0 |
    sed -z 's|^\./||' >"$list"
fi
if [ ! -s "$list" ]; then
  echo "no_outside_citations: no files found under $src" >&2
  exit 1
fi

# Every line of the listed files (text only, this script left out) that mentions one of the names;
# the rules below then decide which mentions are citations from outside.
hits=$(grep -zv -x -F "$self" "$list" |
       xargs -0 -r grep -n -I -E -H 'FACTS\.md|UNICORN\.md|\.\./shared|/work/shared' -- 2>/dev/null)

bad=0
while IFS= read -r hit; do
  [ -n "$hit" ] || continue
  file=${hit%%:*}
  rest=${hit#*:}
  text=${rest#*:}
  why=""
  if [[ $text == *FACTS.md* ]]; then
    why="cites FACTS.md (cite the key in models/REFERENCES.md instead)"
  elif [[ $text =~ \.\./shared|/work/shared ]]; then
    why="names a path outside the repository"
  else
    # Drop the allowed citations; any UNICORN.md left over is not emu/UNICORN.md.
    left=${text//emu\/UNICORN.md/}
    if [[ $file == emu/* ]]; then
      left=$(printf '%s\n' "$left" | sed -E 's#(^|[^/[:alnum:]_.-])UNICORN\.md#\1#g')
    fi
    if [[ $left == *UNICORN.md* ]]; then
      why="cites UNICORN.md other than as emu/UNICORN.md"
    fi
  fi
  if [ -n "$why" ]; then
    echo "no_outside_citations: $file:${rest%%:*}: $why: $text" >&2
    bad=$((bad + 1))
  fi
done <<<"$hits"

if [ "$bad" -gt 0 ]; then
  echo "no_outside_citations: FAIL: $bad line(s) point outside the repository" >&2
  exit 1
fi
echo "no_outside_citations: ok ($(tr -cd '\0' <"$list" | wc -c) files)"
