#!/usr/bin/env python3
"""Shows every journey of the bundle on the running local stack.

Run by scripts/demo (which brings the stack up and seeds scripts/fixtures/demo.json
first); python3 standard library only. Each request goes to the local HTTP API
(API_PORT, scripts/lib/gateway.py, as API Gateway with its JWT authorizer) with
a JWT that `scripts/dev token WHO` signs, as curl would send it. Mail is read
back with `scripts/dev mail`.

    demo.py            every journey
    demo.py a c        only journeys a and c (and those they need)

The demo prints each step and its answer; the tests (tests/tests/journeys/)
prove the answers right. A journey stops when an answer makes its next step
impossible (no token, no mail, a refused action it needs), and then the demo
exits 1.

To add a journey: write a function taking the Demo object (d.step, d.call,
d.token, d.wait_mail, d.seed) and add it to JOURNEYS at the end of this file.

With IDENTITY_PROVIDER=cognito (IDENTITY_PROVIDER=cognito scripts/demo) the accounts are the
local user pool's: a fixture id stands for its pool user's sub (scripts/dev seed's id map), tokens
are the pool's, and journey h signs a person up in the pool, deletes the account, is refused at
sign-in, signs up again with the same user name and email; journey f ends with the leaving
employee's refused sign-in.
"""

import html
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the tree (cargo lambda watch would reload)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

DEV = os.path.join(stack.ROOT, "scripts", "dev")
API = f"http://127.0.0.1:{os.environ.get('API_PORT', '3000')}"
INVOKE_TIMEOUT = float(os.environ.get("DEMO_INVOKE_TIMEOUT", "120"))
MAIL_WAIT = float(os.environ.get("DEMO_MAIL_WAIT", "15"))
COGNITO = os.environ.get("IDENTITY_PROVIDER") == "cognito"


def account_id(fixture):
    """The account id of a seeded fixture account: itself, or with a user pool its pool user's sub."""
    if not COGNITO:
        return fixture
    with open(os.path.join(stack.ROOT, ".stack", "idp-users.json"), encoding="utf-8") as f:
        return json.load(f)[fixture]["sub"]


