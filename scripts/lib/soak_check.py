#!/usr/bin/env python3
"""The soak's end step: the end state of every journey, read from the table.

  soak_check.py DIR

Reads DIR/phase-*.json (scripts/lib/soak.py: the accounts seeded, the end state
each journey's answers promised, the handovers), lets `cleanup` finish what is
due first (it invokes it, as the schedule would, until no job is left or
SOAK_SETTLE_SECONDS, default 180, have passed: a job cut off by a fault waits
out its 120 s lease), then reads the whole table once and moto's mail once, and
writes DIR/check.json: {"checked": N, "violations": [...], "settled": bool}.

This checks the journeys' end states only (every deletion left no profile and
one receipt, its identifiers free and a notice mailed; every cancellation an
active account and its record; every handover's identifiers with the account
they went to; every dismissed enterprise no members; holds as registered); the
whole table's invariants are `scripts/dev audit`'s. Runs with .stack/venv's
python (boto3 comes with moto there, as for scripts/lib/console.py).
"""

import collections
import glob
import json
import os
import sys
import subprocess
import time
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stack  # noqa: E402

SETTLE_SECONDS = float(os.environ.get("SOAK_SETTLE_SECONDS", "180"))
DELETED_SUBJECT = "Your account was deleted"
CANCELLED_SUBJECT = "The deletion of your account was cancelled"


def dynamodb():
    import boto3

    return boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"],
                        region_name=os.environ.get("AWS_REGION", "us-east-1"))


def plain(item):
    """A DynamoDB item as plain values (S, N, BOOL, M, L, NULL, SS)."""
    def value(v):
        (kind, x), = v.items()
        return {"S": lambda: x, "N": lambda: int(x) if x.lstrip("-").isdigit() else float(x), "BOOL": lambda: x,
                "NULL": lambda: None, "M": lambda: plain(x), "L": lambda: [value(e) for e in x],
                "SS": lambda: sorted(x)}.get(kind, lambda: x)()
    return {k: value(v) for k, v in item.items()}


def scan(client, table):
    items = collections.defaultdict(dict)
    count = 0
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for raw in page["Items"]:
            item = plain(raw)
            items[item["pk"]][item["sk"]] = item
            count += 1
    return items, count


def jobs_left(client, table):
    out = []
    for page in client.get_paginator("scan").paginate(
            TableName=table, ConsistentRead=True, FilterExpression="begins_with(pk, :j)",
            ExpressionAttributeValues={":j": {"S": "JOB#"}}):
        out += [plain(i) for i in page["Items"]]
    return out


def settle(client, table, notes):
    """Runs cleanup (devtool cleanup: its handler with its real deadline, through the fault
    proxy when it runs, as the functions) until no job is left, or SETTLE_SECONDS pass."""
    env = dict(os.environ)
    proxy = os.path.join(stack.ROOT, ".stack", "faults.json")
    if os.path.exists(proxy):
        with open(proxy) as f:
            urls = json.load(f)
        env.update(AWS_ENDPOINT_URL_DYNAMODB=urls["dynamodb"]["url"], AWS_ENDPOINT_URL=urls["moto"]["url"])
    deadline = time.monotonic() + SETTLE_SECONDS
    started = time.monotonic()
    while True:
        left = jobs_left(client, table)
        if not left:
            notes.append(f"settled in {time.monotonic() - started:.0f} s")
            return True
        if time.monotonic() > deadline:
            notes.append(f"{len(left)} jobs still there after {SETTLE_SECONDS:.0f} s: "
                         + ", ".join(sorted(j["pk"] for j in left))[:500])
            return False
        out = subprocess.run([stack.devtool_bin(), "cleanup"], capture_output=True, text=True, env=env)
        if out.returncode != 0:
            notes.append(f"cleanup failed while settling: {out.stderr.strip()[-300:]}")
        time.sleep(3)


def mails():
    url = f"{os.environ['AWS_ENDPOINT_URL']}/moto-api/data.json"
    for attempt in range(10):
        try:
            with urllib.request.urlopen(url, timeout=60) as r:
                data = json.load(r)
            break
        except (OSError, ValueError):
            if attempt == 9:
                raise
            time.sleep(0.5)
    by_to = collections.defaultdict(list)
    for m in data.get("ses", {}).get("Message", []):
        for to in (m.get("destinations") or {}).get("ToAddresses") or []:
            by_to[to.lower()].append(m.get("subject") or "")
    return by_to


