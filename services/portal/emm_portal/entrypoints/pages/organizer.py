"""The organizer's session pages: the list with filters, schedule and edit, the lifecycle
(open, start, complete, cancel with a reason), the roster, enrolling a list of nominees
(preview, then confirm) and the invitation link with its QR code."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from emm_portal.domain import outcomes
from emm_portal.domain.form_input import COUNTRY_CODES, N_, FormReader
from emm_portal.domain.invitation_qr import invitation_url, qr_svg
from emm_portal.domain.nominees import FIELD_LABELS, MAX_INPUT_BYTES, preview_nominees
from emm_portal.domain.session_form import FIELDS as SESSION_FIELDS, TIMEZONES, changes_of, form_values, \
    read_session_form
from emm_portal.entrypoints.deps import AsVisitor, Form, Organizer, Page
from emm_portal.entrypoints.rendering import redirect
from emm_portal.entrypoints.staff_rendering import Attempt, attempt, csv_download, errors_of, render
from emm_portal.service_layer import exports, staff_views as views

router = APIRouter(prefix="/organize")
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
Code = Annotated[str | None, Query(max_length=64)]
STATUSES = ("scheduled", "open", "in_progress", "completed", "cancelled")
ENTER_REASON = N_("Say why the session is cancelled: participants read it")
CHOOSE_CONSENT = N_("Confirm that these people agreed to receive emails about this training")
LIST_CHANGED = N_("The list changed since the preview: check it again")
INVITATION_DAYS = 30


def new_session_id() -> str:
    """Made when the form is shown and posted with it: sending the form twice schedules one session."""
    return f"ses-{uuid.uuid4().hex[:16]}"


# -- the list ------------------------------------------------------------------------------------

@router.get("")
async def sessions(request: Request, who: Organizer, page: Page, apis: AsVisitor, offset: Offset = 0,
                   status: Code = None, country: Code = None):
    status = status if status in STATUSES else None
    country = country.upper() if country and country.upper() in COUNTRY_CODES else None
    found = await views.listing(apis.registration, "/sessions", offset, status=status, country=country)
    filters = {name: value for name, value in (("status", status), ("country", country)) if value}
    return render(request, page, "organizer/sessions.html", sessions=found, filters=filters, statuses=STATUSES)


# -- schedule and edit ---------------------------------------------------------------------------

@router.get("/sessions/new")
async def new_session(request: Request, who: Organizer, page: Page, apis: AsVisitor):
    values = {"session_id": new_session_id(), "kind": "training_of_trainers", "timezone": "Africa/Dakar",
              "languages": [page.language(request)], "country": "SN", "capacity": "20"}
    return await render_session_form(request, page, apis, values=values, problems={})


@router.post("/sessions/new")
async def schedule(request: Request, who: Organizer, page: Page, apis: AsVisitor, form: Form):
    read = read_session_form(form)
    session_id = FormReader(form).raw("session_id") or new_session_id()
    values = {**read.values, "session_id": session_id}
    if read.details is None:
        return await render_session_form(request, page, apis, values=values, problems=read.problems, status=422)
    scheduled = await attempt(apis.registration.post("/sessions", {**read.details, "session_id": session_id}),
                              SESSION_FIELDS)
    if not scheduled.done:
        return await render_session_form(request, page, apis, values=values, problems=scheduled.problems,
                                         unavailable=scheduled.unavailable, status=scheduled.status)
    return redirect(f"/organize/sessions/{session_id}?done=scheduled")


@router.get("/sessions/{session_id}/edit")
async def edit_session(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor):
    view = await views.session_of(apis, session_id)
    return await render_session_form(request, page, apis, values=form_values(view["session"]), problems={},
                                      session=view)


@router.post("/sessions/{session_id}/edit")
async def change_session(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor,
                         form: Form):
    view = await views.session_of(apis, session_id)
    read = read_session_form(form)
    if read.details is None:
        return await render_session_form(request, page, apis, values=read.values, problems=read.problems,
                                         session=view, status=422)
    changes = changes_of(read.details, view["session"])
    if changes:
        changed = await attempt(apis.registration.patch(f"/sessions/{session_id}", changes), SESSION_FIELDS)
        if not changed.done:
            return await render_session_form(request, page, apis, values=read.values, problems=changed.problems,
                                             session=view, unavailable=changed.unavailable, status=changed.status)
    return redirect(f"/organize/sessions/{session_id}?done={'changed' if changes else 'unchanged'}")


async def render_session_form(request: Request, page: Page, apis: AsVisitor, *, values: dict, problems: dict,
                              session: dict | None = None, unavailable: str | None = None, status: int = 200):
    return render(request, page, "organizer/session_form.html", status=status, values=values,
                  errors=errors_of(request, page, problems), session=session, unavailable=unavailable,
                  timezones=[(zone, zone.replace("_", " ")) for zone in TIMEZONES],
                  facilitators=await facilitator_choices(apis))


async def facilitator_choices(apis: AsVisitor) -> list[dict[str, Any]] | None:
    """The staff directory's facilitators to tick, or None where registration has no directory
    (the form then takes staff ids as text)."""
    try:
        found = await views.listing(apis.registration, "/staff", 0, role="facilitator")
    except (outcomes.NotFound, outcomes.Unavailable, outcomes.NotAllowed):
        return None
    return [member for member in found.items if member.get("active", True)]


# -- one session and its lifecycle ---------------------------------------------------------------

@router.get("/sessions/{session_id}")
async def session_detail(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor,
                         done: str | None = None):
    view = await views.session_of(apis, session_id)
    return render(request, page, "organizer/session.html", view=view, done=done,
                  moves=views.LIFECYCLE.get(view["session"]["status"], ()))


@router.post("/sessions/{session_id}/status")
async def move(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor, form: Form):
    status = str(form.get("status", ""))
    if status not in ("open", "in_progress", "completed"):  # cancelling has its own page, with a reason
        raise HTTPException(404)
    try:
        await views.change_status(apis, session_id, status)
    except (outcomes.Invalid, outcomes.Refused) as refused:
        view = await views.session_of(apis, session_id)
        return render(request, page, "organizer/session.html", status=409, view=view, done=None,
                      moves=views.LIFECYCLE.get(view["session"]["status"], ()), refused=refused.message)
    return redirect(f"/organize/sessions/{session_id}?done={status}")


@router.get("/sessions/{session_id}/cancel")
async def cancel_form(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor):
    view = await views.session_of(apis, session_id)
    return render(request, page, "organizer/cancel.html", view=view, values={}, errors={}, unavailable=None)


@router.post("/sessions/{session_id}/cancel")
async def cancel(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor, form: Form):
    read = FormReader(form)
    reason = read.text("reason", 1000, missing=ENTER_REASON)
    cancelled = await attempt(views.change_status(apis, session_id, "cancelled", reason), ("reason",)) \
        if reason else Attempt(problems=read.problems)
    if cancelled.done:
        return redirect(f"/organize/sessions/{session_id}?done=cancelled")
    unavailable = cancelled.unavailable
    view = await views.session_of(apis, session_id) if unavailable is None else {"session": {
        "session_id": session_id, "title": "", "status": ""}}
    return render(request, page, "organizer/cancel.html", status=cancelled.status, view=view,
                  values=read.values, errors=errors_of(request, page, cancelled.problems), unavailable=unavailable)


# -- roster --------------------------------------------------------------------------------------

@router.get("/sessions/{session_id}/roster")
async def roster(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor):
    view = await views.session_of(apis, session_id)
    return render(request, page, "organizer/roster.html", view=view, roster=await views.roster_of(apis, session_id))


@router.get("/sessions/{session_id}/participants/{participant_id}/certification")
async def certification(request: Request, session_id: str, participant_id: str, who: Organizer, page: Page,
                        apis: AsVisitor):
    view, standing = await views.certification_of(apis, session_id, participant_id)
    return render(request, page, "organizer/certification.html", view=view, standing=standing)


# -- enrolling a list of nominees ----------------------------------------------------------------

@router.get("/sessions/{session_id}/enroll")
async def enroll_form(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor):
    view = await views.session_of(apis, session_id)
    return render(request, page, "organizer/enroll.html", view=view, values={}, errors={},
                  max_kb=MAX_INPUT_BYTES // 1000)


@router.post("/sessions/{session_id}/enroll")
async def enroll_preview(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor,
                         form: Form):
    """The preview: every row with its problems. Nothing is saved; the confirmation posts the
    list again (as text), and it is read again then."""
    view = await views.session_of(apis, session_id)
    upload = form.get("file")
    pasted = str(form.get("list", ""))
    if isinstance(upload, UploadFile) and upload.filename:
        source: str | bytes = await upload.read(MAX_INPUT_BYTES + 1)
    else:
        source = pasted
    default_language = view["session"]["languages"][0]
    preview = preview_nominees(source, default_language=default_language)
    text = source if isinstance(source, str) else _as_text(source)
    return render(request, page, "organizer/enroll_preview.html", status=200 if preview.can_enroll else 422,
                  view=view, preview=preview, source_text=text, labels=FIELD_LABELS,
                  default_language=default_language, errors={})


@router.post("/sessions/{session_id}/enroll/confirm")
async def enroll_confirm(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor,
                         form: Form):
    view = await views.session_of(apis, session_id)
    default_language = view["session"]["languages"][0]
    preview = preview_nominees(str(form.get("list", "")), default_language=default_language)
    read = FormReader(form)
    if not read.checkbox("consent"):
        read.problem("consent", CHOOSE_CONSENT)
    if str(len(preview.ready)) != str(form.get("count", "")):
        read.problem("_", LIST_CHANGED)
    unavailable = None
    if read.ok and preview.can_enroll:
        people = [{**person, "consent_to_contact": True} for person in preview.ready]
        enrolled = await attempt(views.enroll_nominees(apis, session_id, people), ())
        if enrolled.done:
            return render(request, page, "organizer/enrolled.html", view=await views.session_of(apis, session_id),
                          outcome=enrolled.answer)
        unavailable = enrolled.unavailable
        read.problems.update(enrolled.problems)
    return render(request, page, "organizer/enroll_preview.html", status=503 if unavailable else 422, view=view,
                  preview=preview, source_text=str(form.get("list", "")), labels=FIELD_LABELS,
                  default_language=default_language, errors=errors_of(request, page, read.problems),
                  unavailable=unavailable)


def _as_text(data: bytes) -> str:
    """An uploaded file as the text the confirmation carries (decoded as the preview decoded it)."""
    for encoding in ("utf-16", "utf-8-sig", "cp1252") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else \
            ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return ""


# -- invitation link and QR code -----------------------------------------------------------------

@router.get("/sessions/{session_id}/invitation")
async def invitation(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor,
                     token: Annotated[str | None, Query(max_length=4000)] = None, print_: Annotated[
                         bool, Query(alias="print")] = False):
    view = await views.session_of(apis, session_id)
    made = views.read_invitation(token) if token else None
    if made is not None and made.session_id != session_id:
        made = None
    link = invitation_url(request.app.state.settings.public_base_url, made.token) if made else None
    _ = page.gettext(request)
    qr = qr_svg(link, _("QR code of the invitation link")) if link else None
    template = "organizer/invitation_print.html" if print_ and link else "organizer/invitation.html"
    return render(request, page, template, view=view, invitation=made, link=link, qr=qr, days=INVITATION_DAYS,
                  values={"valid_days": str(INVITATION_DAYS)}, errors={})


@router.post("/sessions/{session_id}/invitation")
async def make_invitation(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor,
                          form: Form):
    read = FormReader(form)
    days = read.whole_number("valid_days", 1, 365)
    if days is None:
        view = await views.session_of(apis, session_id)
        return render(request, page, "organizer/invitation.html", status=422, view=view, invitation=None, link=None,
                      qr=None, days=INVITATION_DAYS, values=read.values,
                      errors=errors_of(request, page, read.problems))
    made = await views.new_invitation(apis, session_id, days)
    return redirect(f"/organize/sessions/{session_id}/invitation?token={made.token}")


# -- CSV download (registration's export, as the signed-in person) --------------------------------

@router.get("/sessions/{session_id}/roster.csv")
async def roster_csv(session_id: str, who: Organizer, apis: AsVisitor):
    return csv_download(await exports.roster_csv(apis, session_id), f"roster-{session_id}.csv")