def pool(action, body):
    """One cognito-idp call at scripts/dev idp's endpoint (the pool with its triggers), as any
    Cognito client makes it; moto checks no signature. The answer, or Stop with the pool's error."""
    idp = json.loads(subprocess.run([DEV, "idp"], capture_output=True, text=True, check=True).stdout)
    request = urllib.request.Request(idp["endpoint"] + "/", data=json.dumps(dict(body, ClientId=idp["client_id"])).encode(),
                                     method="POST", headers={"content-type": "application/x-amz-json-1.1",
                                                             "x-amz-target": f"AWSCognitoIdentityProviderService.{action}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as err:
        answer = json.loads(err.read() or b"{}")
        raise Refused(f"{answer.get('__type')}: {answer.get('message')}") from None


class Refused(Exception):
    """The pool refused a call (its error type and message)."""

SEND_CODE = "/v1/verification-codes"
VERIFY = "/v1/verification-codes/verify"
PREREQS = "/v1/account/deletion-prerequisites"
DISMISS = "/v1/enterprise/dismissal"
DELETE = "/v1/account/deletion"
HANDOVER = "/v1/account/handover"
HANDOVER_CONFIRM = "/v1/account/handover/confirm"
EXPORT = "/v1/account/data-export"

# Route -> function, as infra/template.yaml wires them.
ROUTES = {
    ("POST", SEND_CODE): "send-code",
    ("POST", VERIFY): "verify-code",
    ("GET", PREREQS): "check-prerequisites",
    ("POST", DISMISS): "dismiss-enterprise",
    ("POST", DELETE): "delete-account",
    ("POST", HANDOVER): "handover-account",
    ("POST", HANDOVER_CONFIRM): "handover-account",
    ("POST", EXPORT): "export-data",
    ("GET", EXPORT + "/{export_id}"): "export-data",
}

try:
    sys.stdout.reconfigure(errors="replace", line_buffering=True)
except AttributeError:
    pass


class Stop(Exception):
    """An answer that makes the journey's next step impossible."""


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


class Demo:
    def __init__(self):
        self.journey = ""
        self.stepno = 0
        # Tokens of people who signed in to the pool themselves (journey h), by name.
        self.tokens = {}

    def step(self, title):
        self.stepno += 1
        print(f"\n[{self.journey}.{self.stepno}] {title}")

    def call(self, who, method, path, body=None, need=None):
        """Sends METHOD PATH to the local HTTP API as WHO (a JWT signed just
        now) and prints the answer. With NEED (a status), any other status
        stops the journey."""
        fn = ROUTES.get((method, path)) or ROUTES[(method, re.sub(r"/exp_[0-9a-f]+$", "/{export_id}", path))]
        shown = f" {compact(body)}" if body is not None else ""
        print(f"  -> {who}: {method} {path}{shown}   [{fn}]")
        token = self.tokens.get(who)
        if token is None:
            signed = subprocess.run([DEV, "token", who], capture_output=True, text=True)
            if signed.returncode != 0:
                raise Stop(f"scripts/dev token {who} failed: {signed.stderr.strip()[-300:]}")
            token = signed.stdout.strip()
            # With a user pool a deleted person can sign in no more: the session they had is what they call with.
            if COGNITO:
                self.tokens[who] = token
        started = time.monotonic()
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(API + path, data=data, method=method, headers={
            "authorization": f"Bearer {token}", "content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=INVOKE_TIMEOUT) as r:
                status, text = r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read().decode("utf-8", "replace")
        except OSError as err:
            raise Stop(f"the local HTTP API gave no answer to {method} {path}: {err}") from None
        try:
            payload = json.loads(text) if text else {}
        except ValueError:
            payload = {"body": text}
        took = (time.monotonic() - started) * 1000
        print(f"  <- {status} {compact(payload)}   ({took:.0f} ms)")
        if need is not None and status != need:
            raise Stop(f"{method} {path} as {who} answered {status}, the next step needs {need}")
        return payload

    def mails(self):
        out = subprocess.run([DEV, "mail"], capture_output=True, text=True)
        if out.returncode != 0:
            raise Stop(f"scripts/dev mail exited {out.returncode}: {compact(out.stderr.strip(), 500)}")
        return json.loads(out.stdout)

    def mark(self):
        """The number of mails so far: wait_mail looks only at later ones."""
        return len(self.mails())

    def wait_mail(self, address, since, what):
        """The newest mail to ADDRESS accepted after mark SINCE."""
        deadline = time.monotonic() + MAIL_WAIT
        while True:
            for mail in reversed(self.mails()[since:]):
                if address.lower() in [str(t).lower() for t in mail.get("to") or []]:
                    print(f"  mail to {address}: \"{mail.get('subject', '')}\"")
                    print(f"     {compact(mail_text(mail.get('body', '')), 400)}")
                    return mail
            if time.monotonic() >= deadline:
                raise Stop(f"no {what} mailed to {address} within {MAIL_WAIT:.0f} s")
            time.sleep(0.5)

    def code_in_mail(self, address, since, what):
        code = find_code(self.wait_mail(address, since, what).get("body", ""))
        if code is None:
            raise Stop(f"no 6-digit code in the {what} to {address}")
        return code

    def token(self, who, address, purpose):
        """send-code, read the code from the mail, verify-code: the token."""
        since = self.mark()
        self.call(who, "POST", SEND_CODE, {"purpose": purpose}, need=202)
        code = self.code_in_mail(address, since, f"{purpose} code")
        return self.call(who, "POST", VERIFY, {"purpose": purpose, "code": code}, need=200)["verification_token"]

    def wait_event(self, detail_type, account_id):
        """The event of DETAIL_TYPE about ACCOUNT_ID on the local bus (scripts/dev events), printed."""
        deadline = time.monotonic() + MAIL_WAIT
        while True:
            out = subprocess.run([DEV, "events"], capture_output=True, text=True)
            if out.returncode != 0:
                raise Stop(f"scripts/dev events exited {out.returncode}: {compact(out.stderr.strip(), 500)}")
            for event in json.loads(out.stdout or "[]"):
                detail = event.get("detail") or {}
                if event.get("detail-type") == detail_type and detail.get("account_id") == account_id:
                    print(f"  event on the bus: {compact(json.dumps(event), 500)}")
                    return event
            if time.monotonic() > deadline:
                raise Stop(f"no {detail_type} event for {account_id} on the bus within {MAIL_WAIT:.0f} s")
            time.sleep(0.5)

    def report(self, system, account, receipt, outcome, ground=None):
        """SYSTEM puts its erasure report on the local bus (scripts/dev report)."""
        args = [DEV, "report", system, account, receipt, outcome] + ([ground] if ground else [])
        out = subprocess.run(args, capture_output=True, text=True)
        if out.returncode != 0:
            raise Stop(f"scripts/dev report exited {out.returncode}: {compact(out.stderr.strip(), 500)}")
        print(f"  {out.stdout.strip()}")

    def ledger(self, account, until_complete=False):
        """The deletion's ledger (scripts/dev ledger), printed; with UNTIL_COMPLETE, once every system reported."""
        deadline = time.monotonic() + MAIL_WAIT
        while True:
            out = subprocess.run([DEV, "ledger", account], capture_output=True, text=True)
            if out.returncode != 0:
                raise Stop(f"scripts/dev ledger exited {out.returncode}: {compact(out.stderr.strip(), 500)}")
            ledger = json.loads(out.stdout)
            if ledger.get("complete") or not until_complete:
                break
            if time.monotonic() > deadline:
                raise Stop(f"the ledger of {account} is not complete within {MAIL_WAIT:.0f} s")
            time.sleep(0.5)
        if not ledger.get("systems"):
            raise Stop(f"no ledger for {account}: is DOWNSTREAM_SYSTEMS set?")
        print(f"  ledger of {account}: receipt {ledger['receipt_id']}, complete: {ledger['complete']}")
        for s in ledger["systems"]:
            ground = f" ({s['ground']})" if s.get("ground") else ""
            print(f"     {s['system']}: {s['status']}{ground}, announced {s['announcements']}x, reported {s.get('reported_at', '-')}")
        return ledger

    def seed(self, fixtures, need_ok=True):
        """Seeds FIXTURES (a dict) through scripts/dev seed and prints what it said."""
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="demo-fixtures-", delete=False) as f:
            json.dump(fixtures, f)
        try:
            print(f"  $ scripts/dev seed {compact(fixtures)}")
            out = subprocess.run([DEV, "seed", f.name], capture_output=True, text=True)
        finally:
            os.unlink(f.name)
        print(f"     exit {out.returncode}: {compact((out.stdout + out.stderr).strip(), 500)}")
        if need_ok and out.returncode != 0:
            raise Stop("seeding failed")


# --- the journeys ---------------------------------------------------------------


def journey_alice(d):
    d.step("alice, default administrator of Acme, asks whether she can delete her account")
    d.call("alice", "GET", PREREQS)

    d.step("alice asks for a dismiss_enterprise code, reads it from her mail and verifies it")
    token = d.token("alice", "alice@example.com", "dismiss_enterprise")

    d.step("alice dismisses Acme; bob, its member, is told by mail")
    since = d.mark()
    d.call("alice", "POST", DISMISS, {"verification_token": token}, need=200)
    d.wait_mail("bob@example.com", since, "dismissal notice")

    d.step("alice asks again: nothing blocks her now")
    d.call("alice", "GET", PREREQS)

    d.step("alice asks for a delete_account code, verifies it and deletes her account")
    token = d.token("alice", "alice@example.com", "delete_account")
    since = d.mark()
    d.call("alice", "POST", DELETE, {"verification_token": token}, need=200)
    d.wait_mail("alice@example.com", since, "deletion notice")

    d.step("every call for alice now answers 410 account_deleted")
    d.call("alice", "GET", PREREQS)
    d.call("alice", "POST", SEND_CODE, {"purpose": "delete_account"})


def journey_bob(d):
    d.step("bob, released from Acme, asks whether he can delete his account")
    d.call("bob", "GET", PREREQS)

    d.step("seed 002: \"make sure you have a data backup\": bob takes a copy of his data first (export_data)")
    token = d.token("bob", "bob@example.com", "export_data")
    since = d.mark()
    export = d.call("bob", "POST", EXPORT, {"verification_token": token}, need=200)
    d.wait_mail("bob@example.com", since, "export link")
    ready = d.call("bob", "GET", f"{EXPORT}/{export['export_id']}", need=200)
    try:
        with urllib.request.urlopen(ready["download_url"], timeout=INVOKE_TIMEOUT) as r:
            archive = json.loads(r.read())
    except (OSError, ValueError) as err:
        raise Stop(f"the export's link did not download: {err}") from None
    print(f"  the link downloads one JSON document: members {', '.join(archive)}; account {archive['account']['id']}")

    d.step("bob asks for a delete_account code, verifies it and deletes his account")
    token = d.token("bob", "bob@example.com", "delete_account")
    since = d.mark()
    d.call("bob", "POST", DELETE, {"verification_token": token}, need=200)
    d.wait_mail("bob@example.com", since, "deletion notice")

    d.step("downstream services learn of it: publish-events put Account Deleted on the bus (no email, phone or name)")
    deleted = d.wait_event("Account Deleted", account_id("bob"))
    receipt = deleted["detail"]["receipt_id"]

    d.step("the erasure ledger: every downstream system owes a report (scripts/dev ledger bob)")
    d.ledger(account_id("bob"))

    d.step("billing and analytics report erased, object-storage retained with its legal ground (events on the bus)")
    d.report("billing", account_id("bob"), receipt, "erased")
    d.report("analytics", account_id("bob"), receipt, "erased")
    d.report("object-storage", account_id("bob"), receipt, "retained", "Invoices kept 10 years: GDPR Art. 17(3)(b), tax law")
    d.ledger(account_id("bob"), until_complete=True)


def journey_carol(d):
    d.step("carol, who never bound an email, asks whether she can delete her account")
    d.call("carol", "GET", PREREQS)

    d.step("carol asks for a code anyway: email_not_bound")
    d.call("carol", "POST", SEND_CODE, {"purpose": "delete_account"})


def journey_dave(d):
    d.step("dave, with 12.30 CNY left on his balance, asks whether he can delete his account")
    d.call("dave", "GET", PREREQS)

    d.step("dave verifies a delete_account code and tries to delete all the same: prerequisites_unmet")
    token = d.token("dave", "dave@example.com", "delete_account")
    d.call("dave", "POST", DELETE, {"verification_token": token})

    d.step("dave's account is untouched, still blocked")
    d.call("dave", "GET", PREREQS)


def journey_lin(d):
    d.step("lin's account is in Chinese (locale zh-CN): the code mail is in Chinese")
    since = d.mark()
    d.call("lin", "POST", SEND_CODE, {"purpose": "delete_account"}, need=202)
    d.wait_mail("lin@example.com", since, "code mail")

    d.step("a wrong code: the problem's title and detail are in Chinese, its code and members are not")
    d.call("lin", "POST", VERIFY, {"purpose": "delete_account", "code": "000000"})


def journey_reregister(d):
    d.step("a new account registers alice's old username, email and phone")
    d.seed({"accounts": [{"id": "alice-2", "username": "alice", "email": "alice@example.com",
                          "phone": "+8613800000001", "role": "individual"}]})
    d.call("alice-2", "GET", PREREQS)

    d.step("a username that a live account holds is refused, and named")
    d.seed({"accounts": [{"id": "dave-2", "username": "dave"}]}, need_ok=False)


# Handover (docs/handover.md): gina, default administrator of Globex, hands the account of
# erin (a member who resigned) over to frank, the designated person.
HANDOVER_REQUEST = {"new_email": "frank@example.com", "new_phone": "+8613800000009", "new_name": "Frank"}


def journey_handover(d):
    d.step("gina asks for a handover_account code and verifies it")
    token = d.token("gina", "gina@example.com", "handover_account")

    d.step("gina starts handing erin's account over to frank; frank gets a confirmation code")
    since = d.mark()
    d.call("gina", "POST", HANDOVER, dict(HANDOVER_REQUEST, verification_token=token, account_id=account_id("erin")),
           need=202)
    code = d.code_in_mail(HANDOVER_REQUEST["new_email"], since, "handover confirmation code")

    d.step("gina confirms with the code frank received; both parties are told by mail")
    since = d.mark()
    r = d.call("gina", "POST", HANDOVER_CONFIRM, {"code": code, "account_id": account_id("erin")}, need=200)
    for item in r.get("checklist") or []:
        print(f"     step {item.get('step')}: {item.get('item')}: {item.get('done')} ({item.get('count')})")
    d.wait_mail("erin@example.com", since, "handover notice")
    d.wait_mail(HANDOVER_REQUEST["new_email"], since, "handover notice")

    if COGNITO:
        d.step("with the user pool: erin's own password no longer signs in to the account")
        with open(os.path.join(stack.ROOT, ".stack", "idp-users.json"), encoding="utf-8") as f:
            erin = json.load(f)["erin"]
        try:
            pool("InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH",
                                  "AuthParameters": {"USERNAME": erin["username"], "PASSWORD": erin["password"]}})
            raise Stop("erin's old password still signs in")
        except Refused as refused:
            print(f"  <- the pool refuses erin's sign-in: {refused}")

    d.step("erin's old email and phone are hers to register again")
    d.seed({"accounts": [{"id": "erin-private", "username": "erin-private", "email": "erin@example.com",
                          "phone": "+8613800000005", "role": "individual"}]})


def journey_pool(d):
    """With a user pool: a person signs up, deletes the account, cannot sign in, signs up again."""
    def sign_up_and_in(name):
        pool("SignUp", {"Username": name, "Password": "Zoe-Passw0rd",
                        "UserAttributes": [{"Name": "email", "Value": f"{name}@example.com"}]})
        pool("ConfirmSignUp", {"Username": name, "ConfirmationCode": "000000"})
        d.tokens[name] = pool("InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {
            "USERNAME": name, "PASSWORD": "Zoe-Passw0rd"}})["AuthenticationResult"]["AccessToken"]
        print(f"  <- {name} signed up and in; the post confirmation trigger registered the account")

    d.step("zoe signs up in the user pool (its pre sign-up trigger lets her) and signs in")
    sign_up_and_in("zoe")
    d.call("zoe", "GET", PREREQS, need=200)

    d.step("zoe deletes her account")
    token = d.token("zoe", "zoe@example.com", "delete_account")
    d.call("zoe", "POST", DELETE, {"verification_token": token}, need=200)

    d.step("zoe's sign-in is refused: the pool user is gone")
    try:
        pool("InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {
            "USERNAME": "zoe", "PASSWORD": "Zoe-Passw0rd"}})
        raise Stop("zoe still signs in")
    except Refused as refused:
        print(f"  <- refused: {refused}")

    d.step("the same user name and email sign up again at once: a new account")
    del d.tokens["zoe"]
    sign_up_and_in("zoe")
    d.call("zoe", "GET", PREREQS, need=200)

    d.step("a user name a live account holds is refused by the pre sign-up trigger, as Cognito shows it")
    try:
        pool("SignUp", {"Username": "ZOE", "Password": "Zoe-Passw0rd",
                        "UserAttributes": [{"Name": "email", "Value": "zoe-2@example.com"}]})
        raise Stop("a second zoe signed up")
    except Refused as refused:
        print(f"  <- refused: {refused}")


