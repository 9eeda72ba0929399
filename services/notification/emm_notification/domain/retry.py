"""Delivery failures: which ones are worth another try, and when.

Any channel raises TemporaryDeliveryError (the receiver may accept later: 4xx SMTP replies,
refused or dropped connections, timeouts) or PermanentDeliveryError (it never will: 5xx).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


class DeliveryError(Exception):
    """A message was not accepted by its channel. `reason` goes into the notification log."""

    def __init__(self, reason: str, *, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TemporaryDeliveryError(DeliveryError):
    """Try again later: the receiver was busy, unreachable or slow."""


class PermanentDeliveryError(DeliveryError):
    """Do not try again: the receiver refused the message for good."""


def delivery_error_for_reply(code: int, text: str) -> DeliveryError:
    """Classify an SMTP reply: 4xx is temporary; 5xx and anything unexpected is permanent.

    An unexpected code (not 4xx) is treated as permanent because resending the same bytes to the
    same server would get the same answer.
    """
    reason = f"{code} {text}".strip()
    if 400 <= code < 500:
        return TemporaryDeliveryError(reason, code=code)
    return PermanentDeliveryError(reason, code=code)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: base, base*2, base*4, ... capped; at most `max_attempts` tries in all."""

    max_attempts: int = 6
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)

    def delay_after(self, attempt: int) -> timedelta:
        if attempt < 1:
            raise ValueError("attempts are counted from 1")
        # Capping the exponent first keeps a large attempt number from overflowing timedelta.
        factor = 2 ** min(attempt - 1, 32)
        return min(self.base_delay * factor, self.max_delay)


DEFAULT_POLICY = RetryPolicy()
max_attempts = DEFAULT_POLICY.max_attempts


@dataclass(frozen=True)
class RetryAt:
    """Try again at `at` (attempt number `next_attempt`)."""

    at: datetime
    next_attempt: int
    reason: str


@dataclass(frozen=True)
class FinalFailure:
    """Give up: publish notification.failed with this reason after `attempts` tries."""

    attempts: int
    reason: str


def next_attempt_delay(attempt: int, policy: RetryPolicy = DEFAULT_POLICY) -> timedelta:
    """How long to wait after failed attempt number `attempt` (1-based) before the next one."""
    return policy.delay_after(attempt)


def after_failure(attempt: int, error: BaseException, *, now: datetime,
                  policy: RetryPolicy = DEFAULT_POLICY) -> RetryAt | FinalFailure:
    """What to do after attempt number `attempt` failed with `error`.

    A permanent error ends at once; anything else (temporary, or an error nobody classified) is
    retried until `policy.max_attempts` tries have been made.
    """
    reason = error.reason if isinstance(error, DeliveryError) else f"{type(error).__name__}: {error}"
    if isinstance(error, PermanentDeliveryError):
        return FinalFailure(attempts=attempt, reason=reason)
    if attempt >= policy.max_attempts:
        return FinalFailure(attempts=attempt, reason=f"gave up after {attempt} attempts: {reason}")
    return RetryAt(at=now + policy.delay_after(attempt), next_attempt=attempt + 1, reason=reason)
