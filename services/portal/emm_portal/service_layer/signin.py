"""Signing in: the one small interface between the pages and how a person proves who they are.
Today an emailed link is exchanged at registration (`POST /sign-in`); single sign-on can become a
second way to reach `signed_in` later without touching the pages."""

from __future__ import annotations

from datetime import datetime

from emm_portal.adapters.apis import Apis
from emm_portal.adapters.tokens import unverified_claims
from emm_portal.domain import outcomes
from emm_portal.domain.visitor import Visitor

STAFF_LINK = "staff-sign-in"


def is_staff_link(link: str) -> bool:
    """A staff link works once: it is exchanged only when the person presses the button, never
    on the GET a mail scanner makes when it follows the link."""
    return unverified_claims(link).get("purpose") == STAFF_LINK


async def exchange_link(apis: Apis, visitor: Visitor, link: str) -> Visitor:
    """The visitor signed in with the API token the link is exchanged for (NotSignedIn if the
    link is invalid, expired or used)."""
    answer = await apis.registration.post("/sign-in", {"link": link})
    expires_at = datetime.fromisoformat(answer["expires_at"].replace("Z", "+00:00")).timestamp()
    return visitor.signed_in_as(answer["token"], answer["role"], answer["subject"], expires_at,
                                name=answer.get("name"), session_id=answer.get("session_id"),
                                enrollment_id=answer.get("enrollment_id"),
                                language=answer.get("preferred_language"))


async def sign_out(apis: Apis) -> None:
    """Revoke the visitor's token at every API (each refuses it from now on). An API that does not
    answer still refuses it when it expires; the portal forgets it either way."""
    for api in (apis.registration, apis.evaluation, apis.notification):
        try:
            await api.call("POST", "/sign-out")
        except outcomes.ApiOutcome:  # unavailable, or the token was refused already
            pass


async def send_links(apis: Apis, email: str) -> None:
    """Ask registration to email the address's sign-in link(s): it answers the same whether or
    not the address is known, and sends at most a few an hour."""
    await apis.registration.post("/sign-in/links", {"email": email})
