"""API Gateway's AWS_IAM authorization, locally: a request signed with
Signature Version 4 for `execute-api` by credentials the stack knows (the
local stack's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) passes, and the
function gets `requestContext.authorizer.iam`; anything else is refused, as
API Gateway refuses it, with 403 {"message":"Forbidden"}.

The signature is computed again with botocore's own SigV4 signer (moto brings
botocore) over the headers the request says it signed, and compared.
"""

import datetime
import hmac
import os
import re

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# API Gateway refuses a signature older or newer than this.
MAX_SKEW = datetime.timedelta(minutes=5)
LOCAL_ACCOUNT = "123456789012"

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


class Forbidden(Exception):
    pass


def local_credentials():
    """The one principal of the local stack: access key id -> secret."""
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    return {key: secret} if key and secret else {}


def verify(method, url, headers, body, credentials, now=None):
    """The IAM identity of a request signed for execute-api, or Forbidden."""
    lowered = {k.lower(): v for k, v in headers}
    found = _AUTH.match(lowered.get("authorization", "").strip())
    if not found:
        raise Forbidden("no SigV4 signature")
    if found["service"] != "execute-api":
        raise Forbidden("signed for another service")
    secret = credentials.get(found["key"])
    if secret is None:
        raise Forbidden("unknown access key")
    stamp = lowered.get("x-amz-date", "")
    try:
        signed_at = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise Forbidden("no valid X-Amz-Date") from None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if abs(now - signed_at) > MAX_SKEW or stamp[:8] != found["date"]:
        raise Forbidden("signature expired or not yet valid")
    signed = found["signed"].split(";")
    if "host" not in signed or any(h not in lowered for h in signed):
        raise Forbidden("a signed header is missing")
    request = AWSRequest(method=method, url=url, data=body, headers={h: lowered[h] for h in signed})
    request.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(found["key"], secret), "execute-api", found["region"])
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected, found["signature"]):
        raise Forbidden("signature does not match")
    arn = f"arn:aws:iam::{LOCAL_ACCOUNT}:user/{found['key']}"
    return {"accessKey": found["key"], "accountId": LOCAL_ACCOUNT, "callerId": found["key"],
            "principalOrgId": None, "userArn": arn, "userId": found["key"]}
