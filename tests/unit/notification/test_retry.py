from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from emm_notification.domain.retry import (FinalFailure, PermanentDeliveryError, RetryAt, RetryPolicy,
                                           TemporaryDeliveryError, after_failure, delivery_error_for_reply,
                                           max_attempts, next_attempt_delay)

NOW = datetime(2026, 5, 17, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("code", [421, 450, 451, 452])
def test_4xx_replies_are_temporary(code):
    error = delivery_error_for_reply(code, "try later")
    assert isinstance(error, TemporaryDeliveryError)
    assert error.reason == f"{code} try later"
    assert error.code == code


@pytest.mark.parametrize("code", [550, 551, 552, 553, 554])
def test_5xx_replies_are_permanent(code):
    assert isinstance(delivery_error_for_reply(code, "no such user"), PermanentDeliveryError)


def test_backoff_doubles_from_thirty_seconds():
    assert [next_attempt_delay(n) for n in (1, 2, 3, 4)] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]


def test_backoff_is_capped():
    assert next_attempt_delay(50) == timedelta(hours=1)
    assert next_attempt_delay(10_000) == timedelta(hours=1)


def test_backoff_rejects_attempt_zero():
    with pytest.raises(ValueError):
        next_attempt_delay(0)


def test_six_attempts_by_default():
    assert max_attempts == 6


def test_temporary_failure_is_retried_after_the_backoff():
    outcome = after_failure(2, TemporaryDeliveryError("451 try later"), now=NOW)
    assert outcome == RetryAt(at=NOW + timedelta(seconds=60), next_attempt=3, reason="451 try later")


def test_permanent_failure_ends_at_once():
    outcome = after_failure(1, PermanentDeliveryError("550 no such user"), now=NOW)
    assert outcome == FinalFailure(attempts=1, reason="550 no such user")


def test_temporary_failure_on_the_last_attempt_is_final():
    outcome = after_failure(6, TemporaryDeliveryError("451 try later"), now=NOW)
    assert isinstance(outcome, FinalFailure)
    assert outcome.attempts == 6
    assert "451 try later" in outcome.reason


def test_an_unclassified_error_is_retried_like_a_temporary_one():
    outcome = after_failure(1, RuntimeError("boom"), now=NOW)
    assert isinstance(outcome, RetryAt)
    assert outcome.reason == "RuntimeError: boom"


def test_policy_can_be_tuned():
    policy = RetryPolicy(max_attempts=2, base_delay=timedelta(seconds=5), max_delay=timedelta(seconds=8))
    assert after_failure(1, TemporaryDeliveryError("x"), now=NOW, policy=policy).at == NOW + timedelta(seconds=5)
    assert isinstance(after_failure(2, TemporaryDeliveryError("x"), now=NOW, policy=policy), FinalFailure)
    assert policy.delay_after(3) == timedelta(seconds=8)
