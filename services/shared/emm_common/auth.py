"""Bearer-token authentication with roles, for the HTTP APIs, and sign-in links.

Tokens are JWTs signed with an Ed25519 key (EdDSA): every service verifies them with the public
key; only the issuers (registration, and notification for the links in its emails; an identity
provider in production) hold the private key. Local keys are generated on first start into the
cache folder and never committed.

Every token names its signing key in its `kid` header (the key's RFC 7638 thumbprint). The
public key file every service reads may be a PEM key or a JWKS (a JSON key set): during a key
rotation it holds the old key and the new one, so tokens of both verify; services re-read the
file when it changes, without a restart (docs/authorization.md, "Rotating the signing key").
Each API publishes the keys it accepts at `/.well-known/jwks.json`.

Two kinds of token, told apart by their audience, so that neither is accepted in place of the other:

- API tokens (aud `emm-api`), sent as `Authorization: Bearer`. Participant tokens are scoped to
  one enrollment; staff tokens carry the person's name, offices and whether they are regional.
- Link tokens (aud `emm-link`, claim `purpose`), the `link` of a sign-in URL in an email. No API
  accepts one as a bearer token: registration's `POST /sign-in` exchanges it for an API token.

    python -m emm_common.auth keys                                   # create the local key pair if missing
    python -m emm_common.auth jwks PUBLIC.pem [PUBLIC2.pem ...]      # a JWKS of these public keys
    python -m emm_common.auth token organizer NAME                   # an API token (local development only)
    python -m emm_common.auth link staff-sign-in STAFF_ID            # a link token (local development only)
    python -m emm_common.auth link participant-sign-in PID --session-id S
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Literal
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

Role = Literal["organizer", "facilitator", "participant", "service"]
ROLES: tuple[str, ...] = ("organizer", "facilitator", "participant", "service")
ISSUER = "emm-platform"
AUDIENCE = "emm-api"
LINK_AUDIENCE = "emm-link"

LinkPurpose = Literal["participant-sign-in", "staff-sign-in"]
LINK_PURPOSES: tuple[str, ...] = ("participant-sign-in", "staff-sign-in")
# A staff link is a password in an email: short-lived and usable once (registration records its jti).
STAFF_LINK_SECONDS = 15 * 60
# A participant link is in every email of a training that lasts weeks: long-lived and reusable.
PARTICIPANT_LINK_DAYS = 60


@dataclass(frozen=True)
class Principal:
    """Who is calling: `subject` is a staff member's or participant's id; participants carry
    their enrollment, staff their name, the offices they act for and whether they act for all."""

    subject: str
    role: Role
    enrollment_id: str | None = None
    session_id: str | None = None
    name: str | None = None
    offices: tuple[str, ...] = ()
    regional: bool = False
    token_id: str | None = field(default=None, compare=False)  # the jti, by which sign-out revokes it
    expires_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Link:
    """A verified sign-in link: what it is for, whose it is, and its one-time id (`jti`)."""

    purpose: LinkPurpose
    subject: str
    session_id: str | None
    jti: str
    expires_at: datetime


def expires_at(token: str) -> datetime:
    """When a token expires, read without checking its signature: for the issuer that just made it."""
    return datetime.fromtimestamp(jwt.decode(token, options={"verify_signature": False})["exp"], timezone.utc)


def sign_in_url(public_base_url: str, link: str, next_path: str) -> str:
    """The portal address that signs the link's holder in and then shows `next_path`."""
    return f"{public_base_url.rstrip('/')}/signin?{urlencode({'link': link, 'next': next_path})}"


