#!/usr/bin/env bash
# Build the Lambda zip package for the provided.al2023 runtime:
#   deploy/lambda-zip.sh [BUILD_DIR] [OUTPUT.zip]
# It holds `bootstrap` (deploy/bootstrap), `collator` (the binary from
# BUILD_DIR, default build) and lib/ with the shared libraries the binary
# links against and libcurl with its dependencies, except glibc's own (Lambda puts $LAMBDA_TASK_ROOT/lib on
# LD_LIBRARY_PATH). The base image is minimal and its package set is not a
# contract, so the package carries its libraries rather than guessing. The binary must be built on
# Amazon Linux 2023 (deploy/Dockerfile's build stage, or an AL2023 host) for
# the glibc and library versions to match; a binary built on Debian is
# packaged with a warning, for local inspection only.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
output=${2:-$build/collator-lambda.zip}
binary=$build/collator
[ -x "$binary" ] || { echo "lambda-zip: $binary not found: run make BUILD=$build first" >&2; exit 1; }
command -v zip >/dev/null || { echo "lambda-zip: the zip command is missing (apt-get install zip)" >&2; exit 1; }

if ! grep -qs 'Amazon Linux' /etc/os-release; then
  echo "lambda-zip: warning: not built on Amazon Linux 2023; the package will not run on provided.al2023" >&2
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp deploy/bootstrap "$stage/bootstrap"
cp "$binary" "$stage/collator"
strip "$stage/collator" 2>/dev/null || true
chmod 755 "$stage/bootstrap" "$stage/collator"
mkdir -p "$stage/lib"
# libcurl is loaded at run time (src/store/s3_curl.c), so ldd of the binary
# does not list it: it goes in with its own dependencies.
# awk reads to the end: exiting at the match could SIGPIPE ldconfig, which
# pipefail and set -e turn into this script's failure (exit 141).
libcurl=$(ldconfig -p | awk '$1 == "libcurl.so.4" && /x86-64/ && !found {print $NF; found = 1}')
[ -n "$libcurl" ] || { echo "lambda-zip: libcurl.so.4 not found (install libcurl)" >&2; exit 1; }
{ ldd "$binary"; echo "libcurl.so.4 => $libcurl (0)"; ldd "$libcurl"; } | awk '/=> \//{print $3}' |
  sort -u | grep -vE '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so' | while read -r lib; do
    cp -L "$lib" "$stage/lib/"
  done
rm -f "$output"
mkdir -p "$(dirname "$output")"
output_abs=$(cd "$(dirname "$output")" && pwd)/$(basename "$output")
(cd "$stage" && zip -q -r -X "$output_abs" bootstrap collator lib)
echo "lambda-zip: wrote $output ($(du -h "$output" | cut -f1))"
