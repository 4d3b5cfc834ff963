#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite (unit and kernel tests).
# Kernel tests load real BPF programs: run as root on a kernel with BTF.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build=${WAGGLE_BUILD_DIR:-$root/build}
WAGGLE_BUILD_DIR=$build "$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure --timeout 600 "$@"
