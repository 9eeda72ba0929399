"""A person who enrolls in sessions: contact details and consent, kept inside this service.

Outside consumers only ever see `public_profile()` (no email, no phone); the contact details go
to our own services on the internal contacts topic (`ContactUpdated`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from emm_registration.domain import fields as f
from emm_registration.domain.errors import InvalidInput
from emm_registration.domain.events import ContactUpdated, DomainEvent

SEXES = ("female", "male", "other", "undisclosed")
PUBLIC_PROFILE_FIELDS = ("participant_id", "full_name", "organization", "job_title", "country",
                         "preferred_language", "working_languages", "sex")
# What `revise` may change; the email is the person's identity, so a new email is a new person.
REVISABLE = ("full_name", "phone", "organization", "job_title", "country", "preferred_language",
             "working_languages", "sex", "consent_to_contact")

# `register`'s defaults: a field left out is checked as if it had not been given.
_UNSET = {"full_name": None, "phone": None, "organization": None, "job_title": None, "country": None,
          "preferred_language": None, "working_languages": None, "sex": "undisclosed", "consent_to_contact": None}
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s.]+"  # of the stripped address; the API states it in its OpenAPI
_EMAIL = re.compile(f"^{EMAIL_PATTERN}$")


def normalise_email(email: Any) -> str:
    """The email as we store and compare it: stripped, lower case; InvalidInput if it is not one."""
    if not isinstance(email, str) or not _EMAIL.match(email.strip()) or len(email.strip()) > f.EMAIL_LENGTH:
        raise InvalidInput("email", "must be an email address")
    return email.strip().lower()


def check_details(details: Mapping[str, Any]) -> None:
    """Refuse (InvalidInput naming the field) details no participant could be registered with,
    without registering anyone: a bulk command checks every person before it enrolls the first."""
    normalise_email(details.get("email"))
    _checked({**_UNSET, **{name: value for name, value in details.items() if name != "email"}})


def email_digest(email: str) -> str:
    """A short stable digest of an email address, whatever its case: the part of the ids we key by address."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()[:20]


def participant_id_for(email: str) -> str:
    """The stable participant id of an email: the same address, whatever its case, is the same person."""
    return "par-" + email_digest(email)


@dataclass
class Participant:
    """A person, identified by their email. Build one with `Participant.register`."""

    participant_id: str
    full_name: str
    email: str
    country: str
    preferred_language: str
    consent_to_contact: bool
    updated_at: datetime
    phone: str | None = None
    organization: str | None = None
    job_title: str | None = None
    sex: str = "undisclosed"
    # The languages they can work (and train) in; the preferred one is always among them.
    working_languages: list[str] = field(default_factory=list)
    consent_recorded_at: datetime | None = None
    # The sessions they enrolled in, so that their enrollments are found by _id, not by a scan.
    session_ids: list[str] = field(default_factory=list)
    pending_events: list[DomainEvent] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def register(cls, *, email: str, full_name: str, country: str, preferred_language: str,
                 consent_to_contact: bool, now: datetime, phone: str | None = None,
                 organization: str | None = None, job_title: str | None = None,
                 sex: str = "undisclosed", working_languages: list[str] | None = None) -> "Participant":
        """A new participant with validated details; records `ContactUpdated`."""
        now = f.as_datetime(now, "now")
        email = normalise_email(email)
        participant = cls(participant_id=participant_id_for(email), email=email, updated_at=now,
                          **_checked({"full_name": full_name, "country": country, "phone": phone,
                                      "preferred_language": preferred_language, "sex": sex,
                                      "organization": organization, "job_title": job_title,
                                      "working_languages": working_languages,
                                      "consent_to_contact": consent_to_contact}))
        participant.consent_recorded_at = now
        participant.pending_events.append(participant.contact_updated())
        return participant

    def revise(self, changes: Mapping[str, Any], now: datetime) -> list[str]:
        """Apply changed details (the same enrollment form submitted again, say) and return the
        names of the fields that changed; records `ContactUpdated` unless nothing changed."""
        now = f.as_datetime(now, "now")
        for name in changes:
            if name not in REVISABLE:
                raise InvalidInput(name, "cannot be changed")
        current = {name: getattr(self, name) for name in REVISABLE}
        # A phone stored before numbers were normalised is left alone until the person gives one.
        checked = _checked({**current, **changes}, check_phone="phone" in changes)
        changed = [name for name in REVISABLE if checked[name] != current[name]]
        if not changed:
            return []
        for name in changed:
            setattr(self, name, checked[name])
        if "consent_to_contact" in changed:
            self.consent_recorded_at = now
        self.updated_at = now
        self.pending_events.append(self.contact_updated())
        return changed

    def enrolling_in(self, session_id: str) -> None:
        """Remember a session they enroll in (publishes nothing: the enrollment's own event does)."""
        if session_id not in self.session_ids:
            self.session_ids.append(session_id)

    def public_profile(self) -> dict[str, Any]:
        """The `participant` object of enrollment events: what outside consumers may know (no email, no phone)."""
        profile = {name: getattr(self, name) for name in PUBLIC_PROFILE_FIELDS}
        return {name: value for name, value in profile.items() if value is not None}

    def contact(self) -> dict[str, Any]:
        """The payload of `org.iom.emm.contact.updated.v1` (internal: carries email and phone)."""
        return self.contact_updated().payload()

    def contact_updated(self) -> ContactUpdated:
        """The `ContactUpdated` event of the participant as they are now."""
        return ContactUpdated(
            participant_id=self.participant_id, full_name=self.full_name, email=self.email,
            preferred_language=self.preferred_language, consent_to_contact=self.consent_to_contact,
            updated_at=self.updated_at, phone=self.phone, consent_recorded_at=self.consent_recorded_at)


def _checked(details: Mapping[str, Any], check_phone: bool = True) -> dict[str, Any]:
    """The details normalised; `check_phone=False` keeps the phone as stored (see `revise`)."""
    country = f.country(details["country"])
    phone = details["phone"]
    if check_phone:
        phone = f.phone(phone, country) if f.text(phone, "phone", max_length=f.PHONE_INPUT_LENGTH, required=False) else None
    if not isinstance(details["consent_to_contact"], bool):
        raise InvalidInput("consent_to_contact", "must be true or false")
    preferred = f.language(details["preferred_language"], "preferred_language")
    return {
        "full_name": f.text(details["full_name"], "full_name", max_length=f.NAME_LENGTH),
        "phone": phone,
        "organization": f.text(details["organization"], "organization", max_length=f.NAME_LENGTH, required=False),
        "job_title": f.text(details["job_title"], "job_title", max_length=f.NAME_LENGTH, required=False),
        "country": country,
        "preferred_language": preferred,
        "working_languages": f.languages(details["working_languages"], "working_languages", including=preferred),
        "sex": f.choice(details["sex"] or "undisclosed", "sex", SEXES),
        "consent_to_contact": details["consent_to_contact"],
    }
