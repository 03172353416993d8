"""The local HTTP API (scripts/lib/gateway.py) over real HTTP on loopback: the
JWT authorizer's answers, API Gateway's own 400/401/404/413/429/500, the payload
2.0 event a function gets (claims as strings), routes read from the template,
and /_local/ answering only the loopback Host.
A recording Lambda Invoke endpoint stands in for `cargo lambda watch`; the
whole stack is walked by the browser tests (tests/browser/).

Run: .stack/venv/bin/python -m unittest discover -s tests/gateway -v
"""

import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))

import console  # noqa: E402
import gateway  # noqa: E402
import jwt  # noqa: E402
import tokens  # noqa: E402
from apidef import TEMPLATE, Api  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from tokens import key_id, sign, token_for  # noqa: E402

# API Gateway's cap on an HTTP API request body: 10 MB.
MAX_BODY = 10_485_760
# The local stack's one principal, as an operator signs with it.
OPERATOR = ("AKIDOPERATOR", "operator-secret")


class Lambda(BaseHTTPRequestHandler):
    """The Lambda Invoke API: records each (function, event) and answers with
    a payload 2.0 response echoing the claims; `fail-me` fails as a function."""

    calls = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        function = self.path.split("/")[3]
        event = json.loads(self.rfile.read(int(self.headers["content-length"])))
        Lambda.calls.append((function, event))
        authorizer = event["requestContext"].get("authorizer", {})
        claims = authorizer.get("jwt", {}).get("claims") or authorizer.get("iam")
        if function == "fail-me":
            out, extra = {"errorType": "Panic", "errorMessage": "boom"}, {"X-Amz-Function-Error": "Unhandled"}
        else:
            out, extra = {"statusCode": 202, "headers": {"content-type": "application/json", "retry-after": "7"},
                          "body": json.dumps({"function": function, "claims": claims})}, {}
        data = json.dumps(out).encode()
        self.send_response(200)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# The template with one more route, as another function would add it.
EXTRA_ROUTE = """
  CancelDeletionFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: cancel-deletion
    Properties:
      Events:
        CancelDeletion:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Method: POST
            Path: /v1/account/deletion/cancellation
            PayloadFormatVersion: "2.0"
  FailingFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: fail-me
    Properties:
      Events:
        Fail:
          Type: HttpApi
          Properties:
            ApiId: !Ref HttpApi
            Method: GET
            Path: /v1/fail
"""


class GatewayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(TEMPLATE, encoding="utf-8") as f:
            text = f.read().replace("\nResources:\n", "\nResources:\n" + EXTRA_ROUTE, 1)
        cls.tmp = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        cls.tmp.write(text)
        cls.tmp.close()
        cls.api = Api(cls.tmp.name, {"JwtIssuer": "https://idp.test", "JwtAudience": "api-one,api-two"})
        cls.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.lam = _serve(Lambda)
        gateway.Handler.gateway = gateway.Gateway(cls.api, cls.key.public_key(), cls.lam.server_address[1])
        gateway.Handler.gateway.credentials = {OPERATOR[0]: OPERATOR[1]}
        cls.gw = _serve(gateway.Handler)
        cls.base = f"http://127.0.0.1:{cls.gw.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        for server in (cls.gw, cls.lam):
            server.shutdown()
            server.server_close()
        os.unlink(cls.tmp.name)

    def setUp(self):
        Lambda.calls.clear()
        gateway.Handler.gateway.bucket = gateway.Bucket(1000, 1000)

    def call(self, method, path, token=None, body=None, headers=None, data=None):
        """The answer to a request with `body` as JSON, or `data` as it is."""
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if body is not None:
            data = json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, method=method, headers=h, data=data)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), json.loads(e.read())

    def raw(self, head):
        """The answer to a request's head written by hand, no body sent after it."""
        with socket.create_connection(self.gw.server_address, timeout=10) as s:
            s.sendall(head.encode("latin-1"))
            r = http.client.HTTPResponse(s)
            r.begin()
            return r.status, dict(r.getheaders()), json.loads(r.read())

    def signed(self, method, path, key=None, service="execute-api", headers=None):
        """A request signed with SigV4, as an operator's AWS SDK or awscurl signs it."""
        request = AWSRequest(method=method, url=self.base + path, headers=dict(headers or {}))
        SigV4Auth(Credentials(*(key or OPERATOR)), service, "us-east-1").add_auth(request)
        req = urllib.request.Request(self.base + path, method=method, headers=dict(request.headers.items()))
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers), json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), json.loads(e.read())

    def test_the_operators_route_takes_a_sigv4_signature_and_nothing_else(self):
        status, _, body = self.signed("GET", "/v1/erasure-ledger/bob")
        self.assertEqual((status, body["function"]), (202, "erasure-ledger"))
        self.assertEqual(body["claims"]["userArn"], f"arn:aws:iam::123456789012:user/{OPERATOR[0]}")
        event = Lambda.calls[-1][1]
        self.assertEqual(event["pathParameters"], {"account_id": "bob"})
        Lambda.calls.clear()
        refused = [
            self.call("GET", "/v1/erasure-ledger/bob"),
            self.call("GET", "/v1/erasure-ledger/bob", token_for(self.api, self.key, "alice")),
            self.signed("GET", "/v1/erasure-ledger/bob", key=(OPERATOR[0], "not-the-secret")),
            self.signed("GET", "/v1/erasure-ledger/bob", key=("AKIDSOMEONEELSE", OPERATOR[1])),
            self.signed("GET", "/v1/erasure-ledger/bob", service="s3"),
        ]
        for status, _, body in refused:
            self.assertEqual((status, body), (403, {"message": "Forbidden"}))
        self.assertEqual(Lambda.calls, [], "no refused request reaches the function")

    def claims(self, **over):
        now = int(time.time())
        c = {"sub": "alice", "iss": "https://idp.test", "aud": "api-one", "client_id": "web-console",
             "iat": now, "nbf": now, "exp": now + 600}
        c.update(over)
        return {k: v for k, v in c.items() if v is not None}

    def assert_unauthorized(self, token, why):
        status, headers, body = self.call("GET", "/v1/account/deletion-prerequisites", token)
        self.assertEqual((status, body), (401, {"message": "Unauthorized"}), why)
        self.assertIn(why, headers.get("www-authenticate", ""))
        self.assertEqual(Lambda.calls, [], "a refused request never reaches the function")

    def test_a_valid_token_reaches_the_function_with_every_claim_a_string(self):
        token = sign(self.key, self.claims(aud=["api-two", "other"], email_verified=True))
        status, headers, body = self.call("POST", "/v1/verification-codes", token, {"purpose": "delete_account"},
                                          {"Accept-Language": "zh-CN"})
        self.assertEqual(status, 202)
        self.assertEqual(headers["retry-after"], "7")
        self.assertEqual(body["function"], "send-code")
        claims = body["claims"]
        self.assertTrue(all(isinstance(v, str) for v in claims.values()), claims)
        self.assertEqual(claims["sub"], "alice")
        self.assertEqual(claims["aud"], "[api-two other]")
        self.assertEqual(claims["email_verified"], "true")
        self.assertRegex(claims["iat"], r"^\d+$")
        (function, event), = Lambda.calls
        self.assertEqual(event["version"], "2.0")
        self.assertEqual(event["routeKey"], "POST /v1/verification-codes")
        self.assertEqual(event["requestContext"]["http"]["method"], "POST")
        self.assertEqual(event["headers"]["accept-language"], "zh-CN")
        self.assertEqual(json.loads(event["body"]), {"purpose": "delete_account"})

    def test_a_route_added_to_the_template_is_served_without_a_change(self):
        token = token_for(self.api, self.key, "bob", "mobile-app")
        status, _, body = self.call("POST", "/v1/account/deletion/cancellation", token, {"verification_token": "x"})
        self.assertEqual((status, body["function"]), (202, "cancel-deletion"))
        self.assertEqual(body["claims"]["client_id"], "mobile-app")
        self.assertEqual(body["claims"]["iss"], "https://idp.test")

    def test_every_route_of_the_template_goes_to_its_function(self):
        token = token_for(self.api, self.key, "alice")
        for route in self.api.routes:
            if route["function"] == "fail-me":
                continue
            if route["authorizer"] == "AWS_IAM":
                status, _, body = self.signed(route["method"], route["path"].replace("{account_id}", "bob"))
                self.assertEqual((status, body["function"]), (202, route["function"]), route["route_key"])
                continue
            status, _, body = self.call(route["method"], route["path"], token, {} if route["method"] == "POST" else None)
            self.assertEqual((status, body["function"]), (202, route["function"]), route["route_key"])
        self.assertIn("POST /v1/account/handover/confirm", [r["route_key"] for r in self.api.routes])

    def test_a_bad_signature_is_unauthorized(self):
        forged = sign(self.other_key, self.claims(), {"kid": key_id(self.key.public_key())})
        self.assert_unauthorized(forged, "signature is not valid")
        good = sign(self.key, self.claims())
        head, payload, sig = good.split(".")
        tampered = sign(self.key, self.claims(sub="mallory")).split(".")[1]
        self.assert_unauthorized(f"{head}.{tampered}.{sig}", "signature is not valid")

    def test_another_key_or_algorithm_is_unauthorized(self):
        self.assert_unauthorized(sign(self.other_key, self.claims()), "key id is not known")
        # The stack's key id, but an HMAC anyone can compute, or no signature at all.
        kid = {"kid": key_id(self.key.public_key())}
        hmac = jwt.encode(self.claims(), "a-shared-secret-that-anyone-could-use", algorithm="HS256", headers=kid)
        self.assert_unauthorized(hmac, "algorithm is not supported")
        self.assert_unauthorized(jwt.encode(self.claims(), None, algorithm="none", headers=kid), "algorithm is not supported")

    def test_a_wrong_issuer_or_audience_is_unauthorized(self):
        self.assert_unauthorized(sign(self.key, self.claims(iss="https://evil.test")), "valid issuer")
        self.assert_unauthorized(sign(self.key, self.claims(aud="someone-else")), "valid audience")
        # No aud: client_id must be an audience.
        self.assert_unauthorized(sign(self.key, self.claims(aud=None, client_id="web-console")), "valid audience")
        status, _, _ = self.call("GET", "/v1/account/deletion-prerequisites",
                                 sign(self.key, self.claims(aud=None, client_id="api-two")))
        self.assertEqual(status, 202)

    def test_an_expired_or_not_yet_valid_token_is_unauthorized(self):
        now = int(time.time())
        self.assert_unauthorized(sign(self.key, self.claims(exp=now - 1)), "expired")
        self.assert_unauthorized(sign(self.key, self.claims(exp=None)), "expired")
        self.assert_unauthorized(sign(self.key, self.claims(nbf=now + 300)), "nbf is in the future")
        self.assert_unauthorized(sign(self.key, self.claims(iat=now + 300)), "iat is in the future")

    def test_an_iat_or_auth_time_past_the_clock_skew_or_not_a_number_is_unauthorized(self):
        later = int(time.time()) + tokens.CLOCK_SKEW_SECONDS + 30
        self.assert_unauthorized(sign(self.key, self.claims(iat=later)), "iat is in the future")
        self.assert_unauthorized(sign(self.key, self.claims(auth_time=later)), "auth_time is in the future")
        for claim in ("iat", "auth_time"):
            for bad in (str(int(time.time())), "yesterday", True, float("nan"), [1], {}):
                self.assert_unauthorized(sign(self.key, self.claims(**{claim: bad})), f"{claim} is not a number")

    def test_an_iat_or_auth_time_within_the_clock_skew_is_accepted(self):
        # An identity provider's clock a little ahead of the gateway's.
        soon = int(time.time()) + tokens.CLOCK_SKEW_SECONDS - 15
        status, _, body = self.call("GET", "/v1/account/deletion-prerequisites",
                                    sign(self.key, self.claims(iat=soon, auth_time=soon)))
        self.assertEqual(status, 202, body)
        self.assertEqual((body["claims"]["iat"], body["claims"]["auth_time"]), (str(soon), str(soon)))

    def test_no_token_or_a_malformed_one_is_unauthorized(self):
        self.assert_unauthorized(None, "identity source is missing")
        self.assert_unauthorized("not.a.jwt", "malformed")
        self.assert_unauthorized("abc", "malformed")

    def test_a_body_over_10_mb_is_refused_before_the_function(self):
        token = token_for(self.api, self.key, "alice")
        status, headers, body = self.call("POST", "/v1/verification-codes", token, data=b"x" * (MAX_BODY + 1))
        self.assertEqual((status, body), (413, {"message": "Request Entity Too Large"}))
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(Lambda.calls, [], "a refused body never reaches the function")
        status, _, _ = self.call("POST", "/v1/verification-codes", token, data=b"x" * MAX_BODY)
        self.assertEqual(status, 202)
        self.assertEqual(len(Lambda.calls[0][1]["body"]), MAX_BODY)

    def test_a_body_over_10_mb_is_refused_without_waiting_for_it(self):
        # Only the head is sent: the answer comes from Content-Length alone.
        token = token_for(self.api, self.key, "alice")
        status, _, body = self.raw(f"POST /v1/verification-codes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   f"Authorization: Bearer {token}\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n")
        self.assertEqual((status, body), (413, {"message": "Request Entity Too Large"}))
        self.assertEqual(Lambda.calls, [])

    def test_a_content_length_that_is_not_a_number_is_a_bad_request(self):
        token = token_for(self.api, self.key, "alice")
        for lengths in (["abc"], ["-1"], ["+2"], ["1_0"], ["0x10"], ["2", "3"]):
            head = "".join(f"Content-Length: {n}\r\n" for n in lengths)
            status, _, body = self.raw(f"POST /v1/verification-codes HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                       f"Authorization: Bearer {token}\r\n{head}\r\n")
            self.assertEqual((status, body), (400, {"message": "Bad Request"}), lengths)
        self.assertEqual(Lambda.calls, [])

    def test_the_local_pages_answer_only_requests_to_the_loopback_host(self):
        gw = gateway.Handler.gateway
        # /_local/token needs neither moto nor DynamoDB: no ports for them.
        gw.local = console.Console(self.api, self.key, 0, 0)
        self.addCleanup(setattr, gw, "local", None)
        port = self.gw.server_address[1]
        for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{port + 1}", f"localhost.:{port}",
                     f"127.0.0.1.nip.io:{port}", "127.0.0.1"):
            for page in ("/_local/token?account=alice", "/_local/accounts", "/_local/mail"):
                status, _, body = self.call("GET", page, headers={"Host": host})
                self.assertEqual((status, body), (403, {"message": "Forbidden"}), (host, page))
        self.assertEqual(self.raw("GET /_local/token?account=alice HTTP/1.1\r\n\r\n")[::2],
                         (403, {"message": "Forbidden"}), "no Host at all")
        authorizer = self.api.authorizers[self.api.default_authorizer]
        for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
            status, _, body = self.call("GET", "/_local/token?account=alice", headers={"Host": host})
            self.assertEqual(status, 200, host)
            self.assertEqual(tokens.verify(body["token"], self.key.public_key(), authorizer)["sub"], "alice")
        # The API's own routes answer whatever the Host, as on a custom domain.
        status, _, _ = self.call("GET", "/v1/account/deletion-prerequisites", token_for(self.api, self.key, "alice"),
                                 headers={"Host": f"evil.example:{port}"})
        self.assertEqual(status, 202)

    def test_an_unknown_route_or_method_is_not_found(self):
        token = token_for(self.api, self.key, "alice")
        for method, path in [("GET", "/v1/nothing"), ("GET", "/v1/verification-codes"),
                             ("DELETE", "/v1/account/deletion"), ("POST", "/v1/account/deletion/"),
                             ("TRACE", "/v1/account/deletion"), ("PURGE", "/v1/verification-codes")]:
            status, _, body = self.call(method, path, token)
            self.assertEqual((status, body), (404, {"message": "Not Found"}), f"{method} {path}")
        self.assertEqual(Lambda.calls, [])

    def test_a_failing_function_is_an_internal_server_error(self):
        status, _, body = self.call("GET", "/v1/fail", token_for(self.api, self.key, "alice"))
        self.assertEqual((status, body), (500, {"message": "Internal Server Error"}))

    def test_past_the_stage_burst_requests_are_throttled(self):
        gateway.Handler.gateway.bucket = gateway.Bucket(2, 0.001)
        token = token_for(self.api, self.key, "alice")
        answers = [self.call("GET", "/v1/account/deletion-prerequisites", token)[::2] for _ in range(3)]
        self.assertEqual([a[0] for a in answers], [202, 202, 429])
        self.assertEqual(answers[2][1], {"message": "Too Many Requests"})

    def test_the_template_s_throttling_and_authorizer_are_read(self):
        real = Api()
        auth = real.authorizers[real.default_authorizer]
        self.assertEqual(auth["header"], "authorization")
        self.assertTrue(auth["issuer"].startswith("https://"))
        self.assertEqual((real.burst, real.rate), (100, 50.0))


if __name__ == "__main__":
    unittest.main()
