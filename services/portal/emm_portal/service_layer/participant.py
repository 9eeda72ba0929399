"""What the participant pages gather from the APIs. Each function takes the APIs as the person
(`Apis.as_(token)`) and returns what a page shows; the APIs decide what the token may read or do."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from emm_portal.adapters.apis import Apis
from emm_portal.domain import outcomes
from emm_portal.domain.visitor import Visitor

HISTORY_PAGE = 200  # the registration API's largest page; nobody has more trainings than that


@dataclass(frozen=True)
class Training:
    """One of the person's trainings: the session and their enrollment in it."""

    session: dict[str, Any]
    enrollment: dict[str, Any] | None
    mine: bool  # the sign-in is for this enrollment: cancel and evaluate are the person's to do

    @property
    def status(self) -> str | None:
        return self.enrollment["status"] if self.enrollment else None

    @property
    def active(self) -> bool:
        return self.status in ("registered", "waitlisted")


async def history(apis: Apis, visitor: Visitor) -> list[dict[str, Any]]:
    """The person's trainings, newest first: {"session": snapshot, "enrollment": view}."""
    entries = await apis.registration.get(f"/participants/{visitor.subject}/history", limit=HISTORY_PAGE)
    return sorted(entries, key=lambda entry: entry["session"].get("start_date", ""), reverse=True)


def latest_enrollment(entries: list[dict[str, Any]], session_id: str) -> dict[str, Any] | None:
    """The person's enrollment in a session: the active one, else the latest they had."""
    mine = [entry["enrollment"] for entry in entries if entry["enrollment"]["session_id"] == session_id]
    active = [e for e in mine if e["status"] in ("registered", "waitlisted")]
    return (active or mine or [None])[-1]


async def training(apis: Apis, visitor: Visitor, session_id: str) -> Training:
    session = (await apis.registration.get(f"/sessions/{session_id}"))["session"]
    enrollment = latest_enrollment(await history(apis, visitor), session_id)
    mine = enrollment is not None and enrollment["enrollment_id"] == visitor.enrollment_id
    return Training(session, enrollment, mine)


async def certificate(apis: Apis, visitor: Visitor, session_id: str) -> dict[str, Any] | None:
    """The person's trainer certificate if this training certified them (None otherwise, or while
    the evaluation service cannot answer: the page then simply does not show it)."""
    try:
        found = await apis.evaluation.get(f"/participants/{visitor.subject}/certificate")
    except (outcomes.NotFound, outcomes.Unavailable):
        return None
    return found if found.get("session_id") == session_id else None


async def standing(apis: Apis, visitor: Visitor, session_id: str) -> dict[str, Any] | None:
    """Where the person stands towards the trainer certificate in this session, with their test
    scores (None while the evaluation service cannot answer or has not heard of them yet)."""
    try:
        return await apis.evaluation.get(f"/sessions/{session_id}/participants/{visitor.subject}/certification")
    except (outcomes.NotFound, outcomes.Unavailable):
        return None


async def cancel(apis: Apis, visitor: Visitor, session_id: str, reason: str | None) -> dict[str, Any]:
    """Cancel the signed-in enrollment (cancelling twice changes nothing)."""
    return await apis.registration.post(f"/sessions/{session_id}/enrollments/{visitor.enrollment_id}/cancellation",
                                        {"reason": reason} if reason else {})


async def enroll(apis: Apis, session_id: str, person: dict[str, Any]) -> dict[str, Any]:
    """Enrol with an invitation token (the `apis`' token); the same person again gets the same enrollment."""
    return await apis.registration.post(f"/sessions/{session_id}/enrollments", person)


class RecentQuestionnaires:
    """The questionnaires this process showed last: when the evaluation API stops answering
    between showing the form and receiving it, the form is shown again with what was typed."""

    def __init__(self, size: int = 256) -> None:
        self.size, self.items = size, OrderedDict()

    def keep(self, session_id: str, questionnaire: dict[str, Any]) -> None:
        self.items[session_id] = questionnaire
        self.items.move_to_end(session_id)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


RECENT_QUESTIONNAIRES = RecentQuestionnaires()


async def questionnaire(apis: Apis, session_id: str) -> dict[str, Any]:
    """The session's questionnaire; the last one shown if the evaluation API is not answering."""
    try:
        found = await apis.evaluation.get(f"/sessions/{session_id}/questionnaire")
    except outcomes.Unavailable:
        if session_id in RECENT_QUESTIONNAIRES.items:
            return RECENT_QUESTIONNAIRES.items[session_id]
        raise
    RECENT_QUESTIONNAIRES.keep(session_id, found)
    return found


async def submit_evaluation(apis: Apis, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Send the evaluation; the same submission_id again stores nothing twice."""
    return await apis.evaluation.post(f"/sessions/{session_id}/feedback", body)
