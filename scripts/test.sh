#!/usr/bin/env bash
# `npm test`: build, type-check, look for dead code (knip) and run the type tests (tstyche), all
# at the same time, while making sure a real Nacos answers (installing and starting one if none
# does); then run the tap suite, and stop the server it started.
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
# The stages that need no server run at the same time, beside the server's start (one after
# another they would leave a core idle); each one's output is printed once it is done, in order.
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
# collect I: waits for stage I started beside, prints its output.
collect() {
  if wait "${pids[$1]}"; then outcome=ok; else outcome=FAIL; failed=1; fi
  echo "== ${names[$1]}"
  cat "$logs/$1.log"
  results+=("$(printf '%-5s %s (%ss, beside the others)' "$outcome" "${names[$1]}" "$(cat "$logs/$1.time" 2>/dev/null || echo '?')")")
}
beside build npm run --silent build
# The type-check needs no build: tsconfig.test.json maps the package's name (example/ imports it) to src/.
beside typecheck npm run --silent typecheck
beside "dead code (knip)" npx knip
beside "type tests" npx tstyche
stage "nacos server" ensure_nacos
for i in "${!names[@]}"; do collect "$i"; done
rm -rf "$logs"
stage tap npx tap "$@"
# A class the server failed to load shows only in its logs (e.g. a broken gRPC push path).
stage "nacos server logs" bash scripts/nacos.sh check

[ -n "${run_snapshots:-}" ] && rm -rf "$run_snapshots"
echo "== summary (node $(node -v))"
printf '  %s\n' "${results[@]}"
exit $failed
