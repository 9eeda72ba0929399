"""Contract-valid events of the registration service, as the evaluation service consumes them."""

from __future__ import annotations

from datetime import date, timedelta

from emm_common.envelope import Event, new_event

SOURCE = "/emm/registration"
MODULES = ["migration-governance", "border-management"]


def session(session_id: str, *, kind: str = "training_of_trainers", start: date = date(2026, 5, 19), days: int = 2,
            facilitators: tuple[str, ...] = ("fac-1",), status: str = "open", sequence: int = 0,
            country: str = "SN", office: str = "RO Dakar") -> dict:
    session_days = [(start + timedelta(days=n)).isoformat() for n in range(days)]
    return {"session_id": session_id, "title": "EMM2.0 Training-of-Trainers", "kind": kind, "programme": "EMM2.0",
            "modules": MODULES, "organizing_office": office, "city": "Dakar", "country": country,
            "start_date": session_days[0], "end_date": session_days[-1], "days": session_days,
            "timezone": "Africa/Dakar", "languages": ["fr", "en"], "capacity": 20,
            "facilitator_ids": list(facilitators), "status": status, "sequence": sequence}


def scheduled(details: dict) -> Event:
    return new_event("org.iom.emm.session.scheduled.v1", {"session": details}, source=SOURCE)


def updated(details: dict, *changed: str) -> Event:
    return new_event("org.iom.emm.session.updated.v1", {"session": details, "changed_fields": list(changed)},
                     source=SOURCE)


def completed(session_id: str, at: str = "2026-05-20T17:00:00Z") -> Event:
    return new_event("org.iom.emm.session.completed.v1", {"session_id": session_id, "completed_at": at},
                     source=SOURCE)


def participant(n: int, **overrides) -> dict:
    return {"participant_id": f"par-{n}", "full_name": f"Participant {n}", "country": "SN" if n % 2 else "CI",
            "preferred_language": "fr" if n % 2 else "en", "organization": "IOM RO Dakar",
            "sex": "female" if n % 2 else "male", **overrides}


def registered(session_id: str, n: int, at: str = "2026-05-01T09:00:00Z") -> Event:
    return new_event("org.iom.emm.enrollment.registered.v1", {
        "enrollment_id": f"enr-{session_id}-{n}", "session_id": session_id, "participant_id": f"par-{n}",
        "participant": participant(n), "registered_at": at, "enrolled_by": "organizer"}, source=SOURCE)


def attended(session_id: str, n: int, day: str, status: str = "present",
             at: str = "2026-05-19T09:00:00Z") -> Event:
    return new_event("org.iom.emm.attendance.recorded.v1", {
        "attendance_id": f"att-{session_id}-{n}-{day}-{at}", "session_id": session_id, "participant_id": f"par-{n}",
        "enrollment_id": f"enr-{session_id}-{n}", "day": day, "status": status, "recorded_by": "fac-1",
        "recorded_at": at}, source=SOURCE)


def feedback(session_id: str, n: int, work_performance: int = 5, *, anonymous: bool = False,
             submitted_at: str = "2026-05-20T16:00:00Z", respondent_ref: str | None = None) -> Event:
    data = {"submission_id": f"fbk-{session_id}-{n}-{submitted_at}", "session_id": session_id,
            "questionnaire_id": "tot-default", "questionnaire_version": 1, "anonymous": anonymous, "language": "en",
            "answers": [{"item_id": "work_performance", "value": work_performance},
                        *({"item_id": item, "value": 4} for item in ("methodology", "content_quality",
                                                                     "facilitation", "relevance", "organization")),
                        {"item_id": "recommend", "value": 10}],
            "submitted_at": submitted_at}
    if not anonymous:
        data["participant_id"] = f"par-{n}"
    if respondent_ref:
        data["respondent_ref"] = respondent_ref
    return new_event("org.iom.emm.feedback.submitted.v1", data, source="/emm/evaluation")


def peer_rating(session_id: str, trainee: int, rater: str = "fac-1", score: int = 4,
                module: str = "migration-governance") -> Event:
    return new_event("org.iom.emm.peer_feedback.submitted.v1", {
        "peer_feedback_id": f"pfb-{session_id}-{trainee}-{rater}", "session_id": session_id,
        "trainee_participant_id": f"par-{trainee}", "rater_participant_id": rater, "rater_role": "facilitator",
        "module": module, "scores": {c: score for c in ("content_mastery", "clarity", "participant_engagement",
                                                         "time_management", "adult_learning_methods")},
        "submitted_at": "2026-05-20T12:00:00Z"}, source="/emm/evaluation")


def certifiable(session_id: str, n: int) -> list[Event]:
    """Every fact that makes participant n of a completed two-day ToT a certified trainer."""
    return [registered(session_id, n), attended(session_id, n, "2026-05-19"), attended(session_id, n, "2026-05-20"),
            feedback(session_id, n), peer_rating(session_id, n)]


def knowledge_score(session_id: str, n: int, score: float, phase: str = "post",
                    at: str = "2026-05-20T15:00:00Z") -> Event:
    return new_event("org.iom.emm.knowledge_score.recorded.v1", {
        "session_id": session_id, "participant_id": f"par-{n}", "phase": phase, "score": score, "pass_mark": 70,
        "recorded_by": "fac-1", "recorded_at": at}, source="/emm/evaluation")
