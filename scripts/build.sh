#!/usr/bin/env bash
# Configures and builds waggle into build/ (or $WAGGLE_BUILD_DIR). Extra arguments go to
# cmake's configure step; $WAGGLE_BUILD_TARGET builds only these (space-separated) targets.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${WAGGLE_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${WAGGLE_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" ${WAGGLE_BUILD_TARGET:+--target $WAGGLE_BUILD_TARGET}
