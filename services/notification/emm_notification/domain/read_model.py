"""What the notification service knows when it decides who to write to.

A small, immutable view built by the service layer from its own projections (contacts from the
internal contact.updated events; sessions and their enrollments from session.* and enrollment.*).
The planning functions only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Contact:
    """How to reach one participant, and whether they agreed to be contacted."""

    participant_id: str
    full_name: str
    email: str
    preferred_language: str
    consent_to_contact: bool
    phone: str | None = None

    @classmethod
    def from_event(cls, payload: Mapping[str, Any]) -> "Contact":
        """The contact carried by an org.iom.emm.contact.updated.v1 payload."""
        return cls(
            participant_id=payload["participant_id"],
            full_name=payload["full_name"],
            email=payload["email"],
            preferred_language=payload["preferred_language"],
            consent_to_contact=bool(payload["consent_to_contact"]),
            phone=payload.get("phone"),
        )


@dataclass(frozen=True)
class SessionView:
    """A session as the notification service sees it.

    `snapshot` is the latest `session` object of session.scheduled/updated (the contract's shape).
    `organizer_ids` are the participant ids who receive the organizer digest; by default the
    session's facilitators, since organizers are not in the contact projection yet.
    """

    snapshot: Mapping[str, Any]
    registered_ids: tuple[str, ...] = ()
    waitlisted_ids: tuple[str, ...] = ()
    evaluated_ids: frozenset[str] = frozenset()
    submission_ids: frozenset[str] = frozenset()
    organizer_ids: tuple[str, ...] | None = None
    completed: bool = False

    @property
    def session_id(self) -> str:
        return self.snapshot["session_id"]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.snapshot.get("languages", ()))

    @property
    def digest_recipient_ids(self) -> tuple[str, ...]:
        if self.organizer_ids is not None:
            return self.organizer_ids
        return tuple(self.snapshot.get("facilitator_ids", ()))


@dataclass(frozen=True)
class ReadModel:
    """Contacts by participant id and sessions by session id."""

    contacts: Mapping[str, Contact] = field(default_factory=dict)
    sessions: Mapping[str, SessionView] = field(default_factory=dict)
