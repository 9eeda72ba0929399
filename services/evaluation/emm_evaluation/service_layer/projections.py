"""The worker's projections as pure transitions: (document or None, event payload) -> new document.

Every transition is idempotent and keeps the newest fact by the time the fact carries (not the
order it arrives in), so a redelivered or replayed event changes nothing and a rebuild from the
topics ends up with the same documents. Facts that arrive before what they refer to (feedback
before the enrollment, attendance before the session) are stored as they are: the worker
re-evaluates certification when the missing fact arrives ("accept and reconcile").

Documents (all read by `_id`):
- sessions/{session_id}: the session as scheduled or last updated, completion, cancellation, and
  the index of its participants and respondents (report and certification read those by `_id`).
- trainees/{session_id}|{participant_id}: one person in one session: enrollment status and
  public profile, latest attendance mark per day, peer ratings received (JSON text).
- responses/{session_id}|{respondent_ref}: the current evaluation of one respondent (JSON text).
- facilitators/{participant_id}: government deliveries they facilitate: `government_sessions` once
  completed (delivered), `upcoming_sessions` while scheduled or in progress.
"""

from __future__ import annotations

import json
from typing import Any

STATUS_OF_ENROLLMENT_EVENT = {
    "org.iom.emm.enrollment.registered.v1": ("registered", "registered_at"),
    "org.iom.emm.enrollment.waitlisted.v1": ("waitlisted", "waitlisted_at"),
    "org.iom.emm.enrollment.promoted.v1": ("registered", "promoted_at"),
    "org.iom.emm.enrollment.cancelled.v1": ("cancelled", "cancelled_at"),
}
GOVERNMENT_DELIVERY = "government_delivery"


def trainee_id(session_id: str, participant_id: str) -> str:
    return f"{session_id}|{participant_id}"


def response_id(session_id: str, ref: str) -> str:
    return f"{session_id}|{ref}"


def _sorted_union(values: list[str] | None, value: str) -> list[str]:
    return sorted(set(values or ()) | {value})


# -- sessions -----------------------------------------------------------------------------------

def new_session_doc(session_id: str) -> dict[str, Any]:
    return {"_id": session_id, "session": None, "completed_at": None, "cancelled_at": None,
            "participants": [], "respondents": []}


SESSION_EVALUATION_CLOSED = "org.iom.emm.session.evaluation_closed.v1"


def apply_session_event(doc: dict | None, event_type: str, data: dict) -> dict:
    """The session document after a session.* event (older sequences are ignored)."""
    session_id = data["session"]["session_id"] if "session" in data else data["session_id"]
    doc = dict(doc or new_session_doc(session_id))
    if event_type in ("org.iom.emm.session.scheduled.v1", "org.iom.emm.session.updated.v1"):
        current = doc.get("session")
        if current is None or data["session"]["sequence"] >= current["sequence"]:
            doc["session"] = data["session"]
    elif event_type == "org.iom.emm.session.completed.v1":
        doc["completed_at"] = min(filter(None, (doc.get("completed_at"), data["completed_at"])))
    elif event_type == "org.iom.emm.session.cancelled.v1":
        doc["cancelled_at"] = min(filter(None, (doc.get("cancelled_at"), data["cancelled_at"])))
    elif event_type == SESSION_EVALUATION_CLOSED:
        doc["evaluation_closed_at"] = min(filter(None, (doc.get("evaluation_closed_at"), data["closed_at"])))
    return doc


def with_participant(doc: dict | None, session_id: str, participant_id: str) -> dict:
    doc = dict(doc or new_session_doc(session_id))
    doc["participants"] = _sorted_union(doc.get("participants"), participant_id)
    return doc


def with_respondent(doc: dict | None, session_id: str, ref: str) -> dict:
    doc = dict(doc or new_session_doc(session_id))
    doc["respondents"] = _sorted_union(doc.get("respondents"), ref)
    return doc


def session_status(doc: dict | None) -> str | None:
    """The effective status: cancellation and completion events win over the last snapshot."""
    if doc is None or doc.get("session") is None:
        return None
    if doc.get("cancelled_at"):
        return "cancelled"
    if doc.get("completed_at"):
        return "completed"
    return doc["session"]["status"]


def government_facilitators(doc: dict | None) -> set[str]:
    """The facilitators a government delivery counts for (none once it is cancelled)."""
    if doc is None or doc.get("session") is None or doc["session"]["kind"] != GOVERNMENT_DELIVERY:
        return set()
    if session_status(doc) == "cancelled":
        return set()
    return set(doc["session"].get("facilitator_ids") or ())


def delivery_state(doc: dict | None) -> str | None:
    """"delivered" once a government delivery is completed, "upcoming" before, None if cancelled."""
    status = session_status(doc)
    return None if status in (None, "cancelled") else "delivered" if status == "completed" else "upcoming"


