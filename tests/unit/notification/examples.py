"""Contract-valid payloads and a small read model for the notification tests.

Every payload built here is validated against its JSON Schema, so the planning tests cannot drift
away from the event contract.
"""

from __future__ import annotations

import copy
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from emm_common import contract
from emm_common.auth import TokenIssuer, TokenVerifier
from emm_notification.domain.read_model import Contact, ReadModel, SessionView

T = "org.iom.emm."
SESSION_ID = "ses-dakar-tot-1"

# A signing key of the tests' own, for the links in messages.
_KEY = Ed25519PrivateKey.generate()
ISSUER = TokenIssuer(_KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
VERIFIER = TokenVerifier(_KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo))

SESSION: dict[str, Any] = {
    "session_id": SESSION_ID,
    "title": "EMM2.0 Training-of-Trainers, session 1",
    "kind": "training_of_trainers",
    "programme": "EMM2.0",
    "modules": ["migration-governance", "labour-mobility"],
    "organizing_office": "RO Dakar",
    "city": "Dakar",
    "country": "SN",
    "venue": "IOM Regional Office",
    "start_date": "2026-05-17",
    "end_date": "2026-05-18",
    "days": ["2026-05-17", "2026-05-18"],
    "timezone": "Africa/Dakar",
    "languages": ["fr", "en"],
    "capacity": 20,
    "facilitator_ids": ["par-facilitator-1"],
    "status": "scheduled",
    "sequence": 1,
}

CONTACTS = {
    "par-aminata": Contact("par-aminata", "Aminata Diallo", "aminata@example.org", "fr", True),
    "par-john": Contact("par-john", "John Mensah", "john@example.org", "en", True),
    "par-joao": Contact("par-joao", "João Tavares", "joao@example.org", "pt", True),
    "par-moussa": Contact("par-moussa", "Moussa Traoré", "moussa@example.org", "fr", False),
    "par-facilitator-1": Contact("par-facilitator-1", "Fatou Sow", "fatou@example.org", "fr", True),
}


