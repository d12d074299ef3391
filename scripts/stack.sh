#!/usr/bin/env bash
# stack: the local services for running the collator by hand, in the
# background: `make up` / `make down` (or scripts/stack.sh up|down|status).
#
# Each service is a pair of functions, start_NAME and a line in `services`;
# its pid file, log and environment file live in build/stack/. `up` prints
# the environment to use, also written to build/stack/env (source it).
#
#   lambda  (default) the whole local deployment, scripts/lambda_stack.mjs:
#           s3rver behind the verifying proxy, the primary and DLQ functions
#           under @vercel/fun running build/collator as `bootstrap`, and the
#           trigger: every object created under uploads/users/ is collated.
#   s3      s3rver behind the verifying proxy only (tests/node/lib/s3stack.mjs).
# STACK_SERVICES picks them ("s3" for storage alone); both use bucket
# $STACK_BUCKET (collator-local), proxy port $STACK_S3_PORT (0: any free
# port) and keep objects in build/stack/s3-data.
set -euo pipefail
cd "$(dirname "$0")/.."
state=build/stack
read -r -a services <<<"${STACK_SERVICES:-lambda}"

start_lambda() {
  local bucket=${STACK_BUCKET:-collator-local}
  local port=${STACK_S3_PORT:-0}
  local bin=${STACK_BIN:-build/collator}
  [[ $bin == /* ]] || bin=$PWD/$bin
  rm -f "$state/lambda.env"
  nohup node scripts/lambda_stack.mjs --bin "$bin" \
    --bucket "$bucket" --port "$port" --dir "$PWD/$state/s3-data" \
    >"$state/lambda.log" 2>&1 &
  echo $! >"$state/lambda.pid"
  for _ in $(seq 1 150); do
    local ready
    ready=$(sed -n 's/^lambda-stack: ready //p' "$state/lambda.log" 2>/dev/null | head -1)
    if [ -n "$ready" ]; then
      node -e '
        const r = JSON.parse(process.argv[1]);
        const env = { S3_ENDPOINT: r.endpoint, AWS_ACCESS_KEY_ID: "S3RVER",
          AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1",
          COLLATOR_STORE: `s3://${r.bucket}`, STACK_UPLOAD_URL: `${r.s3}/${r.bucket}` };
        for (const [k, v] of Object.entries(env)) console.log(`export ${k}=${v}`);
      ' "$ready" >"$state/lambda.env"
      return 0
    fi
    kill -0 "$(cat "$state/lambda.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "stack: lambda did not start; see $state/lambda.log:" >&2
  cat "$state/lambda.log" >&2
  stop_service lambda
  return 1
}

start_s3() {
  local bucket=${STACK_BUCKET:-collator-local}
  local port=${STACK_S3_PORT:-0}
  rm -f "$state/s3.env"
  # The daemon runs the same stack the node tests use, writes its env file
  # once listening, and stops s3rver when it gets SIGTERM.
  STACK_BUCKET=$bucket STACK_S3_PORT=$port STACK_DIR=$state nohup node --input-type=module -e '
    import { writeFileSync } from "node:fs";
    import { resolve } from "node:path";
    import { startS3Stack } from "./tests/node/lib/s3stack.mjs";
    const dir = process.env.STACK_DIR;
    const stack = await startS3Stack({ bucket: process.env.STACK_BUCKET,
      port: Number(process.env.STACK_S3_PORT), directory: resolve(dir, "s3-data") });
    writeFileSync(`${dir}/s3rver.pid`, `${stack.s3rverPid}\n`);
    writeFileSync(`${dir}/s3.env`, Object.entries(stack.env)
      .map(([k, v]) => `export ${k}=${v}\n`).join(""));
    console.log(`s3 proxy ${stack.endpoint} -> s3rver ${stack.s3rverEndpoint}`);
    const stop = async () => { await stack.stop(); process.exit(0); };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  ' >"$state/s3.log" 2>&1 &
  echo $! >"$state/s3.pid"
  for _ in $(seq 1 100); do
    [ -s "$state/s3.env" ] && return 0
    kill -0 "$(cat "$state/s3.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "stack: s3 did not start; see $state/s3.log:" >&2
  cat "$state/s3.log" >&2
  stop_service s3
  return 1
}

running() { # running NAME: its pid file names a live process
  [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null
}

stop_service() {
  local name=$1 pid
  if [ -f "$state/$name.pid" ]; then
    pid=$(cat "$state/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$state/$name.pid"
  fi
  # A daemon killed hard leaves its s3rver child behind.
  if [ "$name" = s3 ] && [ -f "$state/s3rver.pid" ]; then
    kill -TERM "$(cat "$state/s3rver.pid")" 2>/dev/null || true
    rm -f "$state/s3rver.pid"
  fi
  rm -f "$state/$name.env"
}

write_env() {
  : >"$state/env"
  for name in "${services[@]}"; do
    [ -f "$state/$name.env" ] && cat "$state/$name.env" >>"$state/env"
  done
  echo "stack: up; environment (also in $state/env, for '. $state/env'):"
  sed 's/^/  /' "$state/env"
}

case "${1:-}" in
  up)
    mkdir -p "$state"
    for name in "${services[@]}"; do
      if running "$name"; then
        echo "stack: $name already running (pid $(cat "$state/$name.pid"))"
      else
        "start_$name"
      fi
    done
    write_env
    ;;
  down)
    for name in lambda s3; do
      stop_service "$name"
    done
    rm -f "$state/env"
    echo "stack: down"
    ;;
  status)
    for name in "${services[@]}"; do
      if running "$name"; then echo "$name: running (pid $(cat "$state/$name.pid"))"
      else echo "$name: stopped"; fi
    done
    ;;
  *)
    echo "usage: scripts/stack.sh up|down|status" >&2
    exit 2
    ;;
esac
