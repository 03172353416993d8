"""The local identity provider's side of the JWT authorizer: the stack's RSA
key pair (.stack/jwt-private.pem), RS256 tokens signed with it, and the checks
API Gateway's JWT authorizer makes. Needs `cryptography` (moto brings it)."""

import base64
import hashlib
import json
import os
import time
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY_FILE = os.path.join(ROOT, ".stack", "jwt-private.pem")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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
    head = {"alg": "RS256", "typ": "JWT", "kid": key_id(private_key.public_key())}
    head.update(header or {})
    signing_input = (b64url(json.dumps(head, separators=(",", ":")).encode()) + "."
                     + b64url(json.dumps(claims, separators=(",", ":")).encode()))
    sig = private_key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(sig)


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


def verify(token, public_key, authorizer, now=None):
    """The claims of a JWT the authorizer accepts, else Unauthorized."""
    now = time.time() if now is None else now
    token = token.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthorized("the token is malformed")
    try:
        header = json.loads(_unb64url(parts[0]))
        claims = json.loads(_unb64url(parts[1]))
        signature = _unb64url(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise Unauthorized("the token is malformed") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthorized("the token is malformed")
    if header.get("alg") != "RS256":
        raise Unauthorized("the token's algorithm is not supported")
    if header.get("kid") != key_id(public_key):
        raise Unauthorized("the token's key id is not known")
    try:
        public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise Unauthorized("the token's signature is not valid") from None
    if claims.get("iss") != authorizer["issuer"]:
        raise Unauthorized("the token does not have a valid issuer")
    # aud decides when present; client_id only without it.
    aud = claims.get("aud")
    if aud is not None:
        auds = aud if isinstance(aud, list) else [aud]
        if not any(a in authorizer["audience"] for a in auds):
            raise Unauthorized("the token does not have a valid audience")
    elif claims.get("client_id") not in authorizer["audience"]:
        raise Unauthorized("the token does not have a valid audience")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or isinstance(exp, bool) or exp <= now:
        raise Unauthorized("the token has expired")
    for claim in ("nbf", "iat"):
        v = claims.get(claim)
        if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or v > now):
            raise Unauthorized(f"the token's {claim} is in the future")
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
