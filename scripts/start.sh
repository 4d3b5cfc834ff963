#!/usr/bin/env bash
# Installs what is needed, builds, and starts the agent with its default configuration
# (config/waggle.yaml). Extra arguments go to `waggle run`, e.g. --output text.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
exec "${WAGGLE_BUILD_DIR:-$root/build}/waggle" run --config "$root/config/waggle.yaml" "$@"
