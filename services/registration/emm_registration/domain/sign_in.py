"""Requests for sign-in links, counted per email address so that nobody can flood a mailbox.

One `SignInRequests` aggregate per address holds the times of its recent requests; a request is
granted only while fewer than `REQUESTS_PER_HOUR` were granted in the hour before. Committed as
a new version like every aggregate (an insert of a unique _id), so two processes answering at
once cannot both take the last place. A request for an address nobody has is counted the same
way, so that the answer and the limit never tell whether an address is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from emm_registration.domain import fields as f
from emm_registration.domain.events import DomainEvent, SignInRequested
from emm_registration.domain.participant import email_digest

REQUESTS_PER_HOUR = 3
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Recipient:
    """Who gets a link: a staff member (`staff-sign-in`), or a participant for one session."""

    purpose: str
    recipient_id: str
    session_id: str | None = None


def requests_id_for(email: str) -> str:
    """The id of an address's `SignInRequests` (a digest: the address itself is not the key)."""
    return "sir-" + email_digest(email)


@dataclass
class SignInRequests:
    requests_id: str
    requested_at: list[datetime] = field(default_factory=list)
    pending_events: list[DomainEvent] = field(default_factory=list, compare=False, repr=False)

    def request(self, recipients: list[Recipient], now: datetime, request_id: str) -> bool:
        """Grant a request unless the address had its `REQUESTS_PER_HOUR` in the last hour;
        a granted request records one `SignInRequested` per recipient (none for an unknown address)."""
        now = f.as_datetime(now, "now")
        recent = [at for at in self.requested_at if at > now - WINDOW]
        if len(recent) >= REQUESTS_PER_HOUR:
            return False  # and nothing changes: a flood of refused requests writes nothing
        self.requested_at = [*recent, now]
        for n, recipient in enumerate(recipients):
            self.pending_events.append(SignInRequested(
                request_id=f"{request_id}-{n}", purpose=recipient.purpose, recipient_id=recipient.recipient_id,
                session_id=recipient.session_id, requested_at=now))
        return True
