"""What the organizer's and facilitator's pages gather from the APIs, called as the signed-in
person (so each API decides what they may see or do). Plain functions of an `Apis`; they shape
the answers for the templates and decide nothing an API should decide."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from emm_common.paging import NEXT_OFFSET_HEADER
from emm_portal.adapters.apis import Api, Apis

PAGE_SIZE = 50
ATTENDANCE_STATUSES = ("present", "late", "absent", "excused")
LIFECYCLE = {"scheduled": ("open", "in_progress", "cancelled"), "open": ("in_progress", "cancelled"),
             "in_progress": ("completed", "cancelled"), "completed": (), "cancelled": ()}
"""What each session status may move to (registration decides; the page offers only these)."""


@dataclass(frozen=True)
class Listing:
    """One page of a list endpoint; `next_offset` is where the next page starts, if any."""

    items: list[Any]
    offset: int
    next_offset: int | None

    @property
    def previous_offset(self) -> int | None:
        return max(self.offset - PAGE_SIZE, 0) if self.offset else None


async def listing(api: Api, path: str, offset: int = 0, **filters: Any) -> Listing:
    params = {name: value for name, value in filters.items() if value not in (None, "")}
    response = await api.call("GET", path, params={**params, "limit": PAGE_SIZE, "offset": offset}, raw=True)
    following = response.headers.get(NEXT_OFFSET_HEADER)
    return Listing(response.json(), offset, int(following) if following else None)


# -- sessions ------------------------------------------------------------------------------------

async def session_of(apis: Apis, session_id: str) -> dict[str, Any]:
    """Registration's view of one session: `session`, `seats_taken`, `seats_left`, `waitlist_length`."""
    return await apis.registration.get(f"/sessions/{session_id}")


async def facilitated_sessions(apis: Apis, staff_id: str, offset: int = 0) -> Listing:
    """The sessions `staff_id` facilitates. Registration filters by `facilitator`; the check here
    keeps the page right against a registration that does not know the filter yet."""
    found = await listing(apis.registration, "/sessions", offset, facilitator=staff_id)
    mine = [s for s in found.items if staff_id in s["session"].get("facilitator_ids", [])]
    return Listing(mine, found.offset, found.next_offset)


