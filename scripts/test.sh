#!/usr/bin/env bash
# `npm test`: build, type-check, look for dead code (knip), make sure a real Nacos answers (installing and starting one if
# none does), run the tap suite and the type tests, and stop the server it started.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# shellcheck source=lib/ensure-nacos.sh
. scripts/lib/ensure-nacos.sh

echo "== build and type-check"
npm run --silent build
npm run --silent typecheck

echo "== dead code (knip)"
npx knip

ensure_nacos

echo "== tap"
npx tap "$@"
echo "== type tests"
npx tstyche
