#!/usr/bin/env bash
# Build every libFuzzer target fuzz/*_fuzz.c (clang, ASan + UBSan) and run it.
#   fuzz/run.sh short   each target for FUZZ_SECONDS (default 15) s: part of `make test`
#   fuzz/run.sh long    each target for FUZZ_SECONDS (default 600) s: `make fuzz`
# Seeds come from fuzz/corpus/TARGET/ (checked in); new inputs found go to
# build/fuzz/corpus-TARGET/ so the repository's seeds stay as they are. A crash
# leaves its input in build/fuzz/ and fails the run. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-short}
case "$mode" in
  short) seconds=${FUZZ_SECONDS:-15} ;;
  long) seconds=${FUZZ_SECONDS:-600} ;;
  *) echo "usage: fuzz/run.sh short|long" >&2; exit 2 ;;
esac
build=build/fuzz
jobs=$(nproc 2>/dev/null || echo 2)

make -s -j"$jobs" CC=clang SAN=1 OPT=-O1 BUILD=$build \
  CFLAGS=-fsanitize=fuzzer-no-link $build/libcollator.a || {
  echo "0 passed, 1 failed"
  exit 1
}

passed=0
failed=0
for source in fuzz/*_fuzz.c; do
  [ -e "$source" ] || continue
  name=$(basename "$source" .c)
  target=${name%_fuzz}
  binary=$build/$name
  if ! clang -std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
      -fno-sanitize-recover=undefined "$source" $build/libcollator.a \
      -lcrypto -lz -lsnappy -lzstd -llz4 -lutf8proc -lisal -lm -lpthread -o "$binary"; then
    echo "fuzz: $name does not build"
    failed=$((failed + 1))
    continue
  fi
  corpus=$build/corpus-$target
  mkdir -p "$corpus"
  seeds=fuzz/corpus/$target
  [ -d "$seeds" ] || seeds=
  echo "fuzz: $name for ${seconds}s"
  log=$build/$name.log
  (cd $build && ASAN_OPTIONS=detect_leaks=1 "./$name" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "corpus-$target" \
    ${seeds:+"../../$seeds"}) >"$log" 2>&1
  status=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY)' "$log"
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
  else
    tail -40 "$log"
    echo "fuzz: $name failed (exit $status; input saved in $build, log $log)"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
