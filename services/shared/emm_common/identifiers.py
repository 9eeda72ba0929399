"""Ids travel in our events, so an id a caller chooses (session, enrollment, questionnaire,
submission, peer-feedback ids, a token's subject) must be an id as the event contract allows it.
Every service checks them here, before anything is stored."""

from __future__ import annotations

import re
from typing import Any

from emm_common.errors import InvalidInput

ID_MAX_LENGTH = 64  # the contract's `id` (maxLength in schemas/events/); APIs declare it on every id they take
ID_PATTERN = rf"^[A-Za-z0-9._:-]{{1,{ID_MAX_LENGTH}}}$"  # the OpenAPI documents state it on the ids they take
_ID = re.compile(ID_PATTERN)


def identifier(value: Any, field: str) -> str:
    """An id as the contract allows it: 1-64 letters, digits, `.`, `_`, `:` or `-`."""
    if not isinstance(value, str) or not _ID.fullmatch(value):  # match would let a trailing newline through
        raise InvalidInput(field, f"must be 1-{ID_MAX_LENGTH} characters: letters, digits, '.', '_', ':' or '-'")
    return value
