"""Example sessions and people for the registration unit tests (the seed's Dakar ToT)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from emm_registration.domain.participant import Participant
from emm_registration.domain.session import Session
from emm_registration.domain.staff import StaffMember

NOW = datetime(2026, 4, 2, 10, 0, tzinfo=timezone.utc)
SESSION_ID = "ses-dakar-tot-1"
FACILITATOR_ID = "par-facilitator-1"


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def session_details(**overrides: Any) -> dict[str, Any]:
    details = dict(
        title="EMM2.0 Training-of-Trainers, session 1", kind="training_of_trainers",
        modules=["migration-governance", "labour-mobility"], organizing_office="RO Dakar", city="Dakar",
        country="SN", venue="IOM Regional Office", start_date=date(2026, 5, 17), end_date=date(2026, 5, 18),
        timezone="Africa/Dakar", languages=["fr", "en"], capacity=2,
        enrollment_opens_at=datetime(2026, 4, 1, tzinfo=timezone.utc),
        enrollment_closes_at=datetime(2026, 5, 16, 23, 59, 59, tzinfo=timezone.utc),
        facilitator_ids=[FACILITATOR_ID], target_audience="RO Dakar senior staff")
    details.update(overrides)
    return details


def scheduled_session(**overrides: Any) -> Session:
    """A freshly scheduled session, its events cleared."""
    session = Session.schedule(SESSION_ID, scheduled_by="usr-organizer", **session_details(**overrides))
    session.pending_events.clear()
    return session


def participant(name: str, **overrides: Any) -> Participant:
    details = dict(email=f"{name}@example.org", full_name=name.capitalize() + " Diallo", country="SN",
                   preferred_language="fr", consent_to_contact=True, now=NOW, organization="IOM RO Dakar",
                   job_title="Project Manager", sex="female", phone="+221 77 000 00 00")
    details.update(overrides)
    return Participant.register(**details)


def profile(name: str) -> dict[str, Any]:
    return participant(name).public_profile()


def enroll(session: Session, name: str, minutes: int = 0, enrolled_by: str = "participant"):
    """Enroll the example person `name` with enrollment id `enr-<name>`."""
    return session.enroll(profile(name), enrolled_by, later(minutes), f"enr-{name}")


def event_types(session_or_sheet) -> list[str]:
    return [event.event_type() for event in session_or_sheet.pending_events]


def staff_member(name: str, **overrides: Any) -> StaffMember:
    """An organizer of RO Dakar, unless `overrides` say otherwise."""
    details = dict(email=f"{name}@iom.example.org", full_name=name.capitalize() + " Ndiaye", preferred_language="fr",
                   role="organizer", offices=["RO Dakar"], now=NOW)
    details.update(overrides)
    return StaffMember.register(**details)
