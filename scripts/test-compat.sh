#!/usr/bin/env bash
# `npm run test:compat [VERSION...]`: the compatibility run against older Nacos servers (default
# 2.2.3 and 2.0.4; `npm test` proves the newest, 2.3.2). Per version: start that server on a free
# port, run the subset below against it, stop it. Private servers the tests start themselves
# (restart, auth) are of the same version: NACOS_VERSION is exported to them.
#
# The subset, and what it proves on which transport:
#   test/contract/*.test.ts     register/deregister, discovery, config: both
#   test/acceptance/outage.test.ts  discovery through a server restart (OUTAGE_SCENARIOS=discovery): both
#   test/interop.test.ts        the official Java client beside us, both directions: both
#   test/auth.test.ts           auth on, token use, wrong password: http (NACOS_TRANSPORT)
# With NACOS_COMPAT_FULL=1 also (about 3.5 min more per version, over CI's budget):
#   test/lifecycle.test.ts      register on listen, heartbeats, signals: http
#   test/recovery.test.ts and test/acceptance/outage.test.ts's recovery scenario: Nacos down at start-up or
#                               restarted while the app runs: http
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

[ $# -gt 0 ] || set -- 2.2.3 2.0.4
FILES=(test/contract/*.test.ts test/acceptance/outage.test.ts test/auth.test.ts)
export OUTAGE_SCENARIOS=discovery
[ "${NACOS_COMPAT_FULL:-0}" != 1 ] || { FILES+=(test/lifecycle.test.ts test/recovery.test.ts); OUTAGE_SCENARIOS=discovery,recovery; }

# shellcheck source=lib/ports.sh
. scripts/lib/ports.sh

echo "== build"
npm run --silent build || exit 1

results=()
failed=0
port=""
trap '[ -z "$port" ] || NACOS_PORT=$port bash scripts/nacos.sh stop || true' EXIT
for v in "$@"; do
  start=$SECONDS
  export NACOS_VERSION=$v
  marker=$(mktemp)
  port=$(free_port) || { results+=("FAIL  Nacos $v: no free port"); failed=1; rm -f "$marker"; continue; }
  echo "== Nacos $v on 127.0.0.1:$port"
  if ! NACOS_PORT=$port bash scripts/nacos.sh start; then
    results+=("FAIL  Nacos $v: the server did not start")
    failed=1
    port=""
    rm -f "$marker"
    continue
  fi
  # Coverage belongs to `npm test`; this run is about what each server does. The interop test runs
  # on its own first: when a file of a tap run times out, tap leaves the files still queued unrun.
  # The outage file restarts a private server: on a busy machine a file can need more than tap's
  # 240 s (2.0.4: 94 s for http, 73 s for the gRPC restart alone, when each had its own restart).
  ok=1
  NACOS_SERVER_ADDR=127.0.0.1:$port npx tap --disable-coverage test/interop.test.ts || ok=0
  NACOS_SERVER_ADDR=127.0.0.1:$port NACOS_TRANSPORT=http npx tap --disable-coverage --timeout=300 "${FILES[@]}" || ok=0
  if [ $ok = 1 ]; then
    results+=("ok    Nacos $v ($((SECONDS - start))s)")
  else
    results+=("FAIL  Nacos $v ($((SECONDS - start))s)")
    failed=1
  fi
  NACOS_PORT=$port bash scripts/nacos.sh stop || { results+=("FAIL  Nacos $v: class-loading errors in its logs"); failed=1; }
  port=""
  stop_leftovers "$marker"
  rm -f "$marker"
done

echo "== compat summary"
printf '  %s\n' "${results[@]}"
exit $failed
