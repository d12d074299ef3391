#!/usr/bin/env bash
# Collate the example bucket day by day, then show what came out.
#
#   bash examples/demo.sh BUILD_DIR      (what `make demo` runs)
#
# The bucket under examples/bucket holds uploads of three users over three
# days (2025-11-20..22): all four log types, two devices for user 100, some
# gzipped, an app removed and re-installed, a contact updated and one
# deleted, an SMS dated in the future. Each upload's file name is its upload
# time in epoch milliseconds; it is processed with --now at that time, in
# that order, into a fresh local store BUILD_DIR/demo-store.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/collator
[ -x "$bin" ] || { echo "demo: $bin not built (run make)" >&2; exit 2; }
out=$build/demo-store
rm -rf "$out"
mkdir -p "$out"
cp -R examples/bucket/uploads "$out/"

keys=$(cd "$out" && find uploads -type f | awk -F/ '{print $NF "\t" $0}' | sort | cut -f2)
echo "== collating $(echo "$keys" | wc -l) uploads into $out"
for key in $keys; do
  name=${key##*/}
  ms=${name%%.*}
  now=$(date -u -d "@$((ms / 1000))" +%Y-%m-%dT%H:%M:%SZ)
  echo "-- $now  $key"
  "$bin" process --store "$out" --now "$now" "$key" 2>&1 |
    sed -E 's/.*"outcome": "([a-z]+)".*"new_rows": ([0-9]+), "deleted_rows": ([0-9]+).*"total_rows": ([0-9]+).*/   \1: \2 new, \3 deleted, \4 rows in history/'
done

echo
echo "== outputs"
(cd "$out" && find collated_logs -type f | sort)

show_parquet() {
  echo
  echo "== $1"
  "$bin" cat "$out/$1"
}
show_parquet collated_logs/current/app_packages/user=100/logs.parquet
show_parquet collated_logs/diff/app_packages/ts_update=2025-11-22/user=100/logs.parquet
show_parquet collated_logs/current/sms_log/user=205/logs.parquet
for txt in collated_logs/user-100/device-a1b2c3/collated_app_packages.txt \
           collated_logs/user-100/device-a1b2c3/collated_contact_list.txt \
           collated_logs/user-205/device-x9/collated_sms_log.txt; do
  echo
  echo "== $txt"
  cat "$out/$txt"
  echo
done
