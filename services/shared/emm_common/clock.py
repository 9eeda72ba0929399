"""The programme's time: real time, or real time fast-forwarded so that a test or a demo watches
a whole session's life (days of training, an evaluation window of days) in minutes.

`ProgrammeClock(speed=1)` is the wall clock. With `origin` and `origin_at`, the programme time at
the real instant `origin_at` is `origin`, and it runs `speed` times faster from there: every
duration measured in programme time (a session day, the evaluation window, a reminder's lead) is
`speed` times shorter in real time. The mapping depends on settings only, never on when a process
started, so a restarted process reads the same time as the one it replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable


def wall_clock() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ProgrammeClock:
    speed: float = 1.0
    origin: datetime | None = None  # the programme time at `origin_at`
    origin_at: datetime | None = None  # a real instant
    real_now: Callable[[], datetime] = wall_clock

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("the clock's speed must be positive")
        if (self.origin is None) != (self.origin_at is None):
            raise ValueError("origin and origin_at go together")
        for name in ("origin", "origin_at"):  # a naive time in the settings is UTC
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                object.__setattr__(self, name, value.replace(tzinfo=timezone.utc))

    @property
    def fast_forwarded(self) -> bool:
        return self.origin is not None or self.speed != 1.0

    def now(self) -> datetime:
        """The programme's current time, timezone-aware UTC."""
        real = self.real_now()
        if not self.fast_forwarded:
            return real
        origin = self.origin or self.origin_at or real
        origin_at = self.origin_at or real
        return (origin + (real - origin_at) * self.speed).astimezone(timezone.utc)

    def real_seconds(self, programme_seconds: float) -> float:
        """How long `programme_seconds` of programme time last in real time."""
        return programme_seconds / self.speed
