"""Quotes for a session's write-up: only comments whose authors agreed to be quoted can be
picked, and an unnamed quote never carries a name (the seed's own write-up quotes a participant:
"This is the best training I've had at IOM!")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from emm_evaluation.domain.errors import InvalidInput
from emm_evaluation.domain.questionnaire import Item

if TYPE_CHECKING:
    from emm_evaluation.domain.report import Response

MAX_QUOTES = 10


@dataclass(frozen=True)
class Quote:
    """A consented free-text answer: `author` only when its author agreed to be named."""

    submission_id: str
    item_id: str
    text: str
    author: str | None

    @property
    def key(self) -> tuple[str, str]:
        return self.submission_id, self.item_id


def quotable(items: Sequence[Item], responses: Iterable[Response]) -> tuple[Quote, ...]:
    """The free-text answers whose authors agreed to be quoted, in submission order."""
    free_text = [item.item_id for item in items if item.type == "free_text"]
    found = []
    for response in responses:
        if response.quote_consent is None or response.submission_id is None:
            continue
        named = response.quote_consent == "named" and not response.anonymous
        for item_id in free_text:
            text = response.answers.get(item_id)
            if isinstance(text, str) and text.strip():
                found.append((response.submitted_at, Quote(response.submission_id, item_id, text.strip(),
                                                           response.full_name if named else None)))
    found.sort(key=lambda q: (q[0], q[1].key))
    return tuple(quote for _, quote in found)


def check_picks(picks: Sequence[tuple[str, str]], candidates: Iterable[Quote]) -> list[tuple[str, str]]:
    """The organizer's picks, each (submission_id, item_id) of a consented comment, once each."""
    if len(picks) > MAX_QUOTES:
        raise InvalidInput("quotes", f"at most {MAX_QUOTES} quotes")
    allowed = {quote.key for quote in candidates}
    for n, pick in enumerate(picks):
        if pick not in allowed:
            raise InvalidInput(f"quotes.{n}", "is not a comment of this session that its author agreed to have quoted")
    return list(dict.fromkeys(picks))


def chosen(picks: Iterable[tuple[str, str]], candidates: Iterable[Quote]) -> tuple[Quote, ...]:
    """The picked quotes still quotable, in the order picked: a pick whose author has since sent
    a new evaluation (a new submission) or withdrawn consent is dropped."""
    by_key = {quote.key: quote for quote in candidates}
    return tuple(by_key[tuple(pick)] for pick in picks if tuple(pick) in by_key)
