"""Bearer-token authentication with roles, for the HTTP APIs.

Tokens are JWTs signed with an Ed25519 key (EdDSA): every service verifies them with the public
key; only the issuer (registration, or an identity provider in production) holds the private
key. Participant tokens are scoped to one enrollment. Local keys are generated on first start
into the cache folder and never committed.

    python -m emm_common.auth keys                 # create the local key pair if missing
    python -m emm_common.auth token organizer NAME  # print a token for local use
"""

from __future__ import annotations

import argparse
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Callable, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

Role = Literal["organizer", "facilitator", "participant", "service"]
ROLES: tuple[str, ...] = ("organizer", "facilitator", "participant", "service")
ISSUER = "emm-platform"
AUDIENCE = "emm-api"


@dataclass(frozen=True)
class Principal:
    """Who is calling: `subject` is a user or participant id; participants carry their enrollment."""

    subject: str
    role: Role
    enrollment_id: str | None = None
    session_id: str | None = None


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


class TokenIssuer:
    """Signs tokens. Only the issuing service has one."""

    def __init__(self, private_key_pem: bytes) -> None:
        self._key = serialization.load_pem_private_key(private_key_pem, password=None)

    def issue(self, subject: str, role: Role, *, enrollment_id: str | None = None, session_id: str | None = None,
              ttl_seconds: int = 30 * 24 * 3600) -> str:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "role": role, "iat": now,
                  "exp": now + ttl_seconds, "jti": str(uuid.uuid4())}
        if enrollment_id:
            claims["enrollment_id"] = enrollment_id
        if session_id:
            claims["session_id"] = session_id
        return jwt.encode(claims, self._key, algorithm="EdDSA")


class TokenVerifier:
    """Checks signature, issuer, audience and expiry; returns the Principal."""

    def __init__(self, public_key_pem: bytes) -> None:
        self._key = serialization.load_pem_public_key(public_key_pem)

    def verify(self, token: str) -> Principal:
        claims = jwt.decode(token, self._key, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "sub", "role"]})
        if claims["role"] not in ROLES:
            raise jwt.InvalidTokenError("unknown role")
        return Principal(subject=claims["sub"], role=claims["role"], enrollment_id=claims.get("enrollment_id"),
                         session_id=claims.get("session_id"))


_bearer = HTTPBearer(auto_error=False)


def current_principal(request: Request,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """FastAPI dependency: the verified caller, or 401. The app sets `app.state.token_verifier`."""
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        return request.app.state.token_verifier.verify(credentials.credentials)
    except jwt.PyJWTError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"invalid token: {exc}",
                            headers={"WWW-Authenticate": "Bearer"}) from exc


def require_role(*roles: Role) -> Callable[..., Principal]:
    """FastAPI dependency factory: the caller must have one of `roles`, else 403."""

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role '{principal.role}' may not do this; "
                                                           f"needs one of: {', '.join(roles)}")
        return principal

    return dependency


# The role checks every API uses; services add their own combinations next to their routes.
Organizer = Annotated[Principal, Depends(require_role("organizer"))]
Staff = Annotated[Principal, Depends(require_role("organizer", "facilitator"))]
Anyone = Annotated[Principal, Depends(require_role("organizer", "facilitator", "participant", "service"))]


def main() -> None:
    from emm_common.settings import CACHE_DIR

    parser = argparse.ArgumentParser(description="Local keys and tokens for the EMM2.0 APIs")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("keys")
    token = sub.add_parser("token")
    token.add_argument("role", choices=ROLES)
    token.add_argument("subject")
    token.add_argument("--enrollment-id")
    token.add_argument("--session-id")
    args = parser.parse_args()
    private_file = CACHE_DIR / "keys" / "jwt-ed25519.pem"
    public_file = CACHE_DIR / "keys" / "jwt-ed25519.pub.pem"
    ensure_key_pair(private_file, public_file)
    if args.command == "token":
        print(TokenIssuer(private_file.read_bytes()).issue(args.subject, args.role, enrollment_id=args.enrollment_id,
                                                           session_id=args.session_id))


if __name__ == "__main__":
    main()
