"""Signing in: a link from an email is exchanged for an API token.

This is the embedded default, behind one small interface (`SignIn.sign_in`, which answers a
`SignedIn`), so that single sign-on can later be a second way in beside it. A staff link is
single-use: its jti is recorded with an insert-once write (`UsedLinks.use`), which exactly one
of two simultaneous attempts wins, even on FerretDB v1. A participant link is reusable for its
lifetime and signs in to the person's enrollment in the link's session; a cancelled enrollment
still signs in, so that the person can see their history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import jwt

from emm_common.auth import Link, TokenIssuer, TokenVerifier, expires_at
from emm_registration.domain.errors import NotFound, Unauthorized
from emm_registration.service_layer.commands import Registration, utc_now

PARTICIPANT_TOKEN_SECONDS = 7 * 24 * 3600
STAFF_TOKEN_SECONDS = 12 * 3600
ASK_AGAIN = "ask for a new one with your email address"


@dataclass(frozen=True)
class SignedIn:
    """An API token and who it is for, as the portal needs them to start a session."""

    token: str
    role: str
    subject: str
    session_id: str | None
    enrollment_id: str | None
    name: str
    preferred_language: str
    expires_at: datetime


class UsedLinks(Protocol):
    async def use(self, link: Link, now: datetime) -> bool:
        """Record the link's jti as used; False if it was used already."""


class SignIn(Protocol):
    async def sign_in(self, credential: str) -> SignedIn: ...


class LinkSignIn:
    """Sign-in with a link token from an email (see the module's docstring)."""

    def __init__(self, registration: Registration, verifier: TokenVerifier, issuer: TokenIssuer,
                 used_links: UsedLinks, clock=utc_now) -> None:
        self.registration = registration
        self.verifier = verifier
        self.issuer = issuer
        self.used_links = used_links
        self.clock = clock

    async def sign_in(self, credential: str) -> SignedIn:
        """The API token the link stands for; Unauthorized (naming `link`) for a link that is
        forged, expired, used already, or whose person is unknown or inactive."""
        try:
            link = self.verifier.verify_link(credential)
        except jwt.ExpiredSignatureError:
            raise Unauthorized("link", f"this sign-in link has expired: {ASK_AGAIN}") from None
        except jwt.PyJWTError:
            raise Unauthorized("link", f"this is not a valid sign-in link: {ASK_AGAIN}") from None
        if link.purpose == "staff-sign-in":
            return await self._staff(link)
        return await self._participant(link)

    async def _staff(self, link: Link) -> SignedIn:
        try:
            member = await self.registration.staff_member(link.subject)
        except NotFound:
            raise Unauthorized("link", "this sign-in link is for nobody in the staff directory") from None
        if not member.active:
            raise Unauthorized("link", "this staff member is no longer active")
        if not await self.used_links.use(link, self.clock()):
            raise Unauthorized("link", f"this sign-in link has been used already: {ASK_AGAIN}")
        token = self.issuer.issue(member.staff_id, member.role, name=member.full_name, offices=member.offices,
                                  regional=member.regional, ttl_seconds=STAFF_TOKEN_SECONDS)
        return SignedIn(token=token, role=member.role, subject=member.staff_id, session_id=None, enrollment_id=None,
                        name=member.full_name, preferred_language=member.preferred_language,
                        expires_at=expires_at(token))

    async def _participant(self, link: Link) -> SignedIn:
        try:
            participant = await self.registration.participant(link.subject)
            session = await self.registration.session(link.session_id)
        except NotFound:
            raise Unauthorized("link", "this sign-in link is for an enrollment we do not have") from None
        enrollment = session.enrollment_of(participant.participant_id)
        if enrollment is None:
            raise Unauthorized("link", "this sign-in link is for an enrollment we do not have")
        token = self.issuer.issue(participant.participant_id, "participant", enrollment_id=enrollment.enrollment_id,
                                  session_id=session.session_id, name=participant.full_name,
                                  ttl_seconds=PARTICIPANT_TOKEN_SECONDS)
        return SignedIn(token=token, role="participant", subject=participant.participant_id,
                        session_id=session.session_id, enrollment_id=enrollment.enrollment_id,
                        name=participant.full_name, preferred_language=participant.preferred_language,
                        expires_at=expires_at(token))
