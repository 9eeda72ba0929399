from datetime import date, datetime, timedelta, timezone

import pytest

from emm_registration.domain.attendance import AttendanceMark, AttendanceSheet, record_marks
from emm_registration.domain.errors import Conflict, InvalidInput
from tests.unit.registration.examples import FACILITATOR_ID, SESSION_ID, enroll, scheduled_session

DAY1, DAY2 = date(2026, 5, 17), date(2026, 5, 18)
MORNING = datetime(2026, 5, 17, 9, 5, tzinfo=timezone.utc)
DAY2_MORNING = datetime(2026, 5, 18, 9, 5, tzinfo=timezone.utc)


@pytest.fixture
def session():
    session = scheduled_session(capacity=3)
    for name in ("aminata", "moussa", "fatou", "kofi"):  # kofi is waitlisted
        enroll(session, name)
    session.start()
    return session


def pid(session, name):
    return session.enrollments[f"enr-{name}"].participant_id


def marks(session, **statuses):
    return [AttendanceMark(pid(session, name), status) for name, status in statuses.items()]


def test_marks_become_attendance_recorded_events(session):
    [event] = record_marks(session, DAY1, [AttendanceMark(pid(session, "aminata"), "late", "Traffic")],
                           FACILITATOR_ID, MORNING)
    assert event.event_type() == "org.iom.emm.attendance.recorded.v1"
    assert event.payload() == {
        "attendance_id": event.attendance_id, "session_id": SESSION_ID, "participant_id": pid(session, "aminata"),
        "enrollment_id": "enr-aminata", "day": "2026-05-17", "status": "late", "note": "Traffic",
        "recorded_by": FACILITATOR_ID, "recorded_at": "2026-05-17T09:05:00Z"}


def test_attendance_id_is_deterministic(session):
    first = record_marks(session, DAY1, marks(session, aminata="present"), FACILITATOR_ID, MORNING)
    again = record_marks(session, "2026-05-17", marks(session, aminata="present"), FACILITATOR_ID, MORNING)
    later = record_marks(session, DAY1, marks(session, aminata="present"), FACILITATOR_ID,
                         MORNING + timedelta(minutes=1))
    assert first[0].attendance_id == again[0].attendance_id != later[0].attendance_id


def test_marks_may_be_given_as_dicts(session):
    [event] = record_marks(session, DAY1, [{"participant_id": pid(session, "aminata"), "status": "present"}],
                           FACILITATOR_ID, MORNING)
    assert event.status == "present"


def test_day_must_be_a_session_day(session):
    with pytest.raises(InvalidInput) as error:
        record_marks(session, date(2026, 5, 19), marks(session, aminata="present"), FACILITATOR_ID,
                     datetime(2026, 5, 19, 9, tzinfo=timezone.utc))
    assert error.value.field == "day"


def test_a_day_not_yet_come_cannot_be_marked(session):
    with pytest.raises(InvalidInput) as error:
        record_marks(session, DAY2, marks(session, aminata="present"), FACILITATOR_ID, MORNING)
    assert error.value.field == "day"


@pytest.mark.parametrize("name", ["kofi", "nobody"])
def test_only_registered_participants_can_be_marked(session, name):
    participant_id = pid(session, name) if name == "kofi" else "par-nobody"
    with pytest.raises(Conflict) as error:
        record_marks(session, DAY1, [AttendanceMark(participant_id, "present")], FACILITATOR_ID, MORNING)
    assert error.value.field == "participant_id"


def test_cancelled_session_takes_no_attendance(session):
    session.cancel("Strike", MORNING)
    with pytest.raises(Conflict) as error:
        record_marks(session, DAY1, marks(session, aminata="present"), FACILITATOR_ID, MORNING)
    assert error.value.field == "session_id"


@pytest.mark.parametrize("mark, field", [
    (AttendanceMark("par-x", "present"), "participant_id"),
    (AttendanceMark("", "present"), "participant_id"),
])
def test_bad_participant_ids_name_the_field(session, mark, field):
    with pytest.raises((InvalidInput, Conflict)) as error:
        record_marks(session, DAY1, [mark], FACILITATOR_ID, MORNING)
    assert error.value.field == field


def test_unknown_status_and_long_note_are_refused(session):
    aminata = pid(session, "aminata")
    with pytest.raises(InvalidInput) as error:
        record_marks(session, DAY1, [AttendanceMark(aminata, "sick")], FACILITATOR_ID, MORNING)
    assert error.value.field == "status"
    with pytest.raises(InvalidInput) as error:
        record_marks(session, DAY1, [AttendanceMark(aminata, "present", "x" * 1001)], FACILITATOR_ID, MORNING)
    assert error.value.field == "note"


