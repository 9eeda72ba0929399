"""Enrolling oneself from an organizer's invitation link (/invitations/{token}). The invitation
token is the bearer of every call here; the person has no sign-in yet: their personal link comes
by email once they are enrolled."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from emm_portal.adapters.apis import Apis
from emm_portal.adapters.tokens import unverified_claims
from emm_portal.adapters.translations import countries
from emm_portal.domain import outcomes
from emm_portal.domain.enrollment import check_enrollment
from emm_portal.domain.forms import CheckedForm
from emm_portal.entrypoints.deps import Form, Page
from emm_portal.entrypoints.rendering import Pages
from emm_portal.service_layer import participant

router = APIRouter()
ENROLLMENT_WINDOW = {"enrollment_opens_at", "enrollment_closes_at"}


def invited(request: Request, token: str) -> tuple[Apis, str]:
    """The APIs as the invitation, and the session it is for (NotFound for a token that is no invitation)."""
    session_id = unverified_claims(token).get("session_id")
    if not isinstance(session_id, str) or unverified_claims(token).get("enrollment_id"):
        raise outcomes.NotFound("portal", "not an invitation")
    return request.app.state.apis.as_(token, request.client.host if request.client else None), session_id


async def invitation_session(request: Request, page: Pages, token: str, *,
                             posted: bool = False) -> tuple[Apis, dict[str, Any]] | Response:
    """The APIs as the invitation and its session, or the page saying the invitation is not
    valid. A form posted while registration is not answering gets the session's id only, so the
    form is shown again with what the person typed."""
    apis, session_id = invited(request, token)
    try:
        return apis, (await apis.registration.get(f"/sessions/{session_id}"))["session"]
    except (outcomes.NotSignedIn, outcomes.NotAllowed, outcomes.NotFound):
        return page.render(request, "participant/invitation_invalid.html", status=404)
    except outcomes.Unavailable:
        if not posted:
            raise
        return apis, {"session_id": session_id}


def enrollment_form(request: Request, page: Pages, session: dict[str, Any], checked: CheckedForm, *,
                    status: int = 200, problem: str | None = None) -> Response:
    return page.render(request, "participant/enroll.html", status=status, session=session, form=checked,
                       problem=problem)


@router.get("/invitations/{token}")
async def invitation(request: Request, page: Page, token: str):
    found = await invitation_session(request, page, token)
    if isinstance(found, Response):
        return found
    _, session = found
    language = page.language(request)
    checked = CheckedForm(values={"country": session.get("country", ""), "sex": "undisclosed",
                                  "preferred_language": language if language in session.get("languages", [language])
                                  else session["languages"][0]})
    return enrollment_form(request, page, session, checked)


@router.post("/invitations/{token}")
async def enrol(request: Request, page: Page, token: str, form: Form):
    found = await invitation_session(request, page, token, posted=True)
    if isinstance(found, Response):
        return found
    apis, session = found
    checked = check_enrollment(form, {code for code, _ in countries("en")})
    if "title" not in session:
        return enrollment_form(request, page, session, checked, status=503, problem="unavailable")
    if not checked.ok:
        return enrollment_form(request, page, session, checked, status=422)
    try:
        created = await participant.enroll(apis, session["session_id"], checked.data)
    except outcomes.Unavailable:
        return enrollment_form(request, page, session, checked, status=503, problem="unavailable")
    except outcomes.Invalid as refused:
        if set(refused.field_errors) & ENROLLMENT_WINDOW:
            return enrollment_form(request, page, session, checked, status=409, problem="window")
        checked.refused_by_api(refused.field_errors)
        return enrollment_form(request, page, session, checked, status=422)
    except (outcomes.Refused, outcomes.NotAllowed):
        return enrollment_form(request, page, session, checked, status=409, problem="closed")
    return page.render(request, "participant/enrolled.html", session=session, enrollment=created["enrollment"],
                       consent=checked.data["consent_to_contact"], calendar=f"/invitations/{token}/calendar.ics")


@router.get("/invitations/{token}/calendar.ics")
async def invitation_calendar(request: Request, page: Page, token: str):
    apis, session_id = invited(request, token)
    return await calendar_file(apis, session_id, page.language(request))


async def calendar_file(apis: Apis, session_id: str, language: str) -> Response:
    """The session's calendar event as registration makes it: the same event (UID, SEQUENCE) as the
    invitations in the emails, so a calendar updates the one it has instead of adding a second."""
    answer = await apis.registration.call("GET", f"/sessions/{session_id}/calendar.ics",
                                          params={"language": language}, raw=True)
    return Response(answer.content, media_type="text/calendar; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{session_id}.ics"'})
