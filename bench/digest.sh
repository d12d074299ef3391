#!/usr/bin/env bash
# Benchmark of the batch MD5 (digest_md5_raw_many) on every lane path this
# CPU runs against one digest_md5_raw after another.
#   bench/digest.sh [BATCH...]   (default batches 16 and 256)
# Builds the core module into build/digest-bench with the project's -O2.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/digest-bench
make -s BUILD=$build MODULES="core" $build/libcollator.a
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Isrc bench/digest_bench.c \
  $build/libcollator.a -lcrypto -o $build/digest_bench
$build/digest_bench "$@"
