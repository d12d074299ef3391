#!/usr/bin/env bash
# Benchmark of src/json against yajl on a generated SMS-like upload.
#   bench/json.sh [MEGABYTES]   (default 100)
# Builds the json and core modules into build/json-bench with -O2.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/json-bench
make -s BUILD=$build MODULES="core json" $build/libcollator.a
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Isrc bench/json_bench.c $build/libcollator.a \
  -lyajl -lm -o $build/json_bench
$build/json_bench "${1:-100}"
