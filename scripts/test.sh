#!/usr/bin/env bash
# test.sh — install what is missing, build, and run every test (ctest: Criterion unit tests, the
# tiny machine-feature guests under vmlab and QEMU, the guest kernel's tests and workloads, and the
# integration scripts). This is the command .ci/run runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest -j"$(nproc)" --output-on-failure --timeout 600
