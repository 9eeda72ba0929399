"""The person behind a request, as the session cookie remembers them."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Role = Literal["participant", "organizer", "facilitator"]


def new_csrf_secret() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Visitor:
    """Anyone reading the portal. Signed in when `token` (their API bearer token) is set; the
    other identity fields come with it from the sign-in exchange. `csrf` is the secret every form
    of this browser carries; `language` what they chose (or their preference at sign-in)."""

    csrf: str = field(default_factory=new_csrf_secret)
    language: str | None = None
    token: str | None = None
    role: Role | None = None
    subject: str | None = None
    name: str | None = None
    session_id: str | None = None
    enrollment_id: str | None = None
    expires_at: float | None = None  # POSIX seconds; the cookie ends with the API token

    @property
    def signed_in(self) -> bool:
        return self.token is not None

    def signed_in_as(self, token: str, role: Role, subject: str, expires_at: float, *, name: str | None = None,
                     session_id: str | None = None, enrollment_id: str | None = None,
                     language: str | None = None) -> "Visitor":
        """The same browser after a sign-in: a fresh CSRF secret (none known before sign-in stays valid)."""
        return Visitor(csrf=new_csrf_secret(), language=language or self.language, token=token, role=role,
                       subject=subject, name=name, session_id=session_id, enrollment_id=enrollment_id,
                       expires_at=expires_at)

    def signed_out(self) -> "Visitor":
        return Visitor(language=self.language)

    def speaking(self, language: str) -> "Visitor":
        return replace(self, language=language)

    def to_dict(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Visitor":
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)