def apply_delivery(doc: dict | None, participant_id: str, session_id: str, state: str | None) -> dict:
    """The facilitator's deliveries with `session_id` delivered, upcoming, or (None) not theirs."""
    doc = dict(doc or {"_id": participant_id})
    lists = {"delivered": "government_sessions", "upcoming": "upcoming_sessions"}
    for kind, field in lists.items():
        sessions = set(doc.get(field) or ()) - {session_id}
        doc[field] = sorted(sessions | {session_id} if state == kind else sessions)
    return doc


# -- one person in one session ------------------------------------------------------------------

def new_trainee_doc(session_id: str, participant_id: str) -> dict[str, Any]:
    return {"_id": trainee_id(session_id, participant_id), "session_id": session_id,
            "participant_id": participant_id, "enrollment_id": None, "status": None, "status_at": None,
            "profile": None, "marks": {}, "ratings": "{}"}


def apply_enrollment_event(doc: dict | None, event_type: str, data: dict) -> dict:
    """The trainee after an enrollment.* event: the status with the latest time wins."""
    status, time_field = STATUS_OF_ENROLLMENT_EVENT[event_type]
    doc = dict(doc or new_trainee_doc(data["session_id"], data["participant_id"]))
    at = data[time_field]
    if doc.get("status_at") is None or at >= doc["status_at"]:
        doc.update(status=status, status_at=at, enrollment_id=data["enrollment_id"])
    if "participant" in data:
        doc["profile"] = public_profile(data["participant"])
    return doc


def public_profile(participant: dict) -> dict[str, Any]:
    keys = ("full_name", "country", "organization", "sex", "preferred_language", "working_languages")
    return {key: participant.get(key) for key in keys}


def apply_attendance(doc: dict | None, data: dict) -> dict:
    """The latest mark per day wins (marks are "recorded_at|status" strings, small and flat)."""
    doc = dict(doc or new_trainee_doc(data["session_id"], data["participant_id"]))
    marks = dict(doc.get("marks") or {})
    mark = f"{data['recorded_at']}|{data['status']}"
    if data["day"] not in marks or mark >= marks[data["day"]]:
        marks[data["day"]] = mark
    doc["marks"] = marks
    if doc.get("enrollment_id") is None:
        doc["enrollment_id"] = data["enrollment_id"]
    return doc


def latest_marks(doc: dict) -> dict[str, str]:
    """Day -> status of the latest mark."""
    return {day: mark.rsplit("|", 1)[1] for day, mark in (doc.get("marks") or {}).items()}


def apply_peer_rating(doc: dict | None, data: dict) -> dict:
    """One rating per (rater, module) on the trainee: the latest submitted wins."""
    doc = dict(doc or new_trainee_doc(data["session_id"], data["trainee_participant_id"]))
    ratings = json.loads(doc.get("ratings") or "{}")
    key = f"{data['rater_participant_id']}|{data['module']}"
    earlier = ratings.get(key)
    if earlier is None or (data["submitted_at"], data["peer_feedback_id"]) >= (
            earlier["submitted_at"], earlier["peer_feedback_id"]):
        ratings[key] = data
    doc["ratings"] = json.dumps(ratings, sort_keys=True, separators=(",", ":"))
    return doc


def apply_knowledge_score(doc: dict | None, data: dict) -> dict:
    """One score per phase (pre, post): the latest recorded wins (a tie goes to the higher score,
    so any order of the same facts gives the same document)."""
    doc = dict(doc or new_trainee_doc(data["session_id"], data["participant_id"]))
    scores = dict(doc.get("knowledge") or {})
    earlier = scores.get(data["phase"])
    if earlier is None or (data["recorded_at"], data["score"]) >= (earlier["recorded_at"], earlier["score"]):
        scores[data["phase"]] = {"score": data["score"], "recorded_at": data["recorded_at"]}
    doc["knowledge"] = scores
    return doc


def knowledge_score(doc: dict | None, phase: str) -> float | None:
    """The trainee's latest `phase` score (pre or post), None if none was recorded."""
    return (((doc or {}).get("knowledge") or {}).get(phase) or {}).get("score")


def ratings_of(doc: dict) -> list[dict]:
    return [ratings for _, ratings in sorted(json.loads(doc.get("ratings") or "{}").items())]


# -- evaluations ---------------------------------------------------------------------------------

def apply_feedback(doc: dict | None, data: dict, ref: str) -> dict:
    """The respondent's current evaluation: the latest submitted wins (a resubmission replaces)."""
    doc = dict(doc or {"_id": response_id(data["session_id"], ref), "session_id": data["session_id"],
                       "ref": ref, "submitted_at": None, "submission": None})
    if doc["submitted_at"] is None or (data["submitted_at"], data["submission_id"]) >= (
            doc["submitted_at"], json.loads(doc["submission"])["submission_id"]):
        doc["submitted_at"] = data["submitted_at"]
        doc["submission"] = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return doc
