"""A session as an iCalendar event (RFC 5545 / 5546 iTIP), built with `icalendar`: the invitations
notification attaches to its emails and the `.ics` registration serves for download.

One session is one calendar event for its whole life: the UID never changes, SEQUENCE follows the
session's `sequence`, so a calendar updates or removes the event it already has instead of adding
a second one, whichever way it came (an email or a download).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

import icalendar
from babel import Locale

UID_DOMAIN = "emm.iom.int"
PRODID = "-//IOM//EMM2.0 Training-of-Trainers//EN"
# The iTIP methods: an invitation, its cancellation, or a plain copy for a calendar (a download).
METHODS = ("REQUEST", "CANCEL", "PUBLISH")


@dataclass(frozen=True)
class CalendarParty:
    """An organizer or attendee: an email address and a display name."""

    email: str
    name: str


PROGRAMME_TEAM = CalendarParty("EMMinfo@iom.int", "IOM EMM2.0 Team")


def session_uid(session_id: str) -> str:
    """The iCalendar UID of a session, stable across every update and the cancellation."""
    return f"{session_id}@{UID_DOMAIN}"


def session_location(session: Mapping[str, Any], language: str = "en") -> str:
    """"Venue, City, Country" with the country named in `language`."""
    country = session.get("country")
    country_name = Locale.parse(language).territories.get(country, country) if country else None
    return ", ".join(part for part in (session.get("venue"), session.get("city"), country_name) if part)


def session_calendar(session: Mapping[str, Any], method: str, *, organizer: CalendarParty = PROGRAMME_TEAM,
                     attendee: CalendarParty | None = None, sequence: int | None = None,
                     daily_hours: tuple[time, time] | None = None, language: str = "en",
                     description: str | None = None, stamp: datetime | None = None) -> bytes:
    """The .ics bytes of a session (its `session` snapshot, as in session events) inviting to
    (REQUEST), cancelling (CANCEL) or simply describing it (PUBLISH; a cancelled session is then
    marked CANCELLED).

    Without `daily_hours` the event is all-day over the session days; with them, each day runs
    from start to end time in the session's time zone. `sequence` overrides the snapshot's (a
    session.cancelled event carries a newer one than the last snapshot).
    """
    if method not in METHODS:
        raise ValueError(f"unknown iTIP method {method!r}")
    cancelled = method == "CANCEL" or (method == "PUBLISH" and session.get("status") == "cancelled")
    days = sorted(date.fromisoformat(d) for d in session.get("days") or [session["start_date"], session["end_date"]])
    tz = ZoneInfo(session.get("timezone") or "UTC")

    event = icalendar.Event()
    event.add("uid", session_uid(session["session_id"]))
    event.add("sequence", session.get("sequence", 0) if sequence is None else sequence)
    event.add("dtstamp", stamp or datetime.now(timezone.utc))
    event.add("summary", session["title"])
    if location := session_location(session, language):
        event.add("location", location)
    if description:
        event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _address(organizer, role=None))
    if attendee is not None:
        event.add("attendee", _address(attendee, role="REQ-PARTICIPANT"))
    _add_schedule(event, days, tz, daily_hours)

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", str(method))
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _address(party: CalendarParty, role: str | None) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{party.email}")
    address.params["CN"] = party.name
    if role:
        address.params["ROLE"] = role
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        # Seats are managed by the platform, not by calendar replies.
        address.params["RSVP"] = "FALSE"
    return address


def _add_schedule(event: icalendar.Event, days: list[date], tz: ZoneInfo,
                  daily_hours: tuple[time, time] | None) -> None:
    first, last = days[0], days[-1]
    contiguous = len(days) == (last - first).days + 1
    if daily_hours is None and contiguous:
        # One all-day block (DTEND is exclusive): the best supported form in calendar clients.
        event.add("dtstart", first)
        event.add("dtend", last + timedelta(days=1))
        return
    if daily_hours is None:
        event.add("dtstart", first)
        event.add("dtend", first + timedelta(days=1))
        later = list(days[1:])
    else:
        start, end = daily_hours
        event.add("dtstart", datetime.combine(first, start, tz))
        event.add("dtend", datetime.combine(first, end, tz))
        later = [datetime.combine(d, start, tz) for d in days[1:]]
    if not later:
        return
    if contiguous:
        event.add("rrule", {"freq": "daily", "count": len(days)})
    else:
        event.add("rdate", later)
