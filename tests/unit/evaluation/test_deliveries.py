"""A government training counts for its trainers once held: completed with attendance recorded."""

from datetime import date

from emm_evaluation.domain.deliveries import delivered_since, delivery, held

D1, D2 = date(2026, 6, 1), date(2026, 6, 2)


def test_a_completed_training_without_any_mark_was_not_held():
    assert not delivery("gov-1", D2, [{}, {}]).held


def test_it_reached_those_who_attended_at_least_one_day():
    done = delivery("gov-1", D2, [{D1: "present", D2: "absent"}, {D1: "absent", D2: "absent"}, {D2: "late"}, {}])
    assert (done.held, done.marked, done.participants_reached) == (True, 3, 2)


def test_delivered_since_counts_only_held_trainings_ending_that_day_or_later():
    trainings = [delivery("gov-1", D1, [{D1: "present"}]), delivery("gov-2", D2, [])]
    assert [d.session_id for d in held(trainings)] == ["gov-1"]
    assert delivered_since(trainings, D1) and not delivered_since(trainings, D2)
