"""The registration API's request bodies are bounded: an oversized one is refused (a 422 whose
`loc` names the field) before any command runs, with the domain's own limits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from emm_common.envelope import MAX_RECORD_BYTES, new_event, record_size, to_record
from emm_registration.domain import fields as f
from emm_registration.domain.session import Session
from emm_registration.entrypoints import models as m
from tests.unit.registration.examples import session_details


def session_body(**overrides) -> dict:
    details = {name: value.isoformat() if hasattr(value, "isoformat") else value
               for name, value in session_details().items()}
    return {**details, **overrides}


def refused_at(model, body) -> list[tuple]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    return [error["loc"] for error in refused.value.errors()]


def test_a_session_with_50000_modules_is_refused_naming_modules():
    assert refused_at(m.SessionDetails, session_body(modules=[f"module-{n}" for n in range(50_000)])) == [
        ("modules",)]


@pytest.mark.parametrize("field, value", [
    ("session_id", "s" * (f.ID_MAX_LENGTH + 1)),
    ("title", "t" * (f.TITLE_LENGTH + 1)),
    ("modules", ["m" * (f.NAME_LENGTH + 1)]),
    ("organizing_office", "o" * (f.NAME_LENGTH + 1)),
    ("city", "c" * (f.NAME_LENGTH + 1)),
    ("country", "S" * 65),
    ("venue", "v" * (f.TITLE_LENGTH + 1)),
    ("timezone", "Africa/" + "D" * 60),
    ("languages", ["fr", "en", "pt", "fr"]),
    ("facilitator_ids", [f"par-{n}" for n in range(f.MAX_FACILITATORS + 1)]),
    ("facilitator_ids", ["p" * (f.ID_MAX_LENGTH + 1)]),
    ("target_audience", "a" * (f.TEXT_LENGTH + 1)),
])
def test_every_session_detail_is_bounded(field, value):
    assert refused_at(m.SessionDetails, session_body(**{field: value}))[0][0] == field
    if field != "session_id":  # chosen when scheduling only
        assert refused_at(m.SessionChanges, {field: value})[0][0] == field


def test_the_largest_session_the_api_takes_is_an_event_far_below_the_record_limit():
    largest = m.SessionDetails.model_validate(session_body(
        session_id="s" * f.ID_MAX_LENGTH, title="t" * f.TITLE_LENGTH, venue="v" * f.TITLE_LENGTH,
        modules=[f"{n:03d}" + "é" * (f.NAME_LENGTH - 3) for n in range(f.MAX_MODULES)],
        facilitator_ids=[f"par-{n:02d}" + "p" * (f.ID_MAX_LENGTH - 6) for n in range(f.MAX_FACILITATORS)],
        target_audience="é" * f.TEXT_LENGTH))
    session = Session.schedule(largest.session_id, scheduled_by="usr-organizer",
                               **largest.model_dump(exclude={"session_id"}, exclude_none=True))
    [scheduled] = session.pending_events
    event = new_event(scheduled.event_type(), scheduled.payload(), source="/emm/registration")
    assert record_size(to_record(event)) < 100_000 < MAX_RECORD_BYTES


@pytest.mark.parametrize("field, value", [
    ("email", "e" * 250 + "@example.org"),
    ("full_name", "n" * (f.NAME_LENGTH + 1)),
    ("country", "S" * 65),
    ("phone", "+221 " + "7" * f.PHONE_INPUT_LENGTH),
    ("organization", "o" * (f.NAME_LENGTH + 1)),
    ("job_title", "j" * (f.NAME_LENGTH + 1)),
])
def test_every_personal_detail_is_bounded(field, value):
    person = {"email": "a@example.org", "full_name": "Aminata", "country": "SN", "preferred_language": "fr",
              "consent_to_contact": True, field: value}
    assert refused_at(m.Person, person) == [(field,)]


def test_reasons_notes_and_marks_are_bounded():
    assert refused_at(m.StatusChange, {"status": "cancelled", "reason": "r" * (f.TEXT_LENGTH + 1)}) == [("reason",)]
    assert refused_at(m.EnrollmentCancellation, {"reason": "r" * (f.TEXT_LENGTH + 1)}) == [("reason",)]
    mark = {"participant_id": "p" * (f.ID_MAX_LENGTH + 1), "status": "present"}
    assert refused_at(m.DayMarks, {"marks": [mark]}) == [("marks", 0, "participant_id")]
