"""Every domain event's payload validates against its JSON Schema in schemas/events/."""

import json
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path

from jsonschema import Draft7Validator, FormatChecker

from emm_registration.domain.attendance import AttendanceMark, AttendanceSheet
from emm_registration.domain.session import Session
from emm_registration.domain.sign_in import Recipient, SignInRequests
from tests.unit.registration.examples import (
    FACILITATOR_ID, enroll, later, participant, scheduled_session, session_details, staff_member)

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas" / "events"


@cache
def validator_for(event_type: str) -> Draft7Validator:
    schema = json.loads((SCHEMAS / f"{event_type}.json").read_text())
    return Draft7Validator(schema, format_checker=FormatChecker())


def every_kind_of_event():
    """A story that makes the aggregates record every event type they know."""
    person = participant("aminata")
    session = scheduled_session(capacity=1, venue=None, target_audience=None)
    session.open_enrollment()
    session.update({"venue": "King Fahd Palace", "capacity": 2}, later(1))
    for minutes, name in enumerate(("aminata", "moussa", "fatou", "kofi")):
        enroll(session, name, minutes + 2)
    session.cancel_enrollment("enr-aminata", later(10), reason="Mission travel")
    session.cancel_enrollment("enr-kofi", later(11))
    session.update({"capacity": 3}, later(12))
    session.start()
    sheet = AttendanceSheet(session.session_id)
    moussa = session.enrollments["enr-moussa"].participant_id
    sheet.record(session, date(2026, 5, 17), [AttendanceMark(moussa, "late", "Traffic")], FACILITATOR_ID,
                 datetime(2026, 5, 17, 9, 5, tzinfo=timezone.utc))
    session.complete(datetime(2026, 5, 18, 17, tzinfo=timezone.utc), evaluation_period=timedelta(days=14))
    session.close_evaluation(datetime(2026, 6, 1, 17, tzinfo=timezone.utc))
    other = Session.schedule("ses-dakar-tot-2", scheduled_by="usr-organizer", **session_details())
    other.cancel("Venue unavailable", later(20))
    organizer = staff_member("fatou")
    organizer.revise({"offices": ["RO Dakar", "CO Abidjan"]}, later(21))
    requests = SignInRequests("sir-fatou")
    requests.request([Recipient("staff-sign-in", organizer.staff_id),
                      Recipient("participant-sign-in", person.participant_id, session.session_id)], later(22), "sir-1")
    return (person.pending_events + session.pending_events + sheet.pending_events + other.pending_events
            + organizer.pending_events + requests.pending_events)


def test_contact_updated_publishes_the_phone_in_the_schema_s_e164_form():
    schema = json.loads((SCHEMAS / "org.iom.emm.contact.updated.v1.json").read_text())
    e164 = schema["properties"]["phone"]["anyOf"][0]
    assert e164["title"] == "E.164"
    payload = participant("aminata", phone="(+221) 77-000-00-00").contact()
    assert Draft7Validator(e164).is_valid(payload["phone"]) and payload["phone"] == "+221770000000"


def test_every_domain_event_payload_validates_against_its_schema():
    events = every_kind_of_event()
    for event in events:
        errors = [e.message for e in validator_for(event.event_type()).iter_errors(event.payload())]
        assert errors == [], (event.event_type(), errors)
    assert {event.event_type() for event in events} == {
        "org.iom.emm.contact.updated.v1", "org.iom.emm.session.scheduled.v1", "org.iom.emm.session.updated.v1",
        "org.iom.emm.session.cancelled.v1", "org.iom.emm.session.completed.v1",
        "org.iom.emm.session.evaluation_closed.v1",
        "org.iom.emm.enrollment.registered.v1", "org.iom.emm.enrollment.waitlisted.v1",
        "org.iom.emm.enrollment.promoted.v1", "org.iom.emm.enrollment.cancelled.v1",
        "org.iom.emm.attendance.recorded.v1", "org.iom.emm.staff.updated.v1", "org.iom.emm.sign_in.requested.v1"}


def test_every_event_about_a_session_names_it_at_the_top_level():
    """session.scheduled/updated nest the session, and name it at the top level too, like every other event."""
    for event in every_kind_of_event():
        payload = event.payload()
        if "session" in payload:
            assert payload["session_id"] == payload["session"]["session_id"], event.event_type()


def test_payloads_are_plain_json():
    for event in every_kind_of_event():
        assert json.loads(json.dumps(event.payload())) == event.payload()


def test_no_public_event_carries_email_or_phone():
    for event in every_kind_of_event():
        if not validator_for(event.event_type()).schema["x-internal"]:
            text = json.dumps(event.payload())
            assert "@example.org" not in text and "+221" not in text, event.event_type()


def test_the_schemas_state_the_bounds_the_domain_and_api_keep():
    from emm_registration.domain import fields as f
    from emm_registration.domain.session import MAX_SESSION_DAYS
    from emm_registration.domain.staff import MAX_OFFICES

    for event_type in ("org.iom.emm.session.scheduled.v1", "org.iom.emm.session.updated.v1"):
        session = validator_for(event_type).schema["definitions"]["session"]["properties"]
        assert (session["title"]["maxLength"], session["venue"]["maxLength"]) == (f.TITLE_LENGTH, f.TITLE_LENGTH)
        assert (session["modules"]["maxItems"], session["modules"]["items"]["maxLength"]) == (
            f.MAX_MODULES, f.NAME_LENGTH)
        assert session["organizing_office"]["maxLength"] == session["city"]["maxLength"] == f.NAME_LENGTH
        assert session["facilitator_ids"]["maxItems"] == f.MAX_FACILITATORS
        assert session["languages"]["maxItems"] == len(f.LANGUAGES)
        assert session["days"]["maxItems"] == MAX_SESSION_DAYS
        assert session["target_audience"]["maxLength"] == f.TEXT_LENGTH
    contact = validator_for("org.iom.emm.contact.updated.v1").schema["properties"]
    assert (contact["full_name"]["maxLength"], contact["email"]["maxLength"], contact["phone"]["maxLength"]) == (
        f.NAME_LENGTH, f.EMAIL_LENGTH, f.PHONE_LENGTH)
    staff = validator_for("org.iom.emm.staff.updated.v1").schema["properties"]
    assert (staff["full_name"]["maxLength"], staff["email"]["maxLength"], staff["offices"]["maxItems"],
            staff["offices"]["items"]["maxLength"]) == (f.NAME_LENGTH, f.EMAIL_LENGTH, MAX_OFFICES, f.NAME_LENGTH)
    for event_type in ("org.iom.emm.session.cancelled.v1", "org.iom.emm.enrollment.cancelled.v1"):
        assert validator_for(event_type).schema["properties"]["reason"]["maxLength"] == f.TEXT_LENGTH
    assert validator_for("org.iom.emm.attendance.recorded.v1").schema["properties"]["note"]["maxLength"] == (
        f.TEXT_LENGTH)
