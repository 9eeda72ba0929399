"""The programme's time: the wall clock, or a fast-forwarded copy that every process with the same
settings reads alike (a restarted worker carries on where the one it replaced was)."""

from datetime import datetime, timedelta, timezone

import pytest

from emm_common.clock import ProgrammeClock

REAL_START = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)


def test_by_default_it_is_the_wall_clock():
    clock = ProgrammeClock(real_now=lambda: REAL_START)
    assert not clock.fast_forwarded and clock.now() == REAL_START


def test_fast_forwarded_a_day_lasts_thirty_seconds_from_the_origin():
    real = {"now": REAL_START}
    clock = ProgrammeClock(2880, datetime(2026, 5, 16, 12), REAL_START, real_now=lambda: real["now"])
    assert clock.now() == datetime(2026, 5, 16, 12, tzinfo=timezone.utc)
    real["now"] = REAL_START + timedelta(seconds=30)
    assert clock.now() == datetime(2026, 5, 17, 12, tzinfo=timezone.utc)
    assert clock.real_seconds(86400) == 30


def test_two_clocks_with_the_same_settings_agree_whenever_they_were_made():
    real = {"now": REAL_START + timedelta(seconds=45)}
    first = ProgrammeClock(2880, datetime(2026, 5, 16, 12), REAL_START, real_now=lambda: real["now"])
    second = ProgrammeClock(2880, datetime(2026, 5, 16, 12), REAL_START, real_now=lambda: real["now"])
    assert first.now() == second.now()


def test_origin_and_origin_at_go_together():
    with pytest.raises(ValueError):
        ProgrammeClock(2, datetime(2026, 5, 16))
