#!/usr/bin/env python3
"""The local HTTP API: what API Gateway's HTTP API with the template's JWT
authorizer does, on loopback, in front of `cargo lambda watch`.

Every route comes from infra/template.yaml (the HttpApi events of its
functions); the authorizer's issuer and audience are the template's
JwtConfiguration with its parameters resolved from the local values below.
A body over 10 MB is refused 413 {"message":"Request Entity Too Large"} (a
Content-Length that is not a number 400 {"message":"Bad Request"}) before it is
read. A request is matched to a route (else 404 {"message":"Not Found"}), throttled
as the stage is (429), its JWT checked (RS256 against the stack's key pair,
iss, aud or client_id, exp, nbf, and iat and auth_time no later than now plus
tokens.CLOCK_SKEW_SECONDS, 60 s; else 401 {"message":"Unauthorized"}),
or, on a route with the AWS_IAM authorizer, its SigV4 signature checked
(scripts/lib/sigv4.py; else 403 {"message":"Forbidden"}),
and the function invoked through the Lambda Invoke API with a payload 2.0
event whose claims are strings. Any other GET is a file of web/ (the web
client), and /_local/ serves what only a local stack has: the seeded
accounts, a token for one, the mail local SES accepted; only to a request
whose Host is 127.0.0.1:PORT or localhost:PORT (else 403 {"message":"Forbidden"}),
so that a page whose name a DNS rebinding points at loopback reads none of it.

  gateway.py serve --port P --lambda-port L [--moto-port M --dynamodb-port D]
  gateway.py token ACCOUNT [--client CLIENT_ID] [--ttl SECONDS]
  gateway.py routes              the routes read from the template, as JSON

Local parameter values: JWT_ISSUER, JWT_AUDIENCE (comma-separated), in the
environment, else the defaults in apidef.py. With IDENTITY_PROVIDER=cognito the issuer and
audience are the local user pool's (USER_POOL_ID, USER_POOL_CLIENT_ID) and the tokens are
checked with the pool's keys (moto's JWKS), as API Gateway checks a Cognito access token. Needs PyJWT, `cryptography` and PyYAML
(scripts/lib/common.sh installs them into .stack/venv).
"""

import argparse
import base64
import json
import mimetypes
import os
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apidef import ROOT, TEMPLATE, Api, TemplateError  # noqa: E402
import sigv4  # noqa: E402
from tokens import Unauthorized, claim_strings, load_key, pool_keys, token_for, verify  # noqa: E402

WEB = os.path.join(ROOT, "web")
# API Gateway's HTTP API gives up on an integration after 30 s.
INTEGRATION_TIMEOUT = 30
# API Gateway's HTTP API takes a request body of at most 10 MB.
MAX_BODY = 10 * 1024 * 1024
# How long a refused body's rest is read and dropped before the connection closes.
DISCARD_SECONDS = 5


# --- throttling -------------------------------------------------------------------


class Bucket:
    """The stage's token bucket: `burst` requests at once, `rate` a second after."""

    def __init__(self, burst, rate):
        self.capacity, self.rate = float(burst), float(rate)
        self.tokens, self.at = float(burst), time.monotonic()
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            t = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (t - self.at) * self.rate)
            self.at = t
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


# --- the server ---------------------------------------------------------------------


