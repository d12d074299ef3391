#!/usr/bin/env bash
# Parquet codec benchmark: encode and decode throughput of the collator's
# writer and reader on a 1M-row SMS-shaped table, beside DuckDB (one thread)
# writing and reading the same table, with the ratio. Prints a small table.
# `make bench` can call it; it reports and never fails the build unless the
# harness itself cannot run.
#
#   PARQUET_BENCH_ROWS=N   rows (default 1000000)
#   BENCH_RUNS=N           runs per figure, median reported (default 3)
#   BUILD=DIR              library build to link (default build/gcc, -O2)
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD:-build/gcc}
rows=${PARQUET_BENCH_ROWS:-1000000}
runs=${BENCH_RUNS:-3}

make -s BUILD="$build" "$build/libcollator.a"
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Isrc bench/parquet_bench.c \
  "$build/libcollator.a" -lcrypto -lz -lsnappy -lzstd -llz4 -lutf8proc -lisal -lm -lpthread \
  -o "$build/parquet_bench"

work=$(mktemp -d "${TMPDIR:-/tmp}/collator-parquet-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
node bench/parquet_bench.mjs "$build/parquet_bench" "$work" "$rows" "$runs"
