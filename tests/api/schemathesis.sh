#!/usr/bin/env bash
# schemathesis (PyPI, in .stack/schemathesis-venv) against infra/openapi.yaml
# through the local HTTP API of the running stack (scripts/dev up), with a
# valid token of a seeded default administrator (tests/api/fixtures.json).
# Every check, but the few tests/api/schemathesis.toml turns off, each with its reason.
#   MAX_EXAMPLES (default 25): cases per operation and phase.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEV="$ROOT/scripts/dev"
VENV="$ROOT/.stack/schemathesis-venv"
SPEC="schemathesis>=4.32,<4.33"
if [[ ! -x "$VENV/bin/schemathesis" || "$(cat "$VENV/.spec" 2>/dev/null)" != "$SPEC" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "$SPEC"
  printf '%s\n' "$SPEC" >"$VENV/.spec"
fi
"$DEV" reset >&2
"$DEV" seed "$ROOT/tests/api/fixtures.json" >&2
eval "$("$DEV" env)"
token="$("$DEV" token fuzz-admin)"
# Its own working folder: hypothesis writes its database there, and a change in
# the repository would make cargo lambda watch restart the functions mid-run.
mkdir -p "$ROOT/.stack/schemathesis"
cd "$ROOT/.stack/schemathesis"
"$VENV/bin/schemathesis" --config-file "$ROOT/tests/api/schemathesis.toml" run "$ROOT/infra/openapi.yaml" --url "http://127.0.0.1:$API_PORT" \
  -H "Authorization: Bearer $token" --max-examples "${MAX_EXAMPLES:-25}" --workers 1 --no-color "$@"
