#!/usr/bin/env bash
# The browser tests against the running local stack (scripts/dev up): wipes
# it, seeds tests/browser/fixtures.json, runs tests/browser/run.mjs in
# Debian's chromium. Needs `apt-get install chromium` and `npm ci` (scripts/test
# does both). UPDATE_SCREENSHOTS=1 copies the screenshots the run took into
# docs/screenshots/ (the README shows them).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEV="$ROOT/scripts/dev"
"$DEV" reset >&2
"$DEV" seed "$ROOT/tests/browser/fixtures.json" >&2
eval "$("$DEV" env)"
rm -rf "$ROOT/.stack/screenshots"
cd "$ROOT" && node --test --test-concurrency=1 tests/browser/run.mjs
if [[ "${UPDATE_SCREENSHOTS:-0}" == 1 ]]; then
  mkdir -p "$ROOT/docs/screenshots"
  cp "$ROOT"/.stack/screenshots/*.png "$ROOT/docs/screenshots/"
fi
