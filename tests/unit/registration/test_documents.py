import json
from datetime import date, datetime, timezone

from emm_registration.adapters.documents import (
    attendance_sheet_from_document, attendance_sheet_to_document, participant_from_document,
    participant_to_document, session_from_document, session_to_document)
from emm_registration.domain.attendance import AttendanceMark, AttendanceSheet
from tests.unit.registration.examples import FACILITATOR_ID, enroll, later, participant, scheduled_session


def busy_session():
    session = scheduled_session(capacity=2)
    for minutes, name in enumerate(("aminata", "moussa", "fatou", "kofi", "awa")):
        enroll(session, name, minutes)
    session.cancel_enrollment("enr-aminata", later(10), reason="Mission travel")
    session.cancel_enrollment("enr-awa", later(11))
    session.update({"venue": "King Fahd Palace"}, later(12))
    return session


def test_document_round_trip_is_exact():
    session = busy_session()
    restored = session_from_document(session_to_document(session))
    assert restored == session
    assert restored.pending_events == []
    assert session_to_document(restored) == session_to_document(session)


def test_round_trip_keeps_the_waitlist_behaviour():
    restored = session_from_document(session_to_document(busy_session()))
    restored.cancel_enrollment("enr-moussa", later(20))
    assert restored.pending_events[-1].enrollment_id == "enr-kofi"
    assert restored.enroll(participant("ousmane").public_profile(), "participant", later(21),
                           "enr-ousmane").waitlist_seq == 4  # the counter survived


def test_session_document_is_plain_json_with_iso_strings():
    doc = session_to_document(busy_session())
    assert json.loads(json.dumps(doc)) == doc
    assert doc["start_date"] == "2026-05-17" and doc["enrollment_closes_at"] == "2026-05-16T23:59:59Z"
    assert isinstance(doc["enrollments"], list) and "_id" not in doc


def test_document_does_not_alias_the_aggregate():
    session = busy_session()
    doc = session_to_document(session)
    doc["modules"].append("changed")
    doc["enrollments"][0]["participant"]["full_name"] = "changed"
    assert "changed" not in session.modules
    assert session.enrollments["enr-aminata"].participant["full_name"] == "Aminata Diallo"


def test_driver_datetimes_are_read_as_utc():
    doc = session_to_document(busy_session())
    doc["enrollment_opens_at"] = datetime(2026, 4, 1)  # what a driver without tz_aware returns
    assert session_from_document(doc).enrollment_opens_at == datetime(2026, 4, 1, tzinfo=timezone.utc)


def test_participant_round_trip_is_exact():
    person = participant("aminata")
    person.revise({"consent_to_contact": False}, later(5))
    doc = participant_to_document(person)
    assert participant_from_document(doc) == person
    assert doc["email"] == "aminata@example.org"


def test_a_participant_keeps_the_sessions_they_enroll_in_once_each():
    person = participant("aminata")
    for session_id in ("ses-1", "ses-2", "ses-1"):
        person.enrolling_in(session_id)
    doc = participant_to_document(person)
    assert doc["session_ids"] == ["ses-1", "ses-2"] and person.pending_events[1:] == []
    assert participant_from_document(doc) == person
    # one stored before sessions were kept with participants
    assert participant_from_document({k: v for k, v in doc.items() if k != "session_ids"}).session_ids == []


def test_attendance_sheet_round_trip_is_exact():
    session = busy_session()
    session.start()
    sheet = AttendanceSheet(session.session_id)
    moussa, fatou = (session.enrollments[e].participant_id for e in ("enr-moussa", "enr-fatou"))
    for day, hour in ((date(2026, 5, 17), 9), (date(2026, 5, 18), 9)):
        sheet.record(session, day, [AttendanceMark(moussa, "present"), AttendanceMark(fatou, "absent", "Ill")],
                     FACILITATOR_ID, datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc))
    doc = attendance_sheet_to_document(sheet)
    assert json.loads(json.dumps(doc)) == doc
    restored = attendance_sheet_from_document(doc)
    assert restored == sheet
    assert restored.attendance_rate(moussa) == 1.0
