"""The local stack with a user pool (IDENTITY_PROVIDER=cognito scripts/dev up), from the outside:
a Cognito client (boto3's cognito-idp) signs up and in at `scripts/dev idp`'s endpoint, the
local HTTP API takes the pool's access tokens, and after a deletion or a handover the pool
answers as contract section 9 says. Run by scripts/test's cognito phase against a running stack:

  .stack/venv/bin/python -m unittest discover -s tests/idp
"""

import json
import os
import re
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request
import uuid

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEV = os.path.join(ROOT, "scripts", "dev")
PASSWORD = "Passw0rd-idp-test"


def dev(*args):
    return subprocess.run([DEV, *args], capture_output=True, text=True, check=True).stdout


class LocalPool(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.idp = json.loads(dev("idp"))
        cls.api = f"http://127.0.0.1:{os.environ.get('API_PORT', '3000')}"
        cls.pool = boto3.client("cognito-idp", endpoint_url=cls.idp["endpoint"], region_name=cls.idp["region"],
                                aws_access_key_id="test", aws_secret_access_key="test")

    def name(self, base):
        return f"{base}-{uuid.uuid4().hex[:8]}"

    def sign_up(self, username, email):
        sub = self.pool.sign_up(ClientId=self.idp["client_id"], Username=username, Password=PASSWORD,
                                UserAttributes=[{"Name": "email", "Value": email}])["UserSub"]
        self.pool.confirm_sign_up(ClientId=self.idp["client_id"], Username=username, ConfirmationCode="000000")
        return sub

    def sign_in(self, username, password=PASSWORD):
        return self.pool.initiate_auth(ClientId=self.idp["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                       AuthParameters={"USERNAME": username, "PASSWORD": password})["AuthenticationResult"]

    def refused(self, call):
        with self.assertRaises(Exception) as refused:
            call()
        return refused.exception.response["Error"]["Code"]

    def call(self, method, path, token, body=None):
        request = urllib.request.Request(self.api + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
        try:
            with urllib.request.urlopen(request) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    def code_for(self, email):
        mails = json.loads(dev("mail"))
        body = [m for m in mails if email in m["to"]][-1]["body"]
        return re.search(r"code is (\d{6})", body).group(1)

    def token(self, access, purpose, email):
        status, _ = self.call("POST", "/v1/verification-codes", access, {"purpose": purpose})
        self.assertEqual(status, 202)
        status, answer = self.call("POST", "/v1/verification-codes/verify", access,
                                   {"purpose": purpose, "code": self.code_for(email)})
        self.assertEqual(status, 200, answer)
        return answer["verification_token"]

    def test_a_deleted_account_cannot_sign_in_and_its_name_and_email_sign_up_again(self):
        username = self.name("dan")
        email = f"{username}@example.com"
        sub = self.sign_up(username, email)
        session = self.sign_in(username)
        status, answer = self.call("GET", "/v1/account/deletion-prerequisites", session["AccessToken"])
        self.assertEqual((status, answer["account_id"]), (200, sub))
        token = self.token(session["AccessToken"], "delete_account", email)
        status, answer = self.call("POST", "/v1/account/deletion", session["AccessToken"], {"verification_token": token})
        self.assertEqual((status, answer["status"]), (200, "deleted"))
        self.assertEqual(self.refused(lambda: self.sign_in(username)), "UserNotFoundException")
        self.assertEqual(self.refused(lambda: self.pool.initiate_auth(
            ClientId=self.idp["client_id"], AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": session["RefreshToken"]})), "NotAuthorizedException")
        self.assertNotEqual(self.sign_up(username, email), sub)

    def test_sign_up_is_refused_for_a_name_or_email_a_live_account_holds(self):
        username = self.name("eve")
        self.sign_up(username, f"{username}@example.com")
        for name, email in [(username.upper(), f"x-{username}@example.com"), (self.name("other"), f"{username}@example.com")]:
            with self.assertRaises(Exception) as refused:
                self.sign_up(name, email)
            error = refused.exception.response["Error"]
            self.assertEqual(error["Code"], "UserLambdaValidationException")
            self.assertRegex(error["Message"], r"^PreSignUp failed with error This (user name|email address) is already in use\.$")

    def test_a_handover_leaves_the_leaving_employee_signed_out_and_without_a_password(self):
        username = self.name("erin")
        email, new_email = f"{username}@example.com", f"frank-{username}@example.com"
        self.sign_up(username, email)
        session = self.sign_in(username)
        token = self.token(session["AccessToken"], "handover_account", email)
        status, _ = self.call("POST", "/v1/account/handover", session["AccessToken"],
                              {"verification_token": token, "new_email": new_email, "new_name": "Frank"})
        self.assertEqual(status, 202)
        status, answer = self.call("POST", "/v1/account/handover/confirm", session["AccessToken"],
                                   {"code": self.code_for(new_email)})
        self.assertEqual((status, answer["status"]), (200, "handed_over"), answer)
        admin = boto3.client("cognito-idp", endpoint_url=f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '5000')}",
                             region_name=self.idp["region"], aws_access_key_id="test", aws_secret_access_key="test")
        user = admin.admin_get_user(UserPoolId=self.idp["user_pool_id"], Username=username)
        attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        self.assertEqual((attributes["email"], attributes["email_verified"], attributes["name"]), (new_email, "true", "Frank"))
        self.assertEqual(user["UserStatus"], "RESET_REQUIRED")
        self.assertEqual(self.refused(lambda: self.sign_in(username)), "NotAuthorizedException")
        self.assertEqual(self.refused(lambda: self.pool.initiate_auth(
            ClientId=self.idp["client_id"], AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": session["RefreshToken"]})), "NotAuthorizedException")

    def test_seed_maps_fixture_ids_to_subs_and_token_signs_the_pool_user_in(self):
        suffix = uuid.uuid4().hex[:8]
        fixtures = {"accounts": [{"id": f"gus-{suffix}", "email": f"gus-{suffix}@example.com", "password": "Gus-Passw0rd"},
                                 {"id": f"hal-{suffix}", "username": f"hal-{suffix}"}]}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(fixtures, f)
        try:
            ids = json.loads(dev("seed", f.name))["accounts"]
            with self.assertRaises(subprocess.CalledProcessError) as again:
                dev("seed", f.name)
            self.assertIn("already in use", again.exception.stderr)
        finally:
            os.unlink(f.name)
        self.assertEqual(set(ids), {f"gus-{suffix}", f"hal-{suffix}"})
        self.sign_in(f"gus-{suffix}", "Gus-Passw0rd")
        for fixture, sub in ids.items():
            for name in (fixture, sub):
                status, answer = self.call("GET", "/v1/account/deletion-prerequisites", dev("token", name).strip())
                self.assertEqual((status, answer["account_id"]), (200, sub))
        # A token of another issuer, signed by the stack's own key, is refused as API Gateway would.
        foreign = subprocess.run([os.path.join(ROOT, ".stack", "venv", "bin", "python"),
                                  os.path.join(ROOT, "scripts", "lib", "gateway.py"), "token", ids[f"hal-{suffix}"]],
                                 capture_output=True, text=True, check=True).stdout.strip()
        self.assertEqual(self.call("GET", "/v1/account/deletion-prerequisites", foreign)[0], 401)


if __name__ == "__main__":
    unittest.main()
