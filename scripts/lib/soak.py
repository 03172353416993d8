#!/usr/bin/env python3
"""The soak's load: many virtual people at once, each walking a journey of the
seeds (docs/seeds.md, docs/api.md, docs/handover.md) through the local HTTP API
with real JWTs, driven by Locust (PyPI `locust`, in .stack/soak-venv).
scripts/soak runs it; docs/soak.md says what it runs and how to read it.

  soak.py run --phase now|grace --out DIR --accounts N --seconds T [--users U] [--run-id ID]
      seeds a population of N accounts (scripts/dev seed), walks their journeys
      with U Locust users, the journeys' starts spread over T seconds, invokes
      cleanup every few seconds as the schedule would, and writes DIR/phase-PHASE.json:
      per-route figures, busy answers and how their retries ended, other 5xx,
      every journey with the end state the API said it reached (for soak_check.py).
  soak.py report --out DIR
      merges the phases, DIR/check.json (soak_check.py), DIR/audit.json and the
      fault proxy's counts; prints the figures as Markdown and JSON
      (DIR/report.json); exits 1 on any 500, broken end state or violation.

Codes come from one mail poller: it reads moto's mail list (the only list
moto serves is its whole state, /moto-api/data.json), only while someone
waits, keeps only the mails it has not seen, indexed by recipient; a virtual
person waits for a fetch that began after its request was answered and takes
the newest matching mail to its address.
"""

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree (cargo lambda watch would reload)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

ROOT = os.path.dirname(os.path.dirname(HERE))
DEV = os.path.join(ROOT, "scripts", "dev")
STACK_DIR = os.path.join(ROOT, ".stack")

SEND = "/v1/verification-codes"
VERIFY = "/v1/verification-codes/verify"
PREREQS = "/v1/account/deletion-prerequisites"
DISMISS = "/v1/enterprise/dismissal"
DELETE = "/v1/account/deletion"
CANCEL = "/v1/account/deletion/cancellation"
HANDOVER = "/v1/account/handover"
CONFIRM = "/v1/account/handover/confirm"

# What a code mail's subject says its purpose is (shared/src/locale/mails.rs, English).
CODE_SUBJECT = {
    "delete_account": "Your verification code to delete your account",
    "dismiss_enterprise": "Your verification code to dismiss your enterprise",
    "handover_account": "Your verification code to hand over an account",
    "confirm_handover": "Your verification code to confirm this address for an account handed over to you",
    "cancel_deletion": "Your verification code to cancel the deletion of your account",
}
# Answers that say "nothing was done, try again" (docs/api.md#errors).
RETRYABLE = {(503, "busy"), (503, "mail_unavailable")}
MAX_RETRIES = 20
CODE_MAX_ATTEMPTS = int(os.environ.get("CODE_MAX_ATTEMPTS") or 5)
CLEANUP_EVERY = float(os.environ.get("SOAK_CLEANUP_EVERY", "3"))
MAIL_POLL = float(os.environ.get("SOAK_MAIL_POLL", "0.4"))
MAIL_WAIT = float(os.environ.get("SOAK_MAIL_WAIT", "60"))
REQUEST_TIMEOUT = 60  # longer than the local API's 30 s integration timeout


def now():
    return time.monotonic()


# --- the population and its journeys ---------------------------------------------


