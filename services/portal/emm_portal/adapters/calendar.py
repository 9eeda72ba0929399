"""A session as an iCalendar file for the person's own calendar: one all-day event over the
session's days, with the same UID as the invitations notification sends (so a calendar that has
one updates it instead of adding a second)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, Mapping

import icalendar

from emm_portal.adapters.translations import country_name

PRODID = "-//IOM//EMM2.0 portal//EN"
UID_DOMAIN = "emm.iom.int"


def session_ics(session: Mapping[str, Any], language: str) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"{session['session_id']}@{UID_DOMAIN}")
    event.add("sequence", session.get("sequence", 0))
    event.add("dtstamp", datetime.now(timezone.utc))
    event.add("summary", session.get("title", ""))
    event.add("dtstart", date.fromisoformat(session["start_date"]))
    event.add("dtend", date.fromisoformat(session["end_date"]) + timedelta(days=1))
    place = [session.get("venue"), session.get("city"), country_name(session.get("country"), language)]
    event.add("location", ", ".join(part for part in place if part))
    if session.get("status") == "cancelled":
        event.add("status", "CANCELLED")
    calendar.add_component(event)
    return calendar.to_ical()
