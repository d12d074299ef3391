#!/usr/bin/env bash
# history_gen: build a store holding one user's SMS history of ROWS rows, for
# the benchmarks that update a large history.
#
#   bash bench/history_gen.sh ROWS STORE_DIR [collator|duckdb]
#
# The store gets collated_logs/current/sms_log/user=$BENCH_USER/logs.parquet
# (user 123, device bench-device unless BENCH_USER / BENCH_DEVICE say
# otherwise) with ts_updated = $BENCH_HISTORY_NOW (2026-01-01), so that a
# benchmark run on a later day starts a fresh diff. Two ways:
#   collator  run `collator process` over one generated upload of ROWS rows:
#             the history is exactly what production would hold (default
#             when $COLLATOR_BIN works);
#   duckdb    write the rows with bench/duckdb_collate.mjs in the sms_log
#             column order (INT64 timestamps, which the collator rewrites
#             once into its own schema on the first update), when the
#             collator does not run yet.
# Tools come from $BENCH_TOOLS (gen_uploads, measure), built by run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${1:?usage: history_gen.sh ROWS STORE_DIR [collator|duckdb]}
store=${2:?usage: history_gen.sh ROWS STORE_DIR [collator|duckdb]}
method=${3:-collator}
user=${BENCH_USER:-123}
serial=${BENCH_SERIAL:-bench-serial}
device=${BENCH_DEVICE:-bench-device}
now=${BENCH_HISTORY_NOW:-2026-01-01T00:00:00Z}
tools=${BENCH_TOOLS:-build/bench/tools}
collator=${COLLATOR_BIN:-build/bench/collator}

rm -rf "$store"
upload_dir=$store/uploads/users/$user/$serial/$device/sms_log
current_dir=$store/collated_logs/current/sms_log/user=$user
mkdir -p "$upload_dir" "$current_dir"
# Item ids far above those of the measured uploads, so no upload repeats a
# history row by accident.
upload=$upload_dir/history-$rows.json
"$tools/gen_uploads" sms_log 0 $((rows + 7)) --rows "$rows" --item-base 1000000000 \
  >"$upload" 2>"$store/.gen.log"

case $method in
  collator)
    "$collator" process --store "$store" --now "$now" \
      "uploads/users/$user/$serial/$device/sms_log/history-$rows.json" 2>"$store/.collator.log" || {
      echo "history_gen: collator failed building a $rows-row history:" >&2
      tail -3 "$store/.collator.log" >&2
      exit 1
    }
    # The diff of the build day is not part of the benchmarks (they run on
    # a later day); dropping it keeps per-run copies of the store small.
    rm -rf "$store/collated_logs/diff"
    ;;
  duckdb)
    node bench/duckdb_collate.mjs --upload "$upload" --out "$current_dir/logs.parquet" \
      --user "$user" --device "$device" --now "${now%Z}" >/dev/null
    ;;
  *)
    echo "history_gen: unknown method $method (collator or duckdb)" >&2
    exit 2
    ;;
esac
rm -f "$upload"
[ -s "$current_dir/logs.parquet" ] || {
  echo "history_gen: no history file was written" >&2
  exit 1
}
