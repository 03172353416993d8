#!/usr/bin/env python3
"""Helpers for scripts/dev and scripts/demo (python3 standard library only).

As a module: the events the functions take (API Gateway HTTP API payload 2.0,
EventBridge schedule), as the dev tool prints them from the one builder in
tests/src/event.rs, and a client for the Lambda Invoke API of `cargo lambda watch`.

As a command:
  stack.py probe URL                  exit 0 if URL answers HTTP at all
  stack.py port-open HOST PORT        exit 0 if something listens there
  stack.py wait-port HOST PORT SECS [--pid-file F --log F]
  stack.py warm --port P --log F --pid-file F --timeout S [--status-file F]
                [--optional NAME]... NAME...
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

# --- events -------------------------------------------------------------------


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def devtool_bin():
    """The dev tool `scripts/dev up` builds (as scripts/lib/common.sh finds it)."""
    target = os.environ.get("CARGO_TARGET_DIR") or "target"
    return os.path.join(ROOT, target, "debug", "devtool")


def event(*args):
    """An event from the project's one builder (tests/src/event.rs), printed by
    `devtool event ARGS`; docs/api.md#events describes them."""
    tool = devtool_bin()
    if not os.path.exists(tool):
        raise RuntimeError(f"{tool} is missing: scripts/dev up builds it")
    out = subprocess.run([tool, "event", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def http_event(method, path, sub=None, body=None, client_id="web-console"):
    """An API Gateway HTTP API (payload 2.0) event, as a JWT authorizer would
    hand it on: the caller is the `sub` claim; no `sub`, no authorizer."""
    args = [method, path]
    if sub is not None:
        args += ["--sub", sub] + (["--client", client_id] if client_id is not None else [])
    if body is not None:
        args += ["--body", body if isinstance(body, str) else json.dumps(body)]
    return event(*args)


def scheduled_event():
    """The event an EventBridge schedule rule sends."""
    return event("schedule")


# What `up` sends each function to make cargo lambda watch compile and start it.
# HTTP functions get a request without an authorizer (they answer 401).
WARM_EVENTS = {
    "send-code": lambda: http_event("POST", "/v1/verification-codes", body={"purpose": "delete_account"}),
    "verify-code": lambda: http_event("POST", "/v1/verification-codes/verify", body={"purpose": "delete_account", "code": "000000"}),
    "check-prerequisites": lambda: http_event("GET", "/v1/account/deletion-prerequisites"),
    "dismiss-enterprise": lambda: http_event("POST", "/v1/enterprise/dismissal", body={"verification_token": "x"}),
    "delete-account": lambda: http_event("POST", "/v1/account/deletion", body={"verification_token": "x"}),
    "cleanup": scheduled_event,
    "handover-account": lambda: http_event("POST", "/v1/account/handover", body={"verification_token": "x", "new_email": "x@example.com"}),
    "cancel-deletion": lambda: http_event("POST", "/v1/account/deletion/cancellation", body={"verification_token": "x"}),
    "export-data": lambda: http_event("POST", "/v1/account/data-export", body={"verification_token": "x"}),
    # A report from no system of DOWNSTREAM_SYSTEMS: refused, answered.
    "erasure-ledger": lambda: {"source": "erasure.warm-up", "detail-type": "Account Erasure Reported", "detail": {}},
    # An empty batch of the table's stream: answers {"batchItemFailures": []}.
    "publish-events": lambda: {"Records": []},
}

# --- the Lambda Invoke API ------------------------------------------------------


def invoke_url(port, name):
    return f"http://127.0.0.1:{port}/2015-03-31/functions/{name}/invocations"


def invoke(port, name, event, timeout):
    """POSTs EVENT to the function; returns (HTTP status, raw body bytes)."""
    data = json.dumps(event).encode()
    req = urllib.request.Request(invoke_url(port, name), data=data, method="POST",
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


# --- small checks ---------------------------------------------------------------


def probe(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            resp.read()
        return True
    except urllib.error.HTTPError:
        return True
    except Exception:
        return False


def port_open(host, port, timeout=1.0):
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def read_pid(pid_file):
    try:
        with open(pid_file) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def proc_stat(pid):
    """(state, parent pid) of a process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1])
    except (OSError, ValueError, IndexError):
        return None


def function_running(name, watch_pid):
    """Whether a live process of the binary NAME descends from the watch
    (cargo lambda watch -> cargo run -> the function)."""
    parents, candidates = {}, []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = proc_stat(entry)
        if not stat:
            continue
        parents[int(entry)] = stat[1]
        if stat[0] in ("Z", "X"):
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0", 1)[0].decode("utf-8", "replace")
        except OSError:
            continue
        if os.path.basename(argv0) == name:
            candidates.append(int(entry))
    for pid in candidates:
        for _ in range(8):
            pid = parents.get(pid)
            if pid is None or pid <= 1:
                break
            if pid == watch_pid:
                return True
    return False


def pid_alive(pid_file):
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip())
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, ValueError, IndexError):
        return False


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# How cargo lambda watch (1.9) reports a function process that ended; a
# "ForceStop" is its own restart after a source change, not a crash.
CRASH = re.compile(r"\bERROR\b.*\bcommand (exited|killed|stopped|ended)\b")


class LogReader:
    def __init__(self, path):
        self.path = path
        self.offset = self._size()
        self.partial = ""

    def _size(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def new_lines(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return []
        self.offset += len(chunk)
        text = self.partial + ANSI.sub("", chunk.decode("utf-8", "replace"))
        lines = text.split("\n")
        self.partial = lines.pop()
        return lines


def tail(path, n=60):
    try:
        with open(path, "rb") as f:
            lines = ANSI.sub("", f.read().decode("utf-8", "replace")).splitlines()
    except OSError:
        return
    print(f"----- last {n} lines of {path} -----", file=sys.stderr)
    for line in lines[-n:]:
        print(line, file=sys.stderr)
    print("-----", file=sys.stderr)


def say(msg):
    print(f"dev: {msg}", file=sys.stderr, flush=True)


# --- commands -------------------------------------------------------------------


def cmd_wait_port(args):
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        if port_open(args.host, args.port):
            return 0
        if args.pid_file and not pid_alive(args.pid_file):
            say(f"the process in {args.pid_file} exited before {args.host}:{args.port} answered")
            if args.log:
                tail(args.log)
            return 1
        time.sleep(0.2)
    say(f"nothing answered on {args.host}:{args.port} within {args.seconds} s")
    if args.log:
        tail(args.log)
    return 1


def warm_one(args, name, deadline):
    """Invokes NAME once and waits for any answer; returns None or an error text."""
    event = WARM_EVENTS.get(name, scheduled_event)()
    reader = LogReader(args.log)
    result = {}

    def run():
        try:
            result["answer"] = invoke(args.port, name, event, timeout=max(1.0, deadline - time.monotonic()))
        except Exception as err:  # noqa: BLE001 - reported below
            result["error"] = err

    start = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    last_note = start
    last_line = ""
    watch_pid = read_pid(args.pid_file)
    running = re.compile(r"Running `[^`]*\b" + re.escape(name) + r"`")
    running_since = None
    gone = 0
    while True:
        thread.join(0.5)
        lines = reader.new_lines()
        for line in lines:
            if line.strip():
                last_line = line.strip()
            if running.search(line) and running_since is None:
                running_since = time.monotonic()
        crashed = [line for line in lines if CRASH.search(line) and "ForceStop" not in line]
        if crashed:
            time.sleep(1.0)  # let the rest of its output reach the log
            tail(args.log)
            return f"the {name} process ended ({crashed[0].strip()}): it failed to build or to start"
        if not thread.is_alive():
            break
        now = time.monotonic()
        if not pid_alive(args.pid_file):
            tail(args.log)
            return "cargo lambda watch exited"
        # A process that ends with status 0 leaves no line in the log: look for it.
        if running_since is not None and now - running_since > 3 and watch_pid:
            gone = 0 if function_running(name, watch_pid) else gone + 1
            if gone >= 4:
                tail(args.log, 20)
                return f"EXITED: the {name} process ended without serving a request"
        if now >= deadline:
            tail(args.log)
            return f"{name} did not answer before the warm-up deadline ({args.timeout} s in all)"
        if now - last_note >= 15:
            last_note = now
            say(f"  ... {name}: {now - start:.0f} s, {last_line[:120]}")
    took = time.monotonic() - start
    if "error" in result:
        tail(args.log)
        return f"invoking {name} failed: {result['error']}"
    status, body = result["answer"]
    text = body.decode("utf-8", "replace")
    if status == 404 and "Missing function" in text:
        return f"MISSING: {text[:300]}"
    detail = ""
    try:
        payload = json.loads(text)
        if isinstance(payload, dict) and "statusCode" in payload:
            detail = f", function answered {payload['statusCode']}"
        elif isinstance(payload, dict) and ("errorType" in payload or "errorMessage" in payload):
            detail = f", function error {payload.get('errorType')}: {str(payload.get('errorMessage'))[:160]}"
    except ValueError:
        detail = f", body {text[:120]!r}"
    say(f"  {name} is up (invoke HTTP {status}{detail}) after {took:.1f} s")
    return None


def cmd_warm(args):
    deadline = time.monotonic() + args.timeout
    say(f"warming {len(args.names)} functions; cargo lambda watch compiles each on its first "
        f"request (the first build can take minutes; log: {os.path.relpath(args.log)})")
    status = {}

    def save():
        if args.status_file:
            with open(args.status_file, "w") as f:
                json.dump(status, f, indent=1)

    save()
    for name in args.names:
        say(f"  invoking {name}")
        err = warm_one(args, name, deadline)
        if err is None:
            status[name] = "up"
            save()
            continue
        kind, _, text = err.partition(": ") if err.startswith(("MISSING: ", "EXITED: ")) else ("", "", err)
        if kind and name in args.optional:
            status[name] = "missing" if kind == "MISSING" else "exits without serving"
            save()
            say(f"  {name}: {status[name]} (not written yet?): skipped")
            continue
        status[name] = "failed"
        save()
        say(f"error: {name}: {text}")
        return 1
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog="stack.py")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("probe")
    p.add_argument("url")
    p = sub.add_parser("port-open")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p = sub.add_parser("wait-port")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("seconds", type=float)
    p.add_argument("--pid-file")
    p.add_argument("--log")
    p = sub.add_parser("warm")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--pid-file", required=True)
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--optional", action="append", default=[],
                   help="a function that may be missing or a placeholder that exits at once")
    p.add_argument("--status-file", help="where to write each function's state as JSON")
    p.add_argument("names", nargs="+")
    args = parser.parse_args(argv)
    if args.cmd == "probe":
        return 0 if probe(args.url) else 1
    if args.cmd == "port-open":
        return 0 if port_open(args.host, args.port) else 1
    if args.cmd == "wait-port":
        return cmd_wait_port(args)
    return cmd_warm(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
