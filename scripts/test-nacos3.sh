#!/usr/bin/env bash
# `npm run test:nacos3`: the Nacos 3.0.3 run (`npm test` proves 2.3.2). The server comes from the
# kit in NACOS3_KIT (default <repo>/../shared/nacos3); without it the run skips and says what is
# missing, unless FASTIFY_NACOS_REQUIRE_NACOS3=1 (CI), which turns the skip into a failure.
#
#   v1 API off (what Nacos 3.2 serves), gRPC only (the one transport such a server speaks):
#     test/nacos-server.test.ts   the server is 3.0.3, its readiness and state through the v3 API
#     test/contract/*.test.ts     naming, discovery, config center
#     test/acceptance/outage.test.ts  discovery through a server restart, and an app's registration redone
#                                 after it (OUTAGE_SCENARIOS=discovery,recovery)
#     test/lifecycle.test.ts      listen → listed, SIGTERM/SIGINT → gone, SIGKILL → gone
#     test/recovery.test.ts       Nacos down at start-up
#     test/auth.test.ts           auth on: login without the v1 API, wrong password
#     test/auth-token-expiry.test.ts   4 s tokens renewed before they expire, nothing fails
#     test/interop.test.ts        the official Java client nacos-client 3.0.3, both directions
#     test/wrong-transport.test.ts  the HTTP transport on this server: one warning, use grpc
#     test/namespace.test.ts      no namespace set: instances and configs beside the Java client's (public)
#     test/fuzzy-watch.test.ts    fuzzy watch of services and configs (Nacos 3 only; its 2.x error runs in npm test)
#     test/fail-fast.test.ts      failFast: a refused first registration closes the app; unreachable, listen() rejects
#     test/close-during-redo.test.ts  close during the redo on a new connection: gone before connections drain
#   v1 API on (the 3.0/3.1 default), both transports:
#     test/contract/*.test.ts, test/acceptance/outage.test.ts (OUTAGE_SCENARIOS=discovery)
# Each run has its own server on a free port; private servers the tests start themselves
# (restart, auth) are 3.0.3 with the same v1 switch (NACOS_VERSION, NACOS_V1_API are exported).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

KIT=${NACOS3_KIT:-$ROOT/../shared/nacos3}
if [ ! -f "$KIT/classpath.txt" ] || [ ! -d "$KIT/server-modules" ]; then
  msg="Nacos 3 run: the server kit is missing ($KIT: classpath.txt, server-modules/; set NACOS3_KIT)"
  if [ "${FASTIFY_NACOS_REQUIRE_NACOS3:-0}" = 1 ]; then
    echo "== FAIL: $msg; FASTIFY_NACOS_REQUIRE_NACOS3=1 requires it" >&2
    exit 1
  fi
  echo "== SKIP: $msg" >&2
  exit 0
fi
export NACOS3_KIT=$KIT NACOS_VERSION=3.0.3

# shellcheck source=lib/ports.sh
. scripts/lib/ports.sh

echo "== build"
npm run --silent build || exit 1
bash scripts/nacos.sh install || exit 1

results=()
failed=0
port=""
trap '[ -z "$port" ] || NACOS_PORT=$port bash scripts/nacos.sh stop || true' EXIT

# run NAME V1 TRANSPORTS -- TAP-ARGS...: one server, the tap runs given, each line of the summary.
run() {
  local name=$1 v1=$2 transports=$3 start=$SECONDS marker ok=1
  shift 4
  export NACOS_V1_API=$v1
  marker=$(mktemp)
  port=$(free_port) || { results+=("FAIL  $name: no free port"); failed=1; rm -f "$marker"; return; }
  echo "== $name: Nacos 3.0.3 on 127.0.0.1:$port, v1 API $v1, transports $transports"
  if ! NACOS_PORT=$port bash scripts/nacos.sh start; then
    results+=("FAIL  $name: the server did not start")
    failed=1
    port=""
    rm -f "$marker"
    return
  fi
  # Coverage belongs to `npm test`. The interop file runs on its own first: when a file of a tap
  # run times out, tap leaves the files still queued unrun.
  local files
  for files in "$@"; do
    # shellcheck disable=SC2086
    NACOS_SERVER_ADDR=127.0.0.1:$port NACOS_TRANSPORTS=$transports NACOS_TRANSPORT=grpc \
      npx tap --disable-coverage --timeout=300 $files || ok=0
  done
  if [ $ok = 1 ]; then
    results+=("ok    $name ($((SECONDS - start))s)")
  else
    results+=("FAIL  $name ($((SECONDS - start))s)")
    failed=1
  fi
  NACOS_PORT=$port bash scripts/nacos.sh stop || { results+=("FAIL  $name: class-loading errors in its logs"); failed=1; }
  port=""
  stop_leftovers "$marker"
  rm -f "$marker"
}

OUTAGE_SCENARIOS=discovery,recovery run "Nacos 3.0.3, v1 API off, grpc" off grpc -- \
  test/interop.test.ts \
  "test/nacos-server.test.ts test/contract/naming.test.ts test/contract/discovery.test.ts test/acceptance/outage.test.ts test/contract/config-center.test.ts test/lifecycle.test.ts test/recovery.test.ts test/auth.test.ts test/auth-token-expiry.test.ts test/wrong-transport.test.ts test/namespace.test.ts test/fuzzy-watch.test.ts test/fail-fast.test.ts test/close-during-redo.test.ts"
OUTAGE_SCENARIOS=discovery run "Nacos 3.0.3, v1 API on, http and grpc" on http,grpc -- \
  "test/contract/naming.test.ts test/contract/discovery.test.ts test/acceptance/outage.test.ts test/contract/config-center.test.ts"

echo "== Nacos 3 summary"
printf '  %s\n' "${results[@]}"
exit $failed
