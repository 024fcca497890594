#!/usr/bin/env bash
# build.sh — configure and build vmlab into build/ (Release with debug info). Used by run-suite.sh
# and test.sh after install-deps.sh; safe to run again (incremental).
# The full output goes to build.log; the terminal gets one line per 10% of the build
# (`build: 40% ...`, from cmake's own percentage lines), so a long first build is not silent
# (issue 20). On failure the end of build.log is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "build: configuring (cmake; full output in build.log)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > build.log 2>&1 || { cat build.log; exit 1; }
echo "build: compiling with $(nproc) jobs"
# cmake's Makefile generator prefixes its lines with "[ 42%]"; show each new tenth once.
if ! cmake --build build -j"$(nproc)" 2>&1 | tee -a build.log |
     awk 'match($0, /^\[ *[0-9]+%\]/) {
            p = substr($0, RSTART + 1, RLENGTH - 3) + 0
            if (int(p / 10) > last) { last = int(p / 10); printf "build: %3d%%  %s\n", p, substr($0, RLENGTH + 2); fflush() }
          }
          BEGIN { last = -1 }'; then
  tail -40 build.log
  exit 1
fi
echo "build: build/vmlab ($(build/vmlab --version))"
