#!/usr/bin/env bash
# The whole test suite: a release build with every test, the same tests
# under AddressSanitizer + UndefinedBehaviorSanitizer, and each fuzz target
# for a short time (FUZZ_SECONDS, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
shared=${SS_SHARED:-$(cd .. && pwd)/shared}
[ -d "$shared" ] || { echo "test: the shared test data folder is not at $shared (set SS_SHARED)" >&2; exit 1; }

echo "== release build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSS_SHARED_DIR="$shared" >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSS_SANITIZE=ON -DSS_SHARED_DIR="$shared" \
  -DCMAKE_C_FLAGS_DEBUG="-O1 -g" >/dev/null
cmake --build build-asan -j"$jobs"
# OpenBLAS and libgomp keep thread pools alive at exit; those are not our leaks
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
(cd build-asan && ctest --output-on-failure -j"$jobs" -E "${SS_ASAN_EXCLUDE:-^$}")

echo "== fuzz targets (${FUZZ_SECONDS:-10} s each)"
FUZZ_SECONDS=${FUZZ_SECONDS:-10} bash fuzz/run.sh

# Reaching here means every step passed (set -e): say so in one line.
total=$(cd build && ctest -N | sed -n 's/^Total Tests: //p')
echo "fuzz: $(ls fuzz/fuzz_*.c | wc -l) targets ran ${FUZZ_SECONDS:-10} s each without a finding"
echo "summary: $((2 * total)) passed, 0 failed"
