"""What only the local stack offers the web client, under /_local/ of the local
HTTP API (scripts/lib/gateway.py): the accounts seeded in the table (to sign in
as one), a token for one (the local identity provider), and the mail local SES
accepted (the mailbox page). Never part of the API on AWS. Needs boto3 (moto
brings it into .stack/venv)."""

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3
from tokens import token_for

_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")


def _json(status, value):
    return status, {"content-type": "application/json", "cache-control": "no-store"}, json.dumps(value).encode()


class Console:
    def __init__(self, api, private_key, moto_port, dynamodb_port):
        self.api, self.key, self.moto_port = api, private_key, moto_port
        self.table = os.environ.get("TABLE_NAME", "account-deletion-dev")
        self.dynamodb = boto3.client(
            "dynamodb", endpoint_url=f"http://127.0.0.1:{dynamodb_port}", region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test")

    def get(self, path, query):
        """The answer to GET PATH, or None when PATH is not a /_local/ page."""
        q = dict(urllib.parse.parse_qsl(query))
        if path == "/_local/accounts":
            return _json(200, self.accounts())
        if path == "/_local/token":
            account, client = q.get("account", ""), q.get("client", "web-console")
            if not _ID.match(account) or not _ID.match(client):
                return _json(400, {"message": "account and client must be identifiers"})
            return _json(200, {"token": token_for(self.api, self.key, account, client), "expires_in": 3600})
        if path == "/_local/mail":
            return _json(200, self.mail())
        if path == "/_local/idp":
            return _json(200, self.idp())
        return None

    def idp(self):
        """How the web client signs in: the local identity provider's tokens, or the user pool's."""
        if os.environ.get("IDENTITY_PROVIDER") != "cognito":
            return {"mode": "local"}
        return {"mode": "cognito", "user_pool_id": os.environ.get("USER_POOL_ID"),
                "client_id": os.environ.get("USER_POOL_CLIENT_ID"), "region": os.environ.get("AWS_REGION", "us-east-1")}

    def cognito(self, target, body):
        """A request of the web client to cognito-idp, passed to the stack's endpoint (the proxy that
        invokes the triggers), as Amplify would send it to Cognito; on the page's origin (no CORS)."""
        if os.environ.get("IDENTITY_PROVIDER") != "cognito":
            return _json(404, {"message": "no user pool: IDENTITY_PROVIDER=cognito scripts/dev up"})
        if not re.fullmatch(r"AWSCognitoIdentityProviderService\.(SignUp|ConfirmSignUp|InitiateAuth|GlobalSignOut)", target or ""):
            return _json(403, {"message": "only sign-up, confirmation, sign-in and sign-out pass"})
        endpoint = json.load(open(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))), ".stack", "idp.json"), encoding="utf-8"))["endpoint"]
        request = urllib.request.Request(endpoint + "/", data=body, method="POST", headers={
            "content-type": "application/x-amz-json-1.1", "x-amz-target": target})
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, {"content-type": "application/json", "cache-control": "no-store"}, r.read()
        except urllib.error.HTTPError as e:
            return e.code, {"content-type": "application/json", "cache-control": "no-store"}, e.read()

    def accounts(self):
        """Every account profile in the table, deleted ones included (their
        sign-in then shows what a deleted account's client sees). A Scan: the
        local table holds a few seeded accounts."""
        out, start = [], None
        while True:
            args = {"TableName": self.table, "FilterExpression": "sk = :p",
                    "ExpressionAttributeValues": {":p": {"S": "PROFILE"}}}
            if start:
                args["ExclusiveStartKey"] = start
            page = self.dynamodb.scan(**args)
            for item in page.get("Items", []):
                s = {k: v.get("S") for k, v in item.items() if "S" in v}
                if s.get("pk", "").startswith("ACCOUNT#"):
                    out.append({k: s.get(k) for k in ("account_id", "username", "role", "enterprise_id",
                                                      "status", "email", "locale")})
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return sorted(out, key=lambda a: a["account_id"] or "")

    def mail(self):
        """The mail local SES (moto) accepted, oldest first, as `scripts/dev mail` prints it."""
        url = f"http://127.0.0.1:{self.moto_port}/moto-api/data.json"
        # moto answers 500 the first time it reads the state of a new object part (an export's
        # multipart upload) or of a model another request changes meanwhile: read it again.
        for attempt in range(10):
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    data = json.loads(r.read())
                break
            except urllib.error.HTTPError:
                if attempt == 9:
                    raise
                time.sleep(0.05)
        messages = (data.get("ses") or {}).get("Message") or []
        return [{"to": (m.get("destinations") or {}).get("ToAddresses") or [], "subject": m.get("subject"),
                 "body": m.get("body"), "from": m.get("source")} for m in messages]
