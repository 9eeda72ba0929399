"""The front page and the language switch: for everyone, signed in or not."""

from __future__ import annotations

from fastapi import APIRouter, Request

from emm_portal.domain.language import supported
from emm_portal.entrypoints.deps import CurrentVisitor, Form, Page
from emm_portal.entrypoints.rendering import redirect, safe_next

router = APIRouter()

HOME_OF_ROLE = {"participant": "/trainings", "organizer": "/organize", "facilitator": "/facilitate"}


@router.get("/")
async def home(request: Request, visitor: CurrentVisitor, page: Page):
    if visitor.signed_in and visitor.role == "participant":
        return redirect("/trainings")
    return page.render(request, "home.html", home_of_role=HOME_OF_ROLE.get(visitor.role or ""))


@router.post("/language")
async def switch_language(request: Request, visitor: CurrentVisitor, form: Form):
    language = supported(form.get("lang"))
    if language:
        request.state.visitor = visitor.speaking(language)
    return redirect(safe_next(form.get("next")))
