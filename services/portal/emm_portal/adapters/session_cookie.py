"""The session cookie: a Visitor, encrypted and authenticated (Fernet: AES-CBC + HMAC-SHA256), so
the browser can neither read the API token inside nor change a byte of it.

The key comes from PORTAL_COOKIE_SECRET, or from a secret generated once into the cache folder
(local use); every replica behind one address needs the same secret.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from emm_portal.domain.visitor import Visitor

ANONYMOUS_LIFETIME_SECONDS = 30 * 24 * 3600
"""How long a browser keeps its language and CSRF secret when nobody signed in on it."""


def cookie_secret(configured: str | None, key_file: Path) -> bytes:
    """The configured secret, else the one in `key_file` (created with a random one if missing)."""
    if configured:
        return configured.encode()
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip().encode()


class CookieCodec:
    """Visitor <-> cookie value. A value that was tampered with, made with another key, or has
    expired decodes to None: the browser is then a new anonymous visitor."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"emm-portal session cookie").derive(secret)
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def encode(self, visitor: Visitor) -> str:
        return self._fernet.encrypt(json.dumps(visitor.to_dict(), separators=(",", ":")).encode()).decode()

    def decode(self, value: str | None, now: float | None = None) -> Visitor | None:
        if not value:
            return None
        now = time.time() if now is None else now
        try:
            data = json.loads(self._fernet.decrypt_at_time(value.encode(), ANONYMOUS_LIFETIME_SECONDS, int(now)))
            visitor = Visitor.from_dict(data)
        except (InvalidToken, ValueError, TypeError):
            return None
        if visitor.expires_at is not None and visitor.expires_at <= now:
            return visitor.signed_out()
        return visitor

    @staticmethod
    def max_age(visitor: Visitor, now: float | None = None) -> int:
        """Seconds the browser keeps the cookie: as long as the API token inside, else 30 days."""
        now = time.time() if now is None else now
        if visitor.expires_at is not None:
            return max(0, int(visitor.expires_at - now))
        return ANONYMOUS_LIFETIME_SECONDS
