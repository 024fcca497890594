#!/usr/bin/env bash
# build.sh — configure and build vmlab into build/ (Release with debug info). Used by run-suite.sh
# and test.sh after install-deps.sh; safe to run again (incremental).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > build.log 2>&1 || { cat build.log; exit 1; }
cmake --build build -j"$(nproc)" >> build.log 2>&1 || { tail -40 build.log; exit 1; }
echo "build: build/vmlab ($(build/vmlab --version))"