def _request_id():
    """An id in the shape of API Gateway's apigw-requestid."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii")[:16]


def _event(api_route, path_params, method, path, query, headers, body, claims, iam=None):
    """The payload 2.0 event API Gateway hands a Lambda integration."""
    now = time.time()
    request_id = _request_id()
    lowered = {}
    cookies = []
    for name, value in headers:
        n = name.lower()
        if n == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
        elif n in lowered:
            lowered[n] += "," + value
        else:
            lowered[n] = value
    event = {
        "version": "2.0",
        "routeKey": api_route["route_key"],
        "rawPath": path,
        "rawQueryString": query,
        "headers": lowered,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": lowered.get("host", "127.0.0.1"),
            "domainPrefix": lowered.get("host", "127.0.0.1").split(".")[0],
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": lowered.get("user-agent", "")},
            "requestId": request_id, "routeKey": api_route["route_key"], "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        params = {}
        for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True):
            params[k] = params[k] + "," + v if k in params else v
        event["queryStringParameters"] = params
    if path_params:
        event["pathParameters"] = path_params
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claim_strings(claims), "scopes": None}}
    if iam is not None:
        event["requestContext"]["authorizer"] = {"iam": iam}
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode("ascii"), True
    return event, request_id


class Gateway:
    def __init__(self, api, public_key, lambda_port, local=None):
        self.api, self.public_key, self.lambda_port = api, public_key, lambda_port
        self.bucket = Bucket(api.burst, api.rate)
        self.local = local  # the /_local/ pages (scripts/lib/console.py), or None
        self.credentials = sigv4.local_credentials()  # who may call an AWS_IAM route

    def invoke(self, function, event):
        url = f"http://127.0.0.1:{self.lambda_port}/2015-03-31/functions/{function}/invocations"
        req = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST",
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=INTEGRATION_TIMEOUT) as r:
                if r.headers.get("X-Amz-Function-Error"):
                    return None
                return json.loads(r.read() or b"null")
        except TimeoutError:
            return "timeout"
        except (urllib.error.URLError, OSError, ValueError):
            return None


def _message(status, text, extra=None):
    body = json.dumps({"message": text}, separators=(",", ":")).encode()
    return status, {"content-type": "application/json", **(extra or {})}, body


def _content_length(headers):
    """The body's declared size: 0 without Content-Length, None unless it is one
    decimal number (RFC 9110: 1*DIGIT; repeated only with the same value)."""
    values = {v.strip() for v in headers.get_all("content-length") or []}
    if not values:
        return 0
    if len(values) > 1:
        return None
    value = values.pop()
    return int(value) if value.isascii() and value.isdigit() else None


def _response(result):
    """The Lambda's answer as API Gateway turns a payload 2.0 response into HTTP."""
    if result == "timeout":
        return _message(503, "Service Unavailable")
    if result is None:
        return _message(500, "Internal Server Error")
    if not (isinstance(result, dict) and "statusCode" in result):
        # No statusCode: the whole answer is a 200 JSON body.
        return 200, {"content-type": "application/json"}, json.dumps(result).encode()
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for k, vs in (result.get("multiValueHeaders") or {}).items():
        headers[k.lower()] = ",".join(str(v) for v in vs)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    cookies = result.get("cookies") or []
    return int(result["statusCode"]), headers, data, cookies


class Handler(BaseHTTPRequestHandler):
    server_version = "local-api-gateway"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    gateway = None  # set by serve()

    def log_message(self, fmt, *args):
        # Method, path and status only: never a header (the token) or a body.
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))

    def _send(self, status, headers, data, cookies=(), request_id=None):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        for c in cookies:
            self.send_header("set-cookie", c)
        self.send_header("apigw-requestid", request_id or _request_id())
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _addressed_to_loopback(self):
        """Whether the one Host header is this server's loopback address and port, as
        on the web client's own pages: a site whose name a DNS rebinding points at
        127.0.0.1 sends its own name, and must not read /_local/ (tokens, mail)."""
        port = self.server.server_address[1]
        hosts = self.headers.get_all("host") or []
        return len(hosts) == 1 and hosts[0] in (f"127.0.0.1:{port}", f"localhost:{port}")

    def _refuse(self, status, text, unread):
        """Answers without reading the body, then closes the connection; what of the
        body still arrives (up to `unread` bytes, for DISCARD_SECONDS) is read in small
        pieces and dropped, so that a client still sending it gets the answer, not a reset."""
        self._send(*_message(status, text, {"connection": "close"}))
        deadline = time.monotonic() + DISCARD_SECONDS
        self.connection.settimeout(DISCARD_SECONDS)
        try:
            while unread > 0 and time.monotonic() < deadline:
                piece = self.rfile.read1(min(unread, 64 * 1024))
                if not piece:
                    break
                unread -= len(piece)
        except OSError:
            pass  # the client stopped sending or went away: the connection closes anyway

    def _handle(self):
        gw = self.gateway
        path, _, query = self.path.partition("?")
        length = _content_length(self.headers)
        if length is None:
            return self._refuse(400, "Bad Request", MAX_BODY)
        if length > MAX_BODY:
            return self._refuse(413, "Request Entity Too Large", length)
        body = self.rfile.read(length)
        if path.startswith("/_local/") and not self._addressed_to_loopback():
            return self._send(*_message(403, "Forbidden"))
        if path == "/_local/cognito-idp" and self.command == "POST" and gw.local is not None:
            return self._send(*gw.local.cognito(self.headers.get("x-amz-target"), body))
        route, params = gw.api.match(self.command, path)
        if route is None:
            if self.command in ("GET", "HEAD") and gw.local is not None:
                answer = gw.local.get(path, query)
                if answer is not None:
                    return self._send(*answer)
                static = _static(path)
                if static is not None:
                    return self._send(*static)
            return self._send(*_message(404, "Not Found"))
        if not gw.bucket.take():
            return self._send(*_message(429, "Too Many Requests"))
        claims, iam = None, None
        if route["authorizer"] == "AWS_IAM":
            try:
                url = f"http://{self.headers.get('host', '127.0.0.1')}{self.path}"
                iam = sigv4.verify(self.command, url, self.headers.items(), body, gw.credentials)
            except sigv4.Forbidden:
                return self._send(*_message(403, "Forbidden"))
        elif route["authorizer"]:
            authorizer = gw.api.authorizers.get(route["authorizer"])
            try:
                if authorizer is None:
                    raise Unauthorized("the route's authorizer is not defined")
                token = self.headers.get(authorizer["header"])
                if not token:
                    raise Unauthorized("the identity source is missing")
                claims = verify(token, gw.public_key, authorizer)
            except Unauthorized as e:
                challenge = f'Bearer scope="" error="invalid_token" error_description="{e}"'
                return self._send(*_message(401, "Unauthorized", {"www-authenticate": challenge}))
        event, request_id = _event(route, params, self.command, urllib.parse.unquote(path), query,
                                   self.headers.items(), body, claims, iam)
        status, headers, data, *rest = _response(gw.invoke(route["function"], event))
        self._send(status, headers, data, rest[0] if rest else (), request_id)

    # Every method, TRACE and made-up ones included, goes through the routes (API
    # Gateway answers an undeclared one 404 Not Found, never 501).
    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


