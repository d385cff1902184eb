#!/usr/bin/env bash
# `npm test`: build while making sure a real Nacos answers (installing and starting one if none
# does); then run the tap suite, with the type-check, the dead-code check (knip) and the type tests
# (tstyche) beside it; stop the server it started.
# Every stage runs even when an earlier one failed, and the summary says how each ended.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# shellcheck source=lib/ensure-nacos.sh
. scripts/lib/ensure-nacos.sh

results=()
failed=0
stage() {
  local name=$1 start=$SECONDS
  shift
  echo "== $name"
  if "$@"; then
    results+=("ok    $name ($((SECONDS - start))s)")
  else
    results+=("FAIL  $name ($((SECONDS - start))s)")
    failed=1
  fi
}

# The plugin's snapshots (NACOS_SNAPSHOT_DIR) of the tests' apps go to a directory of this run,
# not the user's ~/.cache, removed at the end.
if [ -z "${NACOS_SNAPSHOT_DIR:-}" ]; then
  NACOS_SNAPSHOT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fastify-nacos-test-snapshots.XXXXXX")
  export NACOS_SNAPSHOT_DIR
  run_snapshots=$NACOS_SNAPSHOT_DIR
fi

echo "== node $(node -v) ($(command -v node))"
# Only the build must come before the tap suite (its child processes run dist/); the checks that
# need neither a server nor dist/ run beside the suite, which leaves some CPU idle while its tests
# wait on servers. Each one's output is printed once the suite is done, in order.
names=()
pids=()
logs=$(mktemp -d "${TMPDIR:-/tmp}/fastify-nacos-test-logs.XXXXXX")
beside() {
  local name=$1 i=${#names[@]}
  shift
  names+=("$name")
  ( start=$SECONDS; "$@" > "$logs/$i.log" 2>&1; rc=$?; echo $((SECONDS - start)) > "$logs/$i.time"; exit $rc ) &
  pids+=($!)
}
beside build npm run --silent build
stage "nacos server" ensure_nacos
# collect FROM NOTE: waits for the stages started beside from index FROM on, prints their output;
# the summary says what each ran beside (NOTE).
collect() {
  local i
  for ((i = $1; i < ${#names[@]}; i++)); do
    if wait "${pids[$i]}"; then outcome=ok; else outcome=FAIL; failed=1; fi
    echo "== ${names[$i]}"
    cat "$logs/$i.log"
    results+=("$(printf '%-5s %s (%ss, %s)' "$outcome" "${names[$i]}" "$(cat "$logs/$i.time" 2>/dev/null || echo '?')" "$2")")
  done
}
collect 0 "beside the server's start"
beside typecheck npm run --silent typecheck
beside "dead code (knip)" npx knip
beside "type tests" npx tstyche
stage tap npx tap "$@"
collect 1 "beside the tap suite"
rm -rf "$logs"
# A class the server failed to load shows only in its logs (e.g. a broken gRPC push path).
stage "nacos server logs" bash scripts/nacos.sh check

[ -n "${run_snapshots:-}" ] && rm -rf "$run_snapshots"
echo "== summary (node $(node -v))"
printf '  %s\n' "${results[@]}"
exit $failed
