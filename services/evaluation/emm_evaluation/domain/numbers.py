"""Rounding and averages used in reports, so the same inputs always print the same numbers.

Half-up rounding (4.125 -> 4.13) is what readers of a report expect; Python's round() rounds
half to even. Sums use math.fsum, whose result does not depend on the order of the values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def round_half_up(value: float, places: int = 2) -> float:
    """`value` rounded to `places` decimals, halves away from zero."""
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def mean(values: Iterable[float], places: int = 2) -> float | None:
    """The mean rounded to `places` decimals, or None when there are no values."""
    values = list(values)
    if not values:
        return None
    return round_half_up(math.fsum(values) / len(values), places)


def rate(part: int, whole: int) -> float | None:
    """`part` of `whole` as a fraction from 0 to 1, or None when `whole` is 0: every `rate` and
    `*_rate` of the API and the exports (docs/api-conventions.md). Unrounded, so only all of
    them is 1.0 and only none of them is 0.0; readers round it for display."""
    if whole == 0:
        return None
    return part / whole


def percent(part: int, whole: int) -> int | None:
    """`part` of `whole` as a whole percentage, or None when `whole` is 0: for headline sentences
    only (a number in a report is a `rate`).

    Only all of them is 100% and only none of them is 0%, so a headline never says 100% when
    one person disagreed.
    """
    if whole == 0:
        return None
    value = _whole_percent(part * 100, whole)
    if part != whole:
        value = min(value, 99)
    if part != 0:
        value = max(value, 1)
    return value


def signed_percent_difference(plus: int, minus: int, whole: int) -> int | None:
    """(plus - minus) / whole as a whole percentage, halves away from zero; None when whole is 0."""
    if whole == 0:
        return None
    return _whole_percent((plus - minus) * 100, whole)


def _whole_percent(numerator: int, whole: int) -> int:
    return int((Decimal(numerator) / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def is_finite_number(value: Any) -> bool:
    """A real number (not a bool, not NaN or infinite)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
