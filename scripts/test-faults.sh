#!/usr/bin/env bash
# `npm run test:faults`: the fault suite (test/faults) against a real 3-node Nacos cluster on
# NACOS_CLUSTER_PORT, +10, +20 (default: the first base from 28848 up, in steps of 100, whose
# ports are all free now: HTTP, gRPC +1000/+1001, Raft -1000). Starts the nodes that do not run,
# stops the cluster afterwards if it started it, and never leaves a paused (SIGSTOPped) node behind.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# shellcheck source=lib/ports.sh
. scripts/lib/ports.sh
free_base() {
  local base p
  for ((base = 28848; base < 60000; base += 100)); do
    for p in $base $((base + 10)) $((base + 20)); do
      nacos_ports_free "$p" -1000 || continue 2
    done
    echo "$base"
    return 0
  done
  return 1
}
if [ -z "${NACOS_CLUSTER_PORT:-}" ]; then
  NACOS_CLUSTER_PORT=$(free_base) || { echo "no free ports for a 3-node cluster" >&2; exit 1; }
fi
export NACOS_CLUSTER_PORT
ports="$NACOS_CLUSTER_PORT $((NACOS_CLUSTER_PORT + 10)) $((NACOS_CLUSTER_PORT + 20))"
cluster() { NACOS_PORT=$NACOS_CLUSTER_PORT bash scripts/nacos.sh "$@"; }

started=0
for p in $ports; do
  curl -sf -o /dev/null -m 2 "http://127.0.0.1:$p/nacos/v1/console/health/readiness" || started=1
done
cleanup() {
  local p pf
  for p in $ports; do
    pf=${NACOS_CACHE_DIR:-$ROOT/.nacos}/node-$p/nacos.pid
    if [ -f "$pf" ]; then kill -CONT "$(cat "$pf")" 2>/dev/null || true; fi
  done
  if [ "$started" = 1 ]; then cluster cluster-stop || true; fi
}
trap cleanup EXIT

# Each file says which transports it runs on (both, or the one whose behaviour it proves).
unset NACOS_TRANSPORT

echo "== build"
npm run --silent build
echo "== Nacos cluster on $ports"
start=$SECONDS
cluster install
cluster cluster-start
cluster cluster-status
echo "== fault suite (cluster ready after $((SECONDS - start))s)"
# One file at a time: the tests kill, pause and restart the shared cluster. Coverage belongs to
# `npm test`; this suite is about Nacos's behaviour under faults.
[ $# -gt 0 ] || set -- test/faults/*.test.ts
npx tap --jobs=1 --disable-coverage --timeout=600 "$@"
echo "== fault suite finished in $((SECONDS - start))s"