def test_one_bad_mark_refuses_the_whole_day(session):
    batch = marks(session, aminata="present") + [AttendanceMark(pid(session, "kofi"), "present")]
    sheet = AttendanceSheet(SESSION_ID)
    with pytest.raises(Conflict):
        sheet.record(session, DAY1, batch, FACILITATOR_ID, MORNING)
    assert sheet.marks == {} and sheet.pending_events == []


def test_a_participant_marked_twice_in_one_batch_is_refused(session):
    with pytest.raises(InvalidInput) as error:
        record_marks(session, DAY1, marks(session, aminata="present") + marks(session, aminata="absent"),
                     FACILITATOR_ID, MORNING)
    assert error.value.field == "participant_id"


def test_later_mark_replaces_earlier(session):
    sheet = AttendanceSheet(SESSION_ID)
    sheet.record(session, DAY1, marks(session, aminata="absent"), FACILITATOR_ID, MORNING)
    sheet.record(session, DAY1, marks(session, aminata="late"), FACILITATOR_ID, MORNING + timedelta(hours=1))
    assert sheet.mark_of(pid(session, "aminata"), DAY1).status == "late"
    assert len(sheet.pending_events) == 2


def test_an_older_mark_arriving_late_does_not_replace_a_newer_one(session):
    sheet = AttendanceSheet(SESSION_ID)
    [old] = record_marks(session, DAY1, marks(session, aminata="absent"), FACILITATOR_ID, MORNING)
    [new] = record_marks(session, DAY1, marks(session, aminata="present"), FACILITATOR_ID,
                         MORNING + timedelta(hours=1))
    assert sheet.apply(new) is True
    assert sheet.apply(old) is False
    assert sheet.mark_of(pid(session, "aminata"), DAY1).status == "present"


def test_same_time_marks_last_applied_wins(session):
    sheet = AttendanceSheet(SESSION_ID)
    [first] = record_marks(session, DAY1, marks(session, aminata="absent"), FACILITATOR_ID, MORNING)
    [second] = record_marks(session, DAY1, marks(session, aminata="excused"), "usr-organizer", MORNING)
    sheet.apply(first)
    sheet.apply(second)
    assert sheet.mark_of(pid(session, "aminata"), DAY1).status == "excused"


def test_attendance_rates_count_present_and_late_over_marked_days(session):
    sheet = AttendanceSheet(SESSION_ID)
    sheet.record(session, DAY1, marks(session, aminata="present", moussa="late", fatou="absent"),
                 FACILITATOR_ID, MORNING)
    sheet.record(session, DAY2, marks(session, aminata="present", moussa="excused"), FACILITATOR_ID, DAY2_MORNING)
    assert sheet.attendance_rate(pid(session, "aminata")) == 1.0
    assert sheet.attendance_rate(pid(session, "moussa")) == 0.5
    assert sheet.attendance_rate(pid(session, "fatou")) == 0.0  # unmarked on day 2 counts as not attending
    assert sheet.session_attendance_rate() == 3 / 6


def test_rates_ignore_days_nobody_marked(session):
    sheet = AttendanceSheet(SESSION_ID)
    assert sheet.attendance_rate(pid(session, "aminata")) is None
    sheet.record(session, DAY1, marks(session, aminata="present"), FACILITATOR_ID, DAY2_MORNING)
    assert sheet.attendance_rate(pid(session, "aminata")) == 1.0


def test_session_rate_over_the_roster_counts_never_marked_people(session):
    sheet = AttendanceSheet(SESSION_ID)
    sheet.record(session, DAY1, marks(session, aminata="present", moussa="present"), FACILITATOR_ID, MORNING)
    roster = [e.participant_id for e in session.roster()]
    assert sheet.session_attendance_rate() == 1.0
    assert sheet.session_attendance_rate(roster) == 2 / 3


def test_day_summary_counts_every_status(session):
    sheet = AttendanceSheet(SESSION_ID)
    sheet.record(session, DAY1, marks(session, aminata="present", moussa="late", fatou="late"),
                 FACILITATOR_ID, MORNING)
    assert sheet.day_summary(DAY1) == {"present": 1, "late": 2, "absent": 0, "excused": 0}
    assert sheet.summary() == {DAY1: {"present": 1, "late": 2, "absent": 0, "excused": 0}}
    assert sheet.day_summary(DAY2) == {"present": 0, "late": 0, "absent": 0, "excused": 0}


def test_sheet_refuses_marks_of_another_session(session):
    with pytest.raises(InvalidInput) as error:
        AttendanceSheet("ses-other").record(session, DAY1, marks(session, aminata="present"), FACILITATOR_ID,
                                            MORNING)
    assert error.value.field == "session_id"
