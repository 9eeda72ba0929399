from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import icalendar

from emm_common.calendar import CalendarParty, session_calendar, session_uid
from emm_notification.domain.calendar import calendar_attachment
from emm_notification.domain.messages import CalendarAction
from tests.unit.notification import examples as ex

ORGANIZER = CalendarParty("EMMinfo@iom.int", "IOM EMM2.0 Team")
STAMP = datetime(2026, 4, 2, 10, 0, tzinfo=timezone.utc)


def parse(ics: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(ics)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_invitation_round_trips_with_stable_uid_sequence_and_method():
    ics = session_calendar(ex.session(sequence=3), CalendarAction.REQUEST, organizer=ORGANIZER,
                           attendee=CalendarParty("aminata@example.org", "Aminata Diallo"), stamp=STAMP)
    calendar, event = parse(ics)
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == "ses-dakar-tot-1@emm.iom.int" == session_uid(ex.SESSION_ID)
    assert event["SEQUENCE"] == 3
    assert event["STATUS"] == "CONFIRMED"
    assert str(event["SUMMARY"]) == "EMM2.0 Training-of-Trainers, session 1"
    assert str(event["LOCATION"]) == "IOM Regional Office, Dakar, Senegal"
    assert str(event["ORGANIZER"]) == "mailto:EMMinfo@iom.int"
    assert event["ORGANIZER"].params["CN"] == "IOM EMM2.0 Team"
    assert str(event["ATTENDEE"]) == "mailto:aminata@example.org"


def test_contiguous_session_is_one_all_day_block_with_exclusive_end():
    _, event = parse(session_calendar(ex.session(), CalendarAction.REQUEST, organizer=ORGANIZER, stamp=STAMP))
    assert event.decoded("DTSTART") == date(2026, 5, 17)
    assert event.decoded("DTEND") == date(2026, 5, 19)
    assert "RRULE" not in event


def test_the_same_session_always_has_the_same_uid_across_updates():
    first = parse(session_calendar(ex.session(sequence=0), CalendarAction.REQUEST, organizer=ORGANIZER))[1]
    moved = parse(session_calendar(ex.session(sequence=1, venue="King Fahd Palace"), CalendarAction.REQUEST,
                                   organizer=ORGANIZER))[1]
    assert first["UID"] == moved["UID"]
    assert (first["SEQUENCE"], moved["SEQUENCE"]) == (0, 1)
    assert str(moved["LOCATION"]).startswith("King Fahd Palace")


def test_cancellation_uses_method_cancel_and_the_newer_sequence():
    ics = session_calendar(ex.session(sequence=1), CalendarAction.CANCEL, organizer=ORGANIZER, sequence=2)
    calendar, event = parse(ics)
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 2
    assert str(event["UID"]) == session_uid(ex.SESSION_ID)


def test_timed_days_are_in_the_sessions_time_zone_and_repeat_daily():
    session = ex.session(timezone="Africa/Lagos", city="Abuja", country="NG", venue=None)
    ics = session_calendar(session, CalendarAction.REQUEST, organizer=ORGANIZER,
                           daily_hours=(time(9, 0), time(17, 0)))
    calendar, event = parse(ics)
    lagos = ZoneInfo("Africa/Lagos")
    assert event.decoded("DTSTART") == datetime(2026, 5, 17, 9, 0, tzinfo=lagos)
    assert event.decoded("DTEND") == datetime(2026, 5, 17, 17, 0, tzinfo=lagos)
    assert event["RRULE"]["COUNT"] == [2]
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Africa/Lagos"]
    assert str(event["LOCATION"]) == "Abuja, Nigeria"


def test_days_with_a_gap_are_listed_one_by_one():
    session = ex.session(start_date="2026-05-17", end_date="2026-05-19", days=["2026-05-17", "2026-05-19"])
    _, event = parse(session_calendar(session, CalendarAction.REQUEST, organizer=ORGANIZER))
    assert event.decoded("DTSTART") == date(2026, 5, 17)
    assert event.decoded("DTEND") == date(2026, 5, 18)
    assert [d.dt for d in event["RDATE"].dts] == [date(2026, 5, 19)]


def test_location_names_the_country_in_the_messages_language():
    _, event = parse(session_calendar(ex.session(), CalendarAction.REQUEST, organizer=ORGANIZER, language="fr"))
    assert str(event["LOCATION"]) == "IOM Regional Office, Dakar, Sénégal"


def test_attachment_carries_the_itip_method_in_its_content_type():
    attachment = calendar_attachment(b"BEGIN:VCALENDAR", CalendarAction.CANCEL)
    assert attachment.filename == "cancellation.ics"
    assert attachment.mime.startswith("text/calendar; method=CANCEL")


def test_a_downloaded_copy_is_the_same_event_published_and_marked_cancelled_once_the_session_is():
    _, invited = parse(session_calendar(ex.session(sequence=3), CalendarAction.REQUEST, stamp=STAMP))
    calendar, published = parse(session_calendar(ex.session(sequence=3), "PUBLISH", stamp=STAMP))
    assert calendar["METHOD"] == "PUBLISH" and "ATTENDEE" not in published
    assert (published["UID"], published["SEQUENCE"], published["STATUS"]) == (invited["UID"], 3, "CONFIRMED")
    _, cancelled = parse(session_calendar(ex.session(status="cancelled"), "PUBLISH", stamp=STAMP))
    assert cancelled["STATUS"] == "CANCELLED"