class Plan:
    """The accounts to seed and the journeys to walk in one phase."""

    def __init__(self, run_id, phase, accounts, seconds, seed):
        self.rng = random.Random(seed)
        self.prefix = f"{run_id}{phase[0]}"
        self.phase, self.seconds = phase, seconds
        self.fixtures = {"enterprises": [], "accounts": [], "holds": []}
        self.journeys = []  # (start offset in seconds, kind, args)
        self.phones = 0
        self.pool = 0  # the identities accounts are handed over to
        self.budget = accounts
        if phase == "now":
            self.plan_now(accounts)
        else:
            self.plan_grace(accounts)
        self.journeys.sort(key=lambda j: j[0])

    def account(self, kind, n, role="individual", enterprise=None, phone=False):
        aid = f"{self.prefix}-{kind}-{n}"
        a = {"id": aid, "username": aid, "email": f"{aid}@example.com", "role": role}
        if enterprise:
            a["enterprise_id"] = enterprise
        if phone:
            self.phones += 1
            a["phone"] = f"+86138{1 if self.phase == 'now' else 2}{self.phones:07d}"
        self.fixtures["accounts"].append(a)
        self.budget -= 1
        return a

    def enterprise(self, name, admin_kind, n):
        eid = f"ent-{self.prefix}-{name}"
        admin = self.account(admin_kind, n, "default_admin", eid, phone=True)
        self.fixtures["enterprises"].append({"id": eid, "name": name, "default_admin": admin["id"]})
        return eid, admin

    def identity(self):
        """A designated person's new email and phone, from the run's pool."""
        self.pool += 1
        tag = f"{self.prefix}-new-{self.pool}"
        return {"email": f"{tag}@example.com", "phone": f"+86139{1 if self.phase == 'now' else 2}{self.pool:07d}",
                "name": f"New holder {self.pool}"}

    def at(self, lo, hi):
        return self.rng.uniform(lo, hi) * self.seconds

    def plan_now(self, n):
        """No grace period: deletions at once, a large dismissal raced by its members'
        deletions, handovers in small enterprises, holds registered and released."""
        big = max(8, int(n * 0.45))
        eid, admin = self.enterprise("big", "bigadmin", 0)
        members = [self.account("bm", i, "member", eid) for i in range(big)]
        # The dismissal starts a third of the way in; members delete before, during and after it.
        self.journeys.append((0.30 * self.seconds, "dismiss_and_delete", (admin, eid)))
        for i, m in enumerate(members):
            kind = "delete" if i % 5 < 2 else "member_stays"
            self.journeys.append((self.at(0.05, 0.8), kind, (m,)))
        teams = max(1, int(n * 0.12) // 5)
        for t in range(teams):
            eid, ta = self.enterprise(f"team{t}", "ta", t)
            tb = self.account("tb", t, "admin", eid, phone=True)
            tc, td, te = (self.account(k, t, "member", eid, phone=True) for k in ("tc", "td", "te"))
            ids = [self.identity() for _ in range(3)]
            self.journeys.append((self.at(0.0, 0.7), "team", (eid, ta, tb, tc, td, te, ids)))
        rest = self.budget
        for i in range(rest):
            r = i % 20
            if r < 3:
                a = self.account("hold", i)
                self.fixtures["holds"].append({"account_id": a["id"], "kind": "account_balance",
                                               "detail": "12.30 CNY left", "reference": "wallet"})
                self.journeys.append((self.at(0.0, 0.85), "hold_released", (a,)))
            elif r < 5:
                self.journeys.append((self.at(0.0, 0.85), "hold_race", (self.account("race", i),)))
            elif r < 6:
                self.journeys.append((self.at(0.0, 0.85), "hold_kept", (self.account("kept", i),)))
            elif r < 8:
                a = self.account("self", i, phone=True)
                self.journeys.append((self.at(0.0, 0.85), "own_handover", (a, self.identity())))
            else:
                self.journeys.append((self.at(0.0, 0.85), "delete", (self.account("ind", i),)))

    def plan_grace(self, n):
        """With a grace period: deletions scheduled then purged or cancelled (one
        near its purge), a dismissal while members are in their grace period,
        holds refused on a scheduled account and registered after it is cancelled."""
        size = max(6, int(n * 0.25))
        eid, admin = self.enterprise("grace", "gadmin", 0)
        members = [self.account("gm", i, "member", eid) for i in range(size)]
        self.journeys.append((0.30 * self.seconds, "dismiss_and_delete", (admin, eid)))
        for i, m in enumerate(members):
            kind = ("schedule_then_cancel", "delete", "member_stays")[i % 3]
            self.journeys.append((self.at(0.05, 0.5), kind, (m,)))
        for i in range(self.budget):
            r = i % 10
            a = self.account("ind", i)
            if r < 4:
                self.journeys.append((self.at(0.0, 0.7), "delete", (a,)))
            elif r < 7:
                self.journeys.append((self.at(0.0, 0.7), "schedule_then_cancel", (a,)))
            elif r < 8:
                self.journeys.append((self.at(0.0, 0.5), "cancel_near_purge", (a,)))
            else:
                self.journeys.append((self.at(0.0, 0.7), "hold_while_scheduled", (a,)))


# --- what happened ------------------------------------------------------------------


class Journal:
    """Everything the phase records, for the report and the end-state check."""

    def __init__(self):
        self.busy = collections.Counter()  # (route, code) -> answers
        self.chains = []  # a request answered busy, then retried: how it ended
        self.other_5xx = []
        self.anomalies = []
        self.journeys = []
        self.cleanup = collections.Counter()
        self.cleanup_runs = 0
        self.cleanup_errors = []


class Failed(Exception):
    """An answer that the journey cannot go on from."""


class Walk:
    """One journey: the requests of its people, through the Locust user's HTTP client."""

    def __init__(self, soak, user, jid, kind):
        self.soak, self.client, self.jid, self.kind = soak, user.client, jid, kind
        self.steps = []
        self.expect = {}  # account or enterprise id -> the end state the API's answers promise
        self.handovers = []
        self.notes = []

    def call(self, who, method, path, body=None, ok=None):
        """METHOD PATH as WHO with a JWT signed now; a busy answer is retried after
        its Retry-After. With OK (statuses), any other answer fails the journey."""
        route = f"{method} {path}"
        chain, waited = [], False
        for _ in range(MAX_RETRIES):
            began = now()
            status, payload, code, retry_after = self.send(who, method, path, route, body)
            took = round((now() - began) * 1000)
            self.steps.append([route, who, status, code, round(now() - self.soak.started, 1), took])
            if (status, code) in RETRYABLE:
                self.soak.journal.busy[(route, code)] += 1
                chain.append(retry_after)
                time.sleep(float(retry_after) if retry_after and retry_after.isdigit() else 1.0)
            elif (status, code) == (429, "resend_too_soon") and not waited and 429 not in (ok or ()):
                # No journey asks twice within the cooldown: a wrong answer, waited out as a client would.
                self.anomaly(route, who, f"{status} {code} (Retry-After {retry_after}) where no code was asked "
                             "for within the cooldown")
                waited = True
                time.sleep(min(float(retry_after or 60), 65.0))
            else:
                break
        if chain:
            self.soak.journal.chains.append({"route": route, "journey": self.jid, "kind": self.kind,
                                             "answered": [code] * len(chain), "retry_after": chain,
                                             "final": f"{status} {code}".strip()})
        if ok is not None and status not in ok:
            raise Failed(f"{route} as {who}: {status} {code} (wanted {'/'.join(map(str, ok))})")
        return status, payload

    def send(self, who, method, path, route, body):
        token = self.soak.token(who)
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        with self.client.request(method, path, name=route, data=None if body is None else json.dumps(body),
                                 headers=headers, timeout=REQUEST_TIMEOUT, catch_response=True) as r:
            status = r.status_code
            try:
                payload = r.json() if r.content else {}
            except ValueError:
                payload = {"body": r.text[:200]}
            payload = payload if isinstance(payload, dict) else {"body": payload}
            code = payload.get("code") or payload.get("message") or ""
            if status >= 500 and (status, code) not in RETRYABLE or status == 0:
                r.failure(f"{status} {code}")
                self.soak.journal.other_5xx.append({
                    "route": route, "status": status, "code": code, "journey": self.jid, "kind": self.kind,
                    "who": who, "step": len(self.steps), "at": time.strftime("%H:%M:%S"),
                    "error": str(r.error)[:200] if r.error else None})
            else:
                r.success()
            return status, payload, code, r.headers.get("retry-after")

    def anomaly(self, route, who, what):
        """An answer that is not an error of the API's but is wrong for the journey's sequence."""
        self.soak.journal.anomalies.append({"route": route, "who": who, "journey": self.jid, "kind": self.kind,
                                            "step": len(self.steps), "at": time.strftime("%H:%M:%S"), "what": what})

    def code(self, address, purpose, after):
        found = self.soak.mailbox.wait(address, lambda s: s == CODE_SUBJECT[purpose], after)
        if found is None:
            raise Failed(f"no {purpose} code mailed to {address} within {MAIL_WAIT:.0f} s")
        return found

    def token(self, who, address, purpose, wrong=0):
        """send-code, WRONG wrong guesses, the code from the mailbox: a verification token."""
        self.call(who, "POST", SEND, {"purpose": purpose}, ok={202})
        code = self.code(address, purpose, now())
        for n in range(1, wrong + 1):
            guess = f"{(int(code) + 1 + self.soak.rng.randrange(999_998)) % 1_000_000:06d}"
            status, body = self.call(who, "POST", VERIFY, {"purpose": purpose, "code": guess}, ok={422})
            if body.get("code") != "code_incorrect":
                raise Failed(f"a wrong guess was answered {body.get('code')}")
            if body.get("attempts_left") != CODE_MAX_ATTEMPTS - n:
                self.anomaly(f"POST {VERIFY}", who, f"attempts_left {body.get('attempts_left')} after {n} wrong "
                             f"guesses of a new code (CODE_MAX_ATTEMPTS {CODE_MAX_ATTEMPTS})")
        _, body = self.call(who, "POST", VERIFY, {"purpose": purpose, "code": code}, ok={200})
        return body["verification_token"]

    def blockers(self, who):
        status, body = self.call(who, "GET", PREREQS, ok={200, 410})
        return None if status == 410 else [b.get("kind") for b in body.get("blockers", [])]

    def hold(self, action, account, kind="active_resources", reference="soak"):
        """What another service does (devtool hold): registered, released, refused, ..."""
        args = [self.soak.devtool, "hold", action, account["id"], kind, reference]
        out = subprocess.run(args + (["soak"] if action == "register" else []), capture_output=True, text=True)
        if out.returncode not in (0, 3):
            raise Failed(f"devtool hold {action} {account['id']}: exit {out.returncode}: {out.stderr.strip()[:200]}")
        outcome = json.loads(out.stdout)["hold"]
        self.notes.append(f"hold {action}: {outcome}")
        return outcome

    def deleted(self, account, body, status):
        """What delete-account said: the end state the check expects (a scheduled
        deletion is purged by the end: the check lets cleanup finish what is due)."""
        state = {200: "deleted", 202: body.get("status")}.get(status)
        if state not in ("deleted", "deleting", "deletion_scheduled"):
            raise Failed(f"delete-account answered {status} {body}")
        self.expect_state(account, "deleted", receipt_id=body.get("receipt_id"))
        return state

    def expect_state(self, account, state, **fields):
        """The end state of ACCOUNT (a fixture) as the answers so far promise it; a later one replaces it.
        States: any (only the consistency every account owes), active (with the FIELDS given:
        role, email, phone, no enterprise, a hold), deleted, cancelled; an enterprise: dismissed."""
        self.expect[account["id"]] = {"state": state, **fields}

    def handed_over(self, account, new):
        self.handovers.append({"account": account["id"], "email": new["email"], "phone": new["phone"],
                               "old_email": account["email"], "old_phone": account.get("phone")})
        account["email"], account["phone"] = new["email"], new["phone"]


# --- the journeys -----------------------------------------------------------------


def j_delete(w, a):
    """Prerequisites, a code with wrong guesses, the deletion, then 410 (at once) or the grace period."""
    w.expect_state(a, "any")
    if w.blockers(a["id"]) != []:
        raise Failed("an account with nothing to block it is not deletable")
    token = w.token(a["id"], a["email"], "delete_account", wrong=w.soak.rng.choice((0, 1, 2)))
    status, body = w.call(a["id"], "POST", DELETE, {"verification_token": token}, ok={200, 202})
    state = w.deleted(a, body, status)
    if state in ("deleted", "deletion_scheduled"):
        # Every function answers it account_deleted from now on.
        w.call(a["id"], "POST", SEND, {"purpose": "delete_account"}, ok={410})
    return state


def j_member_stays(w, a):
    """A member who looks, verifies a wrong code and keeps the account: an individual once dismissed."""
    w.expect_state(a, "active", role="individual", enterprise=None)
    if w.blockers(a["id"]) != []:
        raise Failed("a member is blocked")
    w.call(a["id"], "POST", SEND, {"purpose": "delete_account"}, ok={202})
    w.code(a["email"], "delete_account", now())
    w.call(a["id"], "POST", VERIFY, {"purpose": "delete_account", "code": "000000"}, ok={422})


def wait_dismissed(w, admin, seconds=150):
    """Until the administrator is no longer blocked by the enterprise: a dismissal answered 202
    is carried on by cleanup at once when its budget ran out, after its 120 s lease when a
    fault cut it off."""
    deadline = now() + seconds
    while now() < deadline:
        if "enterprise_not_dismissed" not in (w.blockers(admin["id"]) or []):
            return True
        time.sleep(5)
    return False


def j_dismiss_and_delete(w, admin, eid):
    """The default administrator: blocked, dismisses the enterprise (its members are
    deleting their own accounts meanwhile), then deletes the account."""
    w.expect_state(admin, "any")
    if "enterprise_not_dismissed" not in (w.blockers(admin["id"]) or []):
        raise Failed("the default administrator is not blocked by the enterprise")
    token = w.token(admin["id"], admin["email"], "dismiss_enterprise", wrong=1)
    # A 503 of the local API's 30 s integration timeout (counted as a 5xx) leaves the
    # dismissal running: the administrator waits for it as after a 202.
    status, body = w.call(admin["id"], "POST", DISMISS, {"verification_token": token}, ok={200, 202, 503})
    w.expect[eid] = {"state": "dismissed", "enterprise": True}
    w.notes.append(f"dismissal {status} {body.get('status') or body.get('message')}, "
                   f"{body.get('members_released')} released inline")
    if status != 200 and not wait_dismissed(w, admin):
        raise Failed("the dismissal did not finish within 150 s")
    token = w.token(admin["id"], admin["email"], "delete_account")
    status, body = w.call(admin["id"], "POST", DELETE, {"verification_token": token}, ok={200, 202})
    w.deleted(admin, body, status)


def j_team(w, eid, ta, tb, tc, td, te, ids):
    """A small enterprise: the default administrator hands over a member's account, an
    admin another's, a member their own; then the dismissal, the administrator's
    deletion, and the new holder of the first account deletes it."""
    for x in (ta, tb, tc, td, te):
        w.expect_state(x, "any")
    if "enterprise_not_dismissed" not in (w.blockers(ta["id"]) or []):
        raise Failed("the default administrator is not blocked by the enterprise")
    handed = []
    for by, whose, new in ((ta, tc, ids[0]), (tb, td, ids[1]), (te, te, ids[2])):
        token = w.token(by["id"], by["email"], "handover_account")
        start = {"verification_token": token, "new_email": new["email"], "new_phone": new["phone"],
                 "new_name": new["name"]}
        if by is not whose:
            start["account_id"] = whose["id"]
        w.call(by["id"], "POST", HANDOVER, start, ok={202})
        code = w.code(new["email"], "confirm_handover", now())
        w.call(by["id"], "POST", CONFIRM, {"code": f"{(int(code) + 7) % 1_000_000:06d}", "account_id": whose["id"]},
               ok={422})
        status, body = w.call(by["id"], "POST", CONFIRM, {"code": code, "account_id": whose["id"]}, ok={200, 202})
        w.handed_over(whose, new)
        w.expect_state(whose, "active", email=new["email"], phone=new["phone"])
        handed.append(whose)
    # Sessions from before a handover are out: the new holders sign in a second later.
    time.sleep(1.1)
    token = w.token(ta["id"], ta["email"], "dismiss_enterprise")
    status, body = w.call(ta["id"], "POST", DISMISS, {"verification_token": token}, ok={200, 202})
    w.expect[eid] = {"state": "dismissed", "enterprise": True}
    if status == 202 and not wait_dismissed(w, ta):
        raise Failed("the dismissal did not finish within 150 s")
    for x in (tb, tc, td, te):
        w.expect_state(x, "active", role="individual", enterprise=None, email=x["email"], phone=x.get("phone"))
    token = w.token(ta["id"], ta["email"], "delete_account")
    status, body = w.call(ta["id"], "POST", DELETE, {"verification_token": token}, ok={200, 202})
    w.deleted(ta, body, status)
    whose = handed[0]
    token = w.token(whose["id"], whose["email"], "delete_account")
    status, body = w.call(whose["id"], "POST", DELETE, {"verification_token": token}, ok={200, 202})
    w.deleted(whose, body, status)


def j_own_handover(w, a, new):
    """An employee hands over their own account; the old session is out, the new holder's works."""
    w.expect_state(a, "any")
    token = w.token(a["id"], a["email"], "handover_account", wrong=1)
    w.call(a["id"], "POST", HANDOVER, {"verification_token": token, "new_email": new["email"],
                                       "new_phone": new["phone"]}, ok={202})
    code = w.code(new["email"], "confirm_handover", now())
    w.call(a["id"], "POST", CONFIRM, {"code": code}, ok={200, 202})
    w.handed_over(a, new)
    w.expect_state(a, "active", email=new["email"], phone=new["phone"])
    time.sleep(1.1)
    if w.blockers(a["id"]) != []:
        raise Failed("the handed-over account is not deletable by its new holder")


def j_hold_released(w, a):
    """A balance blocks the deletion (409, the token kept); billing releases it; the deletion goes through."""
    w.expect_state(a, "any")
    if "account_balance" not in (w.blockers(a["id"]) or []):
        raise Failed("the balance is not among the blockers")
    token = w.token(a["id"], a["email"], "delete_account", wrong=1)
    status, body = w.call(a["id"], "POST", DELETE, {"verification_token": token}, ok={409})
    if body.get("code") != "prerequisites_unmet":
        raise Failed(f"a blocked deletion answered {body.get('code')}")
    if w.hold("release", a, "account_balance", "wallet") != "released":
        raise Failed("the balance's hold could not be released")
    status, body = w.call(a["id"], "POST", DELETE, {"verification_token": token}, ok={200, 202})
    w.deleted(a, body, status)


def j_hold_race(w, a):
    """A hold registered while the deletion runs: it blocks the deletion or is refused, never both."""
    import gevent

    w.expect_state(a, "any")
    token = w.token(a["id"], a["email"], "delete_account")
    g = gevent.spawn(w.hold, "register", a)
    status, body = w.call(a["id"], "POST", DELETE, {"verification_token": token}, ok={200, 202, 409})
    outcome = g.get()
    w.notes.append(f"race: hold {outcome}, deletion {status}")
    if status == 409:
        if outcome != "registered":
            raise Failed(f"the deletion was blocked, the hold {outcome}")
        if w.hold("release", a) != "released":
            raise Failed("the hold could not be released")
        status, body = w.call(a["id"], "POST", DELETE, {"verification_token": token}, ok={200, 202})
    w.deleted(a, body, status)


def j_hold_kept(w, a):
    """A hold registered on an active account blocks it; the person stops there."""
    if w.hold("register", a, "arrears", "invoice-1") != "registered":
        raise Failed("a hold on an active account was refused")
    w.expect_state(a, "active", hold=["arrears", "invoice-1"])
    if "arrears" not in (w.blockers(a["id"]) or []):
        raise Failed("the registered hold is not among the blockers")


def schedule(w, a):
    """A deletion with a grace period; its answer, and when (by this clock) the purge is due."""
    token = w.token(a["id"], a["email"], "delete_account", wrong=w.soak.rng.choice((0, 1)))
    status, body = w.call(a["id"], "POST", DELETE, {"verification_token": token}, ok={200, 202})
    state = w.deleted(a, body, status)
    if state != "deletion_scheduled":
        raise Failed(f"with a grace period the deletion answered {state}")
    return body, now() + w.soak.grace


def cancelled_or_purged(w, a, body, purge_due, **fields):
    """Cancels; a 410 is the purge's win if it came once the purge was due (a slow stack
    gets there), a wrong answer before. The end state follows the answer. True if cancelled."""
    status = cancel(w, a, purge_may_win=True)
    if status == 410:
        if now() < purge_due - 1:
            w.anomaly(f"POST {CANCEL}", a["id"], f"410 account_deleted {purge_due - now():.0f} s before the purge "
                      "was due")
        w.notes.append("the purge won: the cancellation came after purge_at")
        return False
    w.expect_state(a, "cancelled", receipt_id=body.get("receipt_id"), **fields)
    return True


def cancel(w, a, purge_may_win=False):
    """A cancel_deletion code, a wrong guess, the cancellation: 200, or 410 where the purge may have won."""
    gone = {410} if purge_may_win else set()
    status, _ = w.call(a["id"], "POST", SEND, {"purpose": "cancel_deletion"}, ok={202} | gone)
    if status == 410:
        return status
    code = w.code(a["email"], "cancel_deletion", now())
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    status, _ = w.call(a["id"], "POST", VERIFY, {"purpose": "cancel_deletion", "code": wrong}, ok={422} | gone)
    if status == 410:
        return status
    status, body = w.call(a["id"], "POST", VERIFY, {"purpose": "cancel_deletion", "code": code}, ok={200} | gone)
    if status == 410:
        return status
    status, body = w.call(a["id"], "POST", CANCEL, {"verification_token": body["verification_token"]},
                          ok={200} | gone)
    if status == 200 and body.get("status") != "active":
        raise Failed(f"a cancellation answered {body}")
    return status


def j_schedule_then_cancel(w, a):
    """Deletion with a grace period, cancelled within it: the account comes back as it was."""
    member = bool(a.get("enterprise_id"))
    w.expect_state(a, "any")
    body, purge_due = schedule(w, a)
    time.sleep(w.soak.rng.uniform(0.5, 3))
    # Back as it was; a member released by a dismissal during the grace period comes back an individual.
    if cancelled_or_purged(w, a, body, purge_due, **({"enterprise_member": True} if member else {})):
        if w.blockers(a["id"]) is None:
            raise Failed("a cancelled deletion still answers account_deleted")


def j_cancel_near_purge(w, a):
    """A cancellation sent at the purge's time: it wins (active) or the purge did (410), never both."""
    w.expect_state(a, "any")
    body, purge_due = schedule(w, a)
    time.sleep(max(0.0, w.soak.grace - 2.5))
    cancelled_or_purged(w, a, body, purge_due)


def j_hold_while_scheduled(w, a):
    """A hold on an account in its grace period is refused; after the cancellation it is taken and released."""
    w.expect_state(a, "any")
    body, purge_due = schedule(w, a)
    if w.hold("register", a) != "refused":
        raise Failed("a hold on an account in its grace period was not refused")
    if not cancelled_or_purged(w, a, body, purge_due):
        return
    if w.hold("register", a) != "registered":
        raise Failed("a hold on the account active again was refused")
    if w.hold("release", a) != "released":
        raise Failed("the hold could not be released")


JOURNEYS = {
    "delete": j_delete, "member_stays": j_member_stays, "dismiss_and_delete": j_dismiss_and_delete,
    "team": j_team, "own_handover": j_own_handover, "hold_released": j_hold_released, "hold_race": j_hold_race,
    "hold_kept": j_hold_kept, "schedule_then_cancel": j_schedule_then_cancel,
    "cancel_near_purge": j_cancel_near_purge, "hold_while_scheduled": j_hold_while_scheduled,
}


# --- the mailbox -----------------------------------------------------------------


class Mailbox:
    """One poller of moto's mail list for every virtual person: it fetches only while
    someone waits, indexes the mails it has not seen by recipient, and a waiter takes
    the newest matching mail from a fetch that began after its request was answered."""

    def __init__(self, moto_url):
        import requests

        self.session = requests.Session()
        self.url = f"{moto_url}/moto-api/data.json"
        self.seen = 0
        self.by_to = collections.defaultdict(list)
        self.fetched_from = 0.0  # when the last complete fetch began
        self.waiting = 0
        self.fetches, self.fetch_seconds, self.errors = 0, 0.0, 0

    def run(self):
        import gevent

        while True:
            took = 0.0
            if self.waiting:
                began = now()
                self.fetch()
                took = now() - began
            # moto builds its whole state for each fetch: never busier than half the time.
            gevent.sleep(max(MAIL_POLL, took))

    def fetch(self):
        began = now()
        try:
            messages = self.session.get(self.url, timeout=30).json().get("ses", {}).get("Message", [])
        except Exception:  # moto answers 500 when a model changes under it: the next poll reads again
            self.errors += 1
            return
        for m in messages[self.seen:]:
            for to in (m.get("destinations") or {}).get("ToAddresses") or []:
                self.by_to[to.lower()].append((m.get("subject") or "", m.get("body") or ""))
        self.seen = len(messages)
        self.fetched_from = began
        self.fetches += 1
        self.fetch_seconds += now() - began

    def wait(self, address, subject_matches, after):
        """The code in the newest mail to ADDRESS whose subject matches, from a fetch begun after AFTER."""
        import re

        deadline = now() + MAIL_WAIT
        self.waiting += 1
        try:
            while now() < deadline:
                if self.fetched_from > after:
                    for subject, body in reversed(self.by_to[address.lower()]):
                        if subject_matches(subject):
                            m = re.search(r"(?<![#\w])(\d{6})(?!\w)", body)
                            return m.group(1) if m else None
                time.sleep(0.05)
            return None
        finally:
            self.waiting -= 1


# --- the run -----------------------------------------------------------------------


class Soak:
    def __init__(self, args):
        from apidef import Api
        from tokens import load_key

        self.api, self.key = Api(), load_key()
        self.rng = random.Random(args.seed)
        self.journal = Journal()
        self.mailbox = Mailbox(os.environ["AWS_ENDPOINT_URL"])
        self.devtool = os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"), "debug",
                                    "devtool")
        self.grace = int(os.environ.get("DELETION_GRACE_SECONDS") or 0)

    def token(self, who):
        from tokens import token_for

        return token_for(self.api, self.key, who)

    def cleanup_loop(self):
        """The cleanup schedule, every CLEANUP_EVERY seconds instead of 5 minutes: the cleanup
        function's handler with its real deadline (devtool cleanup; through cargo lambda watch
        its deadline is in 1970 and it does nothing), through the fault proxy as the functions."""
        import gevent

        while True:
            out = subprocess.run([self.devtool, "cleanup"], capture_output=True, text=True, env=function_env())
            try:
                answer = json.loads(out.stdout)
                self.journal.cleanup_runs += 1
                for k, v in answer.items():
                    if isinstance(v, int) and not isinstance(v, bool) and k != "duration_ms":
                        self.journal.cleanup[k] += v
            except ValueError:
                self.journal.cleanup_errors.append(f"exit {out.returncode}: {out.stderr.strip()[-300:]}")
            gevent.sleep(CLEANUP_EVERY)


