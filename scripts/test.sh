#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite: unit and kernel tests, then
# the unit tests again under AddressSanitizer and UndefinedBehaviorSanitizer.
# Kernel tests load real BPF programs: run as root on a kernel with BTF.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build=${WAGGLE_BUILD_DIR:-$root/build}
WAGGLE_BUILD_DIR=$build "$root/scripts/build.sh"
(cd "$build" && ctest --output-on-failure --timeout 600 "$@")

echo "== unit tests under ASan + UBSan"
WAGGLE_BUILD_DIR=$build-sanitize WAGGLE_BUILD_TYPE=Debug WAGGLE_BUILD_TARGET="waggle_unit_tests waggle_protocol_tests" \
  "$root/scripts/build.sh" -DWAGGLE_SANITIZE=ON -DWAGGLE_BENCH=OFF
(cd "$build-sanitize" && UBSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -R '^unit\.' "$@")

echo "== protocol parsers under libFuzzer (${WAGGLE_FUZZ_SECONDS:-30} s each)"
WAGGLE_BUILD_DIR=$build "$root/scripts/fuzz.sh" "${WAGGLE_FUZZ_SECONDS:-30}"
