#!/usr/bin/env python3
"""Walks every journey of the bundle against the running local stack.

Run by scripts/demo (which brings the stack up and seeds scripts/fixtures/demo.json
first); python3 standard library only. Each request goes through the Lambda
Invoke API of `cargo lambda watch` as an API Gateway HTTP API (2.0) event with
the caller in the JWT claims, exactly as API Gateway would hand it on. Mail is
read back with `scripts/dev mail`.

    demo.py            every journey
    demo.py a c        only journeys a and c

Exits 1 when any answer differs from what docs/api.md says it should be.

To add a journey: write a function taking the Demo object (see the journeys
below: d.step, d.call, d.token, d.wait_mail, d.check, d.seed) and add it to
JOURNEYS at the end of this file.
"""

import base64
import html
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree (cargo lambda watch would reload)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEV = os.path.join(ROOT, "scripts", "dev")
PORT = int(os.environ.get("LAMBDA_PORT", "9000"))
INVOKE_TIMEOUT = float(os.environ.get("DEMO_INVOKE_TIMEOUT", "120"))
MAIL_WAIT = float(os.environ.get("DEMO_MAIL_WAIT", "15"))
CLIENT_ID = "web-console"

SEND_CODE = "/v1/verification-codes"
VERIFY = "/v1/verification-codes/verify"
PREREQS = "/v1/account/deletion-prerequisites"
DISMISS = "/v1/enterprise/dismissal"
DELETE = "/v1/account/deletion"
HANDOVER = "/v1/account/handover"
HANDOVER_CONFIRM = "/v1/account/handover/confirm"

# Route -> function, as infra/template.yaml wires them.
ROUTES = {
    ("POST", SEND_CODE): "send-code",
    ("POST", VERIFY): "verify-code",
    ("GET", PREREQS): "check-prerequisites",
    ("POST", DISMISS): "dismiss-enterprise",
    ("POST", DELETE): "delete-account",
    ("POST", HANDOVER): "handover-account",
    ("POST", HANDOVER_CONFIRM): "handover-account",
}