def function_env():
    """The functions' environment: DynamoDB Local and moto through the fault proxy when it runs."""
    env = dict(os.environ)
    proxy = load(os.path.join(STACK_DIR, "faults.json"))
    if proxy:
        env.update(AWS_ENDPOINT_URL_DYNAMODB=proxy["dynamodb"]["url"], AWS_ENDPOINT_URL=proxy["moto"]["url"])
    return env


def accounts_of(params):
    return [p for p in params if isinstance(p, dict) and "username" in p]


def seed(fixtures):
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="soak-", dir=STACK_DIR, delete=False) as f:
        json.dump(fixtures, f)
    try:
        out = subprocess.run([DEV, "seed", f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    if out.returncode != 0:
        sys.exit(f"soak: scripts/dev seed failed: {out.stderr.strip()[-500:]}")


def run(args):
    import gevent
    from locust import HttpUser, constant, task
    from locust.env import Environment
    from locust.exception import StopUser

    plan = Plan(args.run_id, args.phase, args.accounts, args.seconds, args.seed)
    t0 = now()
    seed(plan.fixtures)
    print(f"soak: phase {args.phase}: seeded {len(plan.fixtures['accounts'])} accounts, "
          f"{len(plan.fixtures['enterprises'])} enterprises, {len(plan.fixtures['holds'])} holds "
          f"in {now() - t0:.1f} s; {len(plan.journeys)} journeys over {args.seconds} s with {args.users} users",
          file=sys.stderr, flush=True)
    soak = Soak(args)
    queue = collections.deque(enumerate(plan.journeys))
    running, active, peak, samples = set(), set(), [0], []
    started = soak.started = now()

    class Person(HttpUser):
        host = f"http://127.0.0.1:{os.environ['API_PORT']}"
        wait_time = constant(0)

        @task
        def walk(self):
            if not queue:
                raise StopUser()
            jid, (offset, kind, params) = queue.popleft()
            w = Walk(soak, self, f"{args.phase}-{jid}", kind)
            running.add(w.jid)
            delay = started + offset - now()
            if delay > 0:
                gevent.sleep(delay)
            active.add(w.jid)
            peak[0] = max(peak[0], len(active))
            record = {"id": w.jid, "kind": kind, "accounts": [p["id"] for p in accounts_of(params)],
                      "started": round(now() - started, 1)}
            try:
                JOURNEYS[kind](w, *params)
                record["result"] = "done"
            except Failed as e:
                record["result"] = f"failed: {e}"
            except gevent.GreenletExit:
                record["result"] = "cut off at the end of the run"
                raise
            except Exception as e:  # noqa: BLE001 (a bug of the soak is reported as such)
                record["result"] = f"soak error: {type(e).__name__}: {e}"
            finally:
                running.discard(w.jid)
                active.discard(w.jid)
                record.update(took=round(now() - started - record["started"], 1), steps=w.steps, expect=w.expect,
                              handovers=w.handovers, notes=w.notes)
                soak.journal.journeys.append(record)

    env = Environment(user_classes=[Person])
    runner = env.create_local_runner()
    gevent.spawn(soak.mailbox.run)
    gevent.spawn(soak.cleanup_loop)
    runner.start(args.users, spawn_rate=args.users)
    deadline = started + args.seconds + args.drain
    while now() < deadline and (queue or running or now() - started < args.seconds):
        gevent.sleep(0.5)
        samples.append(len(active))
    cut = len(queue)
    runner.quit()
    elapsed = now() - started
    j = soak.journal
    for jid, (offset, kind, params) in queue:
        j.journeys.append({"id": f"{args.phase}-{jid}", "kind": kind, "result": "not started (time was up)",
                           "accounts": [p["id"] for p in accounts_of(params)], "steps": [], "expect": {},
                           "handovers": []})
    routes = {}
    for (name, method), e in sorted(env.stats.entries.items()):
        routes[name] = {"requests": e.num_requests, "failures": e.num_failures,
                        "p50_ms": e.get_response_time_percentile(0.5), "p99_ms": e.get_response_time_percentile(0.99),
                        "max_ms": round(e.max_response_time or 0)}
    result = {
        "phase": args.phase, "grace_seconds": soak.grace, "seconds_planned": args.seconds,
        "seconds": round(elapsed, 1), "users": args.users,
        "journeys_at_once": {"peak": peak[0], "mean": round(sum(samples) / len(samples), 1) if samples else 0},
        "accounts": len(plan.fixtures["accounts"]), "enterprises": [e["id"] for e in plan.fixtures["enterprises"]],
        "seeded": plan.fixtures, "journeys_not_started": cut,
        "routes": routes, "busy": [{"route": r, "code": c, "answers": n} for (r, c), n in sorted(j.busy.items())],
        "chains": j.chains, "other_5xx": j.other_5xx, "anomalies": j.anomalies, "journeys": j.journeys,
        "cleanup": {"runs": j.cleanup_runs, **j.cleanup, "errors": j.cleanup_errors[:20]},
        "mailbox": {"fetches": soak.mailbox.fetches, "fetch_seconds": round(soak.mailbox.fetch_seconds, 1),
                    "errors": soak.mailbox.errors, "mails_seen": soak.mailbox.seen},
    }
    with open(os.path.join(args.out, f"phase-{args.phase}.json"), "w") as f:
        json.dump(result, f, indent=1)
    done = sum(1 for x in j.journeys if x["result"] == "done")
    print(f"soak: phase {args.phase}: {done} of {len(j.journeys)} journeys done in {elapsed:.0f} s; "
          f"{sum(j.busy.values())} busy answers, {len(j.other_5xx)} other 5xx, {len(j.anomalies)} wrong answers",
          file=sys.stderr, flush=True)


# --- the report -----------------------------------------------------------------------


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def fault_counts(start, end):
    """What the fault proxy saw and injected between two of its reports (scripts/dev faults)."""
    out = {k: end.get(k) for k in ("rate", "kinds", "seed")}
    for service in ("dynamodb", "moto"):
        a, b = (end.get(service) or {}).get("counts", {}), (start.get(service) or {}).get("counts", {})
        out[service] = {k: a.get(k, 0) - b.get(k, 0) for k in ("requests", "injected")}
        for k in ("by_fault", "by_operation"):
            out[service][k] = {n: v - (b.get(k) or {}).get(n, 0) for n, v in (a.get(k) or {}).items()
                               if v - (b.get(k) or {}).get(n, 0)}
    return out


def report(args):
    phases = [p for p in (load(os.path.join(args.out, f"phase-{n}.json")) for n in ("now", "grace")) if p]
    check = load(os.path.join(args.out, "check.json"), {})
    audit = load(os.path.join(args.out, "audit.json"))
    faults = fault_counts(load(os.path.join(args.out, "faults-start.json"), {}),
                          load(os.path.join(args.out, "faults-end.json"), {}))
    load_avg = load(os.path.join(args.out, "load.json"), {})
    journeys = [j for p in phases for j in p["journeys"]]
    seconds = sum(p["seconds"] for p in phases)
    done = [j for j in journeys if j["result"] == "done"]
    broken = {v["journey"] for v in check.get("violations", []) if v.get("journey")}
    # Per route over both phases: the Locust figures of the phase with more requests are not
    # enough, so p50/p99 are given per phase and route.
    routes = collections.defaultdict(dict)
    for p in phases:
        for name, r in p["routes"].items():
            routes[name][p["phase"]] = r
    requests_total = sum(r["requests"] for p in phases for r in p["routes"].values())
    busy_answers = sum(b["answers"] for p in phases for b in p["busy"])
    chains = [c for p in phases for c in p["chains"]]
    chain_ends = collections.Counter(c["final"] for c in chains)
    by_journey = {j["id"]: j for j in journeys}
    chain_journeys = {c["journey"] for c in chains}
    chains_reached = sum(1 for jid in chain_journeys
                         if by_journey.get(jid, {}).get("result") == "done" and jid not in broken)
    other = [x for p in phases for x in p["other_5xx"]]
    anomalies = [x for p in phases for x in p.get("anomalies", [])]
    five_hundreds = [x for x in other if x["status"] == 500]
    injected = {s: (faults.get(s) or {}).get("injected", 0) for s in ("dynamodb", "moto")}
    audit_verdict = ("skipped: scripts/dev audit is not on this branch" if audit is None else
                     f"{len(audit.get('violations', []))} violations in {audit.get('items_checked')} items"
                     if "violations" in audit else f"failed to run: {audit.get('error', '?')}")
    figures = {
        "accounts": sum(p["accounts"] for p in phases),
        "seconds": round(seconds),
        "journeys": len(journeys), "journeys_done": len(done),
        "journeys_per_minute": round(len(done) / seconds * 60, 1) if seconds else 0,
        "requests": requests_total,
        "routes": routes,
        "busy": {"answers": busy_answers, "share": round(busy_answers / requests_total, 4) if requests_total else 0,
                 "retried_requests": len(chains), "ended": dict(chain_ends),
                 "journeys_with_busy": len(chain_journeys), "of_which_reached_end_state": chains_reached},
        "faults": faults,
        "faults_injected": injected,
        "other_5xx": len(other), "status_500": len(five_hundreds), "other_5xx_list": other[:50],
        "wrong_answers": anomalies[:50],
        "journeys_failed": [{k: j.get(k) for k in ("id", "kind", "accounts", "result", "steps")}
                            for j in journeys if j["result"] != "done"][:50],
        "end_state": {"checked": check.get("checked", 0), "violations": check.get("violations", []),
                      "settled": check.get("settled"), "notes": check.get("notes", [])},
        "audit": audit_verdict,
        "load": load_avg,
        "phases": [{k: p[k] for k in ("phase", "grace_seconds", "seconds", "users", "journeys_at_once", "accounts",
                                      "journeys_not_started", "cleanup", "mailbox")} for p in phases],
    }
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(figures, f, indent=1)
    print(markdown(figures, phases))
    print("\n```json")
    print(json.dumps({k: v for k, v in figures.items() if k not in ("other_5xx_list", "journeys_failed")},
                     indent=1))
    print("```")
    # A wrong answer (docs/soak.md#lost-answers) is reported, and fails the run with SOAK_STRICT=1.
    strict = os.environ.get("SOAK_STRICT") == "1"
    bad = (five_hundreds or other or (anomalies and strict) or check.get("violations") or (audit and audit.get("violations"))
           or (audit is not None and "violations" not in audit) or len(done) < len(journeys) or not phases)
    return 1 if bad else 0


def markdown(f, phases):
    out = ["## Soak figures", ""]
    load_avg = f.get("load") or {}
    if load_avg:
        out += [f"Machine load (uptime): before `{load_avg.get('before', '?')}`; after `{load_avg.get('after', '?')}`.",
                ""]
    runs = ", ".join("%s: %s s, grace %s s, %s Locust users, journeys at once: peak %s, mean %s"
                     % (p["phase"], p["seconds"], p["grace_seconds"], p["users"], p["journeys_at_once"]["peak"],
                        p["journeys_at_once"]["mean"]) for p in phases)
    busy = f["busy"]
    ended = ", ".join("%s ×%d" % kv for kv in sorted(busy["ended"].items())) or "-"
    kinds = ", ".join("%s %s ×%d" % (s, k, v) for s in ("dynamodb", "moto")
                      for k, v in sorted(((f["faults"].get(s) or {}).get("by_fault") or {}).items()))
    out += [
        f"- accounts: {f['accounts']}; journeys: {f['journeys_done']} done of {f['journeys']} in {f['seconds']} s ({runs})",
        f"- throughput: **{f['journeys_per_minute']} journeys per minute**; {f['requests']} requests",
        f"- busy (503 `busy` or `mail_unavailable`): {busy['answers']} answers, {100 * busy['share']:.2f} % of requests; "
        f"{busy['retried_requests']} requests retried after their Retry-After, which ended: {ended}; "
        f"{busy['of_which_reached_end_state']} of {busy['journeys_with_busy']} journeys with a busy answer reached "
        f"their end state",
        f"- faults injected: DynamoDB {f['faults_injected']['dynamodb']}, moto {f['faults_injected']['moto']} "
        f"(rate {f['faults'].get('rate', 0)}; {kinds or 'none'})",
        f"- 5xx other than busy: **{f['other_5xx']}** (of which 500: **{f['status_500']}**)",
        f"- wrong answers to a journey's sequence (documented errors, wrong for the journey: "
        f"docs/soak.md#lost-answers): **{len(f['wrong_answers'])}**",
        f"- end states of the journeys: {f['end_state']['checked']} checks, "
        f"**{len(f['end_state']['violations'])} broken**",
        f"- audit (`scripts/dev audit`): {f['audit']}",
    ]
    out += [f"- end step: {note}" for note in f["end_state"]["notes"]]
    out += [
        "",
        "| route | phase | requests | p50 ms | p99 ms | max ms | failures |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, by_phase in sorted(f["routes"].items()):
        for phase, r in by_phase.items():
            out.append(f"| `{name}` | {phase} | {r['requests']} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} "
                       f"| {r['failures']} |")
    if f["other_5xx_list"]:
        out += ["", "5xx other than busy:"]
        out += [f"- {x['at']} `{x['route']}` {x['status']} {x['code']} (journey {x['journey']} {x['kind']}, "
                f"step {x['step']}, as {x['who']})" for x in f["other_5xx_list"]]
    if f["wrong_answers"]:
        out += ["", "Wrong answers:"]
        out += [f"- {x['at']} `{x['route']}` as {x['who']} (journey {x['journey']} {x['kind']}, step {x['step']}): "
                f"{x['what']}" for x in f["wrong_answers"]]
    if f["journeys_failed"]:
        out += ["", "Journeys that did not finish:"]
        out += [f"- {j['id']} {j['kind']} {j['accounts']}: {j['result']}" for j in f["journeys_failed"]]
    if f["end_state"]["violations"]:
        out += ["", "Broken end states:"]
        out += [f"- {json.dumps(v)}" for v in f["end_state"]["violations"][:50]]
    return "\n".join(out)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--phase", choices=("now", "grace"), required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--accounts", type=int, required=True)
    r.add_argument("--seconds", type=int, required=True)
    r.add_argument("--users", type=int, default=40)
    r.add_argument("--drain", type=int, default=180, help="how long journeys still running may finish")
    r.add_argument("--run-id", default=f"{random.randrange(16 ** 4):04x}")
    r.add_argument("--seed", type=int, default=None)
    rep = sub.add_parser("report")
    rep.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if args.cmd == "run":
        run(args)
        return 0
    return report(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
