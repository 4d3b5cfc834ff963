#!/usr/bin/env bash
# Installs every build, test and benchmark dependency from Debian packages. Idempotent:
# packages already present are left alone, so a second run does nothing but check.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
  libyaml-cpp-dev libcli11-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  bpftrace iproute2 procps python3
  libcpp-httplib-dev libclang-rt-14-dev
  libdw-dev linux-perf chromium golang-go
  libpcap-dev tcpdump xdp-tools netsniff-ng
  nginx-light wrk curl dnsmasq-base dnsutils prometheus redis-server
  protobuf-compiler libprotobuf-dev libgrpc++-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  # Test servers (nginx, prometheus) are started by the tests themselves: keep their packages
  # from starting system services while they install.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} packages present"
fi

# The OTLP .proto definitions come from an npm package (pinned by checksum): npm is needed once.
if ! command -v npm >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm
fi
"$(dirname "$0")/otlp-protos.sh"