# (letter, title, function, journeys it needs to have gone through)
JOURNEYS = [
    ("a", "alice dismisses Acme, then deletes her account", journey_alice, ""),
    ("b", "bob, released from Acme, deletes his account", journey_bob, ""),
    ("c", "carol cannot: no email bound", journey_carol, ""),
    ("d", "dave cannot: a balance is left", journey_dave, ""),
    ("e", "alice's old username, email and phone are free again", journey_reregister, "a"),
    ("f", "handover: gina hands erin's account over to frank", journey_handover, ""),
    ("g", "lin reads her mail and answers in Chinese", journey_lin, ""),
] + ([("h", "with the user pool: sign up, delete, refused sign-in, sign up again", journey_pool, "")] if COGNITO else [])


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
    for letter, title, fn, needs in JOURNEYS:
        if only and letter not in only:
            continue
        print(f"\n======== journey {letter}: {title} ========")
        missing = [n for n in needs if results.get(n) != "done"]
        if missing:
            results[letter] = f"skipped: needs journey {', '.join(missing)}"
            continue
        d.journey, d.stepno = letter, 0
        try:
            fn(d)
            results[letter] = "done"
        except Stop as err:
            print(f"     STOPPED: {err}")
            results[letter] = f"stopped: {err}"
    print(f"\n======== summary ({time.monotonic() - started:.0f} s) ========")
    for letter, title, *_ in JOURNEYS:
        if letter in results:
            print(f"  {letter}  {title}: {results[letter]}")
    return 0 if all(r == "done" for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
