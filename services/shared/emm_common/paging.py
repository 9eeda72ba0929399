"""Paging of every list endpoint (see docs/api-conventions.md).

A list endpoint takes `limit` (default 50, at most 200; beyond is a 422) and `offset` (items to
skip). Its body stays the JSON list it always was; when more items follow, the response has a
`Link: <...>; rel="next"` header (RFC 8288, the same query with the next offset) and an
`EMM-Next-Offset` header. A route declares `page: Paging` and returns `page.of(page.window(items))`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request, Response

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 2**31 - 1  # a skip the database takes as a plain int; no list comes near it
NEXT_OFFSET_HEADER = "EMM-Next-Offset"
T = TypeVar("T")
_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


class Page:
    """One page of a list: `limit` items from `offset`, and the response that announces the next."""

    def __init__(self, limit: int = DEFAULT_LIMIT, offset: int = 0, request: Request | None = None,
                 response: Response | None = None) -> None:
        self.limit = limit
        self.offset = offset
        self._request = request
        self._response = response

    @property
    def fetch(self) -> int:
        """How many items to read from `offset`: one more than the page, to know if another follows."""
        return self.limit + 1

    def window(self, items: Sequence[T]) -> list[T]:
        """The page's items of the whole ordered list, and the next one if there is one."""
        return list(items[self.offset:self.offset + self.fetch])

    def of(self, window: Sequence[T]) -> list[T]:
        """The page from a window of up to `fetch` items read from `offset`; announces the next page
        in the response headers when the window holds more than the page."""
        if len(window) > self.limit and self._response is not None:
            next_offset = self.offset + self.limit
            self._response.headers[NEXT_OFFSET_HEADER] = str(next_offset)
            if self._request is not None:
                url = self._request.url.include_query_params(offset=next_offset, limit=self.limit)
                self._response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
        return list(window[:self.limit])


def page_of_request(request: Request, response: Response,
                    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=(
                        f"Items per page (at most {MAX_LIMIT}); the `Link` header (rel=next) and "
                        f"`{NEXT_OFFSET_HEADER}` point to the next page when there is one"))] = DEFAULT_LIMIT,
                    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET,
                                                 description="Items to skip, from the start of the list")] = 0,
                    ) -> Page:
    return Page(limit, offset, request, response)


Paging = Annotated[Page, Depends(page_of_request)]


def next_link(headers: Mapping[str, str]) -> str | None:
    """For clients: the address of the next page from a list response's headers, None on the last."""
    found = _NEXT.search(headers.get("link", ""))
    return found.group(1) if found else None
