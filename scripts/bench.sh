#!/usr/bin/env bash
# `npm run bench`: build, make sure a Nacos answers on NACOS_SERVER_ADDR (starting one if none
# does, stopped afterwards), run bench/run.mjs (it also starts and stops a private Nacos on
# BENCH_NACOS_PORT, default 28948, for the restart measure) and write the table into BENCHMARKS.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

export NACOS_SERVER_ADDR=${NACOS_SERVER_ADDR:-127.0.0.1:8848}
first=${NACOS_SERVER_ADDR%%,*}
export NACOS_PORT=${first##*:}

npm run --silent build
started=0
cleanup() { if [ "$started" = 1 ]; then bash scripts/nacos.sh stop || true; fi; }
trap cleanup EXIT
if curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$first/nacos/v1/console/health/readiness" | grep -q 200; then
  echo "== using the Nacos server that answers on $first" >&2
else
  echo "== no Nacos on $first: installing and starting one" >&2
  bash scripts/nacos.sh start
  started=1
fi
node bench/run.mjs
