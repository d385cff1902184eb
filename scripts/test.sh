#!/usr/bin/env bash
# `npm test`: build, type-check, look for dead code (knip), make sure a real Nacos answers
# (installing and starting one if none does), run the tap suite and the type tests, and stop the
# server it started.
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
stage build npm run --silent build
stage typecheck npm run --silent typecheck
stage "dead code (knip)" npx knip
stage "nacos server" ensure_nacos
stage tap npx tap "$@"
stage "type tests" npx tstyche
# A class the server failed to load shows only in its logs (e.g. a broken gRPC push path).
stage "nacos server logs" bash scripts/nacos.sh check

[ -n "${run_snapshots:-}" ] && rm -rf "$run_snapshots"
echo "== summary (node $(node -v))"
printf '  %s\n' "${results[@]}"
exit $failed
