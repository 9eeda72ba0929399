"""What the notification service knows when it decides who to write to.

A small, immutable view built by the service layer from its own projections (contacts from the
internal contact.updated and staff.updated events; sessions and their enrollments from session.* and enrollment.*).
The planning functions only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Contact:
    """How to reach one person, and whether we may write to them.

    A participant (contact.updated), or a staff member of registration's directory
    (staff.updated): then `participant_id` holds the staff id, `staff_role` is organizer or
    facilitator, and `active` says whether they still are one. Staff are written to about their
    work, so they have no consent of their own to give (`consent_to_contact` is True).
    """

    participant_id: str
    full_name: str
    email: str
    preferred_language: str
    consent_to_contact: bool
    phone: str | None = None
    staff_role: str | None = None
    active: bool = True

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

    @classmethod
    def from_staff(cls, payload: Mapping[str, Any]) -> "Contact":
        """The contact of a staff member, from an org.iom.emm.staff.updated.v1 payload."""
        return cls(participant_id=payload["staff_id"], full_name=payload["full_name"], email=payload["email"],
                   preferred_language=payload["preferred_language"], consent_to_contact=True,
                   staff_role=payload["role"], active=bool(payload["active"]))

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> "Contact":
        """The contact a contacts projection document holds (a participant's or a staff member's)."""
        return cls.from_staff(doc) if "staff_id" in doc else cls.from_event(doc)


@dataclass(frozen=True)
class SessionView:
    """A session as the notification service sees it.

    `snapshot` is the latest `session` object of session.scheduled/updated (the contract's shape).
    The staff digest goes to the session's facilitators and `organizer_ids` (staff ids: the
    organizer who scheduled it, and the directory's organizers acting for its office).
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
        """The session's staff: its facilitators, then its organizers, each once."""
        return tuple(dict.fromkeys((*self.snapshot.get("facilitator_ids", ()), *(self.organizer_ids or ()))))


@dataclass(frozen=True)
class ReadModel:
    """Contacts by participant id and sessions by session id."""

    contacts: Mapping[str, Contact] = field(default_factory=dict)
    sessions: Mapping[str, SessionView] = field(default_factory=dict)