def ensure_key_pair(private_file: Path, public_file: Path) -> None:
    """Create an Ed25519 key pair if the private key file does not exist yet."""
    if private_file.exists() and public_file.exists():
        return
    private_file.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    private_file.chmod(0o600)
    public_file.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwk_of(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as a JWK, with its RFC 7638 thumbprint as `kid`."""
    x = _b64(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    thumbprint = _b64(hashlib.sha256(json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"),
                                                sort_keys=True).encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": thumbprint, "alg": "EdDSA", "use": "sig"}


def public_keys(data: bytes) -> dict[str, Ed25519PublicKey]:
    """The keys of a PEM public key or of a JWKS document, by key id."""
    text = data.strip()
    if text.startswith(b"{"):
        keys = {}
        for jwk in json.loads(text)["keys"]:
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
                raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
                key = Ed25519PublicKey.from_public_bytes(raw)
                keys[jwk.get("kid") or jwk_of(key)["kid"]] = key
        return keys
    key = serialization.load_pem_public_key(data)
    return {jwk_of(key)["kid"]: key}


def jwks(keys: Iterable[Ed25519PublicKey]) -> dict[str, Any]:
    """A JWKS document of these public keys."""
    return {"keys": [jwk_of(key) for key in keys]}


class TokenIssuer:
    """Signs tokens, naming the key in the `kid` header. Only the issuing service has one."""

    def __init__(self, private_key_pem: bytes) -> None:
        self._key = serialization.load_pem_private_key(private_key_pem, password=None)
        self.key_id = jwk_of(self._key.public_key())["kid"]

    def issue(self, subject: str, role: Role, *, enrollment_id: str | None = None, session_id: str | None = None,
              name: str | None = None, offices: Iterable[str] | None = None, regional: bool | None = None,
              ttl_seconds: int = 30 * 24 * 3600) -> str:
        """An API token (aud `emm-api`). Staff tokens may carry `name`, `offices` and `regional`."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        claims = {"aud": AUDIENCE, "sub": subject, "role": role}
        if enrollment_id:
            claims["enrollment_id"] = enrollment_id
        if session_id:
            claims["session_id"] = session_id
        if name:
            claims["name"] = name
        if offices is not None:
            claims["offices"] = list(offices)
        if regional is not None:
            claims["regional"] = bool(regional)
        return self._sign(claims, ttl_seconds)

    def issue_link(self, purpose: LinkPurpose, subject: str, ttl_seconds: int, session_id: str | None = None) -> str:
        """A link token (aud `emm-link`): never a bearer token, only exchanged by `POST /sign-in`.
        A participant link names the session whose enrollment it signs in to."""
        if purpose not in LINK_PURPOSES:
            raise ValueError(f"unknown link purpose {purpose!r}")
        if purpose == "participant-sign-in" and not session_id:
            raise ValueError("a participant link names its session")
        claims = {"aud": LINK_AUDIENCE, "sub": subject, "purpose": purpose}
        if session_id:
            claims["session_id"] = session_id
        return self._sign(claims, ttl_seconds)

    def _sign(self, claims: dict, ttl_seconds: int) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, **claims, "iat": now, "exp": now + ttl_seconds, "jti": str(uuid.uuid4())}
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.key_id})


class TokenVerifier:
    """Checks signature (with the key the `kid` header names), issuer, audience and expiry;
    returns the Principal. Built from a PEM key or a JWKS; `from_file` re-reads its file when it
    changes (checked at most every `reload_seconds`), so a rotation needs no restart."""

    def __init__(self, public_keys_data: bytes, *, source: Path | None = None, reload_seconds: float = 5.0) -> None:
        self.keys = public_keys(public_keys_data)
        self._source = source
        self._reload_seconds = reload_seconds
        self._checked_at = time.monotonic()
        self._mtime = source.stat().st_mtime_ns if source else None

    @classmethod
    def from_file(cls, path: Path, reload_seconds: float = 5.0) -> "TokenVerifier":
        return cls(path.read_bytes(), source=path, reload_seconds=reload_seconds)

    def _refresh(self) -> None:
        if self._source is None or time.monotonic() - self._checked_at < self._reload_seconds:
            return
        self._checked_at = time.monotonic()
        try:
            mtime = self._source.stat().st_mtime_ns
            if mtime != self._mtime:
                self.keys, self._mtime = public_keys(self._source.read_bytes()), mtime
        except (OSError, ValueError, KeyError):  # a file being rewritten: keep the keys we have
            pass

    def _decode(self, token: str, audience: str, required: list[str]) -> dict[str, Any]:
        self._refresh()
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is not None and kid not in self.keys:
            raise jwt.InvalidSignatureError(f"signed with a key this service does not accept (kid {kid})")
        candidates = [self.keys[kid]] if kid is not None else list(self.keys.values())
        error: jwt.PyJWTError = jwt.InvalidSignatureError("no key")
        for key in candidates:
            try:
                return jwt.decode(token, key, algorithms=["EdDSA"], audience=audience, issuer=ISSUER,
                                  options={"require": required})
            except jwt.InvalidSignatureError as exc:
                error = exc
        raise error

    def verify(self, token: str) -> Principal:
        """The caller of an API token; a link token is refused (its audience is not `emm-api`)."""
        claims = self._decode(token, AUDIENCE, ["exp", "sub", "role"])
        if claims["role"] not in ROLES:
            raise jwt.InvalidTokenError("unknown role")
        return Principal(subject=claims["sub"], role=claims["role"], enrollment_id=claims.get("enrollment_id"),
                         session_id=claims.get("session_id"), name=claims.get("name"),
                         offices=tuple(claims.get("offices", ())), regional=bool(claims.get("regional", False)),
                         token_id=claims.get("jti"), expires_at=datetime.fromtimestamp(claims["exp"], timezone.utc))

    def verify_link(self, token: str) -> Link:
        """The sign-in link a link token stands for; an API token is refused (wrong audience)."""
        claims = self._decode(token, LINK_AUDIENCE, ["exp", "sub", "purpose", "jti"])
        if claims["purpose"] not in LINK_PURPOSES:
            raise jwt.InvalidTokenError("unknown link purpose")
        if claims["purpose"] == "participant-sign-in" and not claims.get("session_id"):
            raise jwt.InvalidTokenError("a participant link names its session")
        return Link(purpose=claims["purpose"], subject=claims["sub"], session_id=claims.get("session_id"),
                    jti=claims["jti"], expires_at=datetime.fromtimestamp(claims["exp"], timezone.utc))


