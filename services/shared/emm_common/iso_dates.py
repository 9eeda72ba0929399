"""`IsoDate`: a date written as ISO 8601 says it, YYYY-MM-DD, and nothing else. Pydantic's own
`date` also reads a number as a Unix timestamp (`period_to=0` would be 1 January 1970); every date
an API takes, in a query, a path or a body, is an `IsoDate` instead (docs/api-conventions.md)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

ISO_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_ISO_DATE = re.compile(ISO_DATE_PATTERN)


def iso_date(value: Any) -> Any:
    """The value if it is a date or reads as YYYY-MM-DD (pydantic then checks it is a real day)."""
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise PydanticCustomError("iso_date", "must be a date written YYYY-MM-DD, e.g. 2026-05-17")


IsoDate = Annotated[date, BeforeValidator(iso_date)]
