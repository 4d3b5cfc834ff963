#!/usr/bin/env bash
# Puts the OTLP .proto definitions into third_party/otlp-proto/ from the npm tarball pinned in
# third_party/otlp-proto.pin, after checking its sha512 against the pin. Nothing to do when
# they are there for that pin already (offline then).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
read -r spec integrity < <(grep -v '^#' "$root/third_party/otlp-proto.pin")
dest=$root/third_party/otlp-proto
if [ "$(cat "$dest/.pin" 2>/dev/null)" = "$spec $integrity" ]; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm pack --silent --pack-destination "$tmp" "$spec" >/dev/null
tarball=$(ls "$tmp"/*.tgz)
actual=sha512-$(python3 -c 'import base64, hashlib, sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")
if [ "$actual" != "$integrity" ]; then
  echo "otlp-protos: $spec is $actual, the pin says $integrity" >&2
  exit 1
fi
tar xzf "$tarball" -C "$tmp" package/build/protos package/LICENSE
rm -rf "$dest"
mkdir -p "$dest"
cp -r "$tmp/package/build/protos/opentelemetry" "$tmp/package/LICENSE" "$dest/"
echo "$spec $integrity" >"$dest/.pin"
echo "otlp-protos: $spec in third_party/otlp-proto/"