LOCAL_ONLY = ("A LOCAL DEVELOPMENT TOOL ONLY: it signs with the private key in the local cache folder. "
              "People get their credentials by signing in (POST /sign-in with the link emailed to them), never "
              "from this command.")


def main(argv: list[str] | None = None) -> None:
    from emm_common.settings import CACHE_DIR

    parser = argparse.ArgumentParser(description="Local keys, tokens and sign-in links for the EMM2.0 APIs. "
                                                 + LOCAL_ONLY)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("keys", help="create the local key pair if it is missing")
    key_set = sub.add_parser("jwks", help="print a JWKS of public keys (the file every service reads during a "
                                          "rotation holds the old and the new key)")
    key_set.add_argument("public_key_files", nargs="+", type=Path)
    token = sub.add_parser("token", help="print an API bearer token (local development tool only)",
                           description="Print an API bearer token. " + LOCAL_ONLY)
    token.add_argument("role", choices=ROLES)
    token.add_argument("subject")
    token.add_argument("--enrollment-id")
    token.add_argument("--session-id")
    token.add_argument("--name", help="a staff member's name")
    token.add_argument("--office", action="append", dest="offices", help="an office the staff member acts for "
                                                                         "(repeat for several)")
    token.add_argument("--regional", action="store_true", default=None, help="acts for every office")
    link = sub.add_parser("link", help="print a sign-in link token (local development tool only)",
                          description="Print a link token for the portal's /signin?link=... " + LOCAL_ONLY)
    link.add_argument("purpose", choices=LINK_PURPOSES)
    link.add_argument("subject", help="the staff id (staff-sign-in) or participant id (participant-sign-in)")
    link.add_argument("--session-id", help="the session of a participant link (required for participant-sign-in)")
    link.add_argument("--ttl-seconds", type=int, help=f"default: {STAFF_LINK_SECONDS} for staff, "
                                                      f"{PARTICIPANT_LINK_DAYS} days for participants")
    args = parser.parse_args(argv)
    if args.command == "jwks":
        keys = {kid: key for path in args.public_key_files for kid, key in public_keys(path.read_bytes()).items()}
        print(json.dumps(jwks(keys.values()), indent=2))
        return
    if args.command == "link" and args.purpose == "participant-sign-in" and not args.session_id:
        parser.error("participant-sign-in needs --session-id")
    private_file = CACHE_DIR / "keys" / "jwt-ed25519.pem"
    public_file = CACHE_DIR / "keys" / "jwt-ed25519.pub.pem"
    ensure_key_pair(private_file, public_file)
    issuer = TokenIssuer(private_file.read_bytes())
    if args.command == "token":
        print(issuer.issue(args.subject, args.role, enrollment_id=args.enrollment_id, session_id=args.session_id,
                           name=args.name, offices=args.offices, regional=args.regional))
    elif args.command == "link":
        ttl = args.ttl_seconds or (STAFF_LINK_SECONDS if args.purpose == "staff-sign-in"
                                   else PARTICIPANT_LINK_DAYS * 86400)
        print(issuer.issue_link(args.purpose, args.subject, ttl, session_id=args.session_id))


if __name__ == "__main__":
    main()
