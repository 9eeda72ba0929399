"""Ids a caller may choose (questionnaire, submission, peer-feedback ids) travel in our events, so
they must be ids as the event contract allows them."""

from __future__ import annotations

import re
from typing import Any

from emm_evaluation.domain.errors import InvalidInput

_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def identifier(value: Any, field: str) -> str:
    """An id as the contract allows it: 1-64 letters, digits, `.`, `_`, `:` or `-`."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidInput(field, "must be 1-64 characters: letters, digits, '.', '_', ':' or '-'")
    return value