def _static(path):
    """A file of web/ (the web client); `/` is web/index.html."""
    rel = urllib.parse.unquote(path).lstrip("/") or "index.html"
    full = os.path.realpath(os.path.join(WEB, rel))
    if os.path.isdir(full):
        full = os.path.join(full, "index.html")
    if not full.startswith(os.path.realpath(WEB) + os.sep) or not os.path.isfile(full):
        return None
    kind = mimetypes.guess_type(full)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind.endswith("javascript") or kind.endswith("json"):
        kind += "; charset=utf-8"
    with open(full, "rb") as f:
        return 200, {"content-type": kind, "cache-control": "no-store"}, f.read()


def serve(args):
    api = Api()
    key = load_key()
    local = None
    if args.moto_port and args.dynamodb_port:
        import console  # noqa: E402 (scripts/lib, beside this file)
        local = console.Console(api, key, args.moto_port, args.dynamodb_port)
    verifying = key.public_key()
    if os.environ.get("IDENTITY_PROVIDER") == "cognito" and args.moto_port:
        # The pool's tokens, checked with the pool's keys, as API Gateway checks a Cognito access token.
        verifying = pool_keys(f"http://127.0.0.1:{args.moto_port}", os.environ["USER_POOL_ID"])
    Handler.gateway = Gateway(api, verifying, args.lambda_port, local)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    auth = api.authorizers.get(api.default_authorizer, {})
    print(f"local HTTP API on http://127.0.0.1:{args.port}: {len(api.routes)} routes from "
          f"{os.path.relpath(TEMPLATE, ROOT)}, issuer {auth.get('issuer')}, audience {auth.get('audience')}",
          file=sys.stderr, flush=True)
    for r in api.routes:
        print(f"  {r['route_key']} -> {r['function']}", file=sys.stderr, flush=True)
    server.serve_forever()


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--lambda-port", type=int, required=True)
    s.add_argument("--moto-port", type=int)
    s.add_argument("--dynamodb-port", type=int)
    t = sub.add_parser("token")
    t.add_argument("account")
    t.add_argument("--client", default="web-console")
    t.add_argument("--ttl", type=int, default=3600)
    sub.add_parser("routes")
    args = p.parse_args(argv)
    try:
        if args.cmd == "serve":
            serve(args)
        elif args.cmd == "token":
            print(token_for(Api(), load_key(), args.account, args.client, args.ttl))
        else:
            api = Api()
            print(json.dumps([{k: r[k] for k in ("route_key", "function", "authorizer")} for r in api.routes], indent=2))
    except TemplateError as e:
        print(f"gateway: infra/template.yaml: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
