"""MongoDB documents of the registration aggregates: plain dict <-> aggregate, no database calls.

Dates and datetimes are stored as ISO strings (`YYYY-MM-DD`, ISO 8601 with `Z`), the same form
as the event contract, so documents read the same in any driver and tool. Collections keyed by
ids are stored as lists, not as sub-documents keyed by id: ids may contain `.`, which MongoDB
field names should not. `pending_events` are not part of a document; they go to the outbox.
A document holds no `_id`: the store decides how the document is keyed and versioned.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone
from typing import Any

from emm_registration.domain.attendance import AttendanceSheet
from emm_registration.domain.events import AttendanceRecorded
from emm_registration.domain.fields import iso
from emm_registration.domain.participant import Participant
from emm_registration.domain.session import Enrollment, Session
from emm_registration.domain.sign_in import SignInRequests
from emm_registration.domain.staff import StaffMember

_SESSION_DATETIMES = ("enrollment_opens_at", "enrollment_closes_at", "cancelled_at", "completed_at",
                      "evaluation_closes_at", "evaluation_closed_at", "scheduled_at")
_SESSION_PLAIN = ("session_id", "title", "kind", "programme", "modules", "organizing_office", "city", "country",
                  "venue", "timezone", "languages", "capacity", "facilitator_ids", "target_audience", "status",
                  "sequence", "next_waitlist_seq", "cancellation_reason")
_ENROLLMENT_DATETIMES = ("created_at", "registered_at", "waitlisted_at", "promoted_at", "cancelled_at")
_ENROLLMENT_PLAIN = ("enrollment_id", "participant_id", "participant", "status", "enrolled_by", "waitlist_seq",
                     "cancellation_reason")
_PARTICIPANT_DATETIMES = ("updated_at", "consent_recorded_at")
_PARTICIPANT_PLAIN = ("participant_id", "full_name", "email", "phone", "organization", "job_title", "country",
                      "preferred_language", "working_languages", "sex", "consent_to_contact", "session_ids")
_STAFF_PLAIN = ("staff_id", "full_name", "email", "preferred_language", "role", "offices", "regional", "active")


def session_to_document(session: Session) -> dict[str, Any]:
    """The session with all its enrollments, as one document (one atomic write)."""
    doc = _plain(session, _SESSION_PLAIN, _SESSION_DATETIMES)
    doc.update(start_date=session.start_date.isoformat(), end_date=session.end_date.isoformat(),
               days=[day.isoformat() for day in session.days],  # for readers; derived, ignored on load
               enrollments=[_plain(e, _ENROLLMENT_PLAIN, _ENROLLMENT_DATETIMES)
                            for e in session.enrollments.values()])
    return doc


def session_from_document(doc: dict[str, Any]) -> Session:
    """The Session a `session_to_document` document was made from."""
    return Session(
        **_unplain(doc, _SESSION_PLAIN, _SESSION_DATETIMES),
        start_date=date.fromisoformat(doc["start_date"]), end_date=date.fromisoformat(doc["end_date"]),
        enrollments={e["enrollment_id"]: Enrollment(**_unplain(e, _ENROLLMENT_PLAIN, _ENROLLMENT_DATETIMES))
                     for e in doc["enrollments"]})


def participant_to_document(participant: Participant) -> dict[str, Any]:
    """The participant, contact details and consent included (this service's own database only)."""
    return _plain(participant, _PARTICIPANT_PLAIN, _PARTICIPANT_DATETIMES)


def participant_from_document(doc: dict[str, Any]) -> Participant:
    """The Participant a `participant_to_document` document was made from."""
    values = _unplain(doc, _PARTICIPANT_PLAIN, _PARTICIPANT_DATETIMES)
    # None kept: session ids before sign-in links, working languages before they were asked.
    return Participant(**{**values, "session_ids": values["session_ids"] or [],
                          "working_languages": values["working_languages"] or [values["preferred_language"]]})


def staff_to_document(member: StaffMember) -> dict[str, Any]:
    """The staff member, contact details included (this service's own database only)."""
    return _plain(member, _STAFF_PLAIN, ("updated_at",))


def staff_from_document(doc: dict[str, Any]) -> StaffMember:
    """The StaffMember a `staff_to_document` document was made from."""
    return StaffMember(**_unplain(doc, _STAFF_PLAIN, ("updated_at",)))


def attendance_sheet_to_document(sheet: AttendanceSheet) -> dict[str, Any]:
    """The sheet as its session id and the list of latest marks (each an attendance payload)."""
    marks = [mark.payload() for day in sorted(sheet.marks) for _, mark in sorted(sheet.marks[day].items())]
    return {"session_id": sheet.session_id, "marks": marks}


def attendance_sheet_from_document(doc: dict[str, Any]) -> AttendanceSheet:
    """The AttendanceSheet an `attendance_sheet_to_document` document was made from."""
    sheet = AttendanceSheet(session_id=doc["session_id"])
    for mark in doc["marks"]:
        sheet.apply(AttendanceRecorded(**{**mark, "day": date.fromisoformat(mark["day"]),
                                          "recorded_at": _datetime(mark["recorded_at"])}))
    return sheet


def sign_in_requests_to_document(requests: SignInRequests) -> dict[str, Any]:
    return {"requests_id": requests.requests_id, "requested_at": [iso(at) for at in requests.requested_at]}


def sign_in_requests_from_document(doc: dict[str, Any]) -> SignInRequests:
    return SignInRequests(requests_id=doc["requests_id"], requested_at=[_datetime(at) for at in doc["requested_at"]])


def _plain(obj: Any, plain: tuple[str, ...], datetimes: tuple[str, ...]) -> dict[str, Any]:
    doc = copy.deepcopy({name: getattr(obj, name) for name in plain})  # the document must not alias the aggregate
    doc.update({name: None if getattr(obj, name) is None else iso(getattr(obj, name)) for name in datetimes})
    return doc


def _unplain(doc: dict[str, Any], plain: tuple[str, ...], datetimes: tuple[str, ...]) -> dict[str, Any]:
    values = copy.deepcopy({name: doc.get(name) for name in plain})
    values.update({name: _datetime(doc.get(name)) for name in datetimes})
    return values


def _datetime(value: str | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    # A driver without tz_aware returns naive datetimes that are UTC.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
