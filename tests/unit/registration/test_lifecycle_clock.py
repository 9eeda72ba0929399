"""The lifecycle clock's decisions, with plain datetimes: which step a session is due for, in its
own time zone, and that an organizer's earlier step always wins."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from emm_registration.domain.errors import Conflict
from emm_registration.domain.lifecycle_clock import ClockTimes, step_due, step_event_id
from emm_registration.domain.session import COMPLETED, IN_PROGRESS, OPEN
from tests.unit.registration.examples import scheduled_session

TIMES = ClockTimes(start_hour=8, complete_hour=18, evaluation_period=timedelta(days=14))
UTC = timezone.utc


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def take(session, step: str, now: datetime) -> None:
    {"open": session.open_enrollment, "start": session.start,
     "complete": lambda: session.complete(now, TIMES.evaluation_period),
     "close_evaluation": lambda: session.close_evaluation(now)}[step]()


def test_nothing_is_due_before_the_enrollment_window_opens():
    session = scheduled_session()  # window opens 1 April 00:00 UTC
    assert step_due(session, at(2026, 3, 31, 23, 59), TIMES) is None


def test_enrollment_opens_when_its_window_opens():
    session = scheduled_session()
    assert step_due(session, at(2026, 4, 1), TIMES) == "open"


def test_a_session_without_a_window_is_not_opened_and_starts_on_its_first_day():
    session = scheduled_session(enrollment_opens_at=None, enrollment_closes_at=None)
    assert step_due(session, at(2026, 5, 1), TIMES) is None
    assert step_due(session, at(2026, 5, 17, 8), TIMES) == "start"


def test_a_window_that_closed_before_the_clock_came_is_not_opened():
    session = scheduled_session()
    assert step_due(session, at(2026, 5, 17, 7), TIMES) is None


def test_the_session_starts_at_the_start_hour_of_its_own_time_zone():
    # Mexico City is UTC-6 in May: 08:00 there is 14:00 UTC.
    session = scheduled_session(timezone="America/Mexico_City", enrollment_opens_at=None,
                                enrollment_closes_at=None)
    assert step_due(session, at(2026, 5, 17, 13, 59), TIMES) is None
    assert step_due(session, at(2026, 5, 17, 14, 0), TIMES) == "start"


def test_it_completes_at_the_complete_hour_of_its_last_day_and_closes_the_evaluation_after_the_period():
    session = scheduled_session()
    session.open_enrollment()
    session.start()
    assert step_due(session, at(2026, 5, 18, 17, 59), TIMES) is None
    completion = at(2026, 5, 18, 18)
    assert step_due(session, completion, TIMES) == "complete"
    take(session, "complete", completion)
    assert session.evaluation_closes_at == at(2026, 6, 1, 18)
    assert step_due(session, at(2026, 6, 1, 17, 59), TIMES) is None
    assert step_due(session, at(2026, 6, 1, 18), TIMES) == "close_evaluation"
    take(session, "close_evaluation", at(2026, 6, 1, 18))
    assert step_due(session, at(2027, 1, 1), TIMES) is None


def test_a_clock_stopped_for_weeks_takes_every_missed_step_in_order_one_at_a_time():
    session = scheduled_session()
    now = at(2026, 7, 1)
    steps = []
    while (step := step_due(session, now, TIMES)) is not None:
        steps.append(step)
        take(session, step, now)
    # Opening is pointless once the session should have started: it starts from scheduled. The
    # evaluation window counts from the late completion: participants are invited only then.
    assert steps == ["start", "complete"]
    assert step_due(session, now + TIMES.evaluation_period, TIMES) == "close_evaluation"


def test_an_organizer_who_started_early_is_not_started_again_and_completes_on_time():
    session = scheduled_session()
    session.start()  # the organizer, on 10 May
    assert step_due(session, at(2026, 5, 17, 9), TIMES) is None
    assert step_due(session, at(2026, 5, 18, 18), TIMES) == "complete"


def test_an_organizer_who_completed_early_is_never_completed_again_and_the_window_counts_from_their_step():
    session = scheduled_session()
    session.start()
    session.complete(at(2026, 5, 17, 15), TIMES.evaluation_period)  # the organizer, on day 1
    assert session.status == COMPLETED
    assert step_due(session, at(2026, 5, 18, 18), TIMES) is None
    assert step_due(session, at(2026, 5, 31, 15), TIMES) == "close_evaluation"


def test_an_evaluation_closed_by_an_organizer_is_not_closed_again():
    session = scheduled_session()
    session.start()
    session.complete(at(2026, 5, 18, 18), TIMES.evaluation_period)
    assert session.close_evaluation(at(2026, 5, 20)) is True
    assert session.close_evaluation(at(2026, 5, 21)) is False
    assert step_due(session, at(2026, 6, 2), TIMES) is None


def test_a_past_training_entered_for_the_record_is_moved_by_its_organizer_and_only_its_evaluation_closes():
    session = scheduled_session(now=at(2026, 12, 2))  # 17-18 May, scheduled in December
    assert step_due(session, at(2026, 12, 2, 1), TIMES) is None
    session.start()
    assert step_due(session, at(2026, 12, 2, 2), TIMES) is None  # the organizer completes it
    session.complete(at(2026, 12, 2, 3), TIMES.evaluation_period)
    assert step_due(session, at(2026, 12, 16, 3), TIMES) == "close_evaluation"


def test_a_session_scheduled_on_its_first_day_is_started_at_once():
    session = scheduled_session(now=at(2026, 5, 17, 10), enrollment_opens_at=None, enrollment_closes_at=None)
    assert step_due(session, at(2026, 5, 17, 10, 1), TIMES) == "start"


def test_a_cancelled_session_never_moves():
    session = scheduled_session()
    session.cancel("Venue unavailable", at(2026, 4, 2))
    assert step_due(session, at(2026, 7, 1), TIMES) is None


def test_an_evaluation_cannot_close_before_the_session_completed():
    session = scheduled_session()
    session.start()
    with pytest.raises(Conflict):
        session.close_evaluation(at(2026, 5, 18))


def test_a_session_completed_before_evaluations_had_a_window_closes_a_period_after_completion():
    session = scheduled_session()
    session.start()
    session.complete(at(2026, 5, 18, 18))  # no period: as before the clock existed
    assert session.evaluation_closes_at is None
    assert step_due(session, at(2026, 6, 1, 18), TIMES) == "close_evaluation"


def test_step_event_ids_are_the_same_in_every_clock_instance_and_differ_by_step_and_version():
    assert step_event_id("ses-1", "start", 1, 0) == step_event_id("ses-1", "start", 1, 0)
    assert len({step_event_id("ses-1", "start", 1, 0), step_event_id("ses-1", "start", 2, 0),
                step_event_id("ses-1", "complete", 1, 0), step_event_id("ses-2", "start", 1, 0),
                step_event_id("ses-1", "start", 1, 1)}) == 5


def test_hours_must_be_hours_of_the_day():
    with pytest.raises(ValueError):
        ClockTimes(start_hour=24)