async def certification_of(apis: Apis, session_id: str, participant_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The session (as `session_of`) and why the participant is or is not certified: each rule
    with their figure and the threshold. The two APIs are asked at once."""
    return await asyncio.gather(
        session_of(apis, session_id),
        apis.evaluation.get(f"/sessions/{session_id}/participants/{participant_id}/certification"))


async def roster_of(apis: Apis, session_id: str) -> dict[str, Any]:
    return await apis.registration.get(f"/sessions/{session_id}/roster")


@dataclass(frozen=True)
class SheetRow:
    participant_id: str
    full_name: str
    status: str | None  # the latest mark of the day, None when not marked yet


@dataclass(frozen=True)
class DaySheet:
    """The attendance sheet of one day: everyone with a seat, in seat order, with their mark."""

    session: dict[str, Any]
    day: date
    days: list[date]
    rows: list[SheetRow]

    @property
    def marked(self) -> int:
        return sum(1 for row in self.rows if row.status)


async def day_sheet(apis: Apis, session_id: str, day: date) -> DaySheet:
    session = await session_of(apis, session_id)
    roster = await roster_of(apis, session_id)
    attendance = await apis.registration.get(f"/sessions/{session_id}/attendance")
    marks = attendance["sheet"].get(day.isoformat(), {})
    rows = [SheetRow(e["participant_id"], e["full_name"], (marks.get(e["participant_id"]) or {}).get("status"))
            for e in roster["registered"]]
    return DaySheet(session, day, [date.fromisoformat(d) for d in attendance["days"]], rows)


async def mark_attendance(apis: Apis, session_id: str, day: date, participant_id: str, status: str) -> int:
    """One person's mark of the day: each tap is its own request, so a lost connection loses one mark.
    Returns how many seat holders are now marked that day (the sheet the API answers with)."""
    sheet = await apis.registration.put(f"/sessions/{session_id}/attendance/{day.isoformat()}",
                                        {"marks": [{"participant_id": participant_id, "status": status}]})
    marks = sheet["sheet"].get(day.isoformat(), {})
    return sum(1 for pid in sheet["participant_rates"] if pid in marks)


@dataclass(frozen=True)
class AttendanceOverview:
    session: dict[str, Any]
    days: list[date]
    day_summary: dict[str, dict[str, int]]
    registered: int
    people: list[dict[str, Any]]  # full_name, rate, and status by day (iso) for each seat holder
    session_rate: float | None


async def attendance_overview(apis: Apis, session_id: str) -> AttendanceOverview:
    session = await session_of(apis, session_id)
    roster = await roster_of(apis, session_id)
    attendance = await apis.registration.get(f"/sessions/{session_id}/attendance")
    days = [date.fromisoformat(d) for d in attendance["days"]]
    people = [{"participant_id": e["participant_id"], "full_name": e["full_name"],
               "rate": attendance["participant_rates"].get(e["participant_id"]),
               "by_day": {d.isoformat(): (attendance["sheet"].get(d.isoformat(), {}).get(e["participant_id"]) or {})
                          .get("status") for d in days}}
              for e in roster["registered"]]
    return AttendanceOverview(session, days, attendance["day_summary"], len(roster["registered"]), people,
                              attendance["session_rate"])


async def change_status(apis: Apis, session_id: str, status: str, reason: str | None = None) -> dict[str, Any]:
    body = {"status": status, **({"reason": reason} if reason else {})}
    return await apis.registration.post(f"/sessions/{session_id}/status", body)


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk enrollment did: new seats, new waitlist places, and people already enrolled."""

    registered: list[dict[str, Any]] = field(default_factory=list)
    waitlisted: list[dict[str, Any]] = field(default_factory=list)
    already: list[dict[str, Any]] = field(default_factory=list)


async def enroll_nominees(apis: Apis, session_id: str, people: list[Mapping[str, Any]]) -> BulkOutcome:
    """Registration's bulk enrollment, all or nothing; a person already enrolled comes back
    unchanged (`created` false), so sending the same list again enrolls nobody twice."""
    created = await apis.registration.post(f"/sessions/{session_id}/enrollments/bulk",
                                           {"participants": [dict(person) for person in people]})
    outcome = BulkOutcome()
    for answer in created:
        enrollment = answer["enrollment"]
        if not answer["created"]:
            outcome.already.append(enrollment)
        elif enrollment["status"] == "waitlisted":
            outcome.waitlisted.append(enrollment)
        else:
            outcome.registered.append(enrollment)
    return outcome


@dataclass(frozen=True)
class Invitation:
    token: str
    session_id: str | None
    expires_at: datetime | None


async def new_invitation(apis: Apis, session_id: str, valid_days: int) -> Invitation:
    made = await apis.registration.post(f"/sessions/{session_id}/invitations", {"valid_days": valid_days})
    return read_invitation(made["token"])


def read_invitation(token: str) -> Invitation:
    """What an invitation token says of itself (session and expiry), to show beside it. Read, not
    verified: registration verifies it when the person enrolls with it."""
    try:
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=" * (-len(token.split(".")[1]) % 4)))
        expires = datetime.fromtimestamp(int(claims["exp"]), timezone.utc)
        return Invitation(token, claims.get("session_id"), expires)
    except (IndexError, KeyError, TypeError, ValueError):
        return Invitation(token, None, None)


# -- reports -------------------------------------------------------------------------------------

async def session_report(apis: Apis, session_id: str, language: str) -> dict[str, Any]:
    return await apis.evaluation.get(f"/sessions/{session_id}/report", language=language)


async def choose_quotes(apis: Apis, session_id: str, keys: list[str]) -> list[dict[str, Any]]:
    """Save the quotes picked for the session's write-up: each key is "submission_id|item_id"."""
    picks = [dict(zip(("submission_id", "item_id"), key.split("|", 1))) for key in keys if "|" in key]
    return await apis.evaluation.put(f"/sessions/{session_id}/quotes", {"quotes": picks})


async def write_up(apis: Apis, language: str, session_ids: list[str]) -> dict[str, Any]:
    """The evaluation service's write-up of these sessions, in `language`."""
    return await apis.evaluation.get("/write-up", language=language, session_id=session_ids)


async def report_csv(apis: Apis, session_id: str, language: str) -> tuple[bytes, str]:
    """The evaluation service's CSV of a session report, and its file name."""
    response = await apis.evaluation.call("GET", f"/sessions/{session_id}/report.csv",
                                          params={"language": language}, raw=True)
    return response.content, f"report-{session_id}.csv"


async def cross_session_report(apis: Apis, language: str, filters: Mapping[str, Any]) -> dict[str, Any]:
    return await apis.evaluation.get("/reports", language=language, **filters)


async def trainers(apis: Apis, offset: int, filters: Mapping[str, Any]) -> Listing:
    return await listing(apis.evaluation, "/trainers", offset, **filters)


async def notifications(apis: Apis, offset: int, filters: Mapping[str, Any]) -> Listing:
    return await listing(apis.notification, "/notifications", offset, **filters)


async def resend(apis: Apis, notification_id: str) -> dict[str, Any]:
    return await apis.notification.post(f"/notifications/{notification_id}/resend")