def valid(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    contract.validate(T + event_type, payload)
    return payload


def session(**changes: Any) -> dict[str, Any]:
    return copy.deepcopy(SESSION) | changes


def state(registered=("par-aminata", "par-john", "par-moussa"), waitlisted=("par-joao",),
          submissions=frozenset(), evaluated=frozenset(), contacts=None, completed: bool = False,
          **session_changes: Any) -> ReadModel:
    view = SessionView(snapshot=session(**session_changes), registered_ids=tuple(registered),
                       waitlisted_ids=tuple(waitlisted), submission_ids=frozenset(submissions),
                       evaluated_ids=frozenset(evaluated), completed=completed)
    return ReadModel(contacts=CONTACTS if contacts is None else contacts, sessions={SESSION_ID: view})


def participant(pid: str, language: str = "fr") -> dict[str, Any]:
    return {"participant_id": pid, "full_name": "Someone", "country": "SN", "preferred_language": language}


def enrollment_registered(pid: str = "par-aminata", language: str = "fr") -> dict[str, Any]:
    return valid("enrollment.registered.v1", {
        "enrollment_id": "enr-1", "session_id": SESSION_ID, "participant_id": pid,
        "participant": participant(pid, language), "registered_at": "2026-04-02T10:00:00Z",
        "enrolled_by": "organizer"})


def enrollment_waitlisted(pid: str = "par-joao", position: int = 2) -> dict[str, Any]:
    return valid("enrollment.waitlisted.v1", {
        "enrollment_id": "enr-21", "session_id": SESSION_ID, "participant_id": pid,
        "participant": participant(pid, "pt"), "waitlisted_at": "2026-04-02T10:00:00Z",
        "position": position, "enrolled_by": "participant"})


def enrollment_promoted(pid: str = "par-joao") -> dict[str, Any]:
    return valid("enrollment.promoted.v1", {
        "enrollment_id": "enr-21", "session_id": SESSION_ID, "participant_id": pid,
        "promoted_at": "2026-04-03T10:00:00Z", "freed_by_enrollment_id": "enr-3"})


def enrollment_cancelled(pid: str = "par-john", previous_status: str = "registered") -> dict[str, Any]:
    return valid("enrollment.cancelled.v1", {
        "enrollment_id": "enr-3", "session_id": SESSION_ID, "participant_id": pid,
        "cancelled_at": "2026-04-03T10:00:00Z", "previous_status": previous_status, "reason": "Mission travel"})


def session_updated(changed_fields=("venue",), **changes: Any) -> dict[str, Any]:
    return valid("session.updated.v1", {"session": session(**changes), "changed_fields": list(changed_fields)})


def session_cancelled(sequence: int = 2) -> dict[str, Any]:
    return valid("session.cancelled.v1", {"session_id": SESSION_ID, "reason": "Venue unavailable",
                                          "cancelled_at": "2026-05-10T09:00:00Z", "sequence": sequence})


def session_completed() -> dict[str, Any]:
    return valid("session.completed.v1", {"session_id": SESSION_ID, "completed_at": "2026-05-18T17:00:00Z"})


def trainer_certified(pid: str = "par-aminata") -> dict[str, Any]:
    return valid("trainer.certified.v1", {
        "trainer_id": f"trn-{pid}", "participant_id": pid, "session_id": SESSION_ID,
        "certified_at": "2026-05-19T08:00:00Z", "certificate_reference": "EMM2-TOT-2026-000001",
        "languages": ["fr", "en"], "country": "SN", "modules": ["migration-governance"]})


def feedback_submitted(submission_id: str, pid: str | None = None, replaces: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "submission_id": submission_id, "session_id": SESSION_ID, "questionnaire_id": "tot-default",
        "questionnaire_version": 1, "anonymous": pid is None, "language": "fr",
        "answers": [{"item_id": "work_performance", "value": 5}], "submitted_at": "2026-05-18T17:30:00Z"}
    if pid:
        payload["participant_id"] = pid
    if replaces:
        payload["replaces_submission_id"] = replaces
    return valid("feedback.submitted.v1", payload)


def evaluation_closed(registered: int = 3, responses: int = 2) -> dict[str, Any]:
    return valid("evaluation.closed.v1", {
        "session_id": SESSION_ID, "closed_at": "2026-06-01T18:00:00Z", "registered": registered,
        "responses": responses, "response_rate": responses / registered,
        "headlines": {"en": ["All 2 respondents (67% of participants) strongly agreed or agreed."],
                      "fr": ["Les 2 répondants (67 % des participants) étaient d'accord."], "pt": []}})


STAFF_ORGANIZER = Contact("stf-fatou", "Fatou Ndiaye", "fatou.ndiaye@iom.example.org", "fr", True, staff_role="organizer")


def staff_updated(staff_id: str = "stf-fatou", role: str = "organizer", active: bool = True,
                  language: str = "fr") -> dict[str, Any]:
    return valid("staff.updated.v1", {
        "staff_id": staff_id, "full_name": "Fatou Ndiaye", "email": f"{staff_id}@iom.example.org",
        "preferred_language": language, "role": role, "offices": ["RO Dakar"], "regional": False, "active": active,
        "updated_at": "2026-04-01T09:00:00Z"})


def sign_in_requested(recipient_id: str = "par-aminata", session_id: str | None = SESSION_ID,
                      request_id: str = "sir-1-0") -> dict[str, Any]:
    payload: dict[str, Any] = {"request_id": request_id, "recipient_id": recipient_id,
                               "requested_at": "2026-05-10T08:30:00Z",
                               "purpose": "participant-sign-in" if session_id else "staff-sign-in"}
    if session_id:
        payload["session_id"] = session_id
    return valid("sign_in.requested.v1", payload)
