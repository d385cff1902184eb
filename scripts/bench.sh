#!/usr/bin/env bash
# `npm run bench` (or `npm run bench:metrics`: bench/metrics.mjs, measure 7 alone, instead of
# bench/run.mjs, its rows printed only): build, make sure a Nacos answers on NACOS_SERVER_ADDR
# (starting one if none does, stopped afterwards), run bench/run.mjs (it also starts and stops a
# private Nacos, on a port it finds free with its gRPC ports, for the restart measure) and write the
# table into BENCHMARKS.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# shellcheck source=lib/ensure-nacos.sh
. scripts/lib/ensure-nacos.sh

npm run --silent build
ensure_nacos
node "bench/${1:-run}.mjs"
