#!/usr/bin/env bash
# `npm test`: build, type-check, make sure a real Nacos answers (installing and starting one if
# none does), run the tap suite and the type tests, and stop the server it started.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

export NACOS_SERVER_ADDR=${NACOS_SERVER_ADDR:-127.0.0.1:8848}
first=${NACOS_SERVER_ADDR%%,*}
export NACOS_PORT=${first##*:}

echo "== build and type-check"
npm run --silent build
npm run --silent typecheck

started=0
cleanup() { if [ "$started" = 1 ]; then bash scripts/nacos.sh stop || true; fi; }
trap cleanup EXIT
if curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$first/nacos/v1/console/health/readiness" | grep -q 200; then
  echo "== using the Nacos server that answers on $first"
else
  echo "== no Nacos on $first: installing and starting one"
  bash scripts/nacos.sh start
  started=1
fi

echo "== tap"
npx tap "$@"
echo "== type tests"
npx tstyche