def check(out_dir):
    phases = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out_dir, "phase-*.json")))]
    table = os.environ["TABLE_NAME"]
    client = dynamodb()
    notes = []
    settled = settle(client, table, notes)
    items, count = scan(client, table)
    mailbox = mails()
    violations = []
    unmailed = []
    checked = 0

    def bad(kind, key, detail, journey=None):
        violations.append({"check": kind, "key": key, "detail": detail, "journey": journey})

    def owner(kind, value):
        claim = items.get(f"CLAIM#{kind}#{value.lower() if kind != 'PHONE' else value}", {}).get("CLAIM")
        return claim.get("owner") if claim else None

    members = collections.defaultdict(set)  # account -> enterprises listing it
    for pk, by_sk in items.items():
        if pk.startswith("ENTERPRISE#"):
            for sk in by_sk:
                if sk.startswith("MEMBER#"):
                    members[sk[len("MEMBER#"):]].add(pk[len("ENTERPRISE#"):])

    for phase in phases:
        seeded = {a["id"]: dict(a) for a in phase["seeded"]["accounts"]}
        expected, journey_of = {}, {}
        for j in phase["journeys"]:
            for key, e in (j.get("expect") or {}).items():
                expected[key], journey_of[key] = e, j["id"]
            for h in j.get("handovers") or []:
                seeded[h["account"]].update(email=h["email"], phone=h["phone"])
            for aid in j.get("accounts") or []:
                journey_of.setdefault(aid, j["id"])
        for aid, a in seeded.items():
            e = expected.get(aid, {"state": "any"})
            jid = journey_of.get(aid)
            part = items.get(f"ACCOUNT#{aid}", {})
            profile = part.get("PROFILE")
            checked += 1
            if profile:
                # What every live account owes: active, its claims its own, its holds counted, its membership real.
                if profile.get("status") != "active":
                    bad("status", aid, f"status {profile.get('status')} after cleanup finished what was due", jid)
                holds = [sk for sk in part if sk.startswith("PROFILE#HOLD#")]
                if profile.get("hold_count", 0) != len(holds):
                    bad("hold_count", aid, f"hold_count {profile.get('hold_count')} with {len(holds)} holds", jid)
                for kind, field in (("USERNAME", "username"), ("EMAIL", "email"), ("PHONE", "phone")):
                    if profile.get(field) and owner(kind, profile[field]) != aid:
                        bad("claim", aid, f"its {field} is claimed by {owner(kind, profile[field])!r}", jid)
                ent = profile.get("enterprise_id")
                if set(members[aid]) != ({ent} if ent else set()):
                    bad("membership", aid, f"enterprise_id {ent!r}, listed as a member of {sorted(members[aid])}", jid)
            else:
                # Deleted: nothing under its key, one receipt, its identifiers released, no membership.
                if part:
                    bad("left_behind", aid, f"no profile but {sorted(part)} under ACCOUNT#{aid}", jid)
                if "RECEIPT" not in items.get(f"RECEIPT#{aid}", {}):
                    bad("receipt", aid, "no profile and no receipt", jid)
                for kind, value in (("USERNAME", a["username"]), ("EMAIL", a.get("email")), ("PHONE", a.get("phone"))):
                    if value and owner(kind, value) == aid:
                        bad("claim", aid, f"deleted, but still owns the {kind.lower()} claim {value}", jid)
                if members[aid]:
                    bad("membership", aid, f"deleted, but listed as a member of {sorted(members[aid])}", jid)
            state = e["state"]
            if state == "deleted":
                receipt = items.get(f"RECEIPT#{aid}", {}).get("RECEIPT")
                if profile:
                    bad("deleted", aid, f"delete-account answered receipt {e.get('receipt_id')}, the profile is "
                        f"still there ({profile.get('status')})", jid)
                elif receipt and e.get("receipt_id") and receipt.get("receipt_id") != e["receipt_id"]:
                    bad("receipt", aid, f"receipt {receipt.get('receipt_id')}, answered {e['receipt_id']}", jid)
                if DELETED_SUBJECT not in mailbox.get(a["email"].lower(), []):
                    bad("notice", aid, f"no deletion notice mailed to {a['email']}", jid)
            elif state in ("active", "cancelled"):
                if not profile:
                    bad(state, aid, "the answers left it active, the account is gone", jid)
                    continue
                for field in ("role", "email", "phone"):
                    if field in e and profile.get(field) != e[field]:
                        bad(state, aid, f"{field} {profile.get(field)!r}, expected {e[field]!r}", jid)
                if "enterprise" in e and profile.get("enterprise_id") != e["enterprise"]:
                    bad(state, aid, f"enterprise {profile.get('enterprise_id')!r}, expected {e['enterprise']!r}", jid)
                if e.get("enterprise_member") and (profile.get("role") != "individual" or profile.get("enterprise_id")):
                    bad(state, aid, f"a member cancelled after the dismissal is {profile.get('role')} of "
                        f"{profile.get('enterprise_id')!r}, not an individual", jid)
                if "hold" in e and f"PROFILE#HOLD#{e['hold'][0]}#{e['hold'][1]}" not in part:
                    bad("hold", aid, f"the hold {e['hold']} registered is not there", jid)
                if state == "cancelled":
                    if f"CANCELLATION#{e.get('receipt_id')}" not in part:
                        bad("cancelled", aid, f"no CANCELLATION#{e.get('receipt_id')} record", jid)
                    if items.get(f"RECEIPT#{aid}"):
                        bad("cancelled", aid, "cancelled, but a deletion receipt exists", jid)
                    if CANCELLED_SUBJECT not in mailbox.get(a["email"].lower(), []):
                        # Best effort by design (shared/src/deletion.rs, mail_grace_notice): counted, not a violation.
                        unmailed.append(aid)
        # Every handover: the identifiers went to the account (or were released with it), the old ones are free.
        for j in phase["journeys"]:
            for h in j.get("handovers") or []:
                checked += 1
                aid = h["account"]
                live = "PROFILE" in items.get(f"ACCOUNT#{aid}", {})
                for kind, new, old in (("EMAIL", h["email"], h["old_email"]), ("PHONE", h["phone"], h["old_phone"])):
                    if live and owner(kind, new) != aid:
                        bad("handover", aid, f"the new {kind.lower()} {new} is claimed by {owner(kind, new)!r}", j["id"])
                    if not live and owner(kind, new) is not None:
                        bad("handover", aid, f"deleted after its handover, its {kind.lower()} {new} is still claimed "
                            f"by {owner(kind, new)!r}", j["id"])
                    if old and owner(kind, old) is not None:
                        bad("handover", aid, f"the old {kind.lower()} {old} is still claimed by {owner(kind, old)!r}",
                            j["id"])
                if live and not any(sk.startswith("HANDOVER#") for sk in items[f"ACCOUNT#{aid}"]):
                    bad("handover", aid, "no HANDOVER# record", j["id"])
        # Every enterprise: dismissed where a journey dismissed it, and then no members.
        for eid in phase["enterprises"]:
            checked += 1
            part = items.get(f"ENTERPRISE#{eid}", {})
            meta = part.get("META") or {}
            listed = [sk for sk in part if sk.startswith("MEMBER#")]
            e = expected.get(eid)
            if e and meta.get("status") != "dismissed":
                bad("dismissal", eid, f"status {meta.get('status')!r} after the dismissal was answered", journey_of.get(eid))
            if meta.get("status") == "dismissed" and listed:
                bad("dismissal", eid, f"dismissed with {len(listed)} members left: {listed[:5]}", journey_of.get(eid))
    # Whole-table leftovers a journey would have caused: items of an account without its profile, jobs not finished.
    for pk, by_sk in items.items():
        if pk.startswith("ACCOUNT#") and "PROFILE" not in by_sk:
            bad("left_behind", pk, f"items without a profile: {sorted(by_sk)[:5]}")
        if pk.startswith("JOB#"):
            bad("unfinished_job", pk, f"step {by_sk.get('JOB', {}).get('step')}, due {by_sk.get('JOB', {}).get('due_at')}")
    if unmailed:
        notes.append(f"{len(unmailed)} cancellations without their notice (grace mails are best effort, not retried: "
                     f"shared/src/deletion.rs mail_grace_notice): {', '.join(unmailed[:10])}")
    result = {"checked": checked, "items": count, "settled": settled, "notes": notes,
              "violations": [dict(v) for v in {json.dumps(v, sort_keys=True): v for v in violations}.values()]}
    with open(os.path.join(out_dir, "check.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"soak: end states: {checked} checked over {count} items, {len(result['violations'])} broken"
          + ("" if settled else " (cleanup did not settle)"), file=sys.stderr)
    return 0 if not result["violations"] else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(check(sys.argv[1]))