def _function_states():
    """What `scripts/dev up` found when it warmed the functions."""
    try:
        with open(os.path.join(ROOT, ".stack", "functions.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


FUNCTION_STATES = _function_states()

try:
    sys.stdout.reconfigure(errors="replace", line_buffering=True)
except AttributeError:
    pass


class StepFailed(Exception):
    pass


class NotAvailable(Exception):
    pass


class Answer:
    def __init__(self, status, payload, headers):
        self.status = status
        self.payload = payload
        self.headers = headers

    def get(self, key, default=None):
        return self.payload.get(key, default) if isinstance(self.payload, dict) else default


def compact(value, limit=700):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def mail_text(body):
    """The readable text of a mail body, which may be HTML."""
    text = re.sub(r"(?is)<(style|script|head)\b.*?</\1\s*>", " ", body or "")
    text = re.sub(r"(?s)<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def find_code(body):
    """The 6-digit code in a mail: the one after the word "code" if several."""
    text = mail_text(body)
    found = list(re.finditer(r"(?<![#\w])(\d{6})(?!\w)", text))
    for m in found:
        if re.search(r"(?i)code", text[max(0, m.start() - 100):m.start()]):
            return m.group(1)
    return found[0].group(1) if found else None


def kinds(answer):
    return [b.get("kind") for b in (answer.get("blockers") or []) if isinstance(b, dict)]


class Demo:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.journey = ""
        self.stepno = 0

    # --- printing and checks ---

    def step(self, title):
        self.stepno += 1
        print(f"\n[{self.journey}.{self.stepno}] {title}")

    def ok(self, what):
        self.passed += 1
        print(f"     ok: {what}")

    def fail(self, what):
        self.failed += 1
        print(f"     FAILED: {what}")
        raise StepFailed(what)

    def check(self, cond, what):
        if cond:
            self.ok(what)
        else:
            self.fail(what)

    # --- calls ---

    def call(self, who, method, path, body=None, expect=200, code=None, client_id=CLIENT_ID, feature=False):
        """Invokes the function of METHOD PATH as WHO and checks the status
        (and the problem `code`). With feature=True, an answer saying the route,
        purpose or function does not exist raises NotAvailable instead."""
        fn = ROUTES[(method, path)]
        state = FUNCTION_STATES.get(fn, "up")
        if state != "up":
            if feature:
                raise NotAvailable(f"{fn}: {state}")
            self.fail(f"{fn} is not up ({state}, says scripts/dev up)")
        event = stack.http_event(method, path, sub=who, body=body, client_id=client_id)
        shown = f" {compact(body)}" if body is not None else ""
        print(f"  -> {who}: {method} {path}{shown}   [{fn}]")
        started = time.monotonic()
        try:
            http_status, raw = stack.invoke(PORT, fn, event, INVOKE_TIMEOUT)
        except Exception as err:  # noqa: BLE001
            self.fail(f"invoking {fn} failed: {err}")
        took = (time.monotonic() - started) * 1000
        text = raw.decode("utf-8", "replace")
        if http_status == 404 and "Missing function" in text:
            if feature:
                raise NotAvailable(f"no {fn} function in the workspace")
            self.fail(f"no {fn} function in the workspace: {compact(text, 300)}")
        try:
            proxy = json.loads(text)
        except ValueError:
            self.fail(f"{fn}: invoke answered HTTP {http_status} with a body that is not JSON: {compact(text, 300)}")
        if not isinstance(proxy, dict) or "statusCode" not in proxy:
            self.fail(f"{fn} did not return an API Gateway response (invoke HTTP {http_status}): {compact(text, 300)}")
        status = int(proxy["statusCode"])
        headers = {str(k).lower(): v for k, v in (proxy.get("headers") or {}).items()}
        body_text = proxy.get("body") or ""
        if proxy.get("isBase64Encoded"):
            body_text = base64.b64decode(body_text).decode("utf-8", "replace")
        try:
            payload = json.loads(body_text) if body_text else None
        except ValueError:
            payload = body_text
        answer = Answer(status, payload, headers)
        ctype = headers.get("content-type", "")
        print(f"  <- {status} {ctype} {compact(payload) if payload is not None else ''}   ({took:.0f} ms)")
        problem_code = answer.get("code")
        if feature and (status in (404, 405, 501) and problem_code != "account_not_found"
                        or status == 400 and problem_code == "unsupported_purpose"):
            raise NotAvailable(f"{method} {path} answered {status} {problem_code or ''}".strip())
        expected = expect if isinstance(expect, (tuple, list)) else (expect,)
        want = f"{' or '.join(map(str, expected))}" + (f" {code}" if code else "")
        if status not in expected or (code and problem_code != code):
            self.fail(f"{method} {path} as {who}: expected {want}, got {status} {problem_code or ''}".rstrip())
        self.ok(f"{status}" + (f" {code}" if code else ""))
        if status >= 400:
            self.check(ctype.startswith("application/problem+json"), "error is application/problem+json")
        return answer

    # --- mail ---

    def mails(self):
        out = subprocess.run([DEV, "mail"], capture_output=True, text=True)
        if out.returncode != 0:
            self.fail(f"scripts/dev mail exited {out.returncode}: {compact(out.stderr.strip(), 500)}")
        try:
            mails = json.loads(out.stdout)
        except ValueError:
            self.fail(f"scripts/dev mail did not print JSON: {compact(out.stdout, 300)}")
        if not isinstance(mails, list):
            self.fail("scripts/dev mail did not print a JSON array")
        return mails

    def mark(self):
        """The number of mails so far: wait_mail looks only at later ones."""
        return len(self.mails())

    def wait_mail(self, address, since, what):
        """The newest mail to ADDRESS accepted after mark SINCE."""
        deadline = time.monotonic() + MAIL_WAIT
        while True:
            for mail in reversed(self.mails()[since:]):
                to = [str(t).lower() for t in (mail.get("to") or [])]
                if address.lower() in to:
                    print(f"  mail to {address}: \"{mail.get('subject', '')}\"")
                    print(f"     {compact(mail_text(mail.get('body', '')), 400)}")
                    self.ok(f"{what} mailed to {address}")
                    return mail
            if time.monotonic() >= deadline:
                self.fail(f"no {what} mailed to {address} within {MAIL_WAIT:.0f} s")
            time.sleep(0.5)

    def token(self, who, address, purpose, feature=False):
        """send-code, read the code from the mail, verify-code: the token."""
        since = self.mark()
        sent = self.call(who, "POST", SEND_CODE, {"purpose": purpose}, expect=202, feature=feature)
        dest = str(sent.get("destination", ""))
        self.check(dest and address not in dest, f"destination is masked ({dest})")
        self.check(isinstance(sent.get("expires_in_seconds"), int) and isinstance(sent.get("resend_after_seconds"), int),
                   "expires_in_seconds and resend_after_seconds given")
        mail = self.wait_mail(address, since, f"{purpose} code")
        code = find_code(mail.get("body", ""))
        self.check(code is not None, f"a 6-digit code in the mail ({code})")
        self.check(code not in json.dumps(sent.payload), "the send-code answer does not hold the code")
        verified = self.call(who, "POST", VERIFY, {"purpose": purpose, "code": code}, expect=200)
        token = verified.get("verification_token")
        self.check(isinstance(token, str) and token != "", "a verification token")
        self.check(verified.get("purpose") == purpose, f"token purpose {purpose}")
        return token

    # --- fixtures ---

    def seed(self, fixtures, expect_ok=True):
        """Seeds FIXTURES (a dict) through scripts/dev seed; returns its output."""
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="demo-fixtures-", delete=False) as f:
            json.dump(fixtures, f)
            path = f.name
        try:
            print(f"  $ scripts/dev seed {compact(fixtures)}")
            out = subprocess.run([DEV, "seed", path], capture_output=True, text=True)
        finally:
            os.unlink(path)
        output = (out.stdout + out.stderr).strip()
        print(f"     exit {out.returncode}: {compact(output, 500)}")
        if expect_ok:
            self.check(out.returncode == 0, "seeding succeeded")
        else:
            self.check(out.returncode != 0, "seeding was refused")
        return output


# --- the journeys ---------------------------------------------------------------


def journey_alice(d):
    d.step("alice, default administrator of Acme, asks whether she can delete her account")
    a = d.call("alice", "GET", PREREQS)
    d.check(a.get("deletable") is False, "not deletable")
    d.check("enterprise_not_dismissed" in kinds(a), "blocker enterprise_not_dismissed")

    d.step("alice asks for a dismiss_enterprise code, reads it from her mail and verifies it")
    token = d.token("alice", "alice@example.com", "dismiss_enterprise")

    d.step("alice dismisses Acme; bob, its member, is told by mail")
    since = d.mark()
    r = d.call("alice", "POST", DISMISS, {"verification_token": token})
    d.check(r.get("status") == "dismissed" and r.get("enterprise_id") == "ent-acme", "Acme dismissed")
    d.check(isinstance(r.get("members_released"), int) and r.get("members_released") >= 1,
            f"members released ({r.get('members_released')})")
    d.wait_mail("bob@example.com", since, "dismissal notice")

    d.step("alice asks again: nothing blocks her now")
    a = d.call("alice", "GET", PREREQS)
    d.check(a.get("deletable") is True and kinds(a) == [], "deletable, no blockers")

    d.step("alice asks for a delete_account code, verifies it and deletes her account")
    token = d.token("alice", "alice@example.com", "delete_account")
    since = d.mark()
    r = d.call("alice", "POST", DELETE, {"verification_token": token})
    d.check(r.get("status") == "deleted" and r.get("account_id") == "alice", "status deleted")
    d.check(bool(r.get("receipt_id")), f"a receipt ({r.get('receipt_id')})")
    d.wait_mail("alice@example.com", since, "deletion notice")

    d.step("every call for alice now answers 410 account_deleted")
    d.call("alice", "GET", PREREQS, expect=410, code="account_deleted")
    d.call("alice", "POST", SEND_CODE, {"purpose": "delete_account"}, expect=410, code="account_deleted")


def journey_bob(d):
    d.step("bob, released from Acme, asks whether he can delete his account")
    a = d.call("bob", "GET", PREREQS)
    d.check(a.get("deletable") is True and kinds(a) == [], "deletable, no blockers")

    d.step("bob asks for a delete_account code, verifies it and deletes his account")
    token = d.token("bob", "bob@example.com", "delete_account")
    since = d.mark()
    r = d.call("bob", "POST", DELETE, {"verification_token": token})
    d.check(r.get("status") == "deleted" and r.get("account_id") == "bob", "status deleted")
    d.wait_mail("bob@example.com", since, "deletion notice")


def journey_carol(d):
    d.step("carol, who never bound an email, asks whether she can delete her account")
    a = d.call("carol", "GET", PREREQS)
    d.check(a.get("deletable") is False and "email_not_bound" in kinds(a), "blocker email_not_bound")

    d.step("carol asks for a code anyway")
    d.call("carol", "POST", SEND_CODE, {"purpose": "delete_account"}, expect=409, code="email_not_bound")


def journey_dave(d):
    d.step("dave, with 12.30 CNY left on his balance, asks whether he can delete his account")
    a = d.call("dave", "GET", PREREQS)
    holds = [b for b in (a.get("blockers") or []) if isinstance(b, dict) and b.get("kind") == "account_balance"]
    d.check(a.get("deletable") is False and holds, "blocker account_balance")
    d.check(holds and "12.30 CNY left" in str(holds[0].get("detail")), f"with its detail ({holds[0].get('detail') if holds else None})")

    d.step("dave verifies a delete_account code and tries to delete all the same")
    token = d.token("dave", "dave@example.com", "delete_account")
    r = d.call("dave", "POST", DELETE, {"verification_token": token}, expect=409, code="prerequisites_unmet")
    d.check("account_balance" in kinds(r), "blockers listed in the problem")

    d.step("dave's account is untouched")
    a = d.call("dave", "GET", PREREQS)
    d.check("account_balance" in kinds(a), "still there, still blocked")


def journey_reregister(d):
    d.step("a new account registers alice's old username, email and phone")
    d.seed({"accounts": [{"id": "alice-2", "username": "alice", "email": "alice@example.com",
                          "phone": "+8613800000001", "role": "individual"}]})
    a = d.call("alice-2", "GET", PREREQS)
    d.check(a.get("account_id") == "alice-2" and a.get("deletable") is True, "alice-2 is a live account")

    d.step("a username that a live account holds is refused")
    out = d.seed({"accounts": [{"id": "dave-2", "username": "dave"}]}, expect_ok=False)
    d.check("dave" in out, "the refusal names it")


# Handover (docs/handover.md): gina, default administrator of Globex, hands the account of
# erin (a member who resigned) over to frank, the designated person.
HANDOVER_REQUEST = {"account_id": "erin", "new_email": "frank@example.com",
                    "new_phone": "+8613800000009", "new_name": "Frank"}


def journey_handover(d):
    d.step("gina asks for a handover_account code and verifies it")
    token = d.token("gina", "gina@example.com", "handover_account", feature=True)

    d.step("gina starts handing erin's account over to frank; frank gets a confirmation code")
    since = d.mark()
    r = d.call("gina", "POST", HANDOVER, dict(HANDOVER_REQUEST, verification_token=token), expect=202, feature=True)
    d.check(r.get("status") == "awaiting_confirmation", "awaiting confirmation")
    mail = d.wait_mail(HANDOVER_REQUEST["new_email"], since, "handover confirmation code")
    code = find_code(mail.get("body", ""))
    d.check(code is not None, f"a 6-digit code in the mail ({code})")

    d.step("gina confirms with the code frank received; both parties are told by mail")
    since = d.mark()
    r = d.call("gina", "POST", HANDOVER_CONFIRM, {"code": code, "account_id": HANDOVER_REQUEST["account_id"]}, feature=True)
    d.check(r.get("status") == "handed_over" and r.get("account_id") == "erin", "handed over")
    checklist = r.get("checklist") or []
    d.check(isinstance(checklist, list) and checklist, "with the handover checklist")
    for item in checklist:
        if isinstance(item, dict):
            print(f"     step {item.get('step')}: {item.get('item')}: {item.get('done')} ({item.get('count')})")
    d.wait_mail("erin@example.com", since, "handover notice")
    d.wait_mail(HANDOVER_REQUEST["new_email"], since, "handover notice")

    d.step("erin's old email and phone are hers to register again")
    d.seed({"accounts": [{"id": "erin-private", "username": "erin-private", "email": "erin@example.com",
                          "phone": "+8613800000005", "role": "individual"}]})


# (letter, title, function, journeys it needs to have passed, may not exist yet)
JOURNEYS = [
    ("a", "alice dismisses Acme, then deletes her account", journey_alice, "", False),
    ("b", "bob, released from Acme, deletes his account", journey_bob, "", False),
    ("c", "carol cannot: no email bound", journey_carol, "", False),
    ("d", "dave cannot: a balance is left", journey_dave, "", False),
    ("e", "alice's old username, email and phone are free again", journey_reregister, "a", False),
    ("f", "handover: gina hands erin's account over to frank", journey_handover, "", True),
]


def main(argv):
    only = set(argv)
    unknown = only - {j[0] for j in JOURNEYS}
    if unknown:
        print(f"demo: no such journey: {' '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    # A journey picked on its own brings the journeys it needs along.
    needs_of = {j[0]: j[3] for j in JOURNEYS}
    while only and any(n not in only for j in list(only) for n in needs_of[j]):
        only |= {n for j in list(only) for n in needs_of[j]}
    d = Demo()
    results = {}
    started = time.monotonic()
    for letter, title, fn, needs, feature in JOURNEYS:
        if only and letter not in only:
            continue
        print(f"\n======== journey {letter}: {title} ========")
        missing = [n for n in needs if results.get(n, ("PASS",))[0] != "PASS"]
        if missing:
            results[letter] = ("SKIPPED", f"needs journey {', '.join(missing)}")
            d.failed += 1
            print(f"  skipped: it needs journey {', '.join(missing)}, which did not pass")
            continue
        d.journey, d.stepno = letter, 0
        try:
            fn(d)
            results[letter] = ("PASS", "")
        except StepFailed as err:
            results[letter] = ("FAIL", str(err))
        except NotAvailable as err:
            if not feature:
                d.failed += 1
                results[letter] = ("FAIL", str(err))
            else:
                name = title.split(":")[0]
                print(f"\n  {name}: not available yet ({err})")
                results[letter] = ("N/A", f"{name}: not available yet")
    print(f"\n======== summary ({time.monotonic() - started:.0f} s) ========")
    for letter, title, *_ in JOURNEYS:
        if letter in results:
            outcome, note = results[letter]
            print(f"  {letter}  {outcome:<8} {title}" + (f"  -- {note}" if note else ""))
    print(f"demo: {d.passed} passed, {d.failed} failed")
    return 1 if d.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
