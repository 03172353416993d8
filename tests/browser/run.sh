#!/usr/bin/env bash
# The browser tests against the running local stack (scripts/dev up): wipes
# it, seeds tests/browser/fixtures.json, runs tests/browser/run.mjs in
# Debian's chromium. Needs `apt-get install chromium` and `npm ci` (scripts/test
# does both). UPDATE_SCREENSHOTS=1 copies the screenshots the run took into
# docs/screenshots/ (the README shows them). Then the grace period's journey on
# the stack restarted with DELETION_GRACE_SECONDS=600 (SKIP_GRACE=1 leaves it out).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEV="$ROOT/scripts/dev"
"$DEV" reset >&2
"$DEV" seed "$ROOT/tests/browser/fixtures.json" >&2
eval "$("$DEV" env)"
rm -rf "$ROOT/.stack/screenshots"
(cd "$ROOT" && node --test --test-concurrency=1 tests/browser/run.mjs)

# The grace period: the stack again with DELETION_GRACE_SECONDS (up restarts the
# functions with it), then as it was.
if [[ "${SKIP_GRACE:-0}" != 1 ]]; then
  DELETION_GRACE_SECONDS=600 "$DEV" up >&2
  "$DEV" reset >&2
  "$DEV" seed "$ROOT/tests/browser/fixtures.json" >&2
  status=0
  (cd "$ROOT" && GRACE_SECONDS=600 node --test --test-concurrency=1 \
    --test-name-pattern='grace period' tests/browser/run.mjs) || status=$?
  env -u DELETION_GRACE_SECONDS "$DEV" up >&2
  [[ $status == 0 ]] || exit "$status"
fi
if [[ "${UPDATE_SCREENSHOTS:-0}" == 1 ]]; then
  mkdir -p "$ROOT/docs/screenshots"
  cp "$ROOT"/.stack/screenshots/*.png "$ROOT/docs/screenshots/"
fi
