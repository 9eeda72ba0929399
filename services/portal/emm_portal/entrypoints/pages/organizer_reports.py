"""The organizer's reading pages: attendance per day, the session report with its charts and
headline sentences, the report across sessions, CSV downloads, the trainer pool, and the
notification log with resend of a failed message."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from emm_portal.domain import outcomes
from emm_portal.domain.charts import ScorePair, attendance_chart, knowledge_chart, likert_chart
from emm_portal.domain.form_input import COUNTRY_CODES, N_, FormReader, several
from emm_portal.entrypoints.deps import AsVisitor, Form, Organizer, Page
from emm_portal.entrypoints.rendering import redirect
from emm_portal.entrypoints.staff_rendering import render, csv_download, errors_of
from emm_portal.service_layer import staff_views as views

router = APIRouter(prefix="/organize")
Offset = Annotated[int, Query(ge=0, le=2**31 - 1)]
Text = Annotated[str | None, Query(max_length=300)]
SEXES = ("female", "male", "other", "undisclosed")
NOTIFICATION_STATUSES = ("planned", "awaiting_contact", "skipped", "sending", "sent", "retrying", "failed")
ALL_PARTICIPANTS = N_("All participants (mean)")


@router.get("/sessions/{session_id}/attendance")
async def attendance(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor):
    overview = await views.attendance_overview(apis, session_id)
    chart = attendance_chart(overview.days, overview.day_summary, overview.registered, page.language(request),
                             page.gettext(request))
    return render(request, page, "organizer/attendance.html", view=overview.session, overview=overview, chart=chart)


@router.get("/sessions/{session_id}/report")
async def report(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor,
                 saved: str | None = None, refused: str | None = None):
    language, _ = page.language(request), page.gettext(request)
    view = await views.session_of(apis, session_id)
    try:
        found = await views.session_report(apis, session_id, language)
    except outcomes.NotFound:  # evaluation has not heard of the session yet (its events are on their way)
        found = None
    charts = report_charts(found, language, _, attendance=await views.attendance_overview(apis, session_id))
    return render(request, page, "organizer/report.html", view=view, report=found, charts=charts,
                  saved=saved == "quotes", refused=refused == "quotes")


@router.get("/write-up")
async def write_up(request: Request, who: Organizer, page: Page, apis: AsVisitor,
                   session_id: Annotated[list[str], Query(max_length=20)] = []):
    """The write-up of one or more sessions (`?session_id=a&session_id=b`) as a printable page, in
    the page's language."""
    ids = [sid for sid in session_id if 0 < len(sid) <= 64]
    if not ids:
        raise outcomes.NotFound("evaluation", "no session to write up")
    story = await views.write_up(apis, page.language(request), ids)
    return render(request, page, "organizer/write_up.html", story=story, session_ids=ids)


@router.post("/sessions/{session_id}/quotes")
async def choose_quotes(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor, form: Form):
    try:
        await views.choose_quotes(apis, session_id, several(form, "quote"))
    except (outcomes.Invalid, outcomes.Refused):  # a comment whose author has since withdrawn consent
        return redirect(f"/organize/sessions/{session_id}/report?refused=quotes#quotes")
    return redirect(f"/organize/sessions/{session_id}/report?saved=quotes#quotes")


def report_charts(found: dict | None, language: str, _, attendance: views.AttendanceOverview | None = None) -> dict:
    if found is None:
        return {}
    charts = {}
    if found["ratings"]["likert"]:
        charts["likert"] = likert_chart(found["ratings"]["likert"], language, _)
    if attendance is not None and attendance.days:
        charts["attendance"] = attendance_chart(attendance.days, attendance.day_summary, attendance.registered,
                                                language, _)
    knowledge = found["knowledge_test"]
    if knowledge["participants_tested"]:
        means = ScorePair(_(ALL_PARTICIPANTS), knowledge["mean_pre"], knowledge["mean_post"])
        charts["knowledge"] = knowledge_chart([means], language, _, pass_mark=knowledge["pass_mark"])
    return charts


