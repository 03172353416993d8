"""The local identity provider's side of the JWT authorizer: the stack's RSA
key pair (.stack/jwt-private.pem), RS256 tokens signed with it, and the checks
API Gateway's JWT authorizer makes, on PyJWT.

A token is accepted when its header's `kid` is the stack key's and `alg` is
RS256, its signature holds, `iss` is the authorizer's issuer, `aud` (or, in an
access token without `aud`, `client_id`) is one of its audiences, `exp` is
present and in the future and `nbf` is not in the future. `exp`, `nbf`, `iat`
and `auth_time` must be JSON numbers when present, and `iat` and `auth_time`
(when present) no later than now plus CLOCK_SKEW_SECONDS (60 s: an identity
provider's clock a little ahead of this machine's). Needs PyJWT and
`cryptography` (scripts/lib/common.sh installs them into .stack/venv).
"""

import hashlib
import json
import math
import os
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY_FILE = os.path.join(ROOT, ".stack", "jwt-private.pem")

# How far ahead of this machine's clock a token's iat and auth_time may be.
CLOCK_SKEW_SECONDS = 60
TIME_CLAIMS = ("exp", "nbf", "iat", "auth_time")


def load_key(path=KEY_FILE):
    """The stack's RSA key pair, made on first use (only this user may read it)."""
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        os.replace(path + ".tmp", path)
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def key_id(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def sign(private_key, claims, header=None):
    """An RS256 JWT of `claims`, its `kid` the key's; `header` adds or replaces header fields."""
    return jwt.encode(claims, private_key, algorithm="RS256",
                      headers={"kid": key_id(private_key.public_key()), **(header or {})})


def token_for(api, private_key, account, client_id="web-console", ttl=3600, now=None):
    """An access token as an identity provider would issue it to the local API:
    aud the authorizer's first audience, client_id the OAuth client."""
    authorizer = api.authorizers[api.default_authorizer]
    now = int(time.time() if now is None else now)
    claims = {"sub": account, "iss": authorizer["issuer"], "aud": authorizer["audience"][0],
              "client_id": client_id, "token_use": "access", "scope": "openid",
              "iat": now, "nbf": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
    return sign(private_key, claims)


class Unauthorized(Exception):
    """What the authorizer puts in the www-authenticate header's error_description."""


EXPIRED = "the token has expired"
BAD_ISSUER = "the token does not have a valid issuer"
BAD_AUDIENCE = "the token does not have a valid audience"

# PyJWT's refusals as the authorizer words them; the first class that matches wins
# (InvalidSignatureError is a DecodeError).
_REASONS = (
    (jwt.InvalidAlgorithmError, "the token's algorithm is not supported"),
    (jwt.InvalidSignatureError, "the token's signature is not valid"),
    (jwt.ExpiredSignatureError, EXPIRED),
    (jwt.ImmatureSignatureError, "the token's nbf is in the future"),
    (jwt.InvalidIssuerError, BAD_ISSUER),
    (jwt.DecodeError, "the token is malformed"),
)
_MISSING = {"exp": EXPIRED, "iss": BAD_ISSUER}


def _reason(error):
    if isinstance(error, jwt.MissingRequiredClaimError):
        return _MISSING.get(error.claim, f"the token has no {error.claim}")
    return next((text for kind, text in _REASONS if isinstance(error, kind)), "the token is not valid")


def _is_number(value):
    # bool is an int to Python, and json.loads reads NaN and Infinity: neither is a NumericDate.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def pool_keys(moto_url, user_pool_id, tries=20):
    """The user pool's signing keys by kid, from moto's JWKS at /<pool id>/.well-known/jwks.json
    (where API Gateway would follow the issuer's OpenID discovery, which moto does not serve)."""
    import urllib.request
    url = f"{moto_url}/{user_pool_id}/.well-known/jwks.json"
    for attempt in range(tries):
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                jwks = json.load(r)
            return {k["kid"]: jwt.PyJWK(k).key for k in jwks["keys"]}
        except OSError:
            if attempt == tries - 1:
                raise
            time.sleep(0.5)
    return {}


def verify(token, public_key, authorizer):
    """The claims of a JWT the authorizer accepts, else Unauthorized. `public_key`: the stack's
    key, or the user pool's keys by kid."""
    token = token.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise Unauthorized("the token is malformed") from None
    keys = public_key if isinstance(public_key, dict) else {key_id(public_key): public_key}
    if header.get("kid") not in keys:
        raise Unauthorized("the token's key id is not known")
    try:
        # iat and aud are the authorizer's own checks, below.
        claims = jwt.decode(token, keys[header["kid"]], algorithms=["RS256"], issuer=authorizer["issuer"],
                            options={"require": ["exp"], "verify_iat": False, "verify_aud": False})
    except jwt.InvalidTokenError as e:
        raise Unauthorized(_reason(e)) from None
    for claim in TIME_CLAIMS:
        if claim in claims and not _is_number(claims[claim]):
            raise Unauthorized(f"the token's {claim} is not a number")
    latest = time.time() + CLOCK_SKEW_SECONDS
    for claim in ("iat", "auth_time"):
        if claims.get(claim, 0) > latest:
            raise Unauthorized(f"the token's {claim} is in the future")
    # API Gateway: aud decides when present; an access token without it is checked on client_id.
    if "aud" in claims:
        auds = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if not any(isinstance(a, str) and a in authorizer["audience"] for a in auds):
            raise Unauthorized(BAD_AUDIENCE)
    elif claims.get("client_id") not in authorizer["audience"]:
        raise Unauthorized(BAD_AUDIENCE)
    return claims


def claim_strings(claims):
    """Claims as API Gateway hands them to the function: every value a string,
    a list as "[a b]"."""
    def one(v):
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, list):
            return "[" + " ".join(one(x) for x in v) + "]"
        return json.dumps(v, separators=(",", ":"))
    return {k: one(v) for k, v in claims.items()}
