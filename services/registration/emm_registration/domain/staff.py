"""The staff directory: organizers, who act for one or more offices (or for all of them, as a
member of the regional EMM team), and facilitators. Each has a name, an email and a preferred
language. Their contact details go to our own services on the internal contacts topic
(`StaffUpdated`), so that notification can write to staff as it writes to participants.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from emm_registration.domain import fields as f
from emm_registration.domain.errors import InvalidInput
from emm_registration.domain.events import DomainEvent, StaffUpdated
from emm_registration.domain.participant import email_digest, normalise_email

STAFF_ROLES = ("organizer", "facilitator")
MAX_OFFICES = 50
# What `revise` may change; the email is the person's identity (as for participants), so a new
# address is a new staff member and the old one is deactivated.
REVISABLE = ("full_name", "preferred_language", "role", "offices", "regional", "active")


def staff_id_for(email: str) -> str:
    """The stable staff id of an email: the same address, whatever its case, is the same person."""
    return "stf-" + email_digest(email)


@dataclass
class StaffMember:
    """One organizer or facilitator. Build one with `StaffMember.register`."""

    staff_id: str
    full_name: str
    email: str
    preferred_language: str
    role: str
    offices: list[str]
    regional: bool
    active: bool
    updated_at: datetime
    pending_events: list[DomainEvent] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def register(cls, *, email: str, full_name: str, preferred_language: str, role: str, now: datetime,
                 offices: list[str] | tuple[str, ...] = (), regional: bool = False,
                 active: bool = True) -> "StaffMember":
        """A new staff member with validated details; records `StaffUpdated`."""
        email = normalise_email(email)
        member = cls(staff_id=staff_id_for(email), email=email, updated_at=f.as_datetime(now, "now"),
                     **_checked({"full_name": full_name, "preferred_language": preferred_language, "role": role,
                                 "offices": offices, "regional": regional, "active": active}))
        member.pending_events.append(member.staff_updated())
        return member

    def revise(self, changes: Mapping[str, Any], now: datetime) -> list[str]:
        """Apply changed details and return the names of those that changed; records
        `StaffUpdated` unless nothing changed."""
        now = f.as_datetime(now, "now")
        for name in changes:
            if name not in REVISABLE:
                raise InvalidInput(name, "cannot be changed" + (
                    "; add the new address as a new staff member and deactivate this one" if name == "email" else ""))
        current = {name: getattr(self, name) for name in REVISABLE}
        checked = _checked({**current, **changes})
        changed = [name for name in REVISABLE if checked[name] != current[name]]
        if not changed:
            return []
        for name in changed:
            setattr(self, name, checked[name])
        self.updated_at = now
        self.pending_events.append(self.staff_updated())
        return changed

    def staff_updated(self) -> StaffUpdated:
        """The `StaffUpdated` event of the staff member as they are now."""
        return StaffUpdated(staff_id=self.staff_id, full_name=self.full_name, email=self.email,
                            preferred_language=self.preferred_language, role=self.role, offices=tuple(self.offices),
                            regional=self.regional, active=self.active, updated_at=self.updated_at)


def _office(value: Any, field_name: str) -> str:
    return f.text(value, field_name, max_length=f.NAME_LENGTH)


def _checked(details: Mapping[str, Any]) -> dict[str, Any]:
    for name in ("regional", "active"):
        if not isinstance(details[name], bool):
            raise InvalidInput(name, "must be true or false")
    checked = {
        "full_name": f.text(details["full_name"], "full_name", max_length=f.NAME_LENGTH),
        "preferred_language": f.language(details["preferred_language"], "preferred_language"),
        "role": f.choice(details["role"], "role", STAFF_ROLES),
        "offices": f.unique_list(details["offices"], "offices", _office, max_items=MAX_OFFICES),
        "regional": details["regional"], "active": details["active"],
    }
    if checked["role"] == "organizer" and not (checked["offices"] or checked["regional"]):
        raise InvalidInput("offices", "an organizer acts for at least one office, or for all as regional staff")
    return checked