@router.get("/sessions/{session_id}/report.csv")
async def report_csv(request: Request, session_id: str, who: Organizer, page: Page, apis: AsVisitor):
    content, filename = await views.report_csv(apis, session_id, page.language(request))
    return csv_download(content, filename)


@router.get("/reports")
async def reports(request: Request, who: Organizer, page: Page, apis: AsVisitor, country: Text = None,
                  office: Text = None, sex: Text = None, period_from: Text = None, period_to: Text = None):
    read = FormReader(request.query_params)
    filters = {"country": read.choice("country", COUNTRY_CODES, required=False),
               "office": read.text("office", 300, required=False),
               "sex": read.choice("sex", SEXES, required=False),
               "period_from": read.date("period_from", required=False),
               "period_to": read.date("period_to", required=False)}
    filters = {name: value.isoformat() if isinstance(value, date) else value for name, value in filters.items()
               if value}
    language, _ = page.language(request), page.gettext(request)
    found = await views.cross_session_report(apis, language, filters) if read.ok else None
    return render(request, page, "organizer/reports.html", status=200 if read.ok else 422, report=found,
                  charts=report_charts(found, language, _), values=read.values,
                  errors=errors_of(request, page, read.problems), sexes=SEXES)


@router.get("/trainers")
async def trainers(request: Request, who: Organizer, page: Page, apis: AsVisitor, offset: Offset = 0,
                   language: Text = None, country: Text = None, module: Text = None, include_revoked: Text = None,
                   delivered_since: Text = None):
    read = FormReader(request.query_params)
    filters = {"language": read.choice("language", ("fr", "en", "pt"), required=False),
               "country": read.choice("country", COUNTRY_CODES, required=False),
               "module": read.text("module", 200, required=False),
               "delivered_since": read.date("delivered_since", required=False),
               "include_revoked": "true" if read.checkbox("include_revoked") else None}
    filters = {name: value.isoformat() if isinstance(value, date) else value for name, value in filters.items()
               if value}
    found = await views.trainers(apis, offset, filters) if read.ok else views.Listing([], 0, None)
    return render(request, page, "organizer/trainers.html", status=200 if read.ok else 422, trainers=found,
                  filters=filters, values=read.values, errors=errors_of(request, page, read.problems))


@router.get("/notifications")
async def notifications(request: Request, who: Organizer, page: Page, apis: AsVisitor, offset: Offset = 0,
                        status: Text = None, session_id: Text = None, resent: str | None = None):
    read = FormReader(request.query_params)
    filters = {"status": read.choice("status", NOTIFICATION_STATUSES, required=False),
               "session_id": read.text("session_id", 64, required=False)}
    filters = {name: value for name, value in filters.items() if value}
    found = await views.notifications(apis, offset, filters)
    names = await recipient_names(apis, filters.get("session_id"))
    return render(request, page, "organizer/notifications.html", notifications=found, filters=filters,
                  values=read.values, errors=errors_of(request, page, read.problems), names=names,
                  statuses=NOTIFICATION_STATUSES, resent=resent, refused=None)


async def recipient_names(apis: AsVisitor, session_id: str | None) -> dict[str, str]:
    """Participant id -> name for a session's log (the log itself holds ids only)."""
    if not session_id:
        return {}
    try:
        roster = await views.roster_of(apis, session_id)
    except outcomes.ApiOutcome:
        return {}
    return {e["participant_id"]: e["full_name"] for e in roster["registered"] + roster["waitlist"]}


@router.post("/notifications/{notification_id}/resend")
async def resend(request: Request, notification_id: str, who: Organizer, page: Page, apis: AsVisitor, form: Form):
    try:
        await views.resend(apis, notification_id)
    except outcomes.Refused as refused:
        found = await views.notifications(apis, 0, {})
        return render(request, page, "organizer/notifications.html", status=409, notifications=found, filters={},
                      values={}, errors={}, names={}, statuses=NOTIFICATION_STATUSES, resent=None,
                      refused=refused.message)
    back = str(form.get("back", ""))
    return redirect((back if back.startswith("/organize/notifications") else "/organize/notifications")
                    + ("&" if "?" in back else "?") + f"resent={notification_id}")
