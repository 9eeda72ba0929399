"""What the organizer's and facilitator's pages share when they render: the page language's
gettext for text made in code (chart labels, form problems), and problems as the form macros
want them (field name -> message in the page's language)."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from emm_portal.domain import outcomes
from emm_portal.domain.form_input import Problem, api_problems
from emm_portal.entrypoints.rendering import Pages


def errors_of(request: Request, page: Pages, problems: Mapping[str, Problem]) -> dict[str, str]:
    gettext = page.gettext(request)
    return {name: problem.text(gettext) for name, problem in problems.items()}


def render(request: Request, page: Pages, template: str, status: int = 200, **context) -> Response:
    """`page.render` with what staff pages also use: `problem_text(problem)` in the page's language."""
    gettext = page.gettext(request)
    return page.render(request, template, status=status, problem_text=lambda problem: problem.text(gettext),
                       **context)


@dataclass(frozen=True)
class Attempt:
    """What became of a form's call to an API: its answer, or the API's refusals as the form's
    problems, or the service that did not answer (the page then keeps the form as it was typed)."""

    answer: Any = None
    problems: Mapping[str, Problem] = field(default_factory=dict)
    unavailable: str | None = None

    @property
    def done(self) -> bool:
        return not self.problems and self.unavailable is None

    @property
    def status(self) -> int:
        """The status of the page that shows the form again."""
        return 503 if self.unavailable else 422


async def attempt(call: Awaitable[Any], fields: Iterable[str]) -> Attempt:
    """Await an API call made for a form with `fields`."""
    try:
        return Attempt(answer=await call)
    except outcomes.Unavailable as down:
        return Attempt(unavailable=down.service)
    except (outcomes.Invalid, outcomes.Refused) as refused:
        return Attempt(problems=api_problems(refused.field_errors or {"_": refused.message}, fields))


def csv_download(content: bytes, filename: str) -> Response:
    return Response(content, media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{filename}"'})
