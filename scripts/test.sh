#!/usr/bin/env bash
# Build fedenum and run the whole test suite, from a fresh Debian 12 machine (as root):
#   1. install the Debian packages (scripts/install-deps.sh),
#   2. release build in build/ and ctest (unit, integration, interop),
#   3. ASan+UBSan build in build-asan/ and ctest again (FE_TEST_QUICK=1: the large-zone tests
#      use smaller zones there, the sanitizers make them ~5x slower),
#   4. libFuzzer build in build-fuzz/ and a short fuzz run of every target.
# Exit status is non-zero if any step fails. .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

"$(dirname "$0")/install-deps.sh"

step() { printf '\n==== %s ====\n' "$*"; }

step "release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
step "test suite (release)"
ctest --test-dir build --output-on-failure -j 1

step "ASan+UBSan build"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFE_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
step "test suite (ASan+UBSan)"
FE_TEST_QUICK=1 ctest --test-dir build-asan --output-on-failure -j 1

if [ -f tests/fuzz/CMakeLists.txt ]; then
	step "fuzz build (clang, libFuzzer)"
	CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFE_FUZZ=ON \
		-DFE_TESTS=OFF >/dev/null
	cmake --build build-fuzz -j "$jobs"
	step "short fuzz run"
	ctest --test-dir build-fuzz --output-on-failure -j 1
fi
step "all tests passed"
