#!/usr/bin/env python3
"""The local user pool (contract section 6 and 9), with IDENTITY_PROVIDER=cognito: moto's
cognito-idp, behind the trigger proxy (`devtool cognito-triggers`) that invokes the
sign-up-triggers function as Cognito would.

  idp.py provision           the pool and its app client as infra/template.yaml defines them
                             (reused when moto has one of that name); prints {"user_pool_id", "client_id"}
  idp.py seed FILE DEVTOOL   signs each fixture account up through the proxy (pre sign-up: the
                             bundle's rules), confirms it, then loads the fixtures keyed by the pool
                             users' subs through DEVTOOL seed; prints {"accounts": {fixture id: sub}}
  idp.py token ID            signs the pool user of ID (a fixture id, a user name or an account id)
                             in with its password and prints the access token

Reads MOTO_PORT, AWS_REGION, USER_POOL_ID, USER_POOL_CLIENT_ID and the proxy's address
(.stack/idp.json). A fixture account without a `password` gets DEFAULT_PASSWORD (README).
Needs boto3 and PyYAML (moto brings both into .stack/venv).
"""

import json
import os
import subprocess
import sys
import tempfile

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apidef import ROOT, TEMPLATE, _CfnLoader  # noqa: E402
import yaml  # noqa: E402

STACK_DIR = os.path.join(ROOT, ".stack")
IDP_FILE = os.path.join(STACK_DIR, "idp.json")
USERS_FILE = os.path.join(STACK_DIR, "idp-users.json")
POOL_NAME = "account-deletion-dev"
# The password of a fixture account that names none (README, "The local user pool").
DEFAULT_PASSWORD = "Passw0rd-local"
# The fixture lists whose `account_id` names an account.
ACCOUNT_LISTS = ("holds", "mfa_devices", "third_party_logins", "access_keys", "iam_users")


def region():
    return os.environ.get("AWS_REGION", "us-east-1")


def client(endpoint=None):
    endpoint = endpoint or f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '5000')}"
    return boto3.client("cognito-idp", endpoint_url=endpoint, region_name=region(),
                        aws_access_key_id="test", aws_secret_access_key="test")


def proxy_endpoint():
    with open(IDP_FILE, encoding="utf-8") as f:
        return json.load(f)["endpoint"]


def template_resource(name):
    with open(TEMPLATE, encoding="utf-8") as f:
        template = yaml.load(f, Loader=_CfnLoader)
    return template["Resources"][name]["Properties"]


def provision():
    """The pool and client as the template defines them; the triggers' ARNs are moto's to store only."""
    idp = client()
    for pool in idp.list_user_pools(MaxResults=60)["UserPools"]:
        if pool["Name"] == POOL_NAME:
            clients = idp.list_user_pool_clients(UserPoolId=pool["Id"], MaxResults=60)["UserPoolClients"]
            if clients:
                return {"user_pool_id": pool["Id"], "client_id": clients[0]["ClientId"]}
    props = template_resource("UserPool")
    function = f"arn:aws:lambda:{region()}:000000000000:function:sign-up-triggers"
    pool = idp.create_user_pool(
        PoolName=POOL_NAME,
        AliasAttributes=props["AliasAttributes"],
        AutoVerifiedAttributes=props["AutoVerifiedAttributes"],
        UsernameConfiguration=props["UsernameConfiguration"],
        Policies=props["Policies"],
        AccountRecoverySetting=props["AccountRecoverySetting"],
        LambdaConfig={"PreSignUp": function, "PostConfirmation": function},
    )["UserPool"]
    props = template_resource("UserPoolClient")
    app_client = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName=props["ClientName"],
        GenerateSecret=props["GenerateSecret"],
        ExplicitAuthFlows=props["ExplicitAuthFlows"],
        EnableTokenRevocation=props["EnableTokenRevocation"],
        PreventUserExistenceErrors=props["PreventUserExistenceErrors"],
    )["UserPoolClient"]
    return {"user_pool_id": pool["Id"], "client_id": app_client["ClientId"]}


def load_users():
    try:
        with open(USERS_FILE, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def save_users(users):
    os.makedirs(STACK_DIR, exist_ok=True)
    fd = os.open(USERS_FILE + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(users, f, indent=1)
    os.replace(USERS_FILE + ".tmp", USERS_FILE)


def seed(path, devtool):
    """Each account signs up through the proxy (the pre sign-up trigger decides), is confirmed
    by moto alone, and is loaded with its sub as its id, as the post confirmation trigger registers it."""
    with open(path, encoding="utf-8") as f:
        fixtures = json.load(f)
    pool, client_id = os.environ["USER_POOL_ID"], os.environ["USER_POOL_CLIENT_ID"]
    person, admin = client(proxy_endpoint()), client()
    ids, users = {}, load_users()
    for account in fixtures.get("accounts", []):
        username = account.get("username") or account["id"]
        password = account.pop("password", None) or DEFAULT_PASSWORD
        attributes = [{"Name": "email", "Value": account["email"]}] if account.get("email") else []
        if account.get("phone"):
            attributes.append({"Name": "phone_number", "Value": account["phone"]})
        if account.get("name"):
            attributes.append({"Name": "name", "Value": account["name"]})
        try:
            sub = person.sign_up(ClientId=client_id, Username=username, Password=password,
                                 UserAttributes=attributes)["UserSub"]
        except person.exceptions.ClientError as e:
            sys.exit(f"idp: account {account['id']}: {e.response['Error'].get('Message') or e}")
        admin.admin_confirm_sign_up(UserPoolId=pool, Username=username)
        if account.get("email"):
            admin.admin_update_user_attributes(UserPoolId=pool, Username=username,
                                               UserAttributes=[{"Name": "email_verified", "Value": "true"}])
        ids[account["id"]] = sub
        users[account["id"]] = users[sub] = {"sub": sub, "username": username, "password": password}
    save_users(users)
    mapped = json.loads(json.dumps(fixtures))
    for account in mapped.get("accounts", []):
        account["id"] = ids[account["id"]]
        if not account.get("username"):
            account["username"] = next(u["username"] for u in users.values() if u["sub"] == account["id"])
    for enterprise in mapped.get("enterprises", []):
        if enterprise.get("default_admin") in ids:
            enterprise["default_admin"] = ids[enterprise["default_admin"]]
    for name in ACCOUNT_LISTS:
        for entry in mapped.get(name, []):
            entry["account_id"] = ids.get(entry["account_id"], entry["account_id"])
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="idp-fixtures-", delete=False) as f:
        json.dump(mapped, f)
    try:
        loaded = subprocess.run([devtool, "seed", f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    if loaded.returncode != 0:
        sys.exit(loaded.stderr.strip() or "idp: devtool seed failed")
    print(json.dumps({"accounts": ids}))


def token(ident):
    users = load_users()
    user = users.get(ident) or next((u for u in users.values() if u["username"] == ident), None)
    if user is None:
        sys.exit(f"idp: {ident} is no seeded pool user (scripts/dev seed FILE first)")
    answer = client(proxy_endpoint()).initiate_auth(
        ClientId=os.environ["USER_POOL_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user["username"], "PASSWORD": user["password"]})
    print(answer["AuthenticationResult"]["AccessToken"])


def main(argv):
    if argv[:1] == ["provision"]:
        print(json.dumps(provision()))
    elif len(argv) == 3 and argv[0] == "seed":
        seed(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "token":
        token(argv[1])
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
