#!/usr/bin/env bash
# Usage: scripts/fuzz.sh [SECONDS] [NAME...]   (NAME: http, dns, route; default: all)
# Fuzzes the protocol parsers: builds each tests/fuzz/*_fuzz.cpp harness with libFuzzer, ASan and
# UBSan straight from src/protocols/*.cpp into ${WAGGLE_BUILD_DIR:-build}-fuzz/, then runs each
# for SECONDS (default 20) on a scratch copy of its seed corpus (tests/fuzz/corpus/NAME is only
# read). Fails, naming the crash file, when a fuzzer finds a crash, a leak or a timeout.
# Needs clang++ (14) and libFuzzer (Debian: clang-14 libclang-rt-14-dev) and libfmt-dev.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}
shift || true
names=("$@")
build=${WAGGLE_BUILD_DIR:-$root/build}-fuzz

cxx=
for candidate in clang++ clang++-14; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" --version >/dev/null 2>&1; then
    cxx=$candidate
    break
  fi
done
if [[ -z $cxx ]]; then
  echo "fuzz.sh: no clang++ or clang++-14 (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 1
fi
echo "== $("$cxx" --version | head -n 1)"

mkdir -p "$build"
failed=()
for harness in "$root"/tests/fuzz/*_fuzz.cpp; do
  name=$(basename "$harness" _fuzz.cpp)
  if ((${#names[@]} > 0)) && [[ " ${names[*]} " != *" $name "* ]]; then
    continue
  fi
  binary=$build/${name}_fuzz
  echo "== build $name"
  "$cxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Wall -Wextra \
    -I"$root/src" "$root"/src/protocols/*.cpp "$harness" -lfmt -o "$binary"

  corpus=$build/corpus/$name
  artifacts=$build/artifacts/$name
  mkdir -p "$corpus" "$artifacts"
  if [[ -d $root/tests/fuzz/corpus/$name ]]; then
    cp "$root/tests/fuzz/corpus/$name"/* "$corpus"/
  fi
  dict=()
  if [[ -f $root/tests/fuzz/$name.dict ]]; then
    dict=(-dict="$root/tests/fuzz/$name.dict")
  fi
  log=$build/$name.log
  echo "== run $name for ${seconds}s (log: $log)"
  if (cd "$build" && "$binary" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict[@]}" "$corpus" >"$log" 2>&1); then
    grep -E '^#[0-9]+.*DONE' "$log" | tail -n 1 || true
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
  else
    echo "!! $name failed:"
    grep -E 'ERROR|SUMMARY|invariant|runtime error|Test unit written|==[0-9]+==' "$log" | head -n 20 || true
    tail -n 5 "$log"
    failed+=("$name")
  fi
done

if ((${#failed[@]} > 0)); then
  echo "fuzz.sh: crashes in: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "== no crashes"
