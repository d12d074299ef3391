#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it:
#   1. unit tests built with gcc -O2
#   2. the same unit tests built with clang, ASan + UBSan + LeakSanitizer
#   3. the node suites (independent Parquet readers, local S3, Lambda runtime)
#      against the gcc build of the collator
#   4. a short libFuzzer run of every fuzz target
# It ends with one line "N passed, N failed" summing every suite.
set -uo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # count NAME STATUS: add the last suite's "N passed, N failed" line
  local line suite_failed
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  if [ -z "$line" ]; then
    echo "test: $1 printed no result line (exit status $2)" >&2
    failed=$((failed + 1))
    return
  fi
  suite_failed=$(echo "$line" | cut -d' ' -f3)
  passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
  failed=$((failed + suite_failed))
  # A leak found by LeakSanitizer at exit, or a runner that died after its
  # last test, shows only in the exit status.
  if [ "$2" -ne 0 ] && [ "$suite_failed" -eq 0 ]; then
    echo "test: $1 exited with status $2 after reporting no failure" >&2
    failed=$((failed + 1))
  fi
}

suite() { # suite NAME COMMAND...: run, show output, count its result line
  local name=$1
  shift
  echo "== $name"
  "$@" 2>&1 | tee "$log"
  count "$name" "${PIPESTATUS[0]}"
}

echo "== build (gcc)"
make -s -j"$jobs" CC=gcc BUILD=build/gcc build/gcc/collator build/gcc/unit_tests || exit 1
echo "== build (clang, ASan+UBSan)"
make -s -j"$jobs" CC=clang SAN=1 OPT=-O1 BUILD=build/asan build/asan/collator build/asan/unit_tests || exit 1

suite "unit (gcc)" build/gcc/unit_tests
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  suite "unit (clang asan+ubsan)" build/asan/unit_tests

node_suite() {
  local files
  files=$(ls tests/node/*.test.mjs 2>/dev/null)
  [ -n "$files" ] || { echo "0 passed, 0 failed"; return; }
  COLLATOR_BIN=$PWD/build/gcc/collator node --test --test-reporter=tap \
    --test-concurrency=1 $files | tee /dev/stderr |
    awk '/^# pass /{p=$3} /^# fail /{f=$3} END{printf "%d passed, %d failed\n", p, f}'
  return "${PIPESTATUS[0]}"
}
suite "node (interop, S3, Lambda)" node_suite

if [ -x fuzz/run.sh ] || [ -f fuzz/run.sh ]; then
  suite "fuzz (short)" bash fuzz/run.sh short
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
