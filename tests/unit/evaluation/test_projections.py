"""The worker's projection transitions: idempotent, and the newest fact wins whatever the arrival order."""

from __future__ import annotations

import itertools
import json

from emm_evaluation.service_layer import projections as p


def session(sequence=0, status="open", kind="training_of_trainers", facilitators=("fac-1",)):
    return {"session_id": "ses-1", "kind": kind, "status": status, "sequence": sequence,
            "days": ["2026-05-19", "2026-05-20"], "facilitator_ids": list(facilitators)}


SCHEDULED = "org.iom.emm.session.scheduled.v1"
UPDATED = "org.iom.emm.session.updated.v1"


def test_an_older_session_snapshot_arriving_late_changes_nothing():
    newer = p.apply_session_event(None, UPDATED, {"session": session(2, "in_progress")})
    assert p.apply_session_event(newer, SCHEDULED, {"session": session(0)}) == newer
    assert p.session_status(newer) == "in_progress"


def test_completion_wins_over_any_snapshot_and_repeats_keep_the_first_time():
    doc = p.apply_session_event(None, "org.iom.emm.session.completed.v1",
                                {"session_id": "ses-1", "completed_at": "2026-05-20T17:00:00Z"})
    doc = p.apply_session_event(doc, SCHEDULED, {"session": session()})
    again = p.apply_session_event(doc, "org.iom.emm.session.completed.v1",
                                  {"session_id": "ses-1", "completed_at": "2026-05-21T08:00:00Z"})
    assert p.session_status(again) == "completed" and again["completed_at"] == "2026-05-20T17:00:00Z"


def test_enrollment_status_is_the_latest_by_time_in_any_arrival_order():
    events = [("org.iom.emm.enrollment.waitlisted.v1", {"waitlisted_at": "2026-05-01T09:00:00Z", "position": 1}),
              ("org.iom.emm.enrollment.promoted.v1", {"promoted_at": "2026-05-02T09:00:00Z"}),
              ("org.iom.emm.enrollment.cancelled.v1", {"cancelled_at": "2026-05-03T09:00:00Z"})]
    base = {"enrollment_id": "enr-1", "session_id": "ses-1", "participant_id": "par-1"}
    outcomes = set()
    for order in itertools.permutations(events):
        doc = None
        for event_type, fields in [*order, *order]:  # each delivered twice
            doc = p.apply_enrollment_event(doc, event_type, {**base, **fields})
        outcomes.add((doc["status"], doc["status_at"]))
    assert outcomes == {("cancelled", "2026-05-03T09:00:00Z")}


def test_the_latest_attendance_mark_of_a_day_wins():
    base = {"session_id": "ses-1", "participant_id": "par-1", "enrollment_id": "enr-1", "day": "2026-05-19"}
    present = {**base, "status": "present", "recorded_at": "2026-05-19T09:00:00Z"}
    corrected = {**base, "status": "absent", "recorded_at": "2026-05-19T18:00:00Z"}
    for order in ((present, corrected), (corrected, present)):
        doc = None
        for mark in order:
            doc = p.apply_attendance(doc, mark)
        assert p.latest_marks(doc) == {"2026-05-19": "absent"}


def test_a_rater_has_one_rating_per_module_and_the_latest_replaces_the_earlier():
    def rating(pid, at, score):
        return {"peer_feedback_id": pid, "session_id": "ses-1", "trainee_participant_id": "par-2",
                "rater_participant_id": "fac-1", "module": "m1", "submitted_at": at, "scores": {"clarity": score}}
    early, late = rating("pfb-1", "2026-05-19T10:00:00Z", 2), rating("pfb-2", "2026-05-20T10:00:00Z", 5)
    first = p.apply_peer_rating(p.apply_peer_rating(None, early), late)
    second = p.apply_peer_rating(p.apply_peer_rating(None, late), early)
    assert first == second and [r["peer_feedback_id"] for r in p.ratings_of(first)] == ["pfb-2"]


def test_a_resubmission_replaces_the_evaluation_whatever_the_order():
    def submission(sid, at):
        return {"submission_id": sid, "session_id": "ses-1", "submitted_at": at, "anonymous": True, "answers": []}
    a, b = submission("fbk-1", "2026-05-20T10:00:00Z"), submission("fbk-2", "2026-05-21T10:00:00Z")
    one = p.apply_feedback(p.apply_feedback(None, a, "r1"), b, "r1")
    other = p.apply_feedback(p.apply_feedback(None, b, "r1"), a, "r1")
    assert one == other and json.loads(one["submission"])["submission_id"] == "fbk-2"


def test_a_government_delivery_counts_for_its_facilitators_until_cancelled():
    doc = p.apply_session_event(None, SCHEDULED, {"session": session(kind="government_delivery",
                                                                     facilitators=("par-1", "par-2"))})
    assert p.government_facilitators(doc) == {"par-1", "par-2"}
    cancelled = p.apply_session_event(doc, "org.iom.emm.session.cancelled.v1", {
        "session_id": "ses-1", "reason": "r", "cancelled_at": "2026-05-01T00:00:00Z", "sequence": 1})
    assert p.government_facilitators(cancelled) == set()
    assert p.government_facilitators(p.apply_session_event(None, SCHEDULED, {"session": session()})) == set()
